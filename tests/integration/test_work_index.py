"""The work index (gsi2) on both engines: what the status sync finds, and that an object leaves it in
the same write that ends its wait."""

from __future__ import annotations

import time

from paymux.domain.models import Channel
from paymux.domain.states import RefundStatus
from paymux.ledger.dynamodb import DynamoLedger
from tests import builders
from tests.integration.helpers import paid_payment, stored_payment, succeed


def test_pending_payments_are_listed_oldest_first_until_they_move(ledger: DynamoLedger) -> None:
    now = int(time.time())
    older = stored_payment(ledger, builders.payment(created=now - 600))
    newer = stored_payment(ledger, builders.payment(created=now - 300))
    stored_payment(ledger, builders.payment(created=now - 300, channel=Channel.WECHATPAY, scene="native"))

    assert [p.id for p in ledger.list_pending_payments(Channel.ALIPAY, now, 10)] == [older.id, newer.id]
    assert [p.id for p in ledger.list_pending_payments(Channel.ALIPAY, now - 400, 10)] == [older.id]
    succeed(ledger, older)
    assert [p.id for p in ledger.list_pending_payments(Channel.ALIPAY, now, 10)] == [newer.id]


def test_pending_refunds_are_listed_until_they_settle(ledger: DynamoLedger) -> None:
    payment = paid_payment(ledger)
    first = builders.refund(payment, amount=100)
    second = builders.refund(payment, amount=200)
    for refund in (first, second):
        ledger.create_refund(ledger.get_payment(payment.id), refund, builders.event_for(refund))
    later = int(time.time()) + 1

    assert [r.id for r in ledger.list_pending_refunds(Channel.ALIPAY, later, 10)] == [first.id, second.id]
    assert ledger.list_pending_refunds(Channel.WECHATPAY, later, 10) == []
    ledger.transition_refund(first, RefundStatus.SUCCEEDED, later, builders.event_for(first))
    assert [r.id for r in ledger.list_pending_refunds(Channel.ALIPAY, later, 10)] == [second.id]
