"""Small in-memory stand-ins for the ports, for fast unit tests."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import date
from typing import Any

from paymux.channels.base import (
    ChannelCredentials,
    ChannelPaymentState,
    ChannelRefundState,
    CreatedPayment,
    Notification,
    NotificationTarget,
    PaymentRequest,
    ProviderRequest,
    ProviderResponse,
    StatementLine,
)
from paymux.domain.errors import ChannelError, NotificationRejected
from paymux.domain.models import Channel, Payment, Refund
from paymux.domain.states import PaymentStatus, RefundStatus


class InMemorySandboxStore:
    """`paymux.channels.base.SandboxStore` in a dict."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def load(self, channel: str, key: str) -> dict[str, Any] | None:
        value = self.items.get((channel, key))
        return copy.deepcopy(value) if value is not None else None

    def save(self, channel: str, key: str, value: dict[str, Any]) -> None:
        self.items[(channel, key)] = copy.deepcopy(value)


class FakeCredentials(ChannelCredentials):
    signing_secret: str


class FakeAdapter:
    """A channel with a tiny HMAC-signed JSON notification protocol, for testing the core's
    notification handling without any provider's protocol."""

    credentials_model = FakeCredentials

    def __init__(self, channel: Channel = Channel.ALIPAY, *, fail_create: bool = False) -> None:
        self.channel = channel
        self.fail_create = fail_create
        self.created: list[PaymentRequest] = []

    def sandbox_credentials(self) -> FakeCredentials:
        return FakeCredentials(signing_secret="sandbox-secret")

    def create_payment(self, credentials: ChannelCredentials, request: PaymentRequest) -> CreatedPayment:
        if self.fail_create:
            raise ChannelError("the fake provider is down")
        self.created.append(request)
        return CreatedPayment(credential={"type": "qr_code", "qr_code": f"fake://{request.payment_id}"})

    def query_payment(self, credentials: ChannelCredentials, payment: Payment) -> ChannelPaymentState:
        return ChannelPaymentState(
            payment.id, PaymentStatus.REQUIRES_ACTION, payment.amount, payment.currency
        )

    def close_payment(self, credentials: ChannelCredentials, payment: Payment) -> None:
        return None

    def refund(self, credentials: ChannelCredentials, payment: Payment, refund: Refund) -> ChannelRefundState:
        return ChannelRefundState(
            refund.id, payment.id, RefundStatus.SUCCEEDED, refund.amount, refund.currency
        )

    def query_refund(
        self, credentials: ChannelCredentials, payment: Payment, refund: Refund
    ) -> ChannelRefundState:
        return self.refund(credentials, payment, refund)

    def notification_target(self, request: ProviderRequest) -> NotificationTarget:
        try:
            body = json.loads(request.body)
        except ValueError:
            raise NotificationRejected("not JSON") from None
        return NotificationTarget(payment_id=body.get("payment_id"), refund_id=body.get("refund_id"))

    def verify_notification(self, credentials: ChannelCredentials, request: ProviderRequest) -> Notification:
        assert isinstance(credentials, FakeCredentials)
        expected = sign(credentials.signing_secret, request.body)
        if not hmac.compare_digest(expected, request.headers.get("x-signature", "")):
            raise NotificationRejected("bad signature")
        body = json.loads(request.body)
        if body.get("refund_id"):
            return ChannelRefundState(
                body["refund_id"],
                body["payment_id"],
                RefundStatus(body["status"]),
                body["amount"],
                body["currency"],
                channel_refund_id="fake-refund",
            )
        return ChannelPaymentState(
            body["payment_id"],
            PaymentStatus(body["status"]),
            body["amount"],
            body["currency"],
            channel_transaction_id=body.get("txn"),
            paid_at=body.get("at"),
        )

    def acknowledge(self, accepted: bool) -> ProviderResponse:
        return ProviderResponse(200 if accepted else 400, "success" if accepted else "fail")

    def download_statement(self, credentials: ChannelCredentials, day: date) -> list[StatementLine]:
        return []


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def fake_notification(secret: str = "sandbox-secret", **fields: object) -> ProviderRequest:
    body = json.dumps(fields).encode()
    return ProviderRequest("POST", "/webhooks/alipay", {"x-signature": sign(secret, body)}, body)
