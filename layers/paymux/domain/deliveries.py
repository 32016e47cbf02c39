"""Webhook deliveries: one per event and endpoint, with every attempt recorded. Plain models: the
notifier (`paymux.events.notifier`) makes them, the ledger (`paymux.ledger.deliveries`) stores them."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from paymux.domain.models import Mode


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    DELIVERED = "delivered"
    DEAD_LETTERED = "dead_lettered"  # retried for the whole window without a 2xx
    CANCELED = "canceled"  # its endpoint was deleted or disabled


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Delivery(_Record):
    """The state of delivering one event to one endpoint. `version` orders every change to it, so
    two workers never both record the same attempt."""

    id: str
    event_id: str
    endpoint_id: str
    merchant_id: str
    mode: Mode
    url: str
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    # Retries run until `window_start` + the retry window; a redelivery starts a new window.
    window_start: int
    next_attempt_at: int | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    # The latest attempt lives on the delivery (one write records it); earlier ones are archived as
    # items of their own when a later attempt takes their place (`DeliveryLedger.replace`).
    last_attempt: DeliveryAttempt | None = None
    created: int
    updated: int
    version: int = 1


class DeliveryAttempt(_Record):
    delivery_id: str
    number: int
    at: int
    duration_ms: int
    status_code: int | None = None
    # Why no 2xx came back: "timeout", "connection_error: ...", "address_not_allowed: ...", "http_500".
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
