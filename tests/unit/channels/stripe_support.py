"""Builders for the Stripe channel's tests: an adapter and a sandbox sharing one in-memory store and
one controllable clock, and paymux payments and refunds as the core would hand them over."""

from __future__ import annotations

from dataclasses import dataclass, field

from paymux.channels.base import PaymentRequest
from paymux.channels.stripe.adapter import StripeAdapter
from paymux.channels.stripe.credentials import StripeCredentials
from paymux.channels.stripe.sandbox.api import StripeSandboxApi
from paymux.channels.stripe.sandbox.notifier import StripeSandbox
from paymux.domain.ids import IdPrefix, new_id
from paymux.domain.models import Channel, Mode, Payment, Refund
from tests.fakes import InMemorySandboxStore

# 2025-03-14 12:00:00 UTC
NOON = 1_741_953_600
NOTIFY_PATH = "/webhooks/stripe"


@dataclass
class Clock:
    now: int = NOON

    def __call__(self) -> int:
        return self.now


@dataclass
class StripeWorld:
    clock: Clock = field(default_factory=Clock)
    store: InMemorySandboxStore = field(default_factory=InMemorySandboxStore)

    def __post_init__(self) -> None:
        self.adapter = StripeAdapter(self.store, clock=self.clock)
        self.sandbox = StripeSandbox(self.store, self.clock)
        self.api = StripeSandboxApi(self.store, self.clock)
        self.credentials: StripeCredentials = self.adapter.sandbox_credentials()

    def create(self, amount: int = 1234, currency: str = "usd", **extra: object) -> Payment:
        """A payment created through the adapter, as the ledger then holds it."""
        payment_id = new_id(IdPrefix.PAYMENT)
        created = self.adapter.create_payment(
            self.credentials, payment_request(payment_id, amount, currency, **extra)
        )
        return payment(payment_id, amount, currency, created.channel_transaction_id, created=self.clock.now)


def payment_request(
    payment_id: str, amount: int = 1234, currency: str = "usd", **extra: object
) -> PaymentRequest:
    values: dict[str, object] = {
        "payment_id": payment_id,
        "scene": "card",
        "amount": amount,
        "currency": currency,
        "subject": "Green tea",
        "description": None,
        "expires_at": None,
        "return_url": None,
        "client_ip": None,
        "notify_url": f"https://paymux.example{NOTIFY_PATH}",
    }
    values.update(extra)
    return PaymentRequest(**values)  # type: ignore[arg-type]


def payment(
    payment_id: str,
    amount: int,
    currency: str,
    intent_id: str | None,
    *,
    created: int = NOON,
    mode: Mode = Mode.TEST,
) -> Payment:
    return Payment(
        id=payment_id,
        merchant_id="mch_01JQ0000000000000000000000",
        mode=mode,
        channel=Channel.STRIPE,
        scene="card",
        amount=amount,
        currency=currency,
        merchant_order_id=f"order-{payment_id[-6:]}",
        subject="Green tea",
        channel_transaction_id=intent_id,
        created=created,
        updated=created,
    )


def refund(
    of: Payment, amount: int, *, channel_refund_id: str | None = None, reason: str | None = None
) -> Refund:
    return Refund(
        id=new_id(IdPrefix.REFUND),
        merchant_id=of.merchant_id,
        mode=of.mode,
        payment_id=of.id,
        channel=Channel.STRIPE,
        amount=amount,
        currency=of.currency,
        channel_refund_id=channel_refund_id,
        reason=reason,
        created=of.created,
        updated=of.created,
    )
