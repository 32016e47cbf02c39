"""Domain objects. Plain, typed and storage-agnostic: the ledger maps them to items, the API maps
them to the contract's JSON."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from paymux.domain.states import PaymentStatus, RefundStatus


class Channel(StrEnum):
    ALIPAY = "alipay"
    WECHATPAY = "wechatpay"
    UNIONPAY = "unionpay"
    STRIPE = "stripe"


SCENES: dict[Channel, frozenset[str]] = {
    Channel.ALIPAY: frozenset({"qr", "h5", "app", "pc"}),
    Channel.WECHATPAY: frozenset({"native", "h5", "app", "jsapi"}),
    Channel.UNIONPAY: frozenset({"web", "app", "qr"}),
    Channel.STRIPE: frozenset({"card"}),
}


class Mode(StrEnum):
    TEST = "test"
    LIVE = "live"

    @property
    def livemode(self) -> bool:
        return self is Mode.LIVE


class EventType(StrEnum):
    PAYMENT_CREATED = "payment.created"
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_CLOSED = "payment.closed"
    REFUND_CREATED = "refund.created"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"


PAYMENT_STATUS_EVENTS: dict[PaymentStatus, EventType] = {
    PaymentStatus.SUCCEEDED: EventType.PAYMENT_SUCCEEDED,
    PaymentStatus.FAILED: EventType.PAYMENT_FAILED,
    PaymentStatus.CLOSED: EventType.PAYMENT_CLOSED,
}

REFUND_STATUS_EVENTS: dict[RefundStatus, EventType] = {
    RefundStatus.SUCCEEDED: EventType.REFUND_SUCCEEDED,
    RefundStatus.FAILED: EventType.REFUND_FAILED,
}


class _Domain(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Merchant(_Domain):
    id: str
    name: str
    created: int


class MerchantScope(_Domain):
    """Who is asking: a merchant in one mode. Every ledger read and write is scoped by it."""

    merchant_id: str
    mode: Mode

    @property
    def livemode(self) -> bool:
        return self.mode.livemode


class Payment(_Domain):
    id: str
    merchant_id: str
    mode: Mode
    channel: Channel
    scene: str
    amount: int
    currency: str
    amount_refunded: int = 0
    # Pending plus succeeded refunds: what the refund guard reserves against `amount`.
    amount_refund_reserved: int = 0
    status: PaymentStatus = PaymentStatus.REQUIRES_ACTION
    merchant_order_id: str
    subject: str
    description: str | None = None
    credential: dict[str, Any] = Field(default_factory=dict)
    channel_transaction_id: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    return_url: str | None = None
    client_ip: str | None = None
    # The platform's /webhooks/{channel} URL given to the provider at creation; later requests for this
    # payment (refunds) name the same one, wherever they run.
    notify_url: str | None = None
    created: int
    updated: int
    paid_at: int | None = None
    expires_at: int | None = None
    version: int = 1

    @property
    def scope(self) -> MerchantScope:
        return MerchantScope(merchant_id=self.merchant_id, mode=self.mode)


class Refund(_Domain):
    id: str
    merchant_id: str
    mode: Mode
    payment_id: str
    channel: Channel
    amount: int
    currency: str
    status: RefundStatus = RefundStatus.PENDING
    reason: str | None = None
    merchant_refund_id: str | None = None
    channel_refund_id: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    created: int
    updated: int


class Event(_Domain):
    id: str
    merchant_id: str
    mode: Mode
    type: EventType
    created: int
    # The channel the event concerns, so EventBridge rules can route on `detail.channel`.
    channel: Channel | None = None
    data: dict[str, Any]


class WebhookEndpoint(_Domain):
    id: str
    merchant_id: str
    mode: Mode
    url: str
    enabled_events: list[str]
    description: str | None = None
    status: str = "enabled"
    # Signing secret; stored (it must sign deliveries), shown to the merchant once at creation.
    secret: str
    created: int


class ApiKey(_Domain):
    """A secret key as stored: only its hash, never the key."""

    key_hash: str
    merchant_id: str
    mode: Mode
    created: int
