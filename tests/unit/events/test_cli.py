"""`paymux events tail` and `paymux webhooks listen`: new events only, in order, forwarded signed."""

from __future__ import annotations

import io
import json
from typing import Any

from paymux.cli import build_parser
from paymux.cli.events import EventFeed, forward, tail
from paymux.events.signature import SIGNATURE_HEADER, verify_signature
from tests.unit.events.support import RecordingTransport


def event(n: int, kind: str = "payment.created") -> dict[str, Any]:
    return {
        "id": f"evt_{n:026d}",
        "object": "event",
        "type": kind,
        "created": 1_700_000_000 + n,
        "livemode": False,
        "data": {"object": {"id": f"pay_{n}", "status": "requires_action"}},
    }


class FakeApi:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = [event(1)]

    def __call__(self, path: str) -> dict[str, Any]:
        assert path.startswith("/v1/events")
        return {"data": sorted(self.events, key=lambda e: e["id"], reverse=True)}


def test_the_feed_yields_only_events_after_it_started_oldest_first() -> None:
    api = FakeApi()
    feed = EventFeed(api)
    feed.start_from_now()
    api.events += [event(2), event(3, "payment.succeeded")]
    assert [e["id"] for e in feed.poll()] == [event(2)["id"], event(3)["id"]]
    assert feed.poll() == []
    out = io.StringIO()
    api.events.append(event(4))
    tail(iter(feed.poll()), out)
    assert "payment.created" in out.getvalue()
    assert event(4)["id"] in out.getvalue()


def test_listen_forwards_each_event_signed_with_the_session_secret() -> None:
    transport = RecordingTransport()
    out = io.StringIO()
    forward(
        iter([event(5), event(6)]), "http://127.0.0.1:4242/hooks", "whsec_s", out, transport, clock=lambda: 10
    )
    assert [json.loads(body)["id"] for _, body, _ in transport.posts] == [event(5)["id"], event(6)["id"]]
    for target, body, headers in transport.posts:
        assert (target.host, target.port, target.path) == ("127.0.0.1", 4242, "/hooks")
        verify_signature("whsec_s", headers[SIGNATURE_HEADER], body, now=10)
    assert out.getvalue().count("[200]") == 2


def test_the_commands_are_on_the_paymux_parser() -> None:
    parser = build_parser()
    assert parser.parse_args(["events", "tail", "--json"]).json is True
    args = parser.parse_args(["webhooks", "listen", "--forward-to", "http://localhost:4242/hooks"])
    assert args.forward_to == "http://localhost:4242/hooks"
