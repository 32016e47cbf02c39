"""Lambda glue for the event spine, built once here: the table stream batch (publisher), the SQS
batches of bus events (channel work, notifier) with partial batch failure reporting, and schedules.
A function's handler only names what it consumes."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from paymux.domain.models import Event
from paymux.events.envelope import correlation_id, event_of_bus_event
from paymux.events.publisher import OutboxPublisher
from paymux.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

BackgroundHandler = Callable[[dict[str, Any], "LambdaContext"], dict[str, Any]]
ScheduleAction = Callable[["LambdaContext"], dict[str, Any]]
SCHEDULE_DETAIL_TYPE = "paymux.schedule"


class UnknownInvocation(ValueError):
    """The function was invoked with an event it has no handler for."""


def is_queue_batch(event: Mapping[str, Any]) -> bool:
    records = event.get("Records") or []
    return bool(records) and records[0].get("eventSource") == "aws:sqs"


def is_stream_batch(event: Mapping[str, Any]) -> bool:
    records = event.get("Records") or []
    return bool(records) and records[0].get("eventSource") == "aws:dynamodb"


def schedule_action(event: Mapping[str, Any]) -> str | None:
    if event.get("detail-type") != SCHEDULE_DETAIL_TYPE:
        return None
    return str((event.get("detail") or {}).get("action") or "") or None


def publish_stream_batch(
    event: dict[str, Any], context: LambdaContext, publisher: OutboxPublisher
) -> dict[str, Any]:
    """Publish a stream batch; failed records are reported so the stream retries from them."""
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

    def handle(record: DynamoDBRecord) -> None:
        publisher.handle_record(record.raw_event)

    return dict(
        process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    )


def consume_queue_batch(
    event: dict[str, Any], context: LambdaContext, consume: Callable[[Event], object]
) -> dict[str, Any]:
    """Hand each bus event of an SQS batch to `consume`; a failed one is reported (and retried by
    the queue, then dead-lettered) without failing the others."""
    processor = BatchProcessor(event_type=EventType.SQS)

    def handle(record: SQSRecord) -> None:
        bus_event = event_of_bus_event(json.loads(record.body))
        logger.set_correlation_id(correlation_id(bus_event))
        logger.append_keys(event_id=bus_event.id, event_type=bus_event.type.value)
        consume(bus_event)

    return dict(
        process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    )


def background_handler(
    *,
    queue: Callable[[], Callable[[Event], object]] | None = None,
    stream: Callable[[], OutboxPublisher] | None = None,
    schedules: Mapping[str, ScheduleAction] | None = None,
) -> BackgroundHandler:
    """One handler for what a function consumes besides HTTP: `queue` builds the consumer of its SQS
    batches, `stream` the publisher of its stream batches, `schedules` maps a schedule's action to
    what it runs (given the invocation's context, for its time left). Dependencies are built on
    first use, not at import."""
    actions = dict(schedules or {})

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if queue is not None and is_queue_batch(event):
            return consume_queue_batch(event, context, queue())
        if stream is not None and is_stream_batch(event):
            return publish_stream_batch(event, context, stream())
        action = schedule_action(event)
        if action is not None and action in actions:
            logger.info("scheduled run", extra={"action": action})
            return actions[action](context)
        raise UnknownInvocation(f"no handler for this invocation (schedule action {action!r})")

    return handler
