"""The notifier and the consumers' once-only claims on real engines: a loopback receiver gets signed
deliveries over real HTTP (moto and DynamoDB Local), and racing duplicates make one delivery
(DynamoDB Local only: moto's conditional writes are not atomic across threads)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from paymux.domain.deliveries import DeliveryStatus
from paymux.domain.models import Channel, EventType
from paymux.domain.states import PaymentStatus
from paymux.events.notifier import Notifier
from paymux.events.once import ConsumerBusy, OnceOnly
from paymux.events.retry import RetryPolicy
from paymux.events.signature import SIGNATURE_HEADER, SignatureMismatch, verify_signature
from paymux.events.transport import HttpWebhookTransport
from paymux.ledger.deliveries import DeliveryLedger
from paymux.ledger.dynamodb import DynamoLedger
from paymux.ledger.outbox import OutboxRecords
from paymux.services.credentials import CredentialResolver
from paymux.services.events import EventService
from paymux.services.payments import PaymentService
from tests import builders
from tests.fakes import FakeAdapter, InMemorySandboxStore, fake_notification
from tests.integration.conftest import Backend
from tests.integration.helpers import events_about, stored_payment
from tests.unit.events.support import Clock, RecordingTransport, loopback_resolver

RACERS = 20


class Receiver:
    """A merchant's webhook receiver on a loopback port: answers `failures` times with 500, then
    200; verifies every signature it gets with the endpoint's secret (set once registered)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.secret = ""
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.verified: list[dict[str, object]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = 500 if len(receiver.requests) <= receiver.failures else 200
                if status == 200:
                    try:
                        header = self.headers[SIGNATURE_HEADER]
                        verify_signature(receiver.secret, header, body, now=int(header[2:12]))
                        receiver.verified.append(json.loads(body))
                    except SignatureMismatch:
                        status = 400
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(failures=5)
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_a_receiver_failing_five_times_then_succeeding_gets_the_event_signed(
    backend: Backend, ledger: DynamoLedger, receiver: Receiver
) -> None:
    # given a test-mode endpoint on a loopback receiver that fails five times
    clock = Clock()
    scope = builders.merchant_scope()
    hook = EventService(ledger, clock=clock).create_endpoint(scope, receiver.url, ["payment.created"], None)
    receiver.secret = hook.secret
    notifier = Notifier(
        ledger,
        DeliveryLedger(backend.table_name, backend.client),
        HttpWebhookTransport(),
        clock=clock,
        policy=RetryPolicy(jitter=lambda: 0.5),
        parallel_attempts=1,
    )
    payment = stored_payment(ledger, builders.payment(scope))
    (event,) = events_about(ledger, scope, payment.id)
    # when it is delivered, then retried each time a retry falls due
    (delivery,) = notifier.fan_out(event)
    while delivery.status is DeliveryStatus.PENDING and delivery.next_attempt_at is not None:
        clock.now = delivery.next_attempt_at
        (delivery,) = notifier.retry_due()
    # then the sixth attempt delivered the event, with a valid signature, and all six are recorded
    assert delivery.status is DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 6
    assert [body["id"] for body in receiver.verified] == [event.id]
    assert receiver.verified[0]["data"] == {"object": event.data["object"]}
    ((stored, attempts),) = notifier.history(scope, event.id)
    assert [a.status_code for a in attempts] == [500, 500, 500, 500, 500, 200]
    assert stored.attempts == 6


@pytest.mark.dynamodb_local
@pytest.mark.parametrize("backend", ["dynamodb_local"], indirect=True)
def test_twenty_racing_duplicate_notifications_and_bus_copies_make_one_delivery(
    backend: Backend, ledger: DynamoLedger
) -> None:
    # given a merchant endpoint and a payment
    clock = Clock()
    scope = builders.merchant_scope()
    EventService(ledger, clock=clock, resolver=loopback_resolver).create_endpoint(
        scope, "http://127.0.0.1:9/hooks", ["payment.succeeded"], None
    )
    adapter = FakeAdapter(Channel.ALIPAY)
    payments = PaymentService(
        ledger,
        CredentialResolver(_NoCredentials()),
        InMemorySandboxStore(),
        clock=clock,
        adapters=lambda channel, store: adapter,
    )
    payment = stored_payment(ledger, builders.payment(scope))
    notification = fake_notification(
        payment_id=payment.id, status="succeeded", amount=payment.amount, currency="cny", txn="t", at=clock()
    )
    # when 20 copies of the provider's notification race in
    barrier = threading.Barrier(RACERS)

    def notify(_: int) -> int:
        barrier.wait(timeout=30)
        return payments.handle_notification(Channel.ALIPAY, notification).status

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        assert set(pool.map(notify, range(RACERS))) == {200}
    (succeeded,) = events_about(ledger, scope, payment.id, EventType.PAYMENT_SUCCEEDED)
    # and 20 copies of the bus event race through the notifier's once-only claim
    transport = RecordingTransport()
    notifier = Notifier(
        ledger,
        DeliveryLedger(backend.table_name, backend.client),
        transport,
        resolver=loopback_resolver,
        clock=clock,
        parallel_attempts=1,
    )
    records = OutboxRecords(backend.table_name, backend.client)
    outcomes = _race(lambda: OnceOnly(records, "notifier", 120, clock=clock).run(succeeded, notifier.fan_out))
    # then the merchant got one delivery; the losers either saw it done or were told to retry
    assert len(transport.posts) == 1
    assert outcomes["True"] == 1
    assert set(outcomes) <= {"True", "False", "ConsumerBusy"}
    assert ledger.get_payment(payment.id).status is PaymentStatus.SUCCEEDED


@pytest.mark.dynamodb_local
@pytest.mark.parametrize("backend", ["dynamodb_local"], indirect=True)
def test_racing_retry_sweeps_attempt_a_due_delivery_once(backend: Backend, ledger: DynamoLedger) -> None:
    clock = Clock()
    scope = builders.merchant_scope()
    EventService(ledger, clock=clock, resolver=loopback_resolver).create_endpoint(
        scope, "http://127.0.0.1:9/hooks", ["*"], None
    )
    transport = RecordingTransport(script=[500, 200])
    deliveries = DeliveryLedger(backend.table_name, backend.client)

    def notifier() -> Notifier:
        return Notifier(
            ledger, deliveries, transport, resolver=loopback_resolver, clock=clock, parallel_attempts=1
        )

    payment = stored_payment(ledger, builders.payment(scope))
    (event,) = events_about(ledger, scope, payment.id)
    notifier().fan_out(event)
    clock.advance(3600)
    _race(lambda: notifier().retry_due())
    assert len(transport.posts) == 2
    ((delivery, attempts),) = deliveries.list_for_event(event.id)
    assert delivery.status is DeliveryStatus.DELIVERED
    assert [a.number for a in attempts] == [1, 2]


def _race(attempt: object) -> dict[str, int]:
    barrier = threading.Barrier(RACERS)

    def run(_: int) -> str:
        barrier.wait(timeout=30)
        try:
            return str(attempt())  # type: ignore[operator]
        except ConsumerBusy:
            return "ConsumerBusy"

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        results = list(pool.map(run, range(RACERS)))
    return {name: results.count(name) for name in set(results)}


class _NoCredentials:
    def load(self, channel: str, merchant_id: str, mode: str) -> dict[str, object] | None:
        return None
