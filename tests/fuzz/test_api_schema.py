"""Schemathesis against the running local platform: every operation of the live `GET /openapi.json`,
with valid and invalid inputs (wrong types, floats for amounts, huge and unicode strings, missing and
unknown fields, bad auth). No input is a 5xx; every 4xx of the merchant API is the contract's error
shape and carries no stack trace; documented responses match their schema; a refused payment creation
leaves no payment behind."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.e2e.platform import DEMO_KEY, RunningPlatform
from tests.fuzz.api_schema import document, fuzzed_schema

pytestmark = pytest.mark.e2e

schema = fuzzed_schema()

ERROR_FIELDS = {"type", "code", "message", "param", "request_id"}
# What a Python traceback or a framework's debug page looks like in a body.
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|\bat 0x[0-9a-f]{6,}")
CREATE_PAYMENT = re.compile(r"^/v1/channels/[a-z]+/payments$")
# merchant_order_ids a fuzzed creation was granted: a later refusal naming one finds that payment.
created_order_ids: set[str] = set()


def test_the_live_document_is_the_one_fuzzed(local_platform: RunningPlatform) -> None:
    served = requests.get(f"{local_platform.url}/openapi.json", timeout=10)

    assert served.status_code == 200
    assert served.json() == document()


@schema.parametrize()
@settings(deadline=timedelta(seconds=5), suppress_health_check=list(HealthCheck))
def test_any_input_is_answered_without_a_server_error(case: Case, local_platform: RunningPlatform) -> None:
    response = case.call_and_validate(
        base_url=local_platform.url,
        headers=_fresh_idempotency_key(case),
        checks=[not_a_server_error, response_schema_conformance, status_code_conformance],
    )

    assert not TRACEBACK.search(response.text_lossy()), f"a stack trace in the body: {response.text_lossy()}"
    if 400 <= response.status_code < 500 and not case.path.startswith("/webhooks/"):
        _assert_contract_error(response)
    if CREATE_PAYMENT.match(case.path) and case.method.upper() == "POST":
        _assert_nothing_half_written(local_platform.url, case, response)


def _fresh_idempotency_key(case: Case) -> dict[str, str]:
    """A new Idempotency-Key for every POST under /v1, so each generated body is really processed
    (a reused key with another body is a 422 and would hide what the body does)."""
    if case.method.upper() == "POST" and case.path.startswith("/v1/"):
        return {"Idempotency-Key": f"fuzz-{uuid.uuid4().hex}"}
    return {}


def _assert_contract_error(response: Response) -> None:
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == ERROR_FIELDS, error
    assert all(isinstance(error[name], str) and error[name] for name in ("type", "code", "message")), error
    assert error["param"] is None or isinstance(error["param"], str), error


def _assert_nothing_half_written(base_url: str, case: Case, response: Response) -> None:
    order_id = case.body.get("merchant_order_id") if isinstance(case.body, dict) else None
    if not isinstance(order_id, str):
        return
    if response.status_code == 201:
        created_order_ids.add(order_id)
        return
    if order_id in created_order_ids or response.status_code == 409:
        return  # a duplicate is refused because the first one exists
    found = _payments_with_order_id(base_url, order_id)
    assert found == [], f"a refused creation ({response.status_code}) left {found} behind"


def _payments_with_order_id(base_url: str, order_id: str) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{base_url}/v1/payments",
        params={"merchant_order_id": order_id},
        headers={"Authorization": f"Bearer {DEMO_KEY}"},
        timeout=10,
    )
    if answer.status_code == 400:
        return []  # an order id the query cannot even carry was never stored either
    assert answer.status_code == 200, answer.text
    return list(json.loads(answer.text)["data"])
