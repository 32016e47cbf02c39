"""Channel work over the topology's rules: a refund or a close reaches the owning channel's queue,
the channel carries it out at the provider and records the outcome, once however often it comes."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from paymux.channels.base import ChannelPaymentState, ChannelRefundState
from paymux.domain.errors import ChannelError
from paymux.domain.models import Channel, Payment, Refund
from paymux.domain.states import PaymentStatus, RefundStatus
from paymux.events.handlers import consume_queue_batch
from paymux.events.once import OnceOnly
from paymux.observability import LEDGER_CONFLICT_METRIC, metrics
from paymux.services.refunds import CreateRefund
from tests.fakes import fake_notification
from tests.unit.core.conftest import create_command
from tests.unit.events.conftest import World
from tests.unit.events.test_publisher import BASE_URL, pay


class CountingRefunds:
    """Wraps the fake channel's refund to count provider calls."""

    def __init__(self, world: World) -> None:
        self.calls = 0
        self.inner = world.adapter.refund
        world.adapter.refund = self  # type: ignore[method-assign]

    def __call__(self, credentials: Any, payment: Payment, refund: Refund) -> ChannelRefundState:
        self.calls += 1
        return self.inner(credentials, payment, refund)


def consume(world: World, records: list[dict[str, Any]], consumer: str = "channel-alipay") -> dict[str, Any]:
    """One Lambda invocation on the batch; what it reports as failed (all of it when every record
    failed: Powertools then fails the invocation, and the queue retries the whole batch)."""
    guard = OnceOnly(world.records, consumer, 120, clock=world.clock)
    worker = world.worker()
    try:
        return consume_queue_batch({"Records": records}, None, lambda e: guard.run(e, worker.handle))  # type: ignore[arg-type]
    except BatchProcessingError:
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records]}


def paid_payment(world: World) -> Payment:
    payment = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    pay(world, payment.id)
    return payment


def test_a_refund_reaches_its_channel_and_is_settled_once_however_often_it_is_delivered(world: World) -> None:
    # given a refund announced on the bus
    refunds = CountingRefunds(world)
    payment = paid_payment(world)
    refund = world.payments.create_refund(world.scope, payment.id, CreateRefund(amount=4_000))
    world.publish_stream()
    world.bus.published()
    work = world.bus.receive("alipay-work")
    assert [json.loads(r["body"])["detail-type"] for r in work] == ["refund.created"]
    # when the queue delivers it three times (redelivery after a timeout, a duplicate put)
    results = [consume(world, work) for _ in range(3)]
    # then the provider was asked once, the refund succeeded once, and one refund.succeeded exists
    assert all(r["batchItemFailures"] == [] for r in results)
    assert refunds.calls == 1
    assert world.ledger.get_refund(refund.id).status is RefundStatus.SUCCEEDED
    assert world.ledger.get_payment(payment.id).amount_refunded == 4_000
    world.publish_stream()
    assert [e["detail-type"] for e in world.bus.published()] == ["refund.succeeded"]


def test_work_for_another_channel_does_not_reach_this_channels_queue(world: World) -> None:
    world.adapter.channel = Channel.WECHATPAY
    payment = world.payments.create_payment(
        world.scope, Channel.WECHATPAY, create_command(scene="native"), BASE_URL
    )
    world.payments.close_payment(world.scope, payment.id)
    world.publish_stream()
    assert world.bus.receive("alipay-work") == []
    assert len(world.bus.receive("wechatpay-work")) == 1


def test_a_provider_failure_is_reported_and_the_retry_succeeds(world: World) -> None:
    # given a provider that fails the first refund call with an unknown outcome
    payment = paid_payment(world)
    refund = world.payments.create_refund(world.scope, payment.id, CreateRefund())
    world.publish_stream()
    work = world.bus.receive("alipay-work")
    inner = world.adapter.refund
    calls: list[str] = []

    def flaky(credentials: Any, p: Payment, r: Refund) -> ChannelRefundState:
        calls.append(r.id)
        if len(calls) == 1:
            raise ChannelError("gateway timeout")
        return inner(credentials, p, r)

    world.adapter.refund = flaky  # type: ignore[method-assign]
    # when the batch fails and the queue redelivers it
    first = consume(world, work)
    second = consume(world, work)
    # then the first run reported the message and released its claim, and the retry settled it
    assert [f["itemIdentifier"] for f in first["batchItemFailures"]] == [work[0]["messageId"]]
    assert second["batchItemFailures"] == []
    assert world.ledger.get_refund(refund.id).status is RefundStatus.SUCCEEDED


def test_a_refused_refund_is_recorded_as_failed(world: World) -> None:
    payment = paid_payment(world)
    refund = world.payments.create_refund(world.scope, payment.id, CreateRefund(amount=1_000))
    world.adapter.refund = lambda c, p, r: ChannelRefundState(  # type: ignore[method-assign]
        r.id, p.id, RefundStatus.FAILED, r.amount, r.currency, failure_code="INSUFFICIENT_BALANCE"
    )
    world.worker().carry_out_refund(refund.id)
    assert world.ledger.get_refund(refund.id).failure_code == "INSUFFICIENT_BALANCE"
    assert world.ledger.get_payment(payment.id).amount_refund_reserved == 0


def test_a_closed_payment_is_closed_at_the_provider(world: World) -> None:
    closed: list[str] = []
    world.adapter.close_payment = lambda c, p: closed.append(p.id)  # type: ignore[method-assign]
    payment = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    world.payments.close_payment(world.scope, payment.id)
    world.publish_stream()
    assert consume(world, world.bus.receive("alipay-work"))["batchItemFailures"] == []
    assert closed == [payment.id]


def test_a_failed_payment_is_closed_at_the_provider_so_nobody_can_pay_it_there(world: World) -> None:
    # given a card the provider declined (a Stripe PaymentIntent stays payable until it is canceled)
    closed: list[str] = []
    world.adapter.close_payment = lambda c, p: closed.append(p.id)  # type: ignore[method-assign]
    payment = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    declined = fake_notification(
        payment_id=payment.id, status="failed", amount=payment.amount, currency="cny"
    )
    assert world.payments.handle_notification(Channel.ALIPAY, declined).body == "success"
    # when its payment.failed event reaches the channel's work queue
    world.publish_stream()
    assert consume(world, world.bus.receive("alipay-work"))["batchItemFailures"] == []
    # then the channel closed it at the provider
    assert closed == [payment.id]


def test_a_payment_paid_at_the_provider_after_the_ledger_closed_it_is_counted_for_an_operator(
    world: World,
) -> None:
    def refuse(credentials: Any, payment: Payment) -> None:
        raise ChannelError("TRADE_HAS_SUCCESS")

    world.adapter.close_payment = refuse  # type: ignore[method-assign]
    world.adapter.query_payment = lambda c, p: ChannelPaymentState(  # type: ignore[method-assign]
        p.id, PaymentStatus.SUCCEEDED, p.amount, p.currency
    )
    payment = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    world.payments.close_payment(world.scope, payment.id)
    metrics.clear_metrics()
    world.worker().close_at_provider(payment.id)
    assert world.ledger.get_payment(payment.id).status is PaymentStatus.CLOSED
    assert metrics.metric_set[LEDGER_CONFLICT_METRIC]["Value"] == [1.0]
    metrics.clear_metrics()


def test_a_close_the_provider_refuses_because_it_is_closed_there_is_done(world: World) -> None:
    def refuse(credentials: Any, payment: Payment) -> None:
        raise ChannelError("TRADE_STATUS_ERROR")

    world.adapter.close_payment = refuse  # type: ignore[method-assign]
    world.adapter.query_payment = lambda c, p: ChannelPaymentState(  # type: ignore[method-assign]
        p.id, PaymentStatus.CLOSED, p.amount, p.currency
    )
    payment = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    world.payments.close_payment(world.scope, payment.id)
    world.worker().close_at_provider(payment.id)
    assert world.ledger.get_payment(payment.id).status is PaymentStatus.CLOSED


def test_a_close_the_provider_refuses_while_the_trade_is_open_is_retried(world: World) -> None:
    def refuse(credentials: Any, payment: Payment) -> None:
        raise ChannelError("SYSTEM_ERROR")

    world.adapter.close_payment = refuse  # type: ignore[method-assign]
    payment = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    world.payments.close_payment(world.scope, payment.id)
    world.publish_stream()
    work = world.bus.receive("alipay-work")
    assert len(consume(world, work)["batchItemFailures"]) == 1


def test_a_claim_held_by_a_live_worker_is_retried_later_and_a_dead_workers_is_taken_over(
    world: World,
) -> None:
    payment = paid_payment(world)
    world.payments.create_refund(world.scope, payment.id, CreateRefund())
    world.publish_stream()
    work = world.bus.receive("alipay-work")
    event_id = json.loads(work[0]["body"])["detail"]["id"]
    # given another worker claimed the event and is (apparently) still on it
    world.records.claim("channel-alipay", event_id, world.clock(), 120)
    assert len(consume(world, work)["batchItemFailures"]) == 1
    # when its lease runs out (it died), the redelivery takes over
    world.clock.advance(121)
    assert consume(world, work)["batchItemFailures"] == []
