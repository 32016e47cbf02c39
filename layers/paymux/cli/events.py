"""`paymux events tail` and `paymux webhooks listen --forward-to URL`: follow a merchant's events
through the API (so they work against the local platform and a deployed stack alike).

`listen` is the local equivalent of a tunnel: it forwards each new event to a URL on the merchant's
machine, signed exactly as the notifier signs it (with a secret it prints at start)."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

from paymux.cli.deployment import resolve_deployment
from paymux.domain.models import Mode
from paymux.events.addresses import EndpointNotAllowed, resolve_target, system_resolver
from paymux.events.signature import SIGNATURE_HEADER, signature_header
from paymux.events.transport import HttpWebhookTransport, WebhookTransport

Fetch = Callable[[str], dict[str, Any]]
_PAGE = 100


class FeedError(Exception):
    """The API refused or could not be reached."""


class EventFeed:
    """New events of the key's merchant and mode, oldest first, polled from `GET /v1/events`."""

    def __init__(self, fetch: Fetch) -> None:
        self.fetch = fetch
        self.seen: set[str] = set()
        self.newest: str | None = None

    def start_from_now(self) -> None:
        """Skip what exists already: only events after this call are new."""
        page = self.fetch(f"/v1/events?limit={_PAGE}")["data"]
        self.newest = page[0]["id"] if page else ""

    def poll(self) -> list[dict[str, Any]]:
        """Events newer than the newest seen (ids sort by creation time), oldest first."""
        fresh: list[dict[str, Any]] = []
        for event in self.fetch(f"/v1/events?limit={_PAGE}")["data"]:
            if self.newest is not None and event["id"] <= self.newest:
                break
            fresh.append(event)
        if fresh:
            self.newest = fresh[0]["id"]
        return list(reversed(fresh))


def api_fetch(api_url: str, key: str, timeout: float = 10.0) -> Fetch:
    def fetch(path: str) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 - the operator's own API URL
            api_url.rstrip("/") + path, headers={"Authorization": f"Bearer {key}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as error:
            raise FeedError(f"the API answered {error.code}: {error.read()[:200]!r}") from None
        except OSError as error:
            raise FeedError(f"cannot reach {api_url}: {error}") from None

    return fetch


def follow(feed: EventFeed, interval: float, polls: int | None = None) -> Iterator[dict[str, Any]]:
    """Yield new events as they appear; `polls` bounds the loop (None: until interrupted)."""
    feed.start_from_now()
    done = 0
    while polls is None or done < polls:
        yield from feed.poll()
        done += 1
        time.sleep(interval)


def event_line(event: dict[str, Any]) -> str:
    obj = event.get("data", {}).get("object", {})
    when = time.strftime("%H:%M:%S", time.localtime(event["created"]))
    return f"{when}  {event['type']:<18} {event['id']}  {obj.get('id', '')} {obj.get('status', '')}".rstrip()


def tail(events: Iterator[dict[str, Any]], out: IO[str], as_json: bool = False) -> None:
    for event in events:
        out.write((json.dumps(event) if as_json else event_line(event)) + "\n")
        out.flush()


def forward(
    events: Iterator[dict[str, Any]],
    url: str,
    secret: str,
    out: IO[str],
    transport: WebhookTransport | None = None,
    clock: Callable[[], int] = lambda: int(time.time()),
) -> None:
    """POST each event to `url` (test-mode rules: loopback allowed), signed with `secret`."""
    target = resolve_target(url, Mode.TEST, system_resolver)
    sender = transport or HttpWebhookTransport()
    for event in events:
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(secret, clock(), body),
        }
        result = sender.post(target, body, headers)
        outcome = str(result.status_code) if result.status_code is not None else result.error
        out.write(f"{event_line(event)}  --> {url} [{outcome}]\n")
        out.flush()


def add_event_commands(commands: Any, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Add `events tail` and `webhooks listen` to the `paymux` parser's subcommands, with the options of
    `parents` (the CLI's `--stack`/`--region`)."""
    events = commands.add_parser("events", help="follow events").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    tail_parser = events.add_parser(
        "tail", parents=parents, help="print the merchant's events as they happen"
    )
    _api_arguments(tail_parser)
    tail_parser.add_argument("--json", action="store_true", help="one JSON event per line")
    tail_parser.set_defaults(run=_run_tail)

    webhooks = commands.add_parser("webhooks", help="receive webhooks while you build").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    listen = webhooks.add_parser(
        "listen", parents=parents, help="forward each new event, signed, to a local URL"
    )
    _api_arguments(listen)
    listen.add_argument("--forward-to", required=True, metavar="URL", help="e.g. http://localhost:4242/hooks")
    listen.set_defaults(run=_run_listen)


def _api_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-url", help="the API's base URL (default: the --stack's `ApiUrl`, or the local platform's)"
    )
    parser.add_argument(
        "--key",
        help="a secret key (default: $PAYMUX_API_KEY; on the local platform, its demo test key)",
    )
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls (default 1)")


def _feed(args: argparse.Namespace) -> EventFeed:
    from paymux.local.platform import DEMO_TEST_KEY
    from paymux.local.state import PlatformNotRunning, read_state

    api_url, key = args.api_url, args.key or os.environ.get("PAYMUX_API_KEY")
    if args.stack is not None:
        if api_url is not None:
            raise FeedError("pass --stack or --api-url, not both")
        api_url = resolve_deployment(args.stack, args.region).api_url
    elif api_url is None:
        try:
            api_url = read_state().api_url
        except PlatformNotRunning as error:
            raise FeedError(f"{error}; pass --api-url or start `paymux local`") from None
        key = key or DEMO_TEST_KEY
    if not key:
        raise FeedError("pass --key or set PAYMUX_API_KEY")
    return EventFeed(api_fetch(api_url, key))


def _run_tail(args: argparse.Namespace) -> int:
    try:
        tail(follow(_feed(args), args.interval), sys.stdout, as_json=args.json)
    except FeedError as error:
        sys.stderr.write(f"paymux: error: {error}\n")
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


def _run_listen(args: argparse.Namespace) -> int:
    secret = "whsec_" + secrets.token_urlsafe(24)
    sys.stdout.write(f"Forwarding events to {args.forward_to}\nSigning secret for this session: {secret}\n")
    sys.stdout.flush()
    try:
        forward(follow(_feed(args), args.interval), args.forward_to, secret, sys.stdout)
    except (FeedError, EndpointNotAllowed) as error:
        sys.stderr.write(f"paymux: error: {error}\n")
        return 1
    except KeyboardInterrupt:
        return 0
    return 0
