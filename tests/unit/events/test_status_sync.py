"""The status sync settles payments whose notification was lost and closes expired ones."""

from __future__ import annotations

from typing import Any

from paymux.channels.base import ChannelPaymentState, ChannelRefundState
from paymux.domain.errors import ChannelError
from paymux.domain.models import Channel, Payment
from paymux.domain.states import PaymentStatus, RefundStatus
from paymux.events.status_sync import SyncOutcome
from paymux.services.payments import CreateRefund
from tests.fakes import fake_notification
from tests.unit.core.conftest import create_command
from tests.unit.events.conftest import World
from tests.unit.events.test_publisher import BASE_URL


def provider_says(world: World, status: PaymentStatus) -> None:
    world.adapter.query_payment = lambda credentials, payment: ChannelPaymentState(  # type: ignore[method-assign]
        payment.id,
        status,
        payment.amount,
        payment.currency,
        channel_transaction_id="t-sync",
        paid_at=world.clock(),
    )


def test_a_payment_whose_notification_was_dropped_is_settled_by_the_sync(world: World) -> None:
    # given a payment the shopper paid, whose notification never arrived
    payment = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    provider_says(world, PaymentStatus.SUCCEEDED)
    # when the sync runs within the grace period, it leaves it alone
    world.clock.advance(60)
    assert world.status_sync().run().outcomes == {}
    # and after the grace period it settles it through the same transition as a notification
    world.clock.advance(300)
    report = world.status_sync().run()
    assert report.outcomes == {payment.id: SyncOutcome.SETTLED}
    settled = world.ledger.get_payment(payment.id)
    assert settled.status is PaymentStatus.SUCCEEDED
    assert settled.channel_transaction_id == "t-sync"
    world.publish_stream()
    assert [e["detail-type"] for e in world.bus.published()] == ["payment.created", "payment.succeeded"]
    # and it is out of the work index: the next run has nothing to do
    assert world.status_sync().run().outcomes == {}


def test_an_expired_payment_is_closed_at_the_provider_then_in_the_ledger(world: World) -> None:
    closed_at_provider: list[str] = []
    world.adapter.close_payment = lambda c, p: closed_at_provider.append(p.id)  # type: ignore[method-assign]
    payment = world.payments.create_payment(
        world.scope, Channel.ALIPAY, create_command(expires_in=600), BASE_URL
    )
    waiting = world.payments.create_payment(
        world.scope, Channel.ALIPAY, create_command(expires_in=7200), BASE_URL
    )
    world.clock.advance(601)
    report = world.status_sync().run()
    assert report.outcomes == {payment.id: SyncOutcome.CLOSED, waiting.id: SyncOutcome.WAITING}
    assert closed_at_provider == [payment.id]
    assert world.ledger.get_payment(payment.id).status is PaymentStatus.CLOSED
    assert world.ledger.get_payment(waiting.id).status is PaymentStatus.REQUIRES_ACTION


def test_an_expired_payment_paid_at_the_last_moment_is_settled_not_closed(world: World) -> None:
    payment = world.payments.create_payment(
        world.scope, Channel.ALIPAY, create_command(expires_in=600), BASE_URL
    )
    provider_says(world, PaymentStatus.SUCCEEDED)
    world.clock.advance(601)
    assert world.status_sync().run().outcomes == {payment.id: SyncOutcome.SETTLED}
    assert world.ledger.get_payment(payment.id).status is PaymentStatus.SUCCEEDED


def test_one_failing_query_does_not_stop_the_others(world: World) -> None:
    first = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    second = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)

    def query(credentials: Any, payment: Payment) -> ChannelPaymentState:
        if payment.id == first.id:
            raise ChannelError("provider timeout")
        return ChannelPaymentState(payment.id, PaymentStatus.FAILED, payment.amount, payment.currency)

    world.adapter.query_payment = query  # type: ignore[method-assign]
    world.clock.advance(400)
    report = world.status_sync().run()
    assert report.outcomes == {first.id: SyncOutcome.FAILED, second.id: SyncOutcome.SETTLED}
    assert world.ledger.get_payment(second.id).status is PaymentStatus.FAILED


def test_a_provider_answer_for_another_amount_changes_nothing(world: World) -> None:
    payment = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    world.adapter.query_payment = lambda c, p: ChannelPaymentState(  # type: ignore[method-assign]
        p.id, PaymentStatus.SUCCEEDED, p.amount - 1, p.currency
    )
    world.clock.advance(400)
    assert world.status_sync().run().outcomes == {payment.id: SyncOutcome.SKIPPED}
    assert world.ledger.get_payment(payment.id).status is PaymentStatus.REQUIRES_ACTION


def test_only_this_channels_payments_are_synced(world: World) -> None:
    world.adapter.channel = Channel.WECHATPAY
    world.payments.create_payment(world.scope, Channel.WECHATPAY, create_command(scene="native"), BASE_URL)
    world.adapter.channel = Channel.ALIPAY
    world.clock.advance(400)
    assert world.status_sync().run().outcomes == {}


def test_a_refund_whose_outcome_never_arrived_is_settled_by_the_sync(world: World) -> None:
    # given a paid payment and a refund the provider finished without telling paymux
    payment = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    notice = fake_notification(
        payment_id=payment.id, status="succeeded", amount=payment.amount, currency="cny"
    )
    assert world.payments.handle_notification(Channel.ALIPAY, notice).body == "success"
    refund = world.payments.create_refund(world.scope, payment.id, CreateRefund(amount=1_000))
    waiting = world.payments.create_refund(world.scope, payment.id, CreateRefund(amount=500))
    world.adapter.query_refund = lambda c, p, r: ChannelRefundState(  # type: ignore[method-assign]
        r.id,
        p.id,
        RefundStatus.SUCCEEDED if r.id == refund.id else RefundStatus.PENDING,
        r.amount,
        r.currency,
    )
    # when the sync runs after the grace period (ids carry real time: leave slack for a slow machine)
    world.clock.advance(360)
    report = world.status_sync().run()
    # then the finished refund is settled once, the other keeps waiting
    assert report.outcomes == {refund.id: SyncOutcome.SETTLED, waiting.id: SyncOutcome.WAITING}
    assert world.ledger.get_refund(refund.id).status is RefundStatus.SUCCEEDED
    assert world.ledger.get_payment(payment.id).amount_refunded == 1_000
    assert world.status_sync().run().outcomes == {waiting.id: SyncOutcome.WAITING}
