"""The background side of each event-spine function: what the publisher, the notifier and a
channel's function do with stream batches, queue batches and schedules."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from paymux import runtime
from paymux.domain.models import Channel, Event
from paymux.events.handlers import BackgroundHandler, background_handler
from paymux.events.once import OnceOnly
from paymux.events.status_sync import SyncOutcome

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

# A consumer's hold on an event while it works on it: longer than its function's timeout, shorter
# than its queue's visibility timeout (six times the timeout).
CONSUMER_LEASE_SECONDS = 120
NOTIFIER = "notifier"
RETRY_DELIVERIES = "retry_deliveries"
STATUS_SYNC = "status_sync"


def once(consumer: str, work: Callable[[Event], object]) -> Callable[[Event], object]:
    guard = OnceOnly(runtime.outbox_records(), consumer, CONSUMER_LEASE_SECONDS)
    return lambda event: guard.run(event, work)


def publisher_handler() -> BackgroundHandler:
    return background_handler(stream=runtime.outbox_publisher)


def notifier_handler() -> BackgroundHandler:
    def retry(_context: LambdaContext) -> dict[str, Any]:
        return {"attempted": len(runtime.notifier().retry_due())}

    return background_handler(
        queue=lambda: once(NOTIFIER, runtime.notifier().fan_out),
        schedules={RETRY_DELIVERIES: retry},
    )


def channel_background_handler(channel: Channel) -> BackgroundHandler:
    def sync(context: LambdaContext) -> dict[str, Any]:
        # Stop starting checks while the invocation still has time to finish the last one.
        report = runtime.status_sync(channel).run(
            remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000
        )
        counts = {outcome.value: report.count(outcome) for outcome in SyncOutcome}
        return {**counts, "deferred": report.deferred}

    return background_handler(
        queue=lambda: once(f"channel-{channel.value}", runtime.channel_worker(channel).handle),
        schedules={STATUS_SYNC: sync},
    )
