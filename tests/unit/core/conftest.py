"""The core's services on a moto ledger with a fake channel: fast, no network."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from paymux.domain.models import Channel, MerchantScope, Mode
from paymux.ledger.dynamodb import DynamoLedger
from paymux.ledger.schema import create_table
from paymux.services.credentials import CredentialResolver
from paymux.services.payments import CreatePayment, PaymentService
from tests.fakes import FakeAdapter, InMemorySandboxStore

BASE_URL = "https://pay.example"


class DictCredentialStore:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str, str], dict[str, Any]] = {}

    def load(self, channel: str, merchant_id: str, mode: str) -> dict[str, Any] | None:
        return self.values.get((channel, merchant_id, mode))


@pytest.fixture
def ledger(aws_credentials: None, aws_session: boto3.session.Session) -> Iterator[DynamoLedger]:
    with mock_aws():
        client = aws_session.client("dynamodb")
        name = f"paymux-unit-{uuid.uuid4().hex[:8]}"
        create_table(client, name)
        yield DynamoLedger(name, client)


@pytest.fixture
def adapter() -> FakeAdapter:
    return FakeAdapter(Channel.ALIPAY)


@pytest.fixture
def credential_store() -> DictCredentialStore:
    return DictCredentialStore()


@pytest.fixture
def service(
    ledger: DynamoLedger, adapter: FakeAdapter, credential_store: DictCredentialStore
) -> PaymentService:
    return PaymentService(
        ledger,
        CredentialResolver(credential_store),
        InMemorySandboxStore(),
        clock=lambda: 1_800_000_000,
        adapters=lambda channel, store: adapter,
    )


@pytest.fixture
def scope() -> MerchantScope:
    return MerchantScope(merchant_id=f"mch_{uuid.uuid4().hex[:26].upper()}", mode=Mode.TEST)


def create_command(**overrides: Any) -> CreatePayment:
    values: dict[str, Any] = {
        "amount": 10_000,
        "currency": "cny",
        "merchant_order_id": f"order-{uuid.uuid4().hex[:10]}",
        "subject": "Tea",
        "scene": "qr",
    }
    return CreatePayment(**(values | overrides))
