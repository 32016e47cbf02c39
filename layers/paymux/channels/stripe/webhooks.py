"""Stripe webhook events: the ids they name (untrusted), their verification with the SDK's
`stripe.WebhookSignature.verify_header` and their meaning as paymux notifications."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from paymux.channels.base import Notification, NotificationTarget, ProviderRequest
from paymux.channels.stripe.credentials import StripeCredentials
from paymux.channels.stripe.mapping import (
    PAYMENT_ID_KEY,
    REFUND_ID_KEY,
    UnknownObject,
    newest_paymux_refund,
    payment_state,
    refund_state,
)
from paymux.domain.errors import InvalidRequest, NotificationRejected

# Stripe's default tolerance (stripe.Webhook.DEFAULT_TOLERANCE): a signature older than this is a replay.
TOLERANCE_SECONDS = 300
_DIGITS = re.compile(r"[0-9]{1,12}")
PAYMENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "payment_intent.processing",
        "payment_intent.requires_action",
    }
)
REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed"})
CHARGE_REFUNDED = "charge.refunded"


def parse_event(body: bytes) -> dict[str, Any]:
    """The event JSON, shape-checked only. Raises NotificationRejected."""
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise NotificationRejected("The Stripe webhook body is not JSON") from None
    if (
        not isinstance(event, dict)
        or event.get("object") != "event"
        or not isinstance(event.get("type"), str)
    ):
        raise NotificationRejected("The webhook body is not a Stripe event")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise NotificationRejected("The webhook body is not a Stripe event")
    return event


def event_target(request: ProviderRequest) -> NotificationTarget:
    """The payment or refund an (unverified) event names. Raises NotificationRejected."""
    if "stripe-signature" not in request.headers:
        raise NotificationRejected("Not a Stripe webhook: no Stripe-Signature header")
    event = parse_event(request.body)
    obj = _subject(event)
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return NotificationTarget()
    return NotificationTarget(payment_id=metadata.get(PAYMENT_ID_KEY), refund_id=metadata.get(REFUND_ID_KEY))


def verify_event(
    credentials: StripeCredentials, request: ProviderRequest, now: float | None = None
) -> Notification:
    """Verify `Stripe-Signature` against the endpoint's secret (HMAC-SHA256, 300 s tolerance both ways)
    and read the event. Raises NotificationRejected."""
    import stripe

    header = request.headers.get("stripe-signature")
    # Exactly one plain decimal `t`: the SDK verifies against the first `t` it can int() (which takes
    # "+1", " 1" or "1_0"), so a header with two could be signed for an old time and checked against a
    # fresh one here.
    timestamp = _single_timestamp(header or "")
    if timestamp is None:
        raise NotificationRejected("Stripe-Signature must carry exactly one decimal timestamp")
    try:
        # The SDK checks the signature; the tolerance is checked below against paymux's clock, both ways
        # (the SDK refuses only old timestamps, and reads the wall clock).
        stripe.WebhookSignature.verify_header(
            request.body, header, credentials.webhook_secret.get_secret_value(), tolerance=None
        )
    except stripe.SignatureVerificationError as error:
        raise NotificationRejected(f"Stripe-Signature does not verify: {error.user_message}") from None
    except UnicodeDecodeError:  # the SDK decodes the body to sign it
        raise NotificationRejected("The Stripe webhook body is not UTF-8 text") from None
    if abs(timestamp - (time.time() if now is None else now)) > TOLERANCE_SECONDS:
        raise NotificationRejected("Stripe-Signature timestamp is outside the tolerance")
    event = parse_event(request.body)
    if event.get("livemode") is not credentials.livemode:
        raise NotificationRejected("The event's livemode does not match the endpoint's key")
    try:
        return _notification(event)
    except (UnknownObject, InvalidRequest, KeyError, TypeError, ValueError) as error:
        raise NotificationRejected(
            f"The Stripe event {event['type']} names no paymux object: {error}"
        ) from None


def _notification(event: dict[str, Any]) -> Notification:
    event_type = event["type"]
    obj = event["data"]["object"]
    if event_type in PAYMENT_EVENTS:
        return payment_state(obj, paid_at=int(event["created"]))
    if event_type in REFUND_EVENTS:
        return refund_state(obj)
    if event_type == CHARGE_REFUNDED:
        return refund_state(newest_paymux_refund(obj))
    raise UnknownObject(f"event type {event_type} is not one paymux subscribes to")


def _subject(event: dict[str, Any]) -> dict[str, Any]:
    obj: dict[str, Any] = event["data"]["object"]
    if event["type"] == CHARGE_REFUNDED:
        try:
            return newest_paymux_refund(obj)
        except UnknownObject:
            return obj
    return obj


def _single_timestamp(header: str) -> int | None:
    values = [part.partition("=")[2] for part in header.split(",") if part.partition("=")[0] == "t"]
    if len(values) != 1 or not _DIGITS.fullmatch(values[0]):
        return None
    return int(values[0])
