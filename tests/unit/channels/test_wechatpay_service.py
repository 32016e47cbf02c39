"""The WeChat Pay channel through the core's PaymentService (moto ledger): a test completion sends
the sandbox's real notification through the whole real path, and refund notifications settle."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from paymux.channels.wechatpay import build_adapter, build_sandbox
from paymux.domain.models import Channel, MerchantScope, Mode
from paymux.domain.states import PaymentStatus, RefundStatus
from paymux.ledger.dynamodb import DynamoLedger
from paymux.ledger.schema import create_table
from paymux.services.credentials import CredentialResolver
from paymux.services.payments import CreatePayment, PaymentService
from paymux.services.refunds import CreateRefund
from tests.fakes import InMemorySandboxStore
from tests.unit.channels.wechatpay_fixtures import FakeClock

BASE_URL = "https://pay.example"
# The core builds the sandbox through the registry (on the system clock), so everything runs on it.
NOW = int(time.time())


class _NoStoredCredentials:
    def load(self, channel: str, merchant_id: str, mode: str) -> dict[str, Any] | None:
        return None


@pytest.fixture
def ledger(aws_credentials: None, aws_session: boto3.session.Session) -> Iterator[DynamoLedger]:
    with mock_aws():
        client = aws_session.client("dynamodb")
        name = f"paymux-wechat-{uuid.uuid4().hex[:8]}"
        create_table(client, name)
        yield DynamoLedger(name, client)


@pytest.fixture
def store() -> InMemorySandboxStore:
    return InMemorySandboxStore()


@pytest.fixture
def service(ledger: DynamoLedger, store: InMemorySandboxStore) -> PaymentService:
    clock = FakeClock(NOW)
    return PaymentService(
        ledger,
        CredentialResolver(_NoStoredCredentials()),
        store,
        clock=clock,
        adapters=lambda channel, sandbox_store: build_adapter(sandbox_store, clock),
    )


@pytest.fixture
def scope() -> MerchantScope:
    return MerchantScope(merchant_id=f"mch_{uuid.uuid4().hex[:26].upper()}", mode=Mode.TEST)


def _deliver(service: PaymentService, seen: list):
    def send(url, request):
        seen.append((url, request))
        return service.handle_notification(Channel.WECHATPAY, request)

    return send


def _create(service: PaymentService, scope: MerchantScope, scene: str):
    extra = {"channel_extra": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}} if scene == "jsapi" else {}
    command = CreatePayment(
        amount=1000,
        currency="cny",
        merchant_order_id=f"o-{uuid.uuid4().hex[:8]}",
        subject="Tea",
        scene=scene,
        client_ip="203.0.113.7",
        **extra,
    )
    return service.create_payment(scope, Channel.WECHATPAY, command, BASE_URL)


@pytest.mark.parametrize("scene", ["native", "h5", "app", "jsapi"])
def test_test_completion_runs_the_real_notification_path_for_every_scene(service, scope, scene):
    payment = _create(service, scope, scene)
    seen: list = []
    completed = service.complete_test_payment(
        scope, payment.id, PaymentStatus.SUCCEEDED, BASE_URL, _deliver(service, seen)
    )
    assert completed.status is PaymentStatus.SUCCEEDED
    assert completed.channel_transaction_id
    assert seen[0][0] == f"{BASE_URL}/webhooks/wechatpay/{payment.id}"


def test_failed_completion_fails_the_payment(service, scope):
    payment = _create(service, scope, "native")
    failed = service.complete_test_payment(
        scope, payment.id, PaymentStatus.FAILED, BASE_URL, _deliver(service, [])
    )
    assert (failed.status, failed.failure_code) == (PaymentStatus.FAILED, "PAYERROR")


def test_a_tampered_notification_is_answered_fail_and_changes_nothing(service, scope, store):
    payment = _create(service, scope, "native")
    adapter = build_adapter(store, FakeClock(NOW))
    genuine = build_sandbox(store, FakeClock(NOW)).notification_for(
        adapter.sandbox_credentials(), payment, PaymentStatus.SUCCEEDED, "/webhooks/wechatpay"
    )
    answer = service.handle_notification(Channel.WECHATPAY, replace(genuine, body=genuine.body + b" "))
    assert answer.status >= 400
    assert '"FAIL"' in answer.body
    assert service.get_payment(scope, payment.id).status is PaymentStatus.REQUIRES_ACTION


def test_a_refund_notification_settles_the_refund(service, scope, store):
    payment = _create(service, scope, "native")
    paid = service.complete_test_payment(
        scope, payment.id, PaymentStatus.SUCCEEDED, BASE_URL, _deliver(service, [])
    )
    refund = service.create_refund(scope, paid.id, CreateRefund(amount=400))
    adapter = build_adapter(store, FakeClock(NOW))
    credentials = adapter.sandbox_credentials()
    # The refund names the platform URL the payment was created with, wherever the refund runs.
    assert paid.notify_url == f"{BASE_URL}/webhooks/wechatpay"
    assert adapter.refund(credentials, paid, refund).status is RefundStatus.PENDING
    stored = store.load("wechatpay", f"refund:{credentials.mchid}:{refund.id}")
    assert stored is not None
    assert stored["notify_url"] == f"{BASE_URL}/webhooks/wechatpay/{refund.id}"
    notice = build_sandbox(store, FakeClock(NOW)).refund_notification_for(
        credentials, paid, refund, RefundStatus.SUCCEEDED, "/webhooks/wechatpay"
    )
    assert service.handle_notification(Channel.WECHATPAY, notice).status == 204
    assert service.handle_notification(Channel.WECHATPAY, notice).status == 204  # a repeat is a no-op
    assert service.get_refund(scope, refund.id).status is RefundStatus.SUCCEEDED
