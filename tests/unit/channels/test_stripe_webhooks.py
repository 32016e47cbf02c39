"""Stripe webhook events: the sandbox's signed events verify and mean what happened; anything
tampered, mis-signed, stale or foreign is rejected; Stripe gets its expected answers."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from typing import Any

import pytest
from pydantic import SecretStr

from paymux.channels.base import ChannelPaymentState, ChannelRefundState, ProviderRequest
from paymux.channels.stripe.credentials import StripeCredentials
from paymux.channels.stripe.sandbox.objects import API_VERSION
from paymux.domain.errors import ChannelError, NotificationRejected
from paymux.domain.states import PaymentStatus, RefundStatus
from tests.unit.channels.stripe_support import NOON, NOTIFY_PATH, StripeWorld, refund


def signed(body: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def resigned(
    request: ProviderRequest, event: dict[str, Any], secret: str, timestamp: int = NOON
) -> ProviderRequest:
    body = json.dumps(event).encode()
    return replace(
        request, body=body, headers=request.headers | {"stripe-signature": signed(body, secret, timestamp)}
    )


@pytest.mark.parametrize(
    ("outcome", "event_type"),
    [
        (PaymentStatus.SUCCEEDED, "payment_intent.succeeded"),
        (PaymentStatus.FAILED, "payment_intent.payment_failed"),
        (PaymentStatus.CLOSED, "payment_intent.canceled"),
    ],
)
def test_the_sandboxs_payment_events_verify_and_agree_with_a_query(
    outcome: PaymentStatus, event_type: str
) -> None:
    world = StripeWorld()
    created = world.create()
    request = world.sandbox.notification_for(world.credentials, created, outcome, NOTIFY_PATH)
    event = json.loads(request.body)
    assert (request.method, request.path, event["type"], event["api_version"]) == (
        "POST",
        NOTIFY_PATH,
        event_type,
        API_VERSION,
    )
    assert world.adapter.notification_target(request).payment_id == created.id

    notification = world.adapter.verify_notification(world.credentials, request)

    assert isinstance(notification, ChannelPaymentState)
    assert (notification.payment_id, notification.status, notification.amount, notification.currency) == (
        created.id,
        outcome,
        created.amount,
        created.currency,
    )
    assert world.adapter.query_payment(world.credentials, created).status is outcome


def test_a_refund_event_verifies() -> None:
    world = StripeWorld()
    created = world.create()
    world.sandbox.notification_for(world.credentials, created, PaymentStatus.SUCCEEDED, NOTIFY_PATH)
    pending = refund(created, 500)
    recorded = pending.model_copy(
        update={
            "channel_refund_id": world.adapter.refund(world.credentials, created, pending).channel_refund_id
        }
    )
    request = world.sandbox.refund_notification_for(
        world.credentials, created, recorded, RefundStatus.SUCCEEDED, NOTIFY_PATH
    )
    assert request is not None
    target = world.adapter.notification_target(request)
    assert (target.payment_id, target.refund_id) == (created.id, pending.id)
    notification = world.adapter.verify_notification(world.credentials, request)
    assert isinstance(notification, ChannelRefundState)
    assert (notification.refund_id, notification.status, notification.amount) == (
        pending.id,
        RefundStatus.SUCCEEDED,
        500,
    )


def test_a_failed_refund_event_says_why_and_returns_the_funds() -> None:
    world = StripeWorld()
    created = world.create()
    world.sandbox.notification_for(world.credentials, created, PaymentStatus.SUCCEEDED, NOTIFY_PATH)
    pending = refund(created, created.amount)
    recorded = pending.model_copy(
        update={
            "channel_refund_id": world.adapter.refund(world.credentials, created, pending).channel_refund_id
        }
    )
    request = world.sandbox.refund_notification_for(
        world.credentials, created, recorded, RefundStatus.FAILED, NOTIFY_PATH
    )
    assert request is not None
    assert json.loads(request.body)["type"] == "refund.failed"
    notification = world.adapter.verify_notification(world.credentials, request)
    assert isinstance(notification, ChannelRefundState)
    assert (notification.status, notification.failure_code) == (
        RefundStatus.FAILED,
        "expired_or_canceled_card",
    )
    assert world.adapter.query_refund(world.credentials, created, recorded).status is RefundStatus.FAILED
    again = refund(created, created.amount)
    assert world.adapter.refund(world.credentials, created, again).status is RefundStatus.SUCCEEDED


def test_charge_refunded_names_the_newest_paymux_refund_it_lists() -> None:
    world = StripeWorld()
    created = world.create()
    request = world.sandbox.notification_for(world.credentials, created, PaymentStatus.SUCCEEDED, NOTIFY_PATH)
    first, second = refund(created, 100), refund(created, 200)
    listed = []
    for offset, each in enumerate((first, second)):
        world.clock.now = NOON + offset
        state = world.adapter.refund(world.credentials, created, each)
        listed.append(world.api.account.retrieve_refund(str(state.channel_refund_id)))
    charge_id = world.api.account.retrieve_payment_intent(str(created.channel_transaction_id))[
        "latest_charge"
    ]
    charge = world.api.state.get(charge_id) or {}
    event = json.loads(request.body) | {"type": "charge.refunded"}
    event["data"] = {
        "object": charge | {"refunds": {"object": "list", "data": listed[::-1], "has_more": False}}
    }
    notification = world.adapter.verify_notification(
        world.credentials, resigned(request, event, world.credentials.webhook_secret.get_secret_value())
    )
    assert isinstance(notification, ChannelRefundState)
    assert notification.refund_id == second.id

    event["data"] = {"object": charge}  # API versions since 2022-11-15 leave the refunds out
    with pytest.raises(NotificationRejected, match="no paymux"):
        world.adapter.verify_notification(
            world.credentials, resigned(request, event, world.credentials.webhook_secret.get_secret_value())
        )


@pytest.fixture
def paid() -> tuple[StripeWorld, ProviderRequest]:
    world = StripeWorld()
    created = world.create()
    return world, world.sandbox.notification_for(
        world.credentials, created, PaymentStatus.SUCCEEDED, NOTIFY_PATH
    )


def test_a_tampered_body_is_rejected(paid: tuple[StripeWorld, ProviderRequest]) -> None:
    world, request = paid
    tampered = replace(request, body=request.body.replace(b'"amount": 1234', b'"amount": 1'))
    assert tampered.body != request.body
    with pytest.raises(NotificationRejected, match="does not verify"):
        world.adapter.verify_notification(world.credentials, tampered)


def test_another_endpoints_secret_is_rejected(paid: tuple[StripeWorld, ProviderRequest]) -> None:
    world, request = paid
    other = world.credentials.model_copy(update={"webhook_secret": SecretStr("whsec_another_endpoint")})
    with pytest.raises(NotificationRejected):
        world.adapter.verify_notification(other, request)


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_signature_outside_the_tolerance_is_rejected(
    paid: tuple[StripeWorld, ProviderRequest], skew: int
) -> None:
    world, request = paid
    world.clock.now = NOON - skew
    with pytest.raises(NotificationRejected):
        world.adapter.verify_notification(world.credentials, request)


def test_a_signature_within_the_tolerance_is_accepted(paid: tuple[StripeWorld, ProviderRequest]) -> None:
    world, request = paid
    world.clock.now = NOON + 299
    assert world.adapter.verify_notification(world.credentials, request).status is PaymentStatus.SUCCEEDED


@pytest.mark.parametrize(
    "header", [None, "", "t=abc,v1=00", f"t={NOON}", f"t={NOON},v0=deadbeef", "v1=deadbeef"]
)
def test_missing_or_malformed_signature_headers_are_rejected(
    paid: tuple[StripeWorld, ProviderRequest], header: str | None
) -> None:
    world, request = paid
    headers = {k: v for k, v in request.headers.items() if k != "stripe-signature"}
    if header is not None:
        headers["stripe-signature"] = header
    with pytest.raises(NotificationRejected):
        world.adapter.verify_notification(world.credentials, replace(request, headers=headers))


def test_a_live_event_is_rejected_for_a_test_key(paid: tuple[StripeWorld, ProviderRequest]) -> None:
    world, request = paid
    event = json.loads(request.body) | {"livemode": True}
    with pytest.raises(NotificationRejected, match="livemode"):
        world.adapter.verify_notification(
            world.credentials, resigned(request, event, world.credentials.webhook_secret.get_secret_value())
        )


@pytest.mark.parametrize(
    "change", [{"type": "customer.created"}, {"data": {"object": {"object": "payment_intent"}}}]
)
def test_events_naming_no_paymux_object_are_rejected(
    paid: tuple[StripeWorld, ProviderRequest], change: dict[str, Any]
) -> None:
    world, request = paid
    event = json.loads(request.body) | change
    with pytest.raises(NotificationRejected, match="names no paymux object"):
        world.adapter.verify_notification(
            world.credentials, resigned(request, event, world.credentials.webhook_secret.get_secret_value())
        )


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"object": "event", "type": "x", "data": {}}'])
def test_bodies_that_are_not_stripe_events_have_no_target(
    paid: tuple[StripeWorld, ProviderRequest], body: bytes
) -> None:
    world, request = paid
    with pytest.raises(NotificationRejected):
        world.adapter.notification_target(replace(request, body=body))


def test_a_request_without_a_stripe_signature_is_not_a_stripe_webhook(
    paid: tuple[StripeWorld, ProviderRequest],
) -> None:
    world, request = paid
    with pytest.raises(NotificationRejected):
        world.adapter.notification_target(replace(request, headers={"content-type": "application/json"}))


def test_acknowledgements_are_what_stripe_expects() -> None:
    world = StripeWorld()
    ok, refused = world.adapter.acknowledge(True), world.adapter.acknowledge(False)
    assert (ok.status, json.loads(ok.body)) == (200, {"received": True})
    assert refused.status == 400
    assert ok.content_type == "application/json"


def test_the_sandbox_refuses_impossible_outcomes() -> None:
    world = StripeWorld()
    created = world.create()
    world.sandbox.notification_for(world.credentials, created, PaymentStatus.CLOSED, NOTIFY_PATH)
    with pytest.raises(ChannelError):
        world.sandbox.notification_for(world.credentials, created, PaymentStatus.SUCCEEDED, NOTIFY_PATH)
    stranger = StripeCredentials.model_validate({"secret_key": "sk_test_x", "webhook_secret": "whsec_x"})
    other = created.model_copy(
        update={"id": "pay_01JQ0000000000000000000000", "channel_transaction_id": None}
    )
    with pytest.raises(ChannelError):
        world.sandbox.notification_for(stranger, other, PaymentStatus.SUCCEEDED, NOTIFY_PATH)


def test_a_second_timestamp_cannot_smuggle_an_old_signature_past_the_tolerance(
    paid: tuple[StripeWorld, ProviderRequest],
) -> None:
    # given a genuine event signed 30 days ago
    world, request = paid
    secret = world.credentials.webhook_secret.get_secret_value()
    old_signature = hmac.new(secret.encode(), f"{NOON}.".encode() + request.body, hashlib.sha256).hexdigest()
    world.clock.now = NOON + 30 * 86_400
    # when it is replayed with the old time in a form the SDK parses first and a fresh one for the window
    for header in (
        f"t=+{NOON},t={world.clock.now},v1={old_signature}",
        f"t={NOON},t={world.clock.now},v1={old_signature}",
    ):
        replayed = replace(request, headers={**request.headers, "stripe-signature": header})
        # then it is refused
        with pytest.raises(NotificationRejected, match="exactly one decimal timestamp"):
            world.adapter.verify_notification(world.credentials, replayed)
