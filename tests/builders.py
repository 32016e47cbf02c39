"""Builders of domain objects for tests: valid by default, every field overridable.

Ids are ULIDs whose time part is the object's `created` second, as in production, so listing order
and `created` range filters behave as they do for real objects.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from ulid import ULID

from paymux.domain.ids import IdPrefix, new_id
from paymux.domain.models import (
    PAYMENT_STATUS_EVENTS,
    Channel,
    Event,
    EventType,
    MerchantScope,
    Mode,
    Payment,
    Refund,
    WebhookEndpoint,
)
from paymux.domain.representation import payment_object, refund_object


def merchant_scope(mode: Mode = Mode.TEST) -> MerchantScope:
    """A fresh merchant (nothing stored) in `mode`."""
    return MerchantScope(merchant_id=new_id(IdPrefix.MERCHANT), mode=mode)


def id_created_at(prefix: IdPrefix, created: int | None) -> tuple[str, int]:
    """An id of `prefix` and its `created` second: now with `new_id`, or a ULID of that second."""
    if created is None:
        return new_id(prefix), int(time.time())
    # An int timestamp is read as milliseconds.
    return f"{prefix}_{ULID.from_timestamp(created * 1000)}", created


def payment(
    scope: MerchantScope | None = None,
    *,
    amount: int = 10_000,
    currency: str = "cny",
    channel: Channel = Channel.ALIPAY,
    scene: str = "qr",
    merchant_order_id: str | None = None,
    created: int | None = None,
    **overrides: Any,
) -> Payment:
    """A new `requires_action` payment of `scope` (a fresh merchant in test mode by default)."""
    scope = scope or merchant_scope()
    payment_id, created = id_created_at(IdPrefix.PAYMENT, created)
    values: dict[str, Any] = {
        "id": payment_id,
        "merchant_id": scope.merchant_id,
        "mode": scope.mode,
        "channel": channel,
        "scene": scene,
        "amount": amount,
        "currency": currency,
        "merchant_order_id": merchant_order_id or f"order-{secrets.token_hex(6)}",
        "subject": "Test order",
        "created": created,
        "updated": created,
    }
    return Payment(**(values | overrides))


def refund(
    of: Payment,
    *,
    amount: int | None = None,
    merchant_refund_id: str | None = None,
    created: int | None = None,
    **overrides: Any,
) -> Refund:
    """A new `pending` refund of `of`, for its whole amount unless `amount` is given."""
    refund_id, created = id_created_at(IdPrefix.REFUND, created)
    values: dict[str, Any] = {
        "id": refund_id,
        "merchant_id": of.merchant_id,
        "mode": of.mode,
        "payment_id": of.id,
        "channel": of.channel,
        "amount": of.amount if amount is None else amount,
        "currency": of.currency,
        "merchant_refund_id": merchant_refund_id,
        "created": created,
        "updated": created,
    }
    return Refund(**(values | overrides))


def event_for(
    subject: Payment | Refund, event_type: EventType | None = None, *, created: int | None = None
) -> Event:
    """The event announcing `subject` in its current state (`data.object` is its contract JSON).

    `event_type` defaults to the event of the payment's status (`payment.created` while it requires
    action) or `refund.created` for a refund.
    """
    event_id, created = id_created_at(IdPrefix.EVENT, created)
    if isinstance(subject, Payment):
        default_type = PAYMENT_STATUS_EVENTS.get(subject.status, EventType.PAYMENT_CREATED)
        data = {"object": payment_object(subject)}
    else:
        default_type = EventType.REFUND_CREATED
        data = {"object": refund_object(subject)}
    return Event(
        id=event_id,
        merchant_id=subject.merchant_id,
        mode=subject.mode,
        type=event_type or default_type,
        created=created,
        channel=subject.channel,
        data=data,
    )


def webhook_endpoint(
    scope: MerchantScope, *, url: str = "https://merchant.example/hooks", **overrides: Any
) -> WebhookEndpoint:
    """An enabled endpoint of `scope` listening to every event."""
    endpoint_id, created = id_created_at(IdPrefix.WEBHOOK_ENDPOINT, overrides.pop("created", None))
    values: dict[str, Any] = {
        "id": endpoint_id,
        "merchant_id": scope.merchant_id,
        "mode": scope.mode,
        "url": url,
        "enabled_events": ["*"],
        "secret": f"whsec_{secrets.token_hex(16)}",
        "created": created,
    }
    return WebhookEndpoint(**(values | overrides))
