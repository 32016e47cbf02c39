"""The small pieces: signatures, the retry schedule, address checks, the topology's event wiring,
and the background handler's dispatch."""

from __future__ import annotations

from typing import Any

import pytest

from paymux.domain.models import EventType, Mode
from paymux.events.addresses import EndpointNotAllowed, address_allowed, resolve_target
from paymux.events.handlers import UnknownInvocation, background_handler
from paymux.events.retry import RETRY_WINDOW_SECONDS, RetryPolicy
from paymux.events.signature import SignatureMismatch, signature_header, verify_signature
from paymux.topology import CHANNEL_WORK_EVENTS, TOPOLOGY

SECRET = "whsec_test"
BODY = b'{"id":"evt_1","object":"event"}'


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    header = signature_header(SECRET, 1_700_000_000, BODY)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    verify_signature(SECRET, header, BODY, now=1_700_000_100)


@pytest.mark.parametrize(
    ("secret", "body", "now"),
    [
        ("whsec_other", BODY, 1_700_000_000),
        (SECRET, BODY + b" ", 1_700_000_000),
        (SECRET, BODY, 1_700_001_000),
    ],
)
def test_a_signature_of_another_secret_body_or_time_does_not_verify(
    secret: str, body: bytes, now: int
) -> None:
    header = signature_header(secret, 1_700_000_000, body)
    with pytest.raises(SignatureMismatch):
        verify_signature(SECRET, header, BODY, now=now)


def test_retries_back_off_exponentially_with_jitter_for_at_least_24_hours() -> None:
    policy = RetryPolicy(jitter=lambda: 0.999)
    assert policy.next_attempt_at(1, 0, 0) == 59
    assert policy.next_attempt_at(3, 0, 0) == 239
    assert policy.next_attempt_at(30, 0, 0) == 6 * 3600 - 11  # capped at 6 h
    assert policy.next_attempt_at(12, 0, RETRY_WINDOW_SECONDS) is None
    assert sum(RetryPolicy().nominal_schedule()) >= RETRY_WINDOW_SECONDS
    low = RetryPolicy(jitter=lambda: 0.0)
    assert low.next_attempt_at(2, 0, 100) == 100 + 60


@pytest.mark.parametrize(
    ("address", "mode", "allowed"),
    [
        ("93.184.216.34", Mode.LIVE, True),
        ("10.1.2.3", Mode.LIVE, False),
        ("127.0.0.1", Mode.LIVE, False),
        ("169.254.169.254", Mode.LIVE, False),
        ("::ffff:10.0.0.1", Mode.LIVE, False),
        ("fe80::1", Mode.LIVE, False),
        ("127.0.0.1", Mode.TEST, True),
        ("::1", Mode.TEST, True),
        ("169.254.169.254", Mode.TEST, False),
    ],
)
def test_which_addresses_a_webhook_may_reach(address: str, mode: Mode, allowed: bool) -> None:
    assert address_allowed(address, mode) is allowed


def test_a_name_resolving_to_any_private_address_is_refused_in_live_mode() -> None:
    with pytest.raises(EndpointNotAllowed):
        resolve_target("https://mixed.example/", Mode.LIVE, lambda h, p: ["93.184.216.34", "10.0.0.1"])
    with pytest.raises(EndpointNotAllowed):
        resolve_target("https://user:pw@shop.example/", Mode.LIVE, lambda h, p: ["93.184.216.34"])
    target = resolve_target("https://shop.example:8443/h?x=1", Mode.LIVE, lambda h, p: ["93.184.216.34"])
    assert (target.host, target.port, target.path) == ("shop.example", 8443, "/h?x=1")


def test_the_topology_routes_channel_work_and_every_event_to_the_notifier() -> None:
    rules = {rule.name: rule for rule, _ in TOPOLOGY.rules()}
    assert set(CHANNEL_WORK_EVENTS) == {"refund.created", "payment.closed", "payment.failed"}
    assert rules["alipay-work"].pattern()["detail"] == {"channel": ["alipay"]}
    assert set(rules["webhooks"].detail_types) == {t.value for t in EventType}
    publisher = TOPOLOGY.function("publisher")
    assert publisher.stream is not None
    assert publisher.publishes_events
    assert {s.action for s, _ in TOPOLOGY.schedules()} >= {"status_sync", "retry_deliveries"}


def test_the_background_handler_dispatches_on_the_events_shape(lambda_context: Any) -> None:
    seen: list[str] = []
    handler = background_handler(schedules={"status_sync": lambda context: seen.append("sync") or {"ok": 1}})
    schedule = next(s for s, _ in TOPOLOGY.schedules() if s.action == "status_sync")
    assert handler(schedule.event(), lambda_context) == {"ok": 1}
    assert seen == ["sync"]
    with pytest.raises(UnknownInvocation):
        handler({"detail-type": "paymux.schedule", "detail": {"action": "unknown"}}, lambda_context)


@pytest.fixture
def lambda_context() -> Any:
    class Context:
        function_name = "test"
        memory_limit_in_mb = 128
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
        aws_request_id = "req-1"

    return Context()


def test_a_deployed_stack_can_refuse_loopback_even_in_test_mode():
    loopback = lambda h, p: ["127.0.0.1"]  # noqa: E731
    assert resolve_target("http://localhost:8000/hook", Mode.TEST, loopback).addresses == ("127.0.0.1",)
    with pytest.raises(EndpointNotAllowed):
        resolve_target("http://localhost:8000/hook", Mode.TEST, loopback, test_loopback=False)
    with pytest.raises(EndpointNotAllowed):
        resolve_target("https://localhost/hook", Mode.LIVE, loopback)
