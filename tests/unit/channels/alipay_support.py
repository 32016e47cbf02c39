"""Shared builders for the Alipay channel tests."""

from __future__ import annotations

from paymux.channels.alipay.adapter import AlipayAdapter
from paymux.channels.alipay.sandbox.notifier import AlipaySandbox
from paymux.channels.base import PaymentRequest
from paymux.domain.ids import IdPrefix, new_id
from paymux.domain.models import Channel, Mode, Payment, Refund
from tests.fakes import InMemorySandboxStore

# 2025-06-15 15:06:40 UTC, 23:06:40 in Beijing: late enough that a UTC date would be the wrong day.
NOW = 1_750_000_000
NOTIFY_URL = "https://pay.example.com/webhooks/alipay"


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


Pair = tuple[AlipayAdapter, AlipaySandbox, InMemorySandboxStore]


def make_pair(clock: Clock | None = None) -> Pair:
    """An adapter and a sandbox sharing one store and clock, as the platform wires them."""
    store = InMemorySandboxStore()
    tick = clock or Clock()
    return AlipayAdapter(store, clock=tick), AlipaySandbox(store, clock=tick), store


def payment_request(scene: str = "qr", amount: int = 1234, **changes: object) -> PaymentRequest:
    fields: dict[str, object] = {
        "payment_id": new_id(IdPrefix.PAYMENT), "scene": scene, "amount": amount, "currency": "cny",
        "subject": "测试商品 & more", "description": None, "expires_at": None, "return_url": None,
        "client_ip": None, "notify_url": NOTIFY_URL,
    }  # fmt: skip
    fields.update(changes)
    return PaymentRequest(**fields)  # type: ignore[arg-type]


def payment_of(request: PaymentRequest) -> Payment:
    return Payment(
        id=request.payment_id, merchant_id="mch_test", mode=Mode.TEST, channel=Channel.ALIPAY,
        scene=request.scene, amount=request.amount, currency=request.currency,
        merchant_order_id=f"order-{request.payment_id}", subject=request.subject, created=NOW, updated=NOW,
        expires_at=request.expires_at,
    )  # fmt: skip


def refund_of(payment: Payment, amount: int, reason: str | None = None) -> Refund:
    return Refund(
        id=new_id(IdPrefix.REFUND), merchant_id=payment.merchant_id, mode=payment.mode,
        payment_id=payment.id, channel=Channel.ALIPAY, amount=amount, currency=payment.currency,
        reason=reason, created=NOW, updated=NOW,
    )  # fmt: skip
