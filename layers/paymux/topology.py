"""The one description of paymux's shape: functions, their routes, event rules and schedules.
The CDK stack and the local platform are both built from it, so they cannot drift."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from paymux.domain.models import Channel, EventType
from paymux.ledger.schema import ENTITY_ATTRIBUTE


@dataclass(frozen=True)
class Route:
    method: str
    # API Gateway path template: `{name}` is a path parameter.
    path: str
    # Merchant routes need a secret key; provider webhooks and the OpenAPI document do not.
    authenticated: bool = True


# The bus's `source` for every paymux event.
EVENT_SOURCE = "paymux"
# Work a channel's function does after creation, delivered to it over its queue (issue 4 owns the names).
# A failed payment is closed at the provider too: a declined card's PaymentIntent must not be
# payable afterwards with the same client secret.
CHANNEL_WORK_EVENTS: tuple[str, ...] = (
    EventType.REFUND_CREATED.value,
    EventType.PAYMENT_CLOSED.value,
    EventType.PAYMENT_FAILED.value,
)
# Every event a merchant can receive (the notifier's rule).
ALL_EVENT_TYPES: tuple[str, ...] = tuple(t.value for t in EventType)


@dataclass(frozen=True)
class EventRule:
    """Events on the bus that reach a function through an SQS queue with a dead-letter queue."""

    name: str
    detail_types: tuple[str, ...]
    # Match only events whose `detail.channel` is this channel.
    channel: Channel | None = None
    batch_size: int = 10
    # Receives before a message moves to the dead-letter queue.
    max_receive_count: int = 5

    def pattern(self) -> dict[str, Any]:
        """The EventBridge event pattern (the deployed rule and the local emulator both use it)."""
        pattern: dict[str, Any] = {"source": [EVENT_SOURCE], "detail-type": list(self.detail_types)}
        if self.channel is not None:
            pattern["detail"] = {"channel": [self.channel.value]}
        return pattern


@dataclass(frozen=True)
class StreamSource:
    """The ledger table's stream feeding a function in batches, filtered before invocation."""

    # The Lambda event filter pattern (the local stream poller applies the same one).
    filter_pattern: dict[str, Any]
    batch_size: int = 100
    # Retries of a failing batch before its records are given up on (to the on-failure queue).
    max_retry_attempts: int = 20
    bisect_on_error: bool = True


# New event items only: what the outbox publisher puts on the bus.
NEW_EVENT_ITEMS: dict[str, Any] = {
    "eventName": ["INSERT"],
    "dynamodb": {"NewImage": {ENTITY_ATTRIBUTE: {"S": ["event"]}}},
}


@dataclass(frozen=True)
class Schedule:
    """A periodic invocation of a function with `{"action": action}` as its event detail."""

    name: str
    action: str
    every_minutes: int

    def event(self) -> dict[str, Any]:
        """What the function receives each time: shaped like a bus event, so one parser reads both."""
        return {
            "source": EVENT_SOURCE,
            "detail-type": "paymux.schedule",
            "detail": {"schedule": self.name, "action": self.action},
        }


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    # The folder under functions/ holding `app.py` with `lambda_handler`.
    source: str
    description: str
    routes: tuple[Route, ...] = ()
    channel: Channel | None = None
    memory_mb: int = 512
    timeout_seconds: int = 29
    # Provider SDKs or libraries only this function needs, beyond the shared layer.
    requirements: tuple[str, ...] = ()
    reserved_concurrency: int | None = None
    # Bus events this function consumes (through its own queue) and its schedules.
    rules: tuple[EventRule, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    # The table stream this function consumes, if any, and whether it puts events on the bus.
    stream: StreamSource | None = None
    publishes_events: bool = False
    # Test mode's sandbox features (completing a test payment, the shopper pages) sign with the
    # merchant's test credentials of any channel; never their live ones.
    reads_test_credentials: bool = False

    @property
    def handler(self) -> str:
        return "app.lambda_handler"

    @property
    def module(self) -> str:
        return f"functions.{self.source}.app"


@dataclass(frozen=True)
class Topology:
    functions: tuple[FunctionSpec, ...]
    extra: dict[str, str] = field(default_factory=dict)

    def function(self, name: str) -> FunctionSpec:
        return next(f for f in self.functions if f.name == name)

    def routes(self) -> list[tuple[Route, FunctionSpec]]:
        return [(route, fn) for fn in self.functions for route in fn.routes]

    def rules(self) -> list[tuple[EventRule, FunctionSpec]]:
        return [(rule, fn) for fn in self.functions for rule in fn.rules]

    def schedules(self) -> list[tuple[Schedule, FunctionSpec]]:
        return [(schedule, fn) for fn in self.functions for schedule in fn.schedules]


MERCHANT_API = FunctionSpec(
    name="merchant-api",
    source="merchant_api",
    description="Channel-agnostic merchant API: payments, refunds, events, webhook endpoints",
    reads_test_credentials=True,
    routes=(
        Route("GET", "/v1/payments"),
        Route("GET", "/v1/payments/{payment_id}"),
        Route("POST", "/v1/payments/{payment_id}/close"),
        Route("POST", "/v1/payments/{payment_id}/refunds"),
        Route("GET", "/v1/payments/{payment_id}/refunds"),
        Route("GET", "/v1/refunds/{refund_id}"),
        Route("GET", "/v1/events"),
        Route("GET", "/v1/events/{event_id}"),
        Route("POST", "/v1/events/{event_id}/redeliver"),
        Route("POST", "/v1/webhook_endpoints"),
        Route("GET", "/v1/webhook_endpoints"),
        Route("DELETE", "/v1/webhook_endpoints/{endpoint_id}"),
        Route("POST", "/v1/test/payments/{payment_id}/complete"),
        Route("GET", "/openapi.json", authenticated=False),
        # The built-in sandboxes' shopper pages (test mode): where a scene's credential takes the
        # shopper's browser (Alipay's cashier, UnionPay's front gateway, WeChat Pay's h5 page, a
        # Stripe test card page). Possession of the signed credential is the authorization.
        Route("GET", "/sandbox/{channel}/{proxy+}", authenticated=False),
        Route("POST", "/sandbox/{channel}/{proxy+}", authenticated=False),
    ),
)


def channel_function(
    channel: Channel, *, requirements: tuple[str, ...] = (), concurrency: int = 50
) -> FunctionSpec:
    """A channel's own function: its payment-creation route and its provider webhook."""
    return FunctionSpec(
        name=f"channel-{channel.value}",
        source=f"channel_{channel.value}",
        description=f"{channel.value} channel: create payments, verify {channel.value} notifications",
        channel=channel,
        routes=(
            Route("POST", f"/v1/channels/{channel.value}/payments"),
            Route("POST", f"/webhooks/{channel.value}", authenticated=False),
            Route("POST", f"/webhooks/{channel.value}/{{notify_target}}", authenticated=False),
        ),
        requirements=requirements,
        reserved_concurrency=concurrency,
        rules=(EventRule(f"{channel.value}-work", CHANNEL_WORK_EVENTS, channel=channel),),
        schedules=(Schedule(f"{channel.value}-status-sync", action="status_sync", every_minutes=5),),
    )


PUBLISHER = FunctionSpec(
    name="publisher",
    source="publisher",
    description="Outbox publisher: new event items from the ledger's stream to the event bus",
    timeout_seconds=60,
    stream=StreamSource(filter_pattern=NEW_EVENT_ITEMS),
    publishes_events=True,
)

NOTIFIER = FunctionSpec(
    name="notifier",
    source="notifier",
    description="Merchant webhooks: signed deliveries of every event, retried with backoff",
    timeout_seconds=60,
    rules=(EventRule("webhooks", ALL_EVENT_TYPES, batch_size=5),),
    schedules=(Schedule("webhook-retries", action="retry_deliveries", every_minutes=1),),
)


TOPOLOGY = Topology(
    functions=(
        MERCHANT_API,
        PUBLISHER,
        NOTIFIER,
        channel_function(Channel.ALIPAY),
        channel_function(Channel.WECHATPAY),
        # UnionPay needs nothing beyond the layer: signing is hand-written on `cryptography`.
        channel_function(Channel.UNIONPAY),
        channel_function(Channel.STRIPE, requirements=("stripe==16.1.0",)),
    )
)
