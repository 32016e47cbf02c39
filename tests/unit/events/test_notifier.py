"""Merchant webhooks: one signed delivery per event and endpoint, retried with backoff for the
retry window, then dead-lettered, with every attempt recorded; nothing a failing endpoint does holds
up the merchant's other events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from paymux.domain.deliveries import DeliveryStatus
from paymux.domain.errors import InvalidRequest, NotFound
from paymux.domain.models import Channel, MerchantScope, Mode, WebhookEndpoint
from paymux.events.handlers import consume_queue_batch
from paymux.events.once import OnceOnly
from paymux.events.retry import RETRY_WINDOW_SECONDS
from paymux.events.signature import SIGNATURE_HEADER, verify_signature
from paymux.services.events import EventService
from tests import builders
from tests.fakes import fake_notification
from tests.unit.core.conftest import create_command
from tests.unit.events.conftest import World
from tests.unit.events.support import loopback_resolver
from tests.unit.events.test_publisher import BASE_URL


def endpoint(
    world: World, events: list[str] | None = None, url: str = "https://shop.example/hooks"
) -> WebhookEndpoint:
    return world.events.create_endpoint(world.scope, url, events or ["*"], None)


def run_notifier(world: World) -> dict[str, Any]:
    """Publish what the stream holds and run the notifier on what its rule queued."""
    world.publish_stream()
    records = world.bus.receive("webhooks")
    guard = OnceOnly(world.records, "notifier", 120, clock=world.clock)
    try:
        return consume_queue_batch(
            {"Records": records},
            None,  # type: ignore[arg-type]
            lambda e: guard.run(e, world.notifier.fan_out),
        )
    except BatchProcessingError:
        return {"batchItemFailures": records}


def succeed_notification(world: World, payment_id: str) -> Any:
    return fake_notification(
        payment_id=payment_id, status="succeeded", amount=10_000, currency="cny", txn="t-9", at=world.clock()
    )


def test_twenty_duplicate_channel_notifications_make_one_merchant_delivery(world: World) -> None:
    # given an endpoint for payment.succeeded and a payment
    hook = endpoint(world, ["payment.succeeded"])
    payment = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    # when the provider sends the same notification 20 times
    notification = succeed_notification(world, payment.id)
    for _ in range(20):
        assert world.payments.handle_notification(Channel.ALIPAY, notification).status == 200
    # and the bus hands the notifier its events twice over
    world.publish_stream()
    records = world.bus.receive("webhooks")
    guard = OnceOnly(world.records, "notifier", 120, clock=world.clock)
    for _ in range(2):
        consume_queue_batch({"Records": records}, None, lambda e: guard.run(e, world.notifier.fan_out))  # type: ignore[arg-type]
    # then the merchant got exactly one delivery, of payment.succeeded, correctly signed
    assert len(world.transport.posts) == 1
    target, body, headers = world.transport.posts[0]
    assert json.loads(body)["type"] == "payment.succeeded"
    assert json.loads(body)["data"]["object"]["id"] == payment.id
    verify_signature(hook.secret, headers[SIGNATURE_HEADER], body, now=world.clock())
    assert target.host == "shop.example"
    assert target.path == "/hooks"


def test_a_receiver_failing_five_times_then_succeeding_gets_the_event(world: World) -> None:
    # given a receiver that answers 500, 502, times out, 503, 500, then 200
    hook = endpoint(world)
    world.transport.script = [500, 502, None, 503, 500, 200]
    world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    run_notifier(world)
    # when the retry sweep runs each time a retry falls due (backoff 1, 2, 4, 8, 16 minutes)
    waits = []
    for _ in range(5):
        (delivery,) = [
            d for d, _ in world.deliveries.list_for_event(json.loads(world.transport.posts[0][1])["id"])
        ]
        assert delivery.status is DeliveryStatus.PENDING
        assert delivery.next_attempt_at is not None
        waits.append(delivery.next_attempt_at - world.clock())
        assert world.notifier.retry_due() == []  # not yet due
        world.clock.advance(waits[-1])
        world.notifier.retry_due()
    # then the sixth attempt delivered it, every attempt recorded, each signed validly
    assert waits == [30, 60, 120, 240, 480]  # jitter 0: the lower half of 1, 2, 4, 8, 16 minutes
    (delivery, attempts) = world.deliveries.list_for_event(json.loads(world.transport.posts[0][1])["id"])[0]
    assert delivery.status is DeliveryStatus.DELIVERED
    assert [a.status_code for a in attempts] == [500, 502, None, 503, 500, 200]
    assert [a.error for a in attempts] == ["http_500", "http_502", "timeout", "http_503", "http_500", None]
    for _, body, headers in world.transport.posts:
        verify_signature(
            hook.secret, headers[SIGNATURE_HEADER], body, now=int(headers[SIGNATURE_HEADER][2:12])
        )


def test_a_receiver_that_never_succeeds_is_dead_lettered_and_other_events_still_flow(world: World) -> None:
    # given a dead endpoint and a healthy one of the same merchant
    broken = endpoint(world, url="https://broken.example/hooks")
    endpoint(world, url="https://healthy.example/hooks")

    def answer(target: Any, body: bytes, headers: dict[str, str]) -> Any:
        world.transport.posts.append((target, body, headers))
        from paymux.events.transport import PostResult

        return PostResult(200 if target.host == "healthy.example" else 500, None, 3)

    world.transport.post = answer  # type: ignore[method-assign]
    first = world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    run_notifier(world)
    first_event = world.ledger.list_events(world.scope, None, 1, None).data[0]
    # when retries run for more than the retry window, while the merchant's next events arrive
    started = world.clock()
    later_payments = []
    while world.clock() - started <= RETRY_WINDOW_SECONDS + 6 * 3600:
        world.clock.advance(1800)
        if len(later_payments) < 3:
            later_payments.append(
                world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
            )
            run_notifier(world)
        world.notifier.retry_due()
    # then the broken endpoint's delivery of the first event is dead-lettered after >= 24 h of retries
    history = {d.endpoint_id: (d, a) for d, a in world.deliveries.list_for_event(first_event.id)}
    dead, attempts = history[broken.id]
    assert dead.status is DeliveryStatus.DEAD_LETTERED
    assert attempts[-1].at - attempts[0].at >= RETRY_WINDOW_SECONDS
    assert 8 <= len(attempts) <= 20
    assert first_event.data["object"]["id"] == first.id
    assert dead.id in {d.id for d in world.deliveries.dead_letters(50)}
    # and the healthy endpoint received every event of the merchant on the first attempt
    healthy_bodies = [json.loads(b) for t, b, _ in world.transport.posts if t.host == "healthy.example"]
    assert sorted(b["data"]["object"]["id"] for b in healthy_bodies) == sorted(
        [first.id, *(p.id for p in later_payments)]
    )


def test_only_enabled_subscribed_endpoints_of_the_events_merchant_and_mode_get_it(world: World) -> None:
    endpoint(world, ["refund.created"])
    wanted = endpoint(world, ["payment.created"], url="https://wanted.example/")
    other_merchant = MerchantScope(merchant_id="mch_01OTHERMERCHANT0000000000000", mode=Mode.TEST)
    world.events.create_endpoint(other_merchant, "https://other.example/", ["*"], None)
    live = MerchantScope(merchant_id=world.scope.merchant_id, mode=Mode.LIVE)
    world.events.create_endpoint(live, "https://live.example/", ["*"], None)
    world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    run_notifier(world)
    assert [t.host for t, _, _ in world.transport.posts] == ["wanted.example"]
    assert wanted.url == "https://wanted.example/"


def test_get_event_shows_deliveries_and_redeliver_sends_it_again(world: World) -> None:
    endpoint(world)
    world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    run_notifier(world)
    event = world.ledger.list_events(world.scope, None, 1, None).data[0]
    ((delivery, attempts),) = world.notifier.history(world.scope, event.id)
    assert delivery.status is DeliveryStatus.DELIVERED
    assert len(attempts) == 1
    # when the merchant asks for it again
    ((again, _),) = world.notifier.redeliver(world.scope, event.id)
    assert again.status is DeliveryStatus.PENDING
    assert again.next_attempt_at == world.clock()
    world.notifier.retry_due()
    # then it is delivered a second time, the history shows both attempts
    ((delivery, attempts),) = world.notifier.history(world.scope, event.id)
    assert delivery.status is DeliveryStatus.DELIVERED
    assert [a.number for a in attempts] == [1, 2]
    assert len(world.transport.posts) == 2
    # and another merchant cannot see or redeliver it
    stranger = MerchantScope(merchant_id="mch_01STRANGER00000000000000000", mode=Mode.TEST)
    with pytest.raises(NotFound):
        world.notifier.history(stranger, event.id)
    with pytest.raises(NotFound):
        world.notifier.redeliver(stranger, event.id)


def test_a_deleted_endpoint_cancels_its_pending_delivery(world: World) -> None:
    hook = endpoint(world)
    world.transport.script = [500]
    world.payments.create_payment(world.scope, Channel.ALIPAY, create_command(), BASE_URL)
    run_notifier(world)
    world.events.delete_endpoint(world.scope, hook.id)
    world.clock.advance(3600)
    (cancelled,) = world.notifier.retry_due()
    assert cancelled.status is DeliveryStatus.CANCELED
    assert len(world.transport.posts) == 1


def test_live_endpoints_must_resolve_to_public_addresses_at_registration_and_at_delivery(
    world: World,
) -> None:
    live = MerchantScope(merchant_id=world.scope.merchant_id, mode=Mode.LIVE)
    resolver_answers = {"shop.example": ["93.184.216.34"], "intranet.example": ["10.0.0.7"]}
    service = EventService(
        world.ledger, clock=world.clock, resolver=lambda host, port: resolver_answers[host]
    )
    with pytest.raises(InvalidRequest):
        service.create_endpoint(live, "https://intranet.example/", ["*"], None)
    with pytest.raises(InvalidRequest):
        service.create_endpoint(live, "http://shop.example/", ["*"], None)
    with pytest.raises(InvalidRequest):
        service.create_endpoint(live, "https://127.0.0.1/", ["*"], None)
    with pytest.raises(InvalidRequest):
        service.create_endpoint(live, "https://[fe80::1]/", ["*"], None)
    hook = service.create_endpoint(live, "https://shop.example/", ["*"], None)
    # when the name's DNS answer turns private before a delivery
    resolver_answers["shop.example"] = ["169.254.169.254"]
    world.notifier.resolver = lambda host, port: resolver_answers[host]
    live_payment = builders.payment(live)
    world.ledger.create_payment(live_payment, builders.event_for(live_payment))
    run_notifier(world)
    # then nothing was sent and the attempt says why
    assert world.transport.posts == []
    created = world.ledger.list_events(live, None, 1, None).data[0]
    ((delivery, attempts),) = world.notifier.history(live, created.id)
    assert delivery.endpoint_id == hook.id
    assert (attempts[0].error or "").startswith("address_not_allowed")


def test_test_mode_allows_a_loopback_receiver(world: World) -> None:
    service = EventService(world.ledger, clock=world.clock, resolver=loopback_resolver)
    hook = service.create_endpoint(world.scope, "http://localhost:4242/hooks", ["*"], None)
    assert hook.url.startswith("http://localhost")
    live = MerchantScope(merchant_id=world.scope.merchant_id, mode=Mode.LIVE)
    with pytest.raises(InvalidRequest):
        service.create_endpoint(live, "https://localhost:4242/hooks", ["*"], None)
