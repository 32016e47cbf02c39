"""The notifier dying between any two of its steps loses no delivery: a first attempt whose outcome
was never recorded is made again when the queue hands the event back (the once-only claim's lease
ends first), a retry's when the delivery's lease in the work index ends; every recorded attempt
stays visible once, and a redelivery racing an attempt does not swallow it. Also: a delivery
delivered at its first attempt never enters the work index."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from paymux.domain.deliveries import Delivery, DeliveryStatus
from paymux.domain.models import Channel, Event, WebhookEndpoint
from paymux.events.addresses import DeliveryTarget
from paymux.events.functions import CONSUMER_LEASE_SECONDS, NOTIFIER
from paymux.events.notifier import LEASE_SECONDS, Notifier
from paymux.events.once import ConsumerBusy, OnceOnly
from paymux.events.retry import RetryPolicy
from paymux.events.transport import PostResult
from paymux.ledger.deliveries import DeliveryLedger
from paymux.ledger.outbox import Claim
from paymux.topology import NOTIFIER as NOTIFIER_FUNCTION
from tests.unit.core.conftest import create_command
from tests.unit.events.conftest import World
from tests.unit.events.support import public_resolver
from tests.unit.events.test_publisher import BASE_URL

# When SQS shows an unfinished message again (infra/events.py: six times the function's timeout).
VISIBILITY_TIMEOUT = 6 * NOTIFIER_FUNCTION.timeout_seconds


class Crash(BaseException):
    """The function dies here (timeout, out of memory): nothing after this line of it runs."""


@dataclass
class DyingClient:
    """The DynamoDB client, except that the first `put_item` matching `dies_at` kills the function
    instead of writing."""

    client: Any
    dies_at: Callable[[dict[str, Any]], bool]
    died: bool = False

    def put_item(self, **request: Any) -> Any:
        if not self.died and self.dies_at(request["Item"]):
            self.died = True
            raise Crash
        return self.client.put_item(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@dataclass
class DyingTransport:
    """Answers from a script of status codes; the post numbered `dies_at` (from 1) kills the
    function before the request goes out."""

    script: list[int]
    dies_at: int
    posts: list[tuple[DeliveryTarget, bytes]] = field(default_factory=list)
    calls: int = 0

    def post(self, target: DeliveryTarget, body: bytes, headers: dict[str, str]) -> PostResult:
        self.calls += 1
        if self.calls == self.dies_at:
            raise Crash
        self.posts.append((target, body))
        return PostResult(self.script[min(len(self.posts), len(self.script)) - 1], None, 5)


@dataclass
class RedeliveredDuringPost:
    """A receiver that answers 502, while the merchant asks for the event's redelivery."""

    world: World
    event_id: str

    def post(self, target: DeliveryTarget, body: bytes, headers: dict[str, str]) -> PostResult:
        self.world.notifier.redeliver(self.world.scope, self.event_id)
        return PostResult(502, None, 5)


def delivery_put(attempts: int) -> Callable[[dict[str, Any]], bool]:
    """Matches the write of a delivery item recording its `attempts`-th attempt."""

    def matches(item: dict[str, Any]) -> bool:
        sort_key = item["sk"]["S"]
        is_delivery = sort_key.startswith("DELIVERY#") and "#ATTEMPT#" not in sort_key
        return is_delivery and item.get("attempts", {}).get("N") == str(attempts)

    return matches


def notifier_on(world: World, *, client: Any = None, transport: Any = None) -> Notifier:
    deliveries = DeliveryLedger(world.deliveries.table_name, client or world.deliveries.client)
    return Notifier(
        world.ledger,
        deliveries,
        transport or world.transport,
        resolver=public_resolver,
        clock=world.clock,
        policy=RetryPolicy(jitter=lambda: 0.0),
        parallel_attempts=1,
    )


def endpoint(world: World, url: str = "https://shop.example/hooks") -> WebhookEndpoint:
    return world.events.create_endpoint(world.scope, url, ["payment.created"], None)


def created_event(world: World) -> Event:
    payment = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    (event,) = [
        e
        for e in world.ledger.list_events(world.scope, None, 10, None).data
        if e.data["object"]["id"] == payment.id
    ]
    return event


def dies_consuming(world: World, event: Event, notifier: Notifier) -> None:
    """The notifier function takes the event's once-only claim and dies in its fan-out: the claim is
    neither released nor marked done, and the queue message is not deleted."""
    assert world.records.claim(NOTIFIER, event.id, world.clock(), CONSUMER_LEASE_SECONDS) is Claim.CLAIMED
    with pytest.raises(Crash):
        notifier.fan_out(event)


def consumes(world: World, event: Event) -> bool:
    """The notifier function (alive this time) on the message the queue hands back."""
    guard = OnceOnly(world.records, NOTIFIER, CONSUMER_LEASE_SECONDS, clock=world.clock)
    return guard.run(event, world.notifier.fan_out)


def history(world: World, event: Event) -> dict[str, tuple[Delivery, list[tuple[int, int | None]]]]:
    """Each endpoint's delivery with its attempts as (number, status code)."""
    return {
        d.endpoint_id: (d, [(a.number, a.status_code) for a in attempts])
        for d, attempts in world.deliveries.list_for_event(event.id)
    }


def test_dying_after_the_post_before_recording_it_posts_again_when_the_queue_retries(world: World) -> None:
    # given an endpoint and a new event
    hook = endpoint(world)
    event = created_event(world)
    # when the function posts the event, then dies before the delivery is written
    dies_consuming(
        world, event, notifier_on(world, client=DyingClient(world.deliveries.client, delivery_put(1)))
    )
    assert len(world.transport.posts) == 1
    assert world.deliveries.list_for_event(event.id) == []
    # then the message the queue hands back waits for the claim's lease, then is handled in full
    with pytest.raises(ConsumerBusy):
        consumes(world, event)
    world.clock.advance(VISIBILITY_TIMEOUT)
    assert consumes(world, event) is True
    assert [json.loads(body)["id"] for _, body, _ in world.transport.posts] == [event.id, event.id]
    delivery, attempts = history(world, event)[hook.id]
    assert delivery.status is DeliveryStatus.DELIVERED
    assert attempts == [(1, 200)]


def test_dying_between_two_endpoints_records_both_and_adds_the_repeated_attempt(world: World) -> None:
    # given two endpoints and a new event
    endpoints = {
        endpoint(world, "https://one.example/hooks").id,
        endpoint(world, "https://two.example/hooks").id,
    }
    event = created_event(world)
    # when the function delivers to one, then dies before posting to the other
    dies_consuming(world, event, notifier_on(world, transport=DyingTransport(script=[200], dies_at=2)))
    (done,) = [d.endpoint_id for d, _ in world.deliveries.list_for_event(event.id)]
    (other,) = endpoints - {done}
    # then the queue's retry sends it to both; the repeated attempt is added to the first's record
    world.clock.advance(VISIBILITY_TIMEOUT)
    assert consumes(world, event) is True
    shown = history(world, event)
    assert shown[done][1] == [(1, 200), (2, 200)]
    assert shown[other][1] == [(1, 200)]
    assert {d.status for d, _ in shown.values()} == {DeliveryStatus.DELIVERED}


def test_a_retry_that_dies_mid_attempt_is_due_again_when_its_lease_ends(world: World) -> None:
    # given a delivery whose first attempt failed
    hook = endpoint(world)
    world.transport.script = [500, 200]
    event = created_event(world)
    assert consumes(world, event) is True
    (pending,) = world.deliveries.due(world.clock() + 3600, 10)
    # when the retry sweep claims it and dies during the post
    world.clock.now = pending.next_attempt_at or 0
    with pytest.raises(Crash):
        notifier_on(world, transport=DyingTransport(script=[200], dies_at=1)).retry_due()
    # then nothing retries it while the dead worker's lease lasts, and the next sweep after it does
    assert world.notifier.retry_due() == []
    world.clock.advance(LEASE_SECONDS)
    (delivered,) = world.notifier.retry_due()
    assert delivered.status is DeliveryStatus.DELIVERED
    assert history(world, event)[hook.id][1] == [(1, 500), (2, 200)]
    assert world.deliveries.due(world.clock() + 86_400, 10) == []


def test_dying_between_archiving_an_attempt_and_recording_the_next_shows_each_attempt_once(
    world: World,
) -> None:
    # given a delivery whose first attempt failed
    hook = endpoint(world)
    world.transport.script = [500, 503, 200]
    event = created_event(world)
    assert consumes(world, event) is True
    world.clock.advance(3600)
    # when a retry archives attempt 1 and dies before the delivery records attempt 2
    with pytest.raises(Crash):
        notifier_on(world, client=DyingClient(world.deliveries.client, delivery_put(2))).retry_due()
    # then the history still shows attempt 1 once, and the retry after the lease records attempt 2
    assert history(world, event)[hook.id][1] == [(1, 500)]
    world.clock.advance(LEASE_SECONDS)
    (delivered,) = world.notifier.retry_due()
    assert delivered.status is DeliveryStatus.DELIVERED
    assert history(world, event)[hook.id][1] == [(1, 500), (2, 200)]
    assert len(world.transport.posts) == 3  # the dead worker's 503 was never recorded


def test_a_redelivery_request_during_an_attempt_does_not_lose_the_attempt(world: World) -> None:
    # given a delivery whose first attempt failed, due for a retry
    hook = endpoint(world)
    event = created_event(world)
    world.transport.script = [500]
    assert consumes(world, event) is True
    world.clock.advance(3600)
    # when the merchant asks for a redelivery while the retry's post is in flight (and fails)
    (raced,) = notifier_on(world, transport=RedeliveredDuringPost(world, event.id)).retry_due()
    # then the attempt is recorded and the redelivery still stands: due now, in a new window
    assert history(world, event)[hook.id][1] == [(1, 500), (2, 502)]
    assert raced.status is DeliveryStatus.PENDING
    assert raced.next_attempt_at == world.clock()
    assert raced.window_start == world.clock()
    world.transport.script = [200]
    (delivered,) = world.notifier.retry_due()
    assert history(world, event)[hook.id][1] == [(1, 500), (2, 502), (3, 200)]
    assert delivered.status is DeliveryStatus.DELIVERED


def test_only_a_failed_first_attempt_enters_the_work_index(world: World) -> None:
    # given an endpoint that answers 200 and one that answers 500
    endpoint(world, "https://ok.example/hooks")
    failing = endpoint(world, "https://down.example/hooks")

    def answer(target: DeliveryTarget, body: bytes, headers: dict[str, str]) -> PostResult:
        return PostResult(200 if target.host == "ok.example" else 500, None, 5)

    world.transport.post = answer  # type: ignore[method-assign]
    event = created_event(world)
    assert consumes(world, event) is True
    # then only the failed delivery waits in the index, due after its first backoff
    (due,) = world.deliveries.due(world.clock() + 86_400, 10)
    assert due.endpoint_id == failing.id
    assert due.next_attempt_at == world.clock() + 30
    assert due.last_attempt is not None
    assert due.last_attempt.status_code == 500
