"""Stripe's objects (as plain JSON dicts) to paymux's channel states. Shared by queries and webhooks,
so both read a PaymentIntent or a Refund the same way."""

from __future__ import annotations

from typing import Any

from paymux.channels.base import ChannelPaymentState, ChannelRefundState
from paymux.channels.stripe.amounts import from_stripe_amount
from paymux.domain.states import PaymentStatus, RefundStatus

PAYMENT_ID_KEY = "paymux_payment_id"
REFUND_ID_KEY = "paymux_refund_id"

_OPEN_INTENT_STATES = frozenset(
    {"requires_payment_method", "requires_confirmation", "requires_action", "processing", "requires_capture"}
)
_REFUND_STATUSES: dict[str, RefundStatus] = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}


class UnknownObject(ValueError):
    """The Stripe object is not one paymux created, or is in a state paymux does not know."""


def payment_state(intent: dict[str, Any], *, paid_at: int | None) -> ChannelPaymentState:
    """A PaymentIntent's state. A decline (`requires_payment_method` with `last_payment_error`) is
    FAILED: paymux payments are single-attempt. Raises UnknownObject."""
    payment_id = _metadata(intent).get(PAYMENT_ID_KEY)
    if intent.get("object") != "payment_intent" or not payment_id:
        raise UnknownObject("not a PaymentIntent paymux created")
    money = from_stripe_amount(int(intent["amount"]), str(intent["currency"]))
    status = str(intent.get("status"))
    error = intent.get("last_payment_error") or {}
    common: dict[str, Any] = {
        "payment_id": payment_id,
        "amount": money.amount,
        "currency": money.currency,
        "channel_transaction_id": intent["id"],
    }
    if status == "succeeded":
        return ChannelPaymentState(
            status=PaymentStatus.SUCCEEDED, paid_at=_charge_created(intent) or paid_at, **common
        )
    if status == "canceled":
        return ChannelPaymentState(status=PaymentStatus.CLOSED, **common)
    if status == "requires_payment_method" and error:
        return ChannelPaymentState(
            status=PaymentStatus.FAILED,
            failure_code=error.get("decline_code") or error.get("code") or "card_error",
            failure_message=error.get("message"),
            **common,
        )
    if status in _OPEN_INTENT_STATES:
        return ChannelPaymentState(status=PaymentStatus.REQUIRES_ACTION, **common)
    raise UnknownObject(f"PaymentIntent status {status!r}")


def refund_state(refund: dict[str, Any]) -> ChannelRefundState:
    """A Refund's state; raises UnknownObject for a refund paymux did not create."""
    metadata = _metadata(refund)
    refund_id, payment_id = metadata.get(REFUND_ID_KEY), metadata.get(PAYMENT_ID_KEY)
    status = _REFUND_STATUSES.get(str(refund.get("status")))
    if refund.get("object") != "refund" or not refund_id or not payment_id or status is None:
        raise UnknownObject("not a Refund paymux created")
    money = from_stripe_amount(int(refund["amount"]), str(refund["currency"]))
    failed = status is RefundStatus.FAILED
    return ChannelRefundState(
        refund_id=refund_id,
        payment_id=payment_id,
        status=status,
        amount=money.amount,
        currency=money.currency,
        channel_refund_id=refund["id"],
        failure_code=(refund.get("failure_reason") or refund.get("status")) if failed else None,
        failure_message=f"Stripe refund {refund.get('status')}" if failed else None,
    )


def newest_paymux_refund(charge: dict[str, Any]) -> dict[str, Any]:
    """The newest paymux refund a `charge.refunded` event's charge lists; raises UnknownObject when the
    charge does not list its refunds (API versions since 2022-11-15 leave them out)."""
    listed = (charge.get("refunds") or {}).get("data") or []
    ours = [refund for refund in listed if _metadata(refund).get(REFUND_ID_KEY)]
    if not ours:
        raise UnknownObject("the charge lists no paymux refund")
    return max(ours, key=lambda refund: (refund.get("created", 0), refund["id"]))


def _metadata(obj: dict[str, Any]) -> dict[str, str]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _charge_created(intent: dict[str, Any]) -> int | None:
    charge = intent.get("latest_charge")
    return int(charge["created"]) if isinstance(charge, dict) and "created" in charge else None
