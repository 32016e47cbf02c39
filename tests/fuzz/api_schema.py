"""The OpenAPI document schemathesis fuzzes, configured for a fast, reproducible run.

It is `docs/openapi.json`, loaded when the test module is collected (before any platform runs):
schemathesis's fixture-loaded schemas do not run on this pytest, and a unit test keeps that file equal
to the document generated from the request models, while `test_the_live_document_is_the_one_fuzzed`
checks it is what the running platform serves at `GET /openapi.json`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.e2e.platform import DEMO_KEY, REPO_ROOT

DOCUMENT = REPO_ROOT / "docs" / "openapi.json"
# Fixed, so a CI failure replays locally with the same inputs.
SEED = 20_251_123
# Fuzzing-phase examples per operation; the examples and coverage phases add their own bounded cases.
MAX_EXAMPLES = 10
REQUEST_TIMEOUT_SECONDS = 10
# Methods the coverage phase sends to every path that does not declare them. TRACE and QUERY are left
# out: the local gateway (http.server) answers them 501 before any paymux code runs, and API Gateway
# does not route them to a function either.
UNEXPECTED_METHODS = {"get", "put", "post", "delete", "options", "patch"}


def document(path: Path = DOCUMENT) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def fuzzed_schema() -> OpenApiSchema:
    """The document with the demo test key on every request, valid and invalid inputs, and the
    examples, coverage and fuzzing phases (the stateful phase is left out: it is the slow one)."""
    schema = schemathesis.openapi.from_dict(document())
    schema.config.update(
        headers={"Authorization": f"Bearer {DEMO_KEY}"}, request_timeout=REQUEST_TIMEOUT_SECONDS
    )
    schema.config.seed = SEED
    schema.config.generation.update(
        modes=["positive", "negative"], max_examples=MAX_EXAMPLES, deterministic=True, database="none"
    )
    schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])
    schema.config.phases.coverage.unexpected_methods = UNEXPECTED_METHODS
    return schema
