"""DynamoDB cost of one payment's life, in the request units on-demand bills, as a ratio to a single
`PutItem` of the payment item measured in the same run.

One realistic lifecycle runs on moto through the real code: the Alipay channel function creates a
payment (API Gateway event, Idempotency-Key) and takes the sandbox's signed notification that it is
paid; the merchant API function records a partial refund (Idempotency-Key); the publisher function
reads the table's stream; the channel function settles the refund from its queue; the notifier
delivers every event to one webhook endpoint (a recording transport). Every DynamoDB request of the
platform's client is metered (`request_meter`) and priced by AWS's documented rules
(`dynamodb_cost`). Prints the units per step and the price per million payments; asserts nothing.

    .venv/bin/python bench/ledger_cost.py [--requests]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers"), str(ROOT)]

import boto3  # noqa: E402
from bench.cost_report import BASELINE_ROW, IDEMPOTENCY_ROW, SANDBOX_ROW, print_report  # noqa: E402
from bench.request_meter import RequestMeter  # noqa: E402
from botocore.config import Config  # noqa: E402
from moto import mock_aws  # noqa: E402

from paymux import runtime  # noqa: E402
from paymux.channels.registry import load_sandbox  # noqa: E402
from paymux.domain.models import Channel  # noqa: E402
from paymux.domain.states import PaymentStatus  # noqa: E402
from paymux.events.addresses import DeliveryTarget  # noqa: E402
from paymux.events.functions import CONSUMER_LEASE_SECONDS, NOTIFIER  # noqa: E402
from paymux.events.handlers import consume_queue_batch  # noqa: E402
from paymux.events.notifier import Notifier  # noqa: E402
from paymux.events.once import OnceOnly  # noqa: E402
from paymux.events.patterns import matches  # noqa: E402
from paymux.events.stream_reader import TableStreamReader, lambda_stream_event  # noqa: E402
from paymux.events.transport import PostResult  # noqa: E402
from paymux.ledger.schema import Keys, create_table  # noqa: E402
from paymux.local.apigw import lambda_context, rest_event  # noqa: E402
from paymux.local.sqs import lambda_sqs_record  # noqa: E402
from paymux.observability import logger  # noqa: E402
from paymux.services.events import ALL_EVENTS, EventService  # noqa: E402
from paymux.topology import PUBLISHER, TOPOLOGY  # noqa: E402

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


PAYMENT_AMOUNT = 12_800
REFUND_AMOUNT = 3_000
PAYMENT = {
    "amount": PAYMENT_AMOUNT,
    "currency": "cny",
    "subject": "Longjing tea, 250 g",
    "scene": "qr",
    "description": "Spring harvest green tea",
    "metadata": {"cart_id": "cart_8841", "customer_id": "cus_1029"},
}
WEBHOOK_URL = "https://merchant.example/paymux/webhooks"
# moto answers DynamoDB Streams only on the classic endpoint, not the account-based one.
_STREAMS_CONFIG = Config(account_id_endpoint_mode="disabled")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class LifecycleFailed(Exception):
    """A step of the lifecycle did not do what it should: its figures would mean nothing."""


def row_of(partition_key: str) -> str | None:
    """The rows kept apart from the step that made the request, by the item's partition key."""
    if partition_key.startswith("IDEMPOTENCY#"):
        return IDEMPOTENCY_ROW
    if partition_key.startswith("SANDBOX#"):
        return SANDBOX_ROW
    return None


@dataclass
class RecordingTransport:
    """The webhook transport: records each post and answers 200, sending nothing."""

    posts: list[tuple[DeliveryTarget, bytes]] = field(default_factory=list)

    def post(self, target: DeliveryTarget, body: bytes, headers: dict[str, str]) -> PostResult:  # noqa: ARG002
        self.posts.append((target, body))
        return PostResult(200, None, 5)


@dataclass
class Platform:
    """The real functions' dependencies on moto, with the bus routed by the topology's rules."""

    inspector: DynamoDBClient
    meter: RequestMeter
    stream: TableStreamReader
    sqs: Any
    queues: dict[str, str]
    secret_key: str
    transport: RecordingTransport
    baseline_table: str

    @classmethod
    def start(cls, table: str, bus: str) -> Platform:
        inspector = boto3.client("dynamodb")
        create_table(inspector, table)
        baseline_table = f"{table}-baseline"
        create_table(inspector, baseline_table)
        sqs, events = boto3.client("sqs"), boto3.client("events")
        events.create_event_bus(Name=bus)
        queues = {
            rule.name: _route(events, sqs, bus, rule.name, rule.pattern()) for rule, _ in TOPOLOGY.rules()
        }
        created = runtime.merchant_service().create("Bench Tea House")
        scope = runtime.merchant_service().authenticate(created.test_secret_key)
        EventService(runtime.ledger(), resolver=_public_resolver).create_endpoint(
            scope, WEBHOOK_URL, [ALL_EVENTS], "bench"
        )
        meter = RequestMeter(inspector, row_of)
        meter.attach(runtime.dynamodb_client())
        streams = boto3.client("dynamodbstreams", config=_STREAMS_CONFIG)
        return cls(
            inspector=inspector,
            meter=meter,
            stream=TableStreamReader(inspector, streams, table),
            sqs=sqs,
            queues=queues,
            secret_key=created.test_secret_key,
            transport=RecordingTransport(),
            baseline_table=baseline_table,
        )

    def call(self, handler: Handler, method: str, path: str, body: object) -> dict[str, Any]:
        """One API request (a POST with a fresh Idempotency-Key); the response's JSON. Raises
        LifecycleFailed for an error response."""
        headers = {"Authorization": f"Bearer {self.secret_key}", "Host": "pay.example"}
        if method == "POST":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        response = _invoke(handler, rest_event(method, path, headers=headers, json_body=body))
        if response["statusCode"] >= 300:
            raise LifecycleFailed(f"{method} {path}: {response['statusCode']} {response['body']}")
        return dict(json.loads(response["body"]))

    def queue_batch(self, queue: str) -> dict[str, Any]:
        """Every message now in the queue as Lambda's SQS event (taken off the queue)."""
        records: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(QueueUrl=self.queues[queue], MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in batch:
                self.sqs.delete_message(QueueUrl=self.queues[queue], ReceiptHandle=message["ReceiptHandle"])
                records.append(lambda_sqs_record(message, f"arn:aws:sqs:us-east-1:123456789012:{queue}"))
        return {"Records": records}


# -- the lifecycle ---------------------------------------------------------------------------------


def run_lifecycle(platform: Platform) -> int:
    """One payment paid, read once, partly refunded; every event published and delivered once.
    Returns how many of the meter's charges the payment made before its refund. Raises
    LifecycleFailed if any step goes wrong."""
    payment_id = pay(platform)
    publish(platform)
    deliver_webhooks(platform)
    paid = len(platform.meter.charges)
    refund(platform, payment_id)
    deliver_webhooks(platform)
    return paid


def pay(platform: Platform) -> str:
    """Create an Alipay QR payment, apply the provider's paid notification, read it as the merchant;
    then the baseline: the created payment item put once into an empty table. Returns its id."""
    from functions.channel_alipay.app import lambda_handler as alipay_function
    from functions.merchant_api.app import lambda_handler as merchant_api

    body = {**PAYMENT, "merchant_order_id": f"order-{uuid.uuid4().hex[:12]}"}
    with platform.meter.step("create payment"):
        payment_id = str(platform.call(alipay_function, "POST", "/v1/channels/alipay/payments", body)["id"])
    created = platform.inspector.get_item(
        TableName=platform.stream.table_name, Key=_key(Keys.payment(payment_id)), ConsistentRead=True
    )["Item"]
    with platform.meter.step(BASELINE_ROW):
        runtime.dynamodb_client().put_item(TableName=platform.baseline_table, Item=created)

    notification = _sandbox_notification(payment_id)  # the provider's side: not the platform's bill
    with platform.meter.step("notification"):
        event = rest_event("POST", notification.path, headers=notification.headers, body=notification.body)
        answer = _invoke(alipay_function, event)
    if answer["statusCode"] != 200:
        raise LifecycleFailed(f"the notification was refused: {answer}")

    with platform.meter.step("merchant read"):
        read = platform.call(merchant_api, "GET", f"/v1/payments/{payment_id}", None)
    if read["status"] != PaymentStatus.SUCCEEDED.value:
        raise LifecycleFailed(f"the notification was not applied: {read['status']}")
    return payment_id


def refund(platform: Platform, payment_id: str) -> None:
    """Refund part of the payment through the merchant API; the channel function settles it at the
    provider from its queue once the publisher has put `refund.created` on the bus."""
    from functions.channel_alipay.app import lambda_handler as alipay_function
    from functions.merchant_api.app import lambda_handler as merchant_api

    with platform.meter.step("refund create"):
        body = {"amount": REFUND_AMOUNT, "reason": "one tin arrived damaged"}
        platform.call(merchant_api, "POST", f"/v1/payments/{payment_id}/refunds", body)
    publish(platform)
    with platform.meter.step("refund settle"):
        _expect_no_failures(_invoke(alipay_function, platform.queue_batch("alipay-work")))
    if runtime.ledger().get_payment(payment_id).amount_refunded != REFUND_AMOUNT:
        raise LifecycleFailed("the refund was not settled")
    publish(platform)


def publish(platform: Platform) -> None:
    """The publisher function on the stream's new records, filtered as Lambda's event filter does."""
    from functions.publisher.app import lambda_handler as publisher_function

    records = [r for r in platform.stream.poll() if matches(_stream_filter(), r)]
    with platform.meter.step("publisher"):
        _expect_no_failures(_invoke(publisher_function, lambda_stream_event(records)))


def deliver_webhooks(platform: Platform) -> None:
    """The notifier's queue consumer (claim once, fan out, attempt) on every event of the bus, with
    the recording transport in place of HTTP."""
    notifier = Notifier(
        runtime.ledger(),
        runtime.delivery_ledger(),
        platform.transport,
        resolver=_public_resolver,
        parallel_attempts=1,  # moto in-process is not thread-safe
    )
    guard = OnceOnly(runtime.outbox_records(), NOTIFIER, CONSUMER_LEASE_SECONDS)
    batch = platform.queue_batch("webhooks")
    posted = len(platform.transport.posts)

    def consume(sqs_event: dict[str, Any], context: Any) -> dict[str, Any]:
        return consume_queue_batch(sqs_event, context, lambda event: guard.run(event, notifier.fan_out))

    with platform.meter.step("notifier delivery"):
        _expect_no_failures(_invoke(consume, batch))
    delivered = len(platform.transport.posts) - posted
    if delivered != len(batch["Records"]):
        raise LifecycleFailed(f"{len(batch['Records'])} events but {delivered} webhooks")


# -- plumbing --------------------------------------------------------------------------------------


def _sandbox_notification(payment_id: str) -> Any:
    payment = runtime.ledger().get_payment(payment_id)
    _, credentials = runtime.payment_service().sandbox.sandbox_payment(payment)
    sandbox = load_sandbox(Channel.ALIPAY, runtime.sandbox_store())
    return sandbox.notification_for(credentials, payment, PaymentStatus.SUCCEEDED, "/webhooks/alipay")


def _route(events: Any, sqs: Any, bus: str, name: str, pattern: dict[str, Any]) -> str:
    url = str(sqs.create_queue(QueueName=f"{bus}-{name}")["QueueUrl"])
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": name, "Arn": arn}])
    return url


def _stream_filter() -> dict[str, Any]:
    if PUBLISHER.stream is None:
        raise LifecycleFailed("the publisher has no stream source in the topology")
    return PUBLISHER.stream.filter_pattern


def _invoke(handler: Handler, event: dict[str, Any]) -> dict[str, Any]:
    """Invoke a function's handler as Lambda does, with a fresh context."""
    return handler(event, lambda_context())


def _expect_no_failures(response: dict[str, Any]) -> None:
    if response.get("batchItemFailures"):
        raise LifecycleFailed(f"batch items failed: {response['batchItemFailures']}")


def _public_resolver(host: str, port: int) -> list[str]:  # noqa: ARG001 - no DNS in the bench
    return ["93.184.216.34"]


def _key(keys: dict[str, str]) -> dict[str, Any]:
    return {name: {"S": value} for name, value in keys.items()}


def _environment(table: str, bus: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "PAYMUX_TABLE_NAME": table,
        "PAYMUX_EVENT_BUS_NAME": bus,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", action="store_true", help="also list every metered item")
    args = parser.parse_args()
    table, bus = "paymux-bench", "paymux-bench-bus"
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        os.environ.pop(name, None)
    os.environ.update(_environment(table, bus))
    logger.setLevel("ERROR")
    with mock_aws(), contextlib.redirect_stdout(io.StringIO()):  # the functions' metrics lines
        platform = Platform.start(table, bus)
        paid = run_lifecycle(platform)
    print_report(platform.meter.charges, paid, len(platform.transport.posts), args.requests)


if __name__ == "__main__":
    main()
