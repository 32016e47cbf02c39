"""The ledger's guarantees under real concurrency, on AWS DynamoDB Local only.

moto is left out on purpose: its conditional writes are not atomic across threads (two racing
conditional puts can both win), so a race on moto proves nothing about DynamoDB. Each test starts
20 threads on a `threading.Barrier` so their writes really overlap, and prints a one-line summary of
the outcome counts (visible with `pytest -s`).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from paymux.domain.errors import DuplicateMerchantOrderId, InvalidTransition, RefundExceedsAmount
from paymux.domain.models import EventType, Payment
from paymux.domain.states import PaymentStatus
from paymux.ledger.dynamodb import DynamoLedger
from paymux.ledger.ports import PaymentChanges, PaymentFilter
from tests import builders
from tests.integration.helpers import events_about, paid_payment, stored_payment

pytestmark = [
    pytest.mark.dynamodb_local,
    pytest.mark.parametrize("backend", ["dynamodb_local"], indirect=True),
]

RACERS = 20


def race(attempt: Callable[[int], object]) -> Counter[str]:
    """Run `attempt(i)` in RACERS threads released together; count the outcomes by name: "ok" or
    the exception's class name. Any other exception than the ledger's domain errors is re-raised."""
    barrier = threading.Barrier(RACERS)

    def run(i: int) -> str:
        barrier.wait(timeout=30)
        try:
            attempt(i)
        except (InvalidTransition, RefundExceedsAmount, DuplicateMerchantOrderId) as refused:
            return type(refused).__name__
        return "ok"

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        return Counter(pool.map(run, range(RACERS)))


def summary(name: str, outcomes: Counter[str], **facts: object) -> None:
    counts = ", ".join(f"{outcome}={count}" for outcome, count in sorted(outcomes.items()))
    details = ", ".join(f"{key}={value}" for key, value in facts.items())
    print(f"\n[dynamodb-local race] {name}: {RACERS} threads -> {counts}; {details}")


def test_racing_identical_transitions_move_the_payment_once_with_one_event(ledger: DynamoLedger) -> None:
    payment = stored_payment(ledger, builders.payment())
    now = int(time.time())
    paid = payment.model_copy(update={"status": PaymentStatus.SUCCEEDED, "paid_at": now})

    def notify(i: int) -> Payment:
        # Each racer is one delivery of the same provider notification, with its own event id.
        changes = PaymentChanges(updated=now, paid_at=now, channel_transaction_id="2024TRADE")
        return ledger.transition_payment(payment, PaymentStatus.SUCCEEDED, changes, builders.event_for(paid))

    outcomes = race(notify)

    succeeded_events = events_about(ledger, payment.scope, payment.id, EventType.PAYMENT_SUCCEEDED)
    summary("transition requires_action->succeeded", outcomes, payment_succeeded_events=len(succeeded_events))
    assert outcomes == Counter({"ok": 1, "InvalidTransition": RACERS - 1})
    stored = ledger.get_payment(payment.id)
    assert stored.status is PaymentStatus.SUCCEEDED
    assert stored.version == payment.version + 1
    assert len(succeeded_events) == 1


def test_racing_refunds_never_pass_the_amount(ledger: DynamoLedger) -> None:
    payment = paid_payment(ledger, amount=100)

    def refund_30(i: int) -> None:
        refund = builders.refund(payment, amount=30)
        ledger.create_refund(payment, refund, builders.event_for(refund))

    outcomes = race(refund_30)

    stored = ledger.get_payment(payment.id)
    refunds = ledger.list_refunds(payment.id, 100, None).data
    refund_events = [
        e for r in refunds for e in events_about(ledger, payment.scope, r.id, EventType.REFUND_CREATED)
    ]
    summary(
        "refunds of 30 on a payment of 100",
        outcomes,
        reserved=stored.amount_refund_reserved,
        refunds_stored=len(refunds),
        refund_created_events=len(refund_events),
    )
    assert set(outcomes) <= {"ok", "RefundExceedsAmount"}
    assert 1 <= outcomes["ok"] <= 3
    assert stored.amount_refund_reserved == 30 * outcomes["ok"] <= stored.amount
    assert len(refunds) == outcomes["ok"]
    assert len(refund_events) == outcomes["ok"]


def test_racing_creates_with_one_merchant_order_id_make_one_payment(ledger: DynamoLedger) -> None:
    scope = builders.merchant_scope()

    def create(i: int) -> None:
        payment = builders.payment(scope, merchant_order_id="order-race")
        ledger.create_payment(payment, builders.event_for(payment))

    outcomes = race(create)

    payments = ledger.list_payments(scope, PaymentFilter(), 100, None).data
    created_events = ledger.list_events(scope, EventType.PAYMENT_CREATED.value, 100, None).data
    summary(
        "creates with one merchant_order_id",
        outcomes,
        payments=len(payments),
        payment_created_events=len(created_events),
    )
    assert outcomes == Counter({"ok": 1, "DuplicateMerchantOrderId": RACERS - 1})
    assert len(payments) == 1
    assert ledger.find_payment_id_by_merchant_order_id(scope, "order-race") == payments[0].id
    assert [e.data["object"]["id"] for e in created_events] == [payments[0].id]
