"""The status sync settles payments whose notification was lost and closes expired ones; what still
waits is checked again after a backoff, so it never starves newer work; a run keeps to its time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from paymux.channels.base import ChannelPaymentState, ChannelRefundState
from paymux.domain.errors import ChannelError, ChannelNotConfigured
from paymux.domain.models import Channel, Payment
from paymux.domain.states import PaymentStatus, RefundStatus
from paymux.events.status_sync import Backoff, SyncOutcome
from paymux.ledger.schema import GSI2_SORT_KEY, Keys
from paymux.services.refunds import CreateRefund
from tests import builders
from tests.fakes import fake_notification
from tests.unit.core.conftest import create_command
from tests.unit.events.conftest import World
from tests.unit.events.test_publisher import BASE_URL

RUN_EVERY = 5 * 60  # the schedule's period


def provider_says(world: World, status: PaymentStatus) -> None:
    world.adapter.query_payment = lambda credentials, payment: ChannelPaymentState(  # type: ignore[method-assign]
        payment.id,
        status,
        payment.amount,
        payment.currency,
        channel_transaction_id="t-sync",
        paid_at=world.clock(),
    )


def waiting_state(payment: Payment) -> ChannelPaymentState:
    return ChannelPaymentState(payment.id, PaymentStatus.REQUIRES_ACTION, payment.amount, payment.currency)


def stored_payments(world: World, count: int, **fields: Any) -> list[Payment]:
    """`count` payments created now, straight into the ledger, in the order the work index keeps
    them (by due time, then id)."""
    payments = [builders.payment(world.scope, created=world.clock(), **fields) for _ in range(count)]
    for payment in payments:
        world.ledger.create_payment(payment, builders.event_for(payment))
    return sorted(payments, key=lambda p: p.id)


def next_check_of(world: World, payment: Payment) -> int | None:
    """When the work index has the payment due next (None once it left the index)."""
    item = world.ledger.client.get_item(
        TableName=world.ledger.table_name,
        Key={k: {"S": v} for k, v in Keys.payment(payment.id).items()},
        ConsistentRead=True,
    )["Item"]
    return int(item[GSI2_SORT_KEY]["S"].split("#")[0]) if GSI2_SORT_KEY in item else None


def test_a_payment_whose_notification_was_dropped_is_settled_by_the_sync(world: World) -> None:
    # given a payment the shopper paid, whose notification never arrived
    payment = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    provider_says(world, PaymentStatus.SUCCEEDED)
    # when the sync runs within the grace period, it leaves it alone
    world.clock.advance(60)
    assert world.status_sync().run().outcomes == {}
    # and after the grace period it settles it through the same transition as a notification
    world.clock.advance(240)
    report = world.status_sync().run()
    assert report.outcomes == {payment.id: SyncOutcome.SETTLED}
    settled = world.ledger.get_payment(payment.id)
    assert settled.status is PaymentStatus.SUCCEEDED
    assert settled.channel_transaction_id == "t-sync"
    world.publish_stream()
    assert [e["detail-type"] for e in world.bus.published()] == ["payment.created", "payment.succeeded"]
    # and it is out of the work index: no later run has anything to do
    assert next_check_of(world, payment) is None
    world.clock.advance(10 * RUN_EVERY)
    assert world.status_sync().run().outcomes == {}


def test_a_long_waiting_or_failing_head_does_not_starve_a_newer_payment(world: World) -> None:
    # (at a tenth of the scale: moto copies the table per transaction; 150 payments and the default
    # batch of 100 run on DynamoDB Local in tests/integration/test_work_index.py)
    # given 15 older payments that each keep waiting or keep failing, in every way a check can fail
    head = stored_payments(world, 15)
    failures: list[Callable[[], Exception]] = [
        lambda: ChannelError("provider timeout"),
        lambda: ChannelNotConfigured("no credentials for this merchant"),
        lambda: RuntimeError("a bug in the adapter"),
    ]
    failing = {p.id: failures[i % 3] for i, p in enumerate(head) if i % 2}
    # and then a payment the shopper paid whose notification was dropped
    world.clock.advance(30)
    (paid,) = stored_payments(world, 1)

    def query(credentials: Any, payment: Payment) -> ChannelPaymentState:
        if payment.id in failing:
            raise failing[payment.id]()
        if payment.id == paid.id:
            return ChannelPaymentState(payment.id, PaymentStatus.SUCCEEDED, payment.amount, payment.currency)
        return waiting_state(payment)

    world.adapter.query_payment = query  # type: ignore[method-assign]
    # when the sync runs on its schedule (10 checks a run), the first run checks the head's first 10
    # and moves them later instead of leaving them due first
    world.clock.advance(RUN_EVERY)
    first = world.status_sync(batch=10).run()
    assert list(first.outcomes) == [p.id for p in head[:10]]
    assert first.count(SyncOutcome.WAITING) == 5
    assert first.count(SyncOutcome.FAILED) == 5
    waited = world.clock() - head[0].created  # 330 s: next checked after as long again
    assert {next_check_of(world, p) for p in head[:10]} == {world.clock() + waited}
    # then the next run reaches the paid payment and settles it
    world.clock.advance(RUN_EVERY)
    second = world.status_sync(batch=10).run()
    assert list(second.outcomes)[:6] == [p.id for p in [*head[10:], paid]]
    assert second.outcomes[paid.id] is SyncOutcome.SETTLED
    assert world.ledger.get_payment(paid.id).status is PaymentStatus.SUCCEEDED


def test_a_waiting_payment_is_checked_with_a_doubling_backoff(world: World) -> None:
    checked_at: list[int] = []

    def query(credentials: Any, payment: Payment) -> ChannelPaymentState:
        checked_at.append(world.clock() - payment.created)
        return waiting_state(payment)

    world.adapter.query_payment = query  # type: ignore[method-assign]
    (payment,) = stored_payments(world, 1, expires_at=world.clock() + 15 * 24 * 3600)
    for _ in range(3 * 12):  # three hours of runs
        world.clock.advance(RUN_EVERY)
        world.status_sync().run()
    assert checked_at == [300, 600, 1200, 2400, 4800, 9600]
    assert next_check_of(world, payment) == payment.created + 2 * 9600


def test_the_backoff_is_capped_and_never_passes_the_expiry() -> None:
    backoff = Backoff(first_seconds=300, cap_seconds=6 * 3600)
    assert backoff.next_check(created=0, now=10) == 310
    assert backoff.next_check(created=0, now=1000) == 2000
    assert backoff.next_check(created=0, now=10 * 3600) == 16 * 3600
    assert backoff.next_check(created=0, now=1000, expires_at=1500) == 1500
    # past its expiry (its close failed), a payment backs off like any other
    assert backoff.next_check(created=0, now=1000, expires_at=900) == 2000


def test_a_waiting_payment_is_closed_on_time_at_its_expiry(world: World) -> None:
    closed_at: list[int] = []
    world.adapter.close_payment = lambda c, p: closed_at.append(world.clock() - p.created)  # type: ignore[method-assign]
    (payment,) = stored_payments(world, 1, expires_at=world.clock() + 3600)
    for _ in range(14):
        world.clock.advance(RUN_EVERY)
        world.status_sync().run()
    assert closed_at == [3600]
    assert world.ledger.get_payment(payment.id).status is PaymentStatus.CLOSED
    assert next_check_of(world, payment) is None


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


def test_one_failing_query_does_not_stop_the_others_and_is_tried_again_later(world: World) -> None:
    first = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    second = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)

    def query(credentials: Any, payment: Payment) -> ChannelPaymentState:
        if payment.id == first.id:
            raise ChannelError("provider timeout")
        return ChannelPaymentState(payment.id, PaymentStatus.FAILED, payment.amount, payment.currency)

    world.adapter.query_payment = query  # type: ignore[method-assign]
    world.clock.advance(RUN_EVERY)
    report = world.status_sync().run()
    assert report.outcomes == {first.id: SyncOutcome.FAILED, second.id: SyncOutcome.SETTLED}
    assert world.ledger.get_payment(second.id).status is PaymentStatus.FAILED
    assert next_check_of(world, first) == world.clock() + RUN_EVERY
    world.clock.advance(RUN_EVERY)
    assert world.status_sync().run().outcomes == {first.id: SyncOutcome.FAILED}


def test_a_provider_answer_for_another_amount_changes_nothing(world: World) -> None:
    payment = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    world.adapter.query_payment = lambda c, p: ChannelPaymentState(  # type: ignore[method-assign]
        p.id, PaymentStatus.SUCCEEDED, p.amount - 1, p.currency
    )
    world.clock.advance(RUN_EVERY)
    assert world.status_sync().run().outcomes == {payment.id: SyncOutcome.SKIPPED}
    assert world.ledger.get_payment(payment.id).status is PaymentStatus.REQUIRES_ACTION
    # and it waits its backoff like any other, instead of staying due first
    assert next_check_of(world, payment) == world.clock() + RUN_EVERY


def test_a_re_index_never_resurrects_a_payment_settled_meanwhile(world: World) -> None:
    # given a payment whose notification arrives while the sync is asking the provider about it
    payment = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)

    def query(credentials: Any, asked: Payment) -> ChannelPaymentState:
        notice = fake_notification(
            payment_id=asked.id, status="succeeded", amount=asked.amount, currency=asked.currency
        )
        assert world.payments.handle_notification(Channel.ALIPAY, notice).body == "success"
        return waiting_state(asked)  # what the provider said a moment before

    world.adapter.query_payment = query  # type: ignore[method-assign]
    world.clock.advance(RUN_EVERY)
    # when the sync finds it still waiting and re-indexes it
    assert world.status_sync().run().outcomes == {payment.id: SyncOutcome.WAITING}
    # then the re-index did not apply: the payment stays settled and out of the work index
    assert world.ledger.get_payment(payment.id).status is PaymentStatus.SUCCEEDED
    assert next_check_of(world, payment) is None
    world.clock.advance(10 * RUN_EVERY)
    assert world.status_sync().run().outcomes == {}


class SteppingTimer:
    """A monotonic timer that moves only when a check asks the provider (each takes `step`)."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        return self.now

    def wrap(self, query: Callable[..., ChannelPaymentState]) -> Callable[..., ChannelPaymentState]:
        def slow_query(*args: Any) -> ChannelPaymentState:
            self.now += self.step
            return query(*args)

        return slow_query


@pytest.mark.parametrize("limit", ["budget", "invocation"])
def test_a_run_stops_starting_checks_when_its_time_runs_low(world: World, limit: str) -> None:
    # given 8 due payments whose checks take 2 s each
    due = stored_payments(world, 8)
    timer = SteppingTimer(step=2.0)
    world.adapter.query_payment = timer.wrap(lambda c, p: waiting_state(p))  # type: ignore[method-assign]
    world.clock.advance(RUN_EVERY)
    # when a run has 9 s to start checks: a 9 s budget, or a 29 s invocation keeping 20 s in reserve
    if limit == "budget":
        sync = world.status_sync(timer=timer, budget_seconds=9.0)
        report = sync.run()
    else:
        sync = world.status_sync(timer=timer, budget_seconds=60.0, reserve_seconds=20.0)
        report = sync.run(remaining_seconds=lambda: 29.0 - timer())
    # then it starts 5 (at 0, 2, 4, 6 and 8 s) and leaves the rest due
    assert report.outcomes == {p.id: SyncOutcome.WAITING for p in due[:5]}
    assert report.deferred == 3
    assert [next_check_of(world, p) for p in due[5:]] == [due[0].created + RUN_EVERY] * 3
    # and the next run, on its own time, takes those first
    timer.now = 0.0
    assert world.status_sync(timer=timer, budget_seconds=9.0).run().outcomes == {
        p.id: SyncOutcome.WAITING for p in due[5:]
    }


def test_only_this_channels_payments_are_synced(world: World) -> None:
    world.adapter.channel = Channel.WECHATPAY
    world.payments.create_payment(world.scope, Channel.WECHATPAY, create_command(scene="native"), BASE_URL)
    world.adapter.channel = Channel.ALIPAY
    world.clock.advance(RUN_EVERY)
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
    # when the sync runs after the grace period
    world.clock.advance(RUN_EVERY)
    report = world.status_sync().run()
    # then the finished refund is settled once, the other keeps waiting, checked again after a backoff
    assert report.outcomes == {refund.id: SyncOutcome.SETTLED, waiting.id: SyncOutcome.WAITING}
    assert world.ledger.get_refund(refund.id).status is RefundStatus.SUCCEEDED
    assert world.ledger.get_payment(payment.id).amount_refunded == 1_000
    assert world.status_sync().run().outcomes == {}
    world.clock.advance(RUN_EVERY)
    assert world.status_sync().run().outcomes == {waiting.id: SyncOutcome.WAITING}


def test_payments_and_refunds_take_turns_so_neither_crowds_out_the_other(world: World) -> None:
    (paid,) = stored_payments(world, 1)
    world.payments.handle_notification(
        Channel.ALIPAY,
        fake_notification(payment_id=paid.id, status="succeeded", amount=paid.amount, currency="cny"),
    )
    created = [world.payments.create_refund(world.scope, paid.id, CreateRefund(amount=100)) for _ in range(3)]
    refunds = sorted(created, key=lambda r: r.id)
    world.adapter.query_refund = lambda c, p, r: ChannelRefundState(  # type: ignore[method-assign]
        r.id, p.id, RefundStatus.PENDING, r.amount, r.currency
    )
    payments = stored_payments(world, 6)
    world.clock.advance(RUN_EVERY)
    report = world.status_sync(batch=4).run()
    assert list(report.outcomes) == [
        payments[0].id,
        refunds[0].id,
        payments[1].id,
        refunds[1].id,
        payments[2].id,
        refunds[2].id,
        payments[3].id,
    ]
