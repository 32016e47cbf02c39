"""The API contract's request and response models. They validate requests and generate the
OpenAPI document; they are not the domain models (see `paymux.domain.representation`)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, field_validator

from paymux.services.payments import MAX_EXPIRY_SECONDS, CreatePayment
from paymux.services.refunds import CreateRefund

_ORDER_ID = r"^[A-Za-z0-9_\-.:]{1,64}$"
MAX_CHANNEL_EXTRA_BYTES = 4096
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
MetadataValue = Annotated[str, StringConstraints(max_length=500)]


class _Body(BaseModel):
    # Unknown parameters are an error, not silently dropped: a typo in `amount` must not pass.
    model_config = ConfigDict(extra="forbid")


class CreatePaymentBody(_Body):
    amount: StrictInt = Field(gt=0, description="Integer amount in the currency's minor unit (fen, cents)")
    currency: str = Field(pattern=r"^[a-z]{3}$", description="ISO 4217, lower case")
    merchant_order_id: str = Field(pattern=_ORDER_ID, description="Unique per merchant and mode")
    subject: str = Field(min_length=1, max_length=256)
    scene: str = Field(
        description="alipay qr|h5|app|pc, wechatpay native|h5|app|jsapi, unionpay web|app|qr, stripe card"
    )
    description: str | None = Field(default=None, max_length=1024)
    expires_in: StrictInt | None = Field(
        default=None,
        ge=60,
        le=MAX_EXPIRY_SECONDS,
        description="Seconds until the payment expires (default 2 h)",
    )
    return_url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://")
    client_ip: str | None = Field(default=None, max_length=45)
    metadata: dict[MetadataKey, MetadataValue] = Field(
        default_factory=dict, max_length=50, description="Up to 50 keys of 40 characters, values of 500"
    )
    channel_extra: dict[str, Any] = Field(
        default_factory=dict, description="Channel-specific fields, e.g. wechatpay jsapi `openid`"
    )

    @field_validator("channel_extra")
    @classmethod
    def small_channel_extra(cls, value: dict[str, Any]) -> dict[str, Any]:
        # It is stored on the payment and carried by its events (EventBridge caps an event at 256 KB).
        if len(json.dumps(value)) > MAX_CHANNEL_EXTRA_BYTES:
            raise ValueError(f"channel_extra must be at most {MAX_CHANNEL_EXTRA_BYTES} bytes of JSON")
        return value

    def to_command(self) -> CreatePayment:
        return CreatePayment(**self.model_dump())


class CreateRefundBody(_Body):
    amount: StrictInt | None = Field(
        default=None, gt=0, description="Defaults to the whole refundable amount"
    )
    reason: str | None = Field(default=None, max_length=256)
    merchant_refund_id: str | None = Field(default=None, pattern=_ORDER_ID)

    def to_command(self) -> CreateRefund:
        return CreateRefund(**self.model_dump())


class CompleteTestPaymentBody(_Body):
    outcome: Literal["succeeded", "failed"]


class CreateWebhookEndpointBody(_Body):
    url: str = Field(max_length=2048)
    enabled_events: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    description: str | None = Field(default=None, max_length=256)


class PaymentOut(BaseModel):
    id: str
    object: Literal["payment"]
    channel: str
    scene: str
    amount: int
    currency: str
    amount_refunded: int
    status: Literal["requires_action", "succeeded", "failed", "closed"]
    merchant_order_id: str
    subject: str
    description: str | None
    credential: dict[str, Any]
    channel_transaction_id: str | None
    failure_code: str | None
    failure_message: str | None
    metadata: dict[str, str]
    livemode: bool
    created: int
    updated: int
    paid_at: int | None
    expires_at: int | None


class RefundOut(BaseModel):
    id: str
    object: Literal["refund"]
    payment_id: str
    amount: int
    currency: str
    status: Literal["pending", "succeeded", "failed"]
    reason: str | None
    merchant_refund_id: str | None
    channel_refund_id: str | None
    failure_code: str | None
    failure_message: str | None
    livemode: bool
    created: int


class EventOut(BaseModel):
    id: str
    object: Literal["event"]
    type: str
    created: int
    livemode: bool
    data: dict[str, Any]


class WebhookEndpointOut(BaseModel):
    id: str
    object: Literal["webhook_endpoint"]
    url: str
    enabled_events: list[str]
    description: str | None
    status: str
    livemode: bool
    created: int


class CreatedWebhookEndpointOut(WebhookEndpointOut):
    secret: str = Field(description="The `whsec_` signing secret; returned once, at creation")


class _List(BaseModel):
    object: Literal["list"] = "list"
    has_more: bool
    url: str


class PaymentList(_List):
    data: list[PaymentOut]


class RefundList(_List):
    data: list[RefundOut]


class EventList(_List):
    data: list[EventOut]


class WebhookEndpointList(_List):
    data: list[WebhookEndpointOut]


class ErrorDetail(BaseModel):
    type: str
    code: str
    message: str
    param: str | None
    request_id: str | None


class ErrorOut(BaseModel):
    error: ErrorDetail
