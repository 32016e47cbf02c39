"""Shared pieces of the event-spine tests: a controllable clock, the bus wired from TOPOLOGY's rules
into SQS queues (what is on the bus, what reaches each function), the table's stream, and a
recording webhook transport."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config

from paymux.events.addresses import DeliveryTarget
from paymux.events.transport import PostResult
from paymux.local.sqs import lambda_sqs_record
from paymux.topology import EVENT_SOURCE, TOPOLOGY, EventRule

# moto answers DynamoDB Streams only on the classic endpoint, not the account-based one.
STREAMS_CONFIG = Config(account_id_endpoint_mode="disabled")


@dataclass
class Clock:
    """Starts at the real time (ids are ULIDs of the real time, and `created` filters read an id's
    time), then moves only when a test advances it."""

    now: int = field(default_factory=lambda: int(time.time()))

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += seconds


@dataclass
class Bus:
    """An EventBridge bus (moto) with the topology's rules to SQS queues and a tap catching all."""

    events: Any
    sqs: Any
    name: str
    queues: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, session: Any) -> Bus:
        bus = cls(session.client("events"), session.client("sqs"), f"paymux-{uuid.uuid4().hex[:8]}")
        bus.events.create_event_bus(Name=bus.name)
        bus._route("tap", {"source": [EVENT_SOURCE]})
        for rule, _spec in TOPOLOGY.rules():
            bus._route(rule.name, rule.pattern())
        return bus

    def _route(self, name: str, pattern: dict[str, Any]) -> None:
        url = self.sqs.create_queue(QueueName=f"{self.name}-{name}")["QueueUrl"]
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        arn = attributes["Attributes"]["QueueArn"]
        self.events.put_rule(Name=name, EventBusName=self.name, EventPattern=json.dumps(pattern))
        self.events.put_targets(Rule=name, EventBusName=self.name, Targets=[{"Id": name, "Arn": arn}])
        self.queues[name] = url

    def receive(self, queue: str) -> list[dict[str, Any]]:
        """Every message now in the queue, as Lambda's SQS records (removed from the queue)."""
        records: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queues[queue], MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return records
            for message in batch:
                self.sqs.delete_message(QueueUrl=self.queues[queue], ReceiptHandle=message["ReceiptHandle"])
                records.append(lambda_sqs_record(message, f"arn:aws:sqs:us-east-1:123456789012:{queue}"))

    def published(self) -> list[dict[str, Any]]:
        """The bus events the tap caught since the last call."""
        return [json.loads(record["body"]) for record in self.receive("tap")]


def rule_named(name: str) -> EventRule:
    return next(rule for rule, _ in TOPOLOGY.rules() if rule.name == name)


@dataclass
class RecordingTransport:
    """A webhook transport that records each post and answers from a script of status codes (the
    last one repeats); None in the script is a timeout."""

    script: list[int | None] = field(default_factory=lambda: [200])
    posts: list[tuple[DeliveryTarget, bytes, dict[str, str]]] = field(default_factory=list)

    def post(self, target: DeliveryTarget, body: bytes, headers: dict[str, str]) -> PostResult:
        answer = self.script[min(len(self.posts), len(self.script) - 1)]
        self.posts.append((target, body, headers))
        if answer is None:
            return PostResult(None, "timeout", 10_000)
        return PostResult(answer, None, 5)


def public_resolver(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


def loopback_resolver(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]
