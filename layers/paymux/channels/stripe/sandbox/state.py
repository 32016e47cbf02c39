"""The sandbox account's objects in the `SandboxStore`: each object under its own id, plus the indexes
Stripe keeps for the API (payment id → PaymentIntent, day → balance transactions, idempotency keys)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from paymux.channels.base import SandboxStore

CHANNEL = "stripe"


def utc_day(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, UTC).date().isoformat()


class SandboxState:
    def __init__(self, store: SandboxStore) -> None:
        self.store = store

    def get(self, object_id: str) -> dict[str, Any] | None:
        return self.store.load(CHANNEL, f"object:{object_id}")

    def put(self, obj: dict[str, Any]) -> None:
        self.store.save(CHANNEL, f"object:{obj['id']}", obj)

    def index_payment(self, payment_id: str, intent_id: str) -> None:
        self.store.save(CHANNEL, f"payment:{payment_id}", {"payment_intent": intent_id})

    def intent_id_of(self, payment_id: str) -> str | None:
        entry = self.store.load(CHANNEL, f"payment:{payment_id}")
        return str(entry["payment_intent"]) if entry else None

    def index_refund(self, intent_id: str, refund_id: str) -> None:
        key = f"refunds:{intent_id}"
        entry = self.store.load(CHANNEL, key) or {"ids": []}
        entry["ids"].append(refund_id)
        self.store.save(CHANNEL, key, entry)

    def refunds_of(self, intent_id: str) -> list[dict[str, Any]]:
        entry = self.store.load(CHANNEL, f"refunds:{intent_id}") or {"ids": []}
        return [refund for refund_id in entry["ids"] if (refund := self.get(refund_id)) is not None]

    def add_balance_transaction(self, transaction: dict[str, Any]) -> None:
        self.put(transaction)
        key = f"day:{utc_day(int(transaction['created']))}"
        day = self.store.load(CHANNEL, key) or {"ids": []}
        day["ids"].append(transaction["id"])
        self.store.save(CHANNEL, key, day)

    def balance_transactions_of_day(self, day: str) -> list[dict[str, Any]]:
        entry = self.store.load(CHANNEL, f"day:{day}") or {"ids": []}
        return [txn for txn_id in entry["ids"] if (txn := self.get(txn_id)) is not None]

    def idempotent_response(self, key: str) -> dict[str, Any] | None:
        return self.store.load(CHANNEL, f"idempotency:{key}")

    def remember_response(self, key: str, record: dict[str, Any]) -> None:
        self.store.save(CHANNEL, f"idempotency:{key}", record)
