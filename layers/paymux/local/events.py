"""The event half of the local platform, from the same TOPOLOGY as the deployed stack: the table's
stream feeds its consumers (filtered as Lambda filters it), the bus routes with the topology's rules
into SQS queues with dead-letter queues (moto's EventBridge matching), queue batches go to their
functions with partial batch failure reporting honoured, and schedules run on a short interval."""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from paymux.events.patterns import matches
from paymux.events.stream_reader import TableStreamReader, lambda_stream_event
from paymux.local.apigw import lambda_context
from paymux.local.gateway import FunctionLoader, HandlerSource
from paymux.local.sqs import lambda_sqs_record
from paymux.topology import TOPOLOGY, EventRule, FunctionSpec, Schedule, Topology

ClientFactory = Callable[[str], Any]
# Visibility timeout of a received message: a failed one comes back after this.
_LOCAL_VISIBILITY_SECONDS = 5


@dataclass
class _Queue:
    rule: EventRule
    function: FunctionSpec
    url: str


class LocalEventSpine:
    """Runs in one background thread; `tick()` is one round of everything (tests call it)."""

    def __init__(
        self,
        client: ClientFactory,
        table_name: str,
        bus_name: str,
        *,
        topology: Topology = TOPOLOGY,
        loader: HandlerSource | None = None,
        poll_seconds: float = 0.5,
        seconds_per_schedule_minute: float = 5.0,
        log: IO[str] | None = None,
    ) -> None:
        self._make_client = client
        self._clients: dict[str, Any] = {}
        self.table_name = table_name
        self.bus_name = bus_name
        self.topology = topology
        self.loader = loader or FunctionLoader()
        self.poll_seconds = poll_seconds
        self.seconds_per_schedule_minute = seconds_per_schedule_minute
        self.log = log
        self.queues: list[_Queue] = []
        self._pending_stream: dict[str, list[dict[str, Any]]] = {}
        self._next_run: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stream: TableStreamReader | None = None

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._make_client(service)
        return self._clients[service]

    def provision(self) -> None:
        """Create each rule's queue and dead-letter queue and the rule itself on the bus."""
        sqs, events = self.client("sqs"), self.client("events")
        for rule, function in self.topology.rules():
            dead = sqs.create_queue(QueueName=f"paymux-local-{rule.name}-dlq")["QueueUrl"]
            dead_arn = _queue_arn(sqs, dead)
            url = sqs.create_queue(
                QueueName=f"paymux-local-{rule.name}",
                Attributes={
                    "VisibilityTimeout": str(_LOCAL_VISIBILITY_SECONDS),
                    "RedrivePolicy": json.dumps(
                        {"deadLetterTargetArn": dead_arn, "maxReceiveCount": str(rule.max_receive_count)}
                    ),
                },
            )["QueueUrl"]
            events.put_rule(
                Name=rule.name, EventBusName=self.bus_name, EventPattern=json.dumps(rule.pattern())
            )
            events.put_targets(
                Rule=rule.name,
                EventBusName=self.bus_name,
                Targets=[{"Id": rule.name, "Arn": _queue_arn(sqs, url)}],
            )
            self.queues.append(_Queue(rule, function, url))
        self._stream = TableStreamReader(
            self.client("dynamodb"), self.client("dynamodbstreams"), self.table_name
        )
        now = time.monotonic()
        for schedule, _ in self.topology.schedules():
            self._next_run[schedule.name] = now + self._interval(schedule)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="local-events", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None

    def tick(self) -> None:
        """Deliver the stream's new records, then each queue's messages, then what is scheduled."""
        self._deliver_stream()
        for queue in self.queues:
            self._deliver_queue(queue)
        self._run_schedules()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.tick()
            except Exception:
                self._report("event spine", traceback.format_exc())

    def _deliver_stream(self) -> None:
        assert self._stream is not None, "provision() first"
        records = self._stream.poll()
        for function in self.topology.functions:
            if function.stream is None:
                continue
            pending = self._pending_stream.setdefault(function.name, [])
            pending.extend(r for r in records if matches(function.stream.filter_pattern, r))
            while pending:
                batch = pending[: function.stream.batch_size]
                failed = self._invoke(function, lambda_stream_event(batch), batch, key="SequenceNumber")
                if failed:
                    # As Lambda does: retry from the first failed record on the next round.
                    first = min(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed)
                    self._pending_stream[function.name] = pending[first:]
                    return
                del pending[: len(batch)]

    def _deliver_queue(self, queue: _Queue) -> None:
        sqs = self.client("sqs")
        messages = sqs.receive_message(
            QueueUrl=queue.url, MaxNumberOfMessages=min(queue.rule.batch_size, 10), AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return
        arn = f"arn:aws:sqs:local:000000000000:paymux-local-{queue.rule.name}"
        records = [lambda_sqs_record(message, arn) for message in messages]
        failed = self._invoke(queue.function, {"Records": records}, records, key="messageId")
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])

    def _run_schedules(self) -> None:
        now = time.monotonic()
        for schedule, function in self.topology.schedules():
            if now >= self._next_run.get(schedule.name, 0.0):
                self._next_run[schedule.name] = now + self._interval(schedule)
                self._invoke(function, schedule.event(), [], key="")

    def _invoke(
        self, function: FunctionSpec, event: dict[str, Any], records: list[dict[str, Any]], *, key: str
    ) -> set[str]:
        """Call the function's handler; the ids of the records it reports failed (all on an error)."""
        context = lambda_context(
            function.name, memory_mb=function.memory_mb, timeout_seconds=function.timeout_seconds
        )
        try:
            result = self.loader.handler(function)(event, context) or {}
        except Exception:
            self._report(function.name, traceback.format_exc())
            return {_record_id(r, key) for r in records}
        return {str(f["itemIdentifier"]) for f in result.get("batchItemFailures", [])}

    def _interval(self, schedule: Schedule) -> float:
        return max(1.0, schedule.every_minutes * self.seconds_per_schedule_minute)

    def _report(self, source: str, text: str) -> None:
        if self.log is not None:
            self.log.write(f"[{source}] failed:\n{text}")
            self.log.flush()


def _queue_arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def _record_id(record: dict[str, Any], key: str) -> str:
    if key == "SequenceNumber":
        return str(record["dynamodb"]["SequenceNumber"])
    return str(record.get(key, ""))
