"""The outbox publisher: each state change's event reaches the bus exactly once, even when the
writer dies before any publish or the publisher dies mid-batch."""

from __future__ import annotations

from typing import Any

import pytest

from paymux.domain.models import Channel, Event
from paymux.events.bus import PublishFailed
from paymux.events.envelope import ENVELOPE_VERSION, event_of_bus_event
from paymux.events.handlers import publish_stream_batch
from paymux.events.publisher import OutboxPublisher
from paymux.events.stream_reader import lambda_stream_event
from paymux.services.refunds import CreateRefund
from tests.fakes import fake_notification
from tests.unit.core.conftest import create_command
from tests.unit.events.conftest import World

BASE_URL = "https://pay.example"


def pay(world: World, payment_id: str, amount: int = 10_000) -> None:
    notification = fake_notification(
        payment_id=payment_id, status="succeeded", amount=amount, currency="cny", txn="t-1", at=world.clock()
    )
    world.payments.handle_notification(Channel.ALIPAY, notification)


def every_state_change(world: World) -> None:
    paid = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    pay(world, paid.id)
    refund = world.payments.create_refund(world.scope, paid.id, CreateRefund(amount=2_500))
    world.worker().carry_out_refund(refund.id)
    closed = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    world.payments.close_payment(world.scope, closed.id)


def stored_event_ids(world: World) -> list[str]:
    return sorted(e.id for e in world.ledger.list_events(world.scope, None, 100, None).data)


def test_every_state_change_puts_exactly_one_event_on_the_bus(world: World) -> None:
    # given every kind of state change
    every_state_change(world)
    # when the publisher runs over the stream
    world.publish_stream()
    # then the bus carries each stored event once, typed and enveloped
    published = world.bus.published()
    assert sorted(e["detail"]["id"] for e in published) == stored_event_ids(world)
    assert sorted(e["detail-type"] for e in published) == sorted(
        [
            "payment.created",
            "payment.succeeded",
            "refund.created",
            "refund.succeeded",
            "payment.created",
            "payment.closed",
        ]
    )
    for bus_event in published:
        detail = bus_event["detail"]
        assert bus_event["source"] == "paymux"
        assert detail["merchant_id"] == world.scope.merchant_id
        assert detail["livemode"] is False
        assert detail["channel"] == "alipay"
        assert detail["envelope"]["version"] == ENVELOPE_VERSION
        assert detail["envelope"]["name"] == detail["type"]
        assert detail["envelope"]["correlation_id"].startswith("pay_")
        assert event_of_bus_event(bus_event).id == detail["id"]


def test_a_writer_that_dies_before_any_publish_loses_no_event(world: World) -> None:
    # given state changes committed by a writer that died before anything was published
    every_state_change(world)
    assert world.bus.published() == []
    # when the stream delivers the records (it keeps them until a consumer takes them)
    world.publish_stream()
    # then every event is on the bus
    assert sorted(e["detail"]["id"] for e in world.bus.published()) == stored_event_ids(world)


class DiesOnce:
    """A bus that fails (the publisher "crashes") on its nth put, once."""

    def __init__(self, inner: Any, fail_on: int) -> None:
        self.inner = inner
        self.fail_on = fail_on
        self.calls = 0

    def publish(self, event: Event, published_at: int) -> None:
        self.calls += 1
        if self.calls == self.fail_on:
            raise PublishFailed("throttled")
        self.inner.publish(event, published_at)


def test_a_batch_that_fails_midway_and_is_retried_puts_each_event_once(world: World) -> None:
    # given a stream batch of six new events
    every_state_change(world)
    records = world.stream.poll()
    batch = lambda_stream_event(records)
    flaky = OutboxPublisher(DiesOnce(world.publisher.bus, fail_on=3), world.records, clock=world.clock)
    # when the publisher fails on the third event, reports it, and the whole batch is retried
    first = publish_stream_batch(batch, None, flaky)  # type: ignore[arg-type]
    failed = [f["itemIdentifier"] for f in first["batchItemFailures"]]
    second = publish_stream_batch(batch, None, flaky)  # type: ignore[arg-type]
    # then the failure was reported by sequence number, and each event is on the bus exactly once
    assert len(failed) == 1
    assert failed[0] in {r["dynamodb"]["SequenceNumber"] for r in records}
    assert second["batchItemFailures"] == []
    ids = [e["detail"]["id"] for e in world.bus.published()]
    assert sorted(ids) == stored_event_ids(world)


def test_records_that_are_not_new_events_are_ignored(world: World) -> None:
    # given a payment (its event, claim and payment items) that then succeeds (MODIFY records)
    payment = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    pay(world, payment.id)
    records = world.stream.poll()
    assert any(r["eventName"] == "MODIFY" for r in records)
    # when the whole stream passes through the publisher
    for record in records:
        world.publisher.handle_record(record)
    # then only the two events were published
    assert sorted(e["detail-type"] for e in world.bus.published()) == ["payment.created", "payment.succeeded"]


def test_a_publish_that_fails_leaves_no_marker_so_the_retry_publishes(world: World) -> None:
    world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    (record,) = [r for r in world.stream.poll() if r["dynamodb"]["NewImage"]["entity"]["S"] == "event"]
    failing = OutboxPublisher(DiesOnce(world.publisher.bus, fail_on=1), world.records, clock=world.clock)
    with pytest.raises(PublishFailed):
        failing.handle_record(record)
    failing.handle_record(record)
    assert len(world.bus.published()) == 1
