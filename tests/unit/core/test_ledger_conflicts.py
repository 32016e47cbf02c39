"""DynamoDB cancels overlapping transactions with `TransactionConflict` (neither DynamoDB Local nor
moto ever does): the ledger retries those, and only those."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from paymux.domain.errors import InvalidTransition
from paymux.domain.states import PaymentStatus
from paymux.ledger.dynamodb import DynamoLedger
from paymux.ledger.ports import PaymentChanges
from tests.builders import event_for, payment


def cancelled(*codes: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": code} for code in codes],
        },  # type: ignore[typeddict-unknown-key]
        "TransactWriteItems",
    )


class ScriptedClient:
    def __init__(self, *outcomes: ClientError | None) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    def transact_write_items(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return {}


def transition(client: ScriptedClient) -> None:
    subject = payment()
    ledger = DynamoLedger("t", client)  # type: ignore[arg-type]
    ledger.transition_payment(subject, PaymentStatus.SUCCEEDED, PaymentChanges(updated=1), event_for(subject))


def test_a_transaction_conflict_is_retried_until_it_commits():
    client = ScriptedClient(
        cancelled("TransactionConflict", "None"), cancelled("None", "TransactionConflict"), None
    )
    transition(client)
    assert client.calls == 3


def test_a_failed_condition_is_not_retried():
    client = ScriptedClient(cancelled("ConditionalCheckFailed", "None"))
    with pytest.raises(InvalidTransition):
        transition(client)
    assert client.calls == 1


def test_conflicts_give_up_after_the_retries():
    client = ScriptedClient(*[cancelled("TransactionConflict", "None")] * 5)
    with pytest.raises(ClientError):
        transition(client)
    assert client.calls == 5
