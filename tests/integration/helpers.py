"""Steps the ledger tests share: storing a payment in a given state, reading its events back."""

from __future__ import annotations

import time

from paymux.domain.models import Event, EventType, MerchantScope, Payment
from paymux.domain.states import PaymentStatus
from paymux.ledger.dynamodb import DynamoLedger
from paymux.ledger.ports import PaymentChanges
from tests import builders


def stored_payment(ledger: DynamoLedger, payment: Payment) -> Payment:
    """Create `payment` with its `payment.created` event; returns it."""
    ledger.create_payment(payment, builders.event_for(payment))
    return payment


def succeed(ledger: DynamoLedger, payment: Payment) -> Payment:
    """Move a stored payment to `succeeded` (with its event); returns the payment as stored."""
    now = int(time.time())
    target = payment.model_copy(update={"status": PaymentStatus.SUCCEEDED, "paid_at": now})
    changes = PaymentChanges(updated=now, paid_at=now, channel_transaction_id="2024TRADE")
    return ledger.transition_payment(payment, PaymentStatus.SUCCEEDED, changes, builders.event_for(target))


def paid_payment(ledger: DynamoLedger, amount: int = 10_000, scope: MerchantScope | None = None) -> Payment:
    """A stored, succeeded payment of `amount`."""
    return succeed(ledger, stored_payment(ledger, builders.payment(scope, amount=amount)))


def events_about(
    ledger: DynamoLedger, scope: MerchantScope, object_id: str, event_type: EventType | None = None
) -> list[Event]:
    """Every event in the scope's events collection whose `data.object` is `object_id`."""
    found: list[Event] = []
    starting_after: str | None = None
    while True:
        page = ledger.list_events(scope, event_type.value if event_type else None, 100, starting_after)
        found += [event for event in page.data if event.data["object"]["id"] == object_id]
        if not page.has_more:
            return found
        starting_after = page.data[-1].id
