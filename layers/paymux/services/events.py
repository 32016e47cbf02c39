"""Events (read-only for merchants) and the webhook endpoints that receive them."""

from __future__ import annotations

import secrets

from paymux.domain.clock import Clock, system_clock
from paymux.domain.errors import InvalidRequest
from paymux.domain.ids import IdPrefix, new_id
from paymux.domain.models import Event, EventType, MerchantScope, Mode, WebhookEndpoint
from paymux.events.addresses import Resolver, resolve_target, system_resolver
from paymux.ledger.ports import Ledger, Page

ALL_EVENTS = "*"


class EventService:
    def __init__(
        self,
        ledger: Ledger,
        clock: Clock = system_clock,
        resolver: Resolver = system_resolver,
        *,
        test_loopback: bool = True,
    ) -> None:
        self.ledger = ledger
        self.clock = clock
        self.resolver = resolver
        self.test_loopback = test_loopback

    def get_event(self, scope: MerchantScope, event_id: str) -> Event:
        return self.ledger.get_event(event_id, scope)

    def list_events(
        self, scope: MerchantScope, event_type: str | None, limit: int, starting_after: str | None
    ) -> Page[Event]:
        if event_type is not None and event_type not in {t.value for t in EventType}:
            raise InvalidRequest(f"Unknown event type: {event_type!r}", param="type")
        return self.ledger.list_events(scope, event_type, limit, starting_after)

    def create_endpoint(
        self, scope: MerchantScope, url: str, enabled_events: list[str], description: str | None
    ) -> WebhookEndpoint:
        """Register an endpoint; its `whsec_` secret is returned here and never shown again.
        Raises InvalidRequest for a URL the mode does not allow or an unknown event type."""
        check_endpoint_url(url, scope.mode, self.resolver, test_loopback=self.test_loopback)
        known = {t.value for t in EventType} | {ALL_EVENTS}
        unknown = sorted(set(enabled_events) - known)
        if unknown or not enabled_events:
            raise InvalidRequest(
                f"enabled_events must list event types or '*'; unknown: {unknown}", param="enabled_events"
            )
        endpoint = WebhookEndpoint(
            id=new_id(IdPrefix.WEBHOOK_ENDPOINT),
            merchant_id=scope.merchant_id,
            mode=scope.mode,
            url=url,
            enabled_events=sorted(set(enabled_events)),
            description=description,
            secret="whsec_" + secrets.token_urlsafe(32),
            created=self.clock(),
        )
        self.ledger.put_webhook_endpoint(endpoint)
        return endpoint

    def list_endpoints(
        self, scope: MerchantScope, limit: int, starting_after: str | None
    ) -> Page[WebhookEndpoint]:
        return self.ledger.list_webhook_endpoints(scope, limit, starting_after)

    def delete_endpoint(self, scope: MerchantScope, endpoint_id: str) -> WebhookEndpoint:
        endpoint = self.ledger.get_webhook_endpoint(endpoint_id, scope)
        self.ledger.delete_webhook_endpoint(endpoint_id, scope)
        return endpoint


def check_endpoint_url(
    url: str, mode: Mode, resolver: Resolver = system_resolver, *, test_loopback: bool = True
) -> None:
    """Live endpoints must be https and must resolve only to public addresses; test mode also allows
    loopback (unless `test_loopback` is off) so a merchant can test against a local server. (The
    notifier checks the resolved addresses again at each delivery: DNS answers change.) Raises
    InvalidRequest."""
    resolve_target(url, mode, resolver, test_loopback=test_loopback)
