"""The work index (gsi2) on both engines: pending payments and refunds sort by their next check, the
status sync finds only what is due, a re-index moves an item later only while it still waits, and
an item leaves the index in the same write that ends its wait."""

from __future__ import annotations

import time
from typing import Any

import pytest

from paymux.channels.base import ChannelPaymentState
from paymux.domain.models import Channel, Payment
from paymux.domain.states import PaymentStatus, RefundStatus
from paymux.events.status_sync import StatusSync, SyncOutcome
from paymux.ledger.dynamodb import DynamoLedger
from paymux.ledger.schema import GSI2_PARTITION_KEY, GSI2_SORT_KEY, Keys, WorkIndex
from paymux.services.credentials import CredentialResolver
from paymux.services.payments import PaymentService
from tests import builders
from tests.fakes import FakeAdapter, InMemorySandboxStore
from tests.integration.helpers import paid_payment, stored_payment, succeed
from tests.unit.events.conftest import NoStoredCredentials
from tests.unit.events.support import Clock

GRACE = WorkIndex.FIRST_CHECK_AFTER_SECONDS


def index_keys(ledger: DynamoLedger, keys: dict[str, str]) -> dict[str, str]:
    """The item's work index keys as stored (none once it left the index)."""
    item = ledger.client.get_item(
        TableName=ledger.table_name, Key={k: {"S": v} for k, v in keys.items()}, ConsistentRead=True
    )["Item"]
    return {name: item[name]["S"] for name in (GSI2_PARTITION_KEY, GSI2_SORT_KEY) if name in item}


def ids(objects: list[Payment]) -> list[str]:
    return [o.id for o in objects]


def test_a_payment_is_due_after_the_grace_period_until_it_moves(ledger: DynamoLedger) -> None:
    now = int(time.time())
    older = stored_payment(ledger, builders.payment(created=now - 600))
    newer = stored_payment(ledger, builders.payment(created=now - 300))
    stored_payment(ledger, builders.payment(created=now - 300, channel=Channel.WECHATPAY, scene="native"))
    stored_payment(ledger, builders.payment(created=now - 100))  # still within its grace period

    assert ids(ledger.list_due_payments(Channel.ALIPAY, now, 10)) == [older.id, newer.id]
    assert ids(ledger.list_due_payments(Channel.ALIPAY, now - 1, 10)) == [older.id]
    assert index_keys(ledger, Keys.payment(older.id))[GSI2_SORT_KEY] == f"{now - 600 + GRACE:012d}#{older.id}"
    succeed(ledger, older)
    assert ids(ledger.list_due_payments(Channel.ALIPAY, now, 10)) == [newer.id]
    assert index_keys(ledger, Keys.payment(older.id)) == {}


def test_a_payment_expiring_within_the_grace_period_is_first_due_at_its_expiry(ledger: DynamoLedger) -> None:
    now = int(time.time())
    payment = stored_payment(ledger, builders.payment(created=now - 90, expires_at=now - 30))
    assert ids(ledger.list_due_payments(Channel.ALIPAY, now - 31, 10)) == []
    assert ids(ledger.list_due_payments(Channel.ALIPAY, now - 30, 10)) == [payment.id]


def test_due_payments_come_earliest_first_across_shards_up_to_the_limit(ledger: DynamoLedger) -> None:
    now = int(time.time())
    stored = [stored_payment(ledger, builders.payment(created=now - 2000 + 10 * i)) for i in range(12)]
    assert len({WorkIndex.shard_of(p.id) for p in stored}) > 1

    assert ids(ledger.list_due_payments(Channel.ALIPAY, now, 5)) == ids(stored[:5])
    assert ids(ledger.list_due_payments(Channel.ALIPAY, now, 100)) == ids(stored)


def test_a_reschedule_moves_a_waiting_payment_later(ledger: DynamoLedger) -> None:
    now = int(time.time())
    head = stored_payment(ledger, builders.payment(created=now - 900))
    second = stored_payment(ledger, builders.payment(created=now - 800))

    assert ledger.reschedule_payment_check(head, now + 600)
    assert ids(ledger.list_due_payments(Channel.ALIPAY, now, 10)) == [second.id]
    assert ids(ledger.list_due_payments(Channel.ALIPAY, now + 600, 10)) == [second.id, head.id]
    assert ledger.get_payment(head.id) == head  # the payment itself is unchanged (no version bump)


def test_a_reschedule_never_puts_back_a_payment_that_moved_on(ledger: DynamoLedger) -> None:
    now = int(time.time())
    payment = stored_payment(ledger, builders.payment(created=now - 900))
    listed = ledger.list_due_payments(Channel.ALIPAY, now, 10)
    # it settles between the sync's query and its re-index
    succeed(ledger, payment)

    assert not ledger.reschedule_payment_check(listed[0], now + 600)
    assert index_keys(ledger, Keys.payment(payment.id)) == {}
    assert ledger.list_due_payments(Channel.ALIPAY, now + 10**6, 10) == []


def test_pending_refunds_are_due_after_the_grace_period_until_they_settle(ledger: DynamoLedger) -> None:
    payment = paid_payment(ledger)
    now = int(time.time())
    first = builders.refund(payment, amount=100, created=now - 600)
    second = builders.refund(payment, amount=200, created=now - 400)
    for refund in (first, second):
        ledger.create_refund(ledger.get_payment(payment.id), refund, builders.event_for(refund))

    assert [r.id for r in ledger.list_due_refunds(Channel.ALIPAY, now, 10)] == [first.id, second.id]
    assert [r.id for r in ledger.list_due_refunds(Channel.ALIPAY, now - 200, 10)] == [first.id]
    assert ledger.list_due_refunds(Channel.WECHATPAY, now, 10) == []
    assert ledger.reschedule_refund_check(first, now + 300)
    assert [r.id for r in ledger.list_due_refunds(Channel.ALIPAY, now, 10)] == [second.id]

    ledger.transition_refund(second, RefundStatus.SUCCEEDED, now, builders.event_for(second))
    assert not ledger.reschedule_refund_check(second, now + 300)
    assert index_keys(ledger, Keys.refund(second.id)) == {}
    assert [r.id for r in ledger.list_due_refunds(Channel.ALIPAY, now + 300, 10)] == [first.id]


@pytest.mark.dynamodb_local
@pytest.mark.parametrize("backend", ["dynamodb_local"], indirect=True)
def test_150_waiting_payments_do_not_starve_a_newer_paid_one(ledger: DynamoLedger) -> None:
    # (DynamoDB Local only: moto copies the whole table for each transaction, so 150 take a minute)
    clock = Clock()
    scope = builders.merchant_scope()
    head = [builders.payment(scope, created=clock()) for _ in range(150)]
    for payment in head:
        stored_payment(ledger, payment)
    clock.advance(30)
    paid = stored_payment(ledger, builders.payment(scope, created=clock()))
    adapter = FakeAdapter(Channel.ALIPAY)

    def query(credentials: Any, payment: Payment) -> ChannelPaymentState:
        status = PaymentStatus.SUCCEEDED if payment.id == paid.id else PaymentStatus.REQUIRES_ACTION
        return ChannelPaymentState(payment.id, status, payment.amount, payment.currency)

    adapter.query_payment = query  # type: ignore[method-assign]
    credentials = CredentialResolver(NoStoredCredentials())
    payments = PaymentService(
        ledger, credentials, InMemorySandboxStore(), clock=clock, adapters=lambda channel, store: adapter
    )
    sync = StatusSync(adapter, ledger, ledger, payments, credentials, clock=clock)

    settled_in: list[int] = []
    for run in (1, 2, 3):
        clock.advance(5 * 60)
        report = sync.run()
        assert report.count(SyncOutcome.FAILED) == 0
        if report.outcomes.get(paid.id) is SyncOutcome.SETTLED:
            settled_in.append(run)
    assert settled_in == [2]
    assert ledger.get_payment(paid.id).status is PaymentStatus.SUCCEEDED
