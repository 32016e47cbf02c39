"""Shared builders for the WeChat Pay channel tests: a controllable clock, the adapter and sandbox on
one in-memory store, and domain objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from paymux.channels.base import PaymentRequest
from paymux.channels.wechatpay import build_adapter, build_sandbox
from paymux.channels.wechatpay.adapter import WechatPayAdapter
from paymux.channels.wechatpay.credentials import WechatPayCredentials
from paymux.channels.wechatpay.sandbox.notifier import WechatPaySandbox
from paymux.domain.ids import IdPrefix, new_id
from paymux.domain.models import Channel, Mode, Payment, Refund
from tests.fakes import InMemorySandboxStore

NOW = 1_767_225_600  # 2026-01-01T08:00:00+08:00
NOTIFY_URL = "https://pay.example.com/webhooks/wechatpay"


@dataclass
class FakeClock:
    now: int = NOW

    def __call__(self) -> int:
        return self.now


@dataclass
class World:
    clock: FakeClock = field(default_factory=FakeClock)
    store: InMemorySandboxStore = field(default_factory=InMemorySandboxStore)

    @property
    def adapter(self) -> WechatPayAdapter:
        return build_adapter(self.store, self.clock)

    @property
    def sandbox(self) -> WechatPaySandbox:
        return build_sandbox(self.store, self.clock)

    @property
    def credentials(self) -> WechatPayCredentials:
        return self.adapter.sandbox_credentials()


def payment_request(scene: str = "native", amount: int = 1234, **overrides: Any) -> PaymentRequest:
    values: dict[str, Any] = {
        "payment_id": new_id(IdPrefix.PAYMENT), "scene": scene, "amount": amount, "currency": "cny",
        "subject": "Coffee", "description": None, "expires_at": NOW + 900, "return_url": None,
        "client_ip": "203.0.113.7", "notify_url": NOTIFY_URL,
        "channel_extra": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"} if scene == "jsapi" else {},
    }  # fmt: skip
    values.update(overrides)
    return PaymentRequest(**values)


def payment_of(request: PaymentRequest) -> Payment:
    return Payment(
        id=request.payment_id, merchant_id="mch_01JTEST", mode=Mode.TEST, channel=Channel.WECHATPAY,
        scene=request.scene, amount=request.amount, currency=request.currency, merchant_order_id="order-1",
        subject=request.subject, created=NOW, updated=NOW, expires_at=request.expires_at,
    )  # fmt: skip


def refund_of(payment: Payment, amount: int) -> Refund:
    return Refund(
        id=new_id(IdPrefix.REFUND), merchant_id=payment.merchant_id, mode=payment.mode, payment_id=payment.id,
        channel=Channel.WECHATPAY, amount=amount, currency=payment.currency, created=NOW, updated=NOW,
    )  # fmt: skip
