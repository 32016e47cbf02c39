"""The Stripe adapter against the in-process sandbox: the SDK's real requests, every operation."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest

from paymux.channels.registry import load_adapter, load_sandbox
from paymux.channels.stripe.credentials import StripeCredentials
from paymux.domain.errors import ChannelError, InvalidRequest
from paymux.domain.ids import IdPrefix, new_id
from paymux.domain.models import Channel, Mode
from paymux.domain.states import PaymentStatus, RefundStatus
from tests.fakes import InMemorySandboxStore
from tests.unit.channels.stripe_support import (
    NOON,
    NOTIFY_PATH,
    StripeWorld,
    payment,
    payment_request,
    refund,
)


def test_the_registry_builds_the_stripe_adapter_and_sandbox() -> None:
    store = InMemorySandboxStore()
    assert load_adapter(Channel.STRIPE, store).channel is Channel.STRIPE
    assert load_sandbox(Channel.STRIPE, store).channel is Channel.STRIPE


def test_create_returns_the_client_secret_and_the_payment_intent() -> None:
    world = StripeWorld()
    payment_id = new_id(IdPrefix.PAYMENT)
    created = world.adapter.create_payment(world.credentials, payment_request(payment_id, 1999, "eur"))
    credential = created.credential
    assert credential["type"] == "client_secret"
    assert credential["payment_intent"] == created.channel_transaction_id
    assert credential["client_secret"].startswith(f"{created.channel_transaction_id}_secret_")
    assert credential["publishable_key"] == world.credentials.publishable_key
    intent = world.api.account.retrieve_payment_intent(str(created.channel_transaction_id))
    assert (intent["amount"], intent["currency"]) == (1999, "eur")
    assert intent["metadata"] == {"paymux_payment_id": payment_id}
    assert intent["allowed_payment_method_types"] == ["card"]
    assert intent["description"] == "Green tea"


def test_create_is_idempotent_per_payment_id() -> None:
    world = StripeWorld()
    request = payment_request(new_id(IdPrefix.PAYMENT))
    first = world.adapter.create_payment(world.credentials, request)
    again = world.adapter.create_payment(world.credentials, request)
    assert again.channel_transaction_id == first.channel_transaction_id


def test_isk_is_sent_in_stripes_two_decimal_amounts() -> None:
    world = StripeWorld()
    created = world.create(amount=5, currency="isk")
    assert world.api.account.retrieve_payment_intent(str(created.channel_transaction_id))["amount"] == 500
    assert world.adapter.query_payment(world.credentials, created).amount == 5


@pytest.mark.parametrize("extra", [{"scene": "qr"}, {"channel_extra": {"card_number": "4242424242424242"}}])
def test_create_refuses_other_scenes_and_unknown_extras(extra: dict[str, object]) -> None:
    world = StripeWorld()
    with pytest.raises(InvalidRequest):
        world.adapter.create_payment(world.credentials, payment_request(new_id(IdPrefix.PAYMENT), **extra))


def test_query_waits_for_the_shopper_then_sees_the_outcome() -> None:
    world = StripeWorld()
    created = world.create()
    state = world.adapter.query_payment(world.credentials, created)
    assert (state.status, state.amount, state.currency) == (PaymentStatus.REQUIRES_ACTION, 1234, "usd")
    world.clock.now = NOON + 30
    world.sandbox.notification_for(world.credentials, created, PaymentStatus.SUCCEEDED, NOTIFY_PATH)
    state = world.adapter.query_payment(world.credentials, created)
    assert (state.status, state.paid_at, state.channel_transaction_id) == (
        PaymentStatus.SUCCEEDED,
        NOON + 30,
        created.channel_transaction_id,
    )


def test_query_reports_a_decline_as_failed() -> None:
    world = StripeWorld()
    created = world.create()
    world.sandbox.notification_for(world.credentials, created, PaymentStatus.FAILED, NOTIFY_PATH)
    state = world.adapter.query_payment(world.credentials, created)
    assert (state.status, state.failure_code) == (PaymentStatus.FAILED, "generic_decline")
    assert state.failure_message == "Your card was declined."


def test_query_finds_the_intent_by_metadata_when_no_id_was_recorded() -> None:
    world = StripeWorld()
    created = world.create()
    unrecorded = created.model_copy(update={"channel_transaction_id": None})
    assert world.adapter.query_payment(world.credentials, unrecorded).channel_transaction_id == (
        created.channel_transaction_id
    )
    unknown = payment(new_id(IdPrefix.PAYMENT), 1234, "usd", None)
    with pytest.raises(ChannelError, match="no PaymentIntent"):
        world.adapter.query_payment(world.credentials, unknown)


def test_query_refuses_an_intent_of_another_payment() -> None:
    world = StripeWorld()
    created = world.create()
    impostor = payment(new_id(IdPrefix.PAYMENT), 1234, "usd", created.channel_transaction_id)
    with pytest.raises(ChannelError, match="another payment"):
        world.adapter.query_payment(world.credentials, impostor)


def test_close_cancels_and_closing_again_is_harmless() -> None:
    world = StripeWorld()
    created = world.create()
    world.adapter.close_payment(world.credentials, created)
    assert world.adapter.query_payment(world.credentials, created).status is PaymentStatus.CLOSED
    world.adapter.close_payment(world.credentials, created)


def test_a_paid_payment_cannot_be_closed() -> None:
    world = StripeWorld()
    created = world.create()
    world.sandbox.notification_for(world.credentials, created, PaymentStatus.SUCCEEDED, NOTIFY_PATH)
    with pytest.raises(ChannelError, match="payment_intent_unexpected_state"):
        world.adapter.close_payment(world.credentials, created)


def test_partial_and_multiple_refunds_up_to_the_amount() -> None:
    world = StripeWorld()
    created = world.create(amount=1000)
    world.sandbox.notification_for(world.credentials, created, PaymentStatus.SUCCEEDED, NOTIFY_PATH)
    first, second = (
        refund(created, 600, reason="requested_by_customer"),
        refund(created, 400, reason="free text"),
    )
    for each in (first, second):
        state = world.adapter.refund(world.credentials, created, each)
        assert (state.refund_id, state.payment_id, state.status, state.amount) == (
            each.id,
            created.id,
            RefundStatus.SUCCEEDED,
            each.amount,
        )
    stripe_refund = world.api.account.retrieve_refund(str(state.channel_refund_id))
    assert stripe_refund["reason"] is None
    assert stripe_refund["metadata"] == {"paymux_refund_id": second.id, "paymux_payment_id": created.id}
    with pytest.raises(ChannelError, match="charge_already_refunded"):
        world.adapter.refund(world.credentials, created, refund(created, 1))


def test_a_refund_is_created_once_per_refund_id() -> None:
    world = StripeWorld()
    created = world.create(amount=1000)
    world.sandbox.notification_for(world.credentials, created, PaymentStatus.SUCCEEDED, NOTIFY_PATH)
    once = refund(created, 600)
    first = world.adapter.refund(world.credentials, created, once)
    again = world.adapter.refund(world.credentials, created, once)
    assert again.channel_refund_id == first.channel_refund_id
    assert (
        world.api.account.retrieve_payment_intent(str(created.channel_transaction_id))["status"]
        == "succeeded"
    )
    assert len(world.api.state.refunds_of(str(created.channel_transaction_id))) == 1


def test_refund_query_by_id_and_by_metadata() -> None:
    world = StripeWorld()
    created = world.create()
    world.sandbox.notification_for(world.credentials, created, PaymentStatus.SUCCEEDED, NOTIFY_PATH)
    pending = refund(created, 234)
    channel_refund_id = world.adapter.refund(world.credentials, created, pending).channel_refund_id
    recorded = pending.model_copy(update={"channel_refund_id": channel_refund_id})
    assert world.adapter.query_refund(world.credentials, created, recorded).status is RefundStatus.SUCCEEDED
    assert (
        world.adapter.query_refund(world.credentials, created, pending).channel_refund_id == channel_refund_id
    )
    with pytest.raises(ChannelError, match="no refund"):
        world.adapter.query_refund(world.credentials, created, refund(created, 1))


def test_refunding_an_unpaid_payment_fails() -> None:
    world = StripeWorld()
    created = world.create()
    with pytest.raises(ChannelError, match="charge_not_refundable"):
        world.adapter.refund(world.credentials, created, refund(created, 100))


def test_statement_lists_the_days_charges_and_refunds() -> None:
    world = StripeWorld()
    paid = world.create(amount=1000)
    world.sandbox.notification_for(world.credentials, paid, PaymentStatus.SUCCEEDED, NOTIFY_PATH)
    returned = refund(paid, 300)
    world.clock.now = NOON + 60
    world.adapter.refund(world.credentials, paid, returned)
    world.create(amount=77)  # never paid: not on the statement
    world.clock.now = NOON + 86_400  # the next day
    tomorrow = world.create(amount=500)
    world.sandbox.notification_for(world.credentials, tomorrow, PaymentStatus.SUCCEEDED, NOTIFY_PATH)

    lines = world.adapter.download_statement(world.credentials, date(2025, 3, 14))

    assert [
        (line.kind, line.payment_id, line.amount, line.refund_id, line.occurred_at) for line in lines
    ] == [
        ("payment", paid.id, 1000, None, NOON),
        ("refund", paid.id, 300, returned.id, NOON + 60),
    ]
    assert lines[0].fee == 59
    assert lines[0].channel_transaction_id == paid.channel_transaction_id
    assert [
        line.payment_id for line in world.adapter.download_statement(world.credentials, date(2025, 3, 15))
    ] == [tomorrow.id]


def test_a_payment_of_the_other_mode_is_refused() -> None:
    world = StripeWorld()
    created = world.create()
    live = created.model_copy(update={"mode": Mode.LIVE})
    with pytest.raises(ChannelError, match="sk_live_"):
        world.adapter.query_payment(world.credentials, live)


def test_a_key_the_sandbox_does_not_know_fails_without_showing_it() -> None:
    world = StripeWorld()
    stranger = StripeCredentials.model_validate(
        {"secret_key": "sk_test_stranger_key_0000000000", "webhook_secret": "whsec_x"}
    )
    with pytest.raises(ChannelError) as raised:
        world.adapter.create_payment(stranger, payment_request(new_id(IdPrefix.PAYMENT)))
    assert "stranger" not in raised.value.message
    assert "401" in raised.value.message


def test_the_sandbox_loads_without_the_stripe_sdk() -> None:
    """The merchant API function builds sandboxes to complete test payments; it does not ship `stripe`."""
    script = (
        "import sys; from paymux.channels.stripe import build_sandbox;"
        "from tests.fakes import InMemorySandboxStore;"
        "build_sandbox(InMemorySandboxStore()); print('stripe' in sys.modules)"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(["layers", "."])},
    )
    assert ran.stdout.strip() == "False"
