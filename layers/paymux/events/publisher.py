"""The outbox publisher: every new event item in the table's stream goes to the bus once.

A state change and its event item commit in one transaction; the stream then carries the item here
(retried until it succeeds), so no event is lost when a writer dies after its write. The marker
written after each put keeps a retried batch from putting its events again; consumers still
deduplicate on the event id for the one window the marker cannot close (a crash between the put and
the marker)."""

from __future__ import annotations

from typing import Any

from paymux.domain.clock import Clock, system_clock
from paymux.domain.models import Event
from paymux.events.bus import EventBus
from paymux.events.stream import event_of_record, is_new_event
from paymux.ledger.outbox import OutboxRecords
from paymux.observability import logger


class OutboxPublisher:
    def __init__(self, bus: EventBus, records: OutboxRecords, clock: Clock = system_clock) -> None:
        self.bus = bus
        self.records = records
        self.clock = clock

    def publish(self, event: Event) -> bool:
        """Put the event on the bus unless it is there already; True if it was put now.
        Raises PublishFailed (and botocore errors), leaving the event to the stream's retry."""
        if self.records.is_published(event.id):
            return False
        now = self.clock()
        self.bus.publish(event, now)
        self.records.mark_published(event.id, now)
        logger.info("event published", extra={"event_id": event.id, "event_type": event.type.value})
        return True

    def handle_record(self, record: dict[str, Any]) -> None:
        """Publish the event a stream record inserts; any other record is not the publisher's."""
        if is_new_event(record):
            self.publish(event_of_record(record))
