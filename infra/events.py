"""The event bus with its archive, and the topology's rules, schedules and table streams wired to
their functions.

A rule delivers into the target function's own queue (a burst waits instead of throttling, and a
poison message moves to the dead-letter queue after `max_receive_count` receives); the function
reports partial batch failures. Schedules invoke their function directly: a failed tick is repeated
by the next one. A stream consumer gets filtered batches from the ledger's stream; records it gives up
on are described on its own failure queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.nag import acknowledge
from infra.stage import StageConfig
from paymux.topology import EventRule, FunctionSpec, StreamSource, Topology

# Lambda's advice: a queue's visibility timeout at least six times its consumer's timeout.
_VISIBILITY_FACTOR = 6
_DLQ_RETENTION = Duration.days(14)


@dataclass(frozen=True)
class WorkQueue:
    name: str
    queue: sqs.Queue
    dead_letters: sqs.Queue


def sqs_max_concurrency(spec: FunctionSpec) -> int | None:
    """Pollers may take at most half a function's reserved concurrency, so its API routes keep the rest."""
    if spec.reserved_concurrency is None:
        return None
    return max(2, min(1000, spec.reserved_concurrency // 2))


def _encrypted_queue(scope: Construct, construct_id: str, **props: object) -> sqs.Queue:
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        **props,  # type: ignore[arg-type]
    )


class EventWiring(Construct):
    """Create it before the functions (they are told the bus's name), then `connect` them."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=f"paymux-{stage.name}")
        self.bus.archive(
            "Archive",
            description="Every paymux event, for replay",
            event_pattern=events.EventPattern(account=[Stack.of(self).account]),
            retention=Duration.days(stage.archive_days),
        )
        self.work_queues: list[WorkQueue] = []
        # Queues that only ever hold what failed for good: any message on them needs a person.
        self.dead_letter_queues: dict[str, sqs.Queue] = {}

    def connect(
        self, topology: Topology, functions: Mapping[str, lambda_.Function], table: dynamodb.ITableV2
    ) -> None:
        for rule, spec in topology.rules():
            self._work_queue(rule, spec, functions[spec.name])
        for schedule, spec in topology.schedules():
            events.Rule(
                self,
                f"Schedule-{schedule.name}",
                description=f"{schedule.action} every {schedule.every_minutes} minutes",
                schedule=events.Schedule.rate(Duration.minutes(schedule.every_minutes)),
                targets=[
                    targets.LambdaFunction(
                        functions[spec.name],
                        event=events.RuleTargetInput.from_object(schedule.event()),
                        retry_attempts=2,
                        max_event_age=Duration.minutes(max(1, schedule.every_minutes)),
                    )
                ],
            )
        for spec in topology.functions:
            if spec.stream is not None:
                self._stream(spec.name, spec.stream, functions[spec.name], table)
            if spec.publishes_events:
                self.bus.grant_put_events_to(functions[spec.name])

    def _work_queue(self, rule: EventRule, spec: FunctionSpec, function: lambda_.IFunction) -> None:
        scope = Construct(self, rule.name)
        dead_letters = _encrypted_queue(scope, "DeadLetters", retention_period=_DLQ_RETENTION)
        queue = _encrypted_queue(
            scope,
            "Queue",
            visibility_timeout=Duration.seconds(spec.timeout_seconds * _VISIBILITY_FACTOR),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=dead_letters, max_receive_count=rule.max_receive_count
            ),
        )
        events.Rule(
            scope,
            "Rule",
            event_bus=self.bus,
            description=f"{rule.name}: events to {spec.name}",
            event_pattern=_pattern(rule),
            # Events EventBridge cannot put on the queue land with the queue's own dead letters.
            targets=[targets.SqsQueue(queue, dead_letter_queue=dead_letters, retry_attempts=185)],
        )
        function.add_event_source(
            sources.SqsEventSource(
                queue,
                batch_size=rule.batch_size,
                report_batch_item_failures=True,
                max_concurrency=sqs_max_concurrency(spec),
            )
        )
        self.work_queues.append(WorkQueue(name=rule.name, queue=queue, dead_letters=dead_letters))
        self.dead_letter_queues[rule.name] = dead_letters

    def _stream(
        self, name: str, stream: StreamSource, function: lambda_.IFunction, table: dynamodb.ITableV2
    ) -> None:
        failures = _encrypted_queue(
            Construct(self, f"{name}-stream"), "Failures", retention_period=_DLQ_RETENTION
        )
        function.add_event_source(
            sources.DynamoEventSource(
                table,
                # From the oldest record still on the stream: nothing written before a deploy is skipped.
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=stream.batch_size,
                retry_attempts=stream.max_retry_attempts,
                bisect_batch_on_error=stream.bisect_on_error,
                report_batch_item_failures=True,
                filters=[lambda_.FilterCriteria.filter(stream.filter_pattern)],
                on_failure=sources.SqsDlq(failures),
            )
        )
        acknowledge(
            failures,
            "AwsSolutions-SQS3",
            "This queue is itself a dead-letter queue: the stream event source's on-failure destination, "
            "holding descriptions of records the function gave up on; its depth raises an alarm.",
        )
        self.dead_letter_queues[f"{name}-stream"] = failures


def _pattern(rule: EventRule) -> events.EventPattern:
    pattern = rule.pattern()
    return events.EventPattern(
        source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern.get("detail")
    )
