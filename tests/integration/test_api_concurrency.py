"""Concurrent API requests on AWS DynamoDB Local: one Idempotency-Key makes one payment, however many
copies of the request race (moto cannot show this: its conditional writes are not atomic)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from paymux import runtime, settings
from paymux.domain.models import Channel
from paymux.ledger.ports import PaymentFilter
from paymux.ledger.schema import create_table
from paymux.local.apigw import lambda_context, rest_event

pytestmark = pytest.mark.dynamodb_local
RACERS = 20


class NoStoredCredentials:
    def load(self, channel: str, merchant_id: str, mode: str) -> dict[str, Any] | None:
        return None


@pytest.fixture
def platform(
    dynamodb_local_endpoint: str, aws_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The real functions' dependencies on a fresh DynamoDB Local table; yields a test secret key."""
    table = f"paymux-api-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("PAYMUX_TABLE_NAME", table)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local_endpoint)
    monkeypatch.setattr(runtime, "credential_store", NoStoredCredentials)
    caches = [
        settings.platform_settings,
        runtime.dynamodb_client,
        runtime.ledger,
        runtime.sandbox_store,
        runtime.merchant_service,
        runtime.payment_service,
        runtime.event_service,
    ]
    for cache in caches:
        cache.cache_clear()
    create_table(boto3.client("dynamodb"), table)
    yield runtime.merchant_service().create("Racer").test_secret_key
    for cache in caches:
        cache.cache_clear()


def test_one_idempotency_key_makes_one_payment(platform: str) -> None:
    from functions.channel_unionpay.app import lambda_handler

    body = {
        "amount": 4200,
        "currency": "cny",
        "merchant_order_id": "race-1",
        "subject": "Race",
        "scene": "qr",
    }
    headers = {"Authorization": f"Bearer {platform}", "Idempotency-Key": "one-key", "Host": "127.0.0.1"}
    start = threading.Barrier(RACERS)

    def request(_: int) -> dict[str, Any]:
        event = rest_event("POST", "/v1/channels/unionpay/payments", headers=headers, json_body=body)
        start.wait()
        return lambda_handler(event, lambda_context())

    with ThreadPoolExecutor(RACERS) as pool:
        responses = list(pool.map(request, range(RACERS)))

    statuses = sorted(r["statusCode"] for r in responses)
    created = {json.loads(r["body"])["id"] for r in responses if r["statusCode"] == 201}
    scope = runtime.merchant_service().authenticate(platform)
    stored = runtime.ledger().list_payments(scope, PaymentFilter(channel=Channel.UNIONPAY.value), 100, None)
    print(
        f"\n{RACERS} racing requests with one Idempotency-Key -> statuses {statuses}; payments stored: "
        f"{len(stored.data)}"
    )
    assert set(statuses) <= {201, 409}
    assert len(created) == 1
    assert [p.id for p in stored.data] == list(created)
