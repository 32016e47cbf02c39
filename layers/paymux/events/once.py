"""Consumers handle each event once as far as anyone can tell: a claim on the event id (a
conditional put with a lease and a TTL) before the work, marked done after it."""

from __future__ import annotations

from collections.abc import Callable

from paymux.domain.clock import Clock, system_clock
from paymux.domain.models import Event
from paymux.ledger.outbox import Claim, OutboxRecords
from paymux.observability import logger


class ConsumerBusy(Exception):
    """Another worker is handling the same event right now; retry the message later."""


class OnceOnly:
    """Runs a consumer's work for an event at most once to completion. The lease must be longer than
    the work can take (the function's timeout) and shorter than the queue's visibility timeout."""

    def __init__(
        self, records: OutboxRecords, consumer: str, lease_seconds: int, clock: Clock = system_clock
    ) -> None:
        self.records = records
        self.consumer = consumer
        self.lease_seconds = lease_seconds
        self.clock = clock

    def run(self, event: Event, work: Callable[[Event], object]) -> bool:
        """Do `work(event)` unless this consumer did it already; True if it ran now. Raises
        ConsumerBusy, or whatever `work` raises (after giving the claim back)."""
        claim = self.records.claim(self.consumer, event.id, self.clock(), self.lease_seconds)
        if claim is Claim.DONE:
            logger.info("event already handled", extra={"event_id": event.id, "consumer": self.consumer})
            return False
        if claim is Claim.IN_PROGRESS:
            raise ConsumerBusy(f"{self.consumer} is handling {event.id} elsewhere")
        try:
            work(event)
        except BaseException:
            self.records.release(self.consumer, event.id)
            raise
        self.records.complete(self.consumer, event.id, self.clock())
        return True
