"""`make run` runs the event spine too: a merchant's loopback webhook receiver gets the signed
`payment.succeeded` seconds after `POST /v1/test/payments/{id}/complete`, and `GET /v1/events/{id}`
shows the delivery. Real HTTP against `paymux local` (a subprocess), so marked e2e."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from paymux.events.signature import SIGNATURE_HEADER, verify_signature
from tests.e2e import conftest as e2e
from tests.e2e.platform import ApiClient

pytestmark = pytest.mark.e2e
# The e2e session's platform (`paymux local` in a subprocess) and its API client.
local_platform = e2e.local_platform
api = e2e.api


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                inbox.received.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def wait_for(self, event_type: str, timeout: float = 20.0) -> tuple[dict[str, str], bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for headers, body in self.received:
                if json.loads(body)["type"] == event_type:
                    return headers, body
            time.sleep(0.1)
        raise AssertionError(
            f"no {event_type} within {timeout}s; got {[json.loads(b)['type'] for _, b in self.received]}"
        )


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    receiver = Inbox()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_a_local_receiver_gets_the_signed_event_seconds_after_completion(
    api: ApiClient, inbox: Inbox
) -> None:
    # given a test endpoint on a loopback receiver and an Alipay payment
    url = f"http://127.0.0.1:{inbox.server.server_port}/hooks"
    created = api.post(
        "/v1/webhook_endpoints",
        {"url": url, "enabled_events": ["payment.succeeded"]},
        idempotency_key=str(uuid.uuid4()),
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    payment = api.post(
        "/v1/channels/alipay/payments",
        {
            "amount": 100,
            "currency": "cny",
            "merchant_order_id": f"o-{uuid.uuid4().hex[:12]}",
            "subject": "Tea",
            "scene": "qr",
        },
        idempotency_key=str(uuid.uuid4()),
    )
    assert payment.status_code == 201, payment.text
    # when the sandbox completes it
    started = time.monotonic()
    done = api.post(
        f"/v1/test/payments/{payment.json()['id']}/complete",
        {"outcome": "succeeded"},
        idempotency_key=str(uuid.uuid4()),
    )
    assert done.status_code == 200, done.text
    # then the receiver gets payment.succeeded within seconds, signed with the endpoint's secret
    headers, body = inbox.wait_for("payment.succeeded")
    assert time.monotonic() - started < 20
    verify_signature(secret, headers[SIGNATURE_HEADER], body, now=int(time.time()))
    event = json.loads(body)
    assert event["data"]["object"]["id"] == payment.json()["id"]
    # and the event shows the delivery
    shown = api.get(f"/v1/events/{event['id']}").json()
    assert [d["status"] for d in shown["deliveries"]] == ["delivered"]
    assert shown["deliveries"][0]["attempts"][0]["status_code"] == 204
    # and a redelivery sends it again (the retry sweep runs every few seconds locally)
    again = api.post(f"/v1/events/{event['id']}/redeliver", {}, idempotency_key=str(uuid.uuid4()))
    assert again.status_code == 202, again.text
    deadline = time.monotonic() + 30
    while len(inbox.received) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [json.loads(body)["id"] for _, body in inbox.received] == [event["id"], event["id"]]
