"""The official `stripe` SDK as the other side of paymux's Stripe channel: it signs webhooks paymux
accepts, verifies the webhooks paymux's sandbox signs, and drives PaymentIntents on the sandbox
(in-process and over loopback HTTP) that the adapter then sees."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from paymux.channels.base import ChannelPaymentState, ProviderRequest
from paymux.channels.stripe.credentials import StripeCredentials
from paymux.channels.stripe.sandbox.api import StripeSandboxApi
from paymux.channels.stripe.sandbox.notifier import StripeSandbox
from paymux.channels.stripe.sandbox.objects import API_VERSION
from paymux.channels.stripe.transport import SANDBOX_API_BASE, SandboxHTTPClient
from paymux.domain.errors import NotificationRejected
from paymux.domain.ids import IdPrefix, new_id
from paymux.domain.models import Payment
from paymux.domain.states import PaymentStatus, RefundStatus
from tests.unit.channels.stripe_support import (
    NOTIFY_PATH,
    Clock,
    StripeWorld,
    payment,
    payment_request,
    refund,
)

pytestmark = pytest.mark.interop


@pytest.fixture
def world() -> StripeWorld:
    return StripeWorld(clock=Clock(now=int(time.time())))


@pytest.fixture
def paid_event(world: StripeWorld) -> ProviderRequest:
    created = world.create()
    return world.sandbox.notification_for(world.credentials, created, PaymentStatus.SUCCEEDED, NOTIFY_PATH)


def test_the_sandbox_speaks_the_pinned_sdks_api_version() -> None:
    assert stripe.api_version == API_VERSION


def test_sdk_construct_event_accepts_what_the_sandbox_signs(
    world: StripeWorld, paid_event: ProviderRequest
) -> None:
    event = stripe.Webhook.construct_event(
        paid_event.body,
        paid_event.headers["stripe-signature"],
        world.credentials.webhook_secret.get_secret_value(),
    )
    assert event.type == "payment_intent.succeeded"
    assert event.data.object["status"] == "succeeded"
    assert (
        event.data.object["metadata"]["paymux_payment_id"]
        == world.adapter.notification_target(paid_event).payment_id
    )


def test_sdk_construct_event_refuses_tampered_mis_signed_and_stale_sandbox_events(
    world: StripeWorld, paid_event: ProviderRequest
) -> None:
    header, secret = (
        paid_event.headers["stripe-signature"],
        world.credentials.webhook_secret.get_secret_value(),
    )
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(paid_event.body.replace(b"succeeded", b"canceled"), header, secret)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(paid_event.body, header, "whsec_another_endpoint")
    six_minutes_ago = StripeSandbox(world.store, lambda: world.clock.now - 360)
    stale = six_minutes_ago.notification_for(
        world.credentials, _payment_of(paid_event), PaymentStatus.SUCCEEDED, NOTIFY_PATH
    )
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.Webhook.construct_event(stale.body, stale.headers["stripe-signature"], secret)


def test_paymux_accepts_events_the_sdk_signs(world: StripeWorld, paid_event: ProviderRequest) -> None:
    header = stripe.WebhookSignature.generate_signature_header(
        paid_event.body.decode(), world.credentials.webhook_secret.get_secret_value(), world.clock.now
    )
    notification = world.adapter.verify_notification(
        world.credentials, replace(paid_event, headers=paid_event.headers | {"stripe-signature": header})
    )
    assert isinstance(notification, ChannelPaymentState)
    assert notification.status is PaymentStatus.SUCCEEDED


@pytest.mark.parametrize(
    ("body_change", "secret", "age"),
    [
        ((b'"amount": 1234', b'"amount": 1'), None, 0),
        (None, "whsec_another_endpoint", 0),
        (None, None, 301),
        (None, None, -301),
    ],
    ids=["tampered", "wrong-secret", "too-old", "too-new"],
)
def test_paymux_refuses_bad_copies_of_sdk_signed_events(
    world: StripeWorld,
    paid_event: ProviderRequest,
    body_change: tuple[bytes, bytes] | None,
    secret: str | None,
    age: int,
) -> None:
    header = stripe.WebhookSignature.generate_signature_header(
        paid_event.body.decode(),
        secret or world.credentials.webhook_secret.get_secret_value(),
        world.clock.now - age,
    )
    body = paid_event.body.replace(*body_change) if body_change else paid_event.body
    assert body_change is None or body != paid_event.body
    with pytest.raises(NotificationRejected):
        world.adapter.verify_notification(
            world.credentials,
            replace(paid_event, body=body, headers=paid_event.headers | {"stripe-signature": header}),
        )


def test_the_sdk_confirms_a_payment_intent_in_process_and_the_adapter_sees_it_paid(
    world: StripeWorld,
) -> None:
    created = world.create(amount=4200, currency="eur")
    client = stripe.StripeClient(
        world.credentials.secret_key.get_secret_value(),
        base_addresses={"api": SANDBOX_API_BASE},
        http_client=SandboxHTTPClient(StripeSandboxApi(world.store, world.clock)),
    )

    confirmed = client.v1.payment_intents.confirm(
        str(created.channel_transaction_id), {"payment_method": "pm_card_visa"}
    )

    assert confirmed.status == "succeeded"
    state = world.adapter.query_payment(world.credentials, created)
    assert (state.status, state.amount, state.currency) == (PaymentStatus.SUCCEEDED, 4200, "eur")


class _LoopbackStripe(BaseHTTPRequestHandler):
    api: StripeSandboxApi

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        answer = self.api.handle(self.command, self.path, dict(self.headers.items()), body)
        payload = answer.body.encode()
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: pytest shows failures, not access logs."""


@pytest.fixture
def loopback(world: StripeWorld) -> Iterator[str]:
    handler = type("Handler", (_LoopbackStripe,), {"api": StripeSandboxApi(world.store, world.clock)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_over_http_the_adapter_and_the_sdk_share_one_payment(world: StripeWorld, loopback: str) -> None:
    credentials = StripeCredentials.model_validate(
        world.credentials.model_dump() | {"api_base": loopback}, context={"mode": "test"}
    )
    payment_id = new_id(IdPrefix.PAYMENT)
    created = world.adapter.create_payment(credentials, payment_request(payment_id, 2500, "usd"))
    shopper = stripe.StripeClient(
        world.credentials.secret_key.get_secret_value(), base_addresses={"api": loopback}
    )

    declined = shopper.v1.payment_intents.create(
        {"amount": 100, "currency": "usd", "allowed_payment_method_types": ["card"]}
    )
    with pytest.raises(stripe.CardError) as raised:
        shopper.v1.payment_intents.confirm(
            declined.id, {"payment_method": "pm_card_chargeDeclinedInsufficientFunds"}
        )
    assert raised.value.code == "card_declined"
    confirmed = shopper.v1.payment_intents.confirm(
        str(created.channel_transaction_id), {"payment_method": "pm_card_visa"}
    )

    assert confirmed.status == "succeeded"
    paid = payment(payment_id, 2500, "usd", created.channel_transaction_id)
    assert world.adapter.query_payment(credentials, paid).status is PaymentStatus.SUCCEEDED
    returned = world.adapter.refund(credentials, paid, refund(paid, 1000))
    assert returned.status is RefundStatus.SUCCEEDED
    listed = shopper.v1.refunds.list({"payment_intent": str(created.channel_transaction_id)})
    assert [item.id for item in listed.data] == [returned.channel_refund_id]


def _payment_of(request: ProviderRequest) -> Payment:
    event = json.loads(request.body)
    intent = event["data"]["object"]
    return payment(
        intent["metadata"]["paymux_payment_id"], intent["amount"], intent["currency"], intent["id"]
    )
