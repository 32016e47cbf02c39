"""Merchant webhooks: each event goes to every enabled endpoint of its merchant and mode that
subscribes to its type, signed, with every attempt recorded; failures are retried from the work
index with backoff until the retry window has passed, then dead-lettered. A failing endpoint holds
up nothing else: its retries wait in the index, not in a queue."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from paymux.domain.errors import NotFound
from paymux.domain.ids import IdPrefix, new_id
from paymux.domain.models import Event, MerchantScope, WebhookEndpoint
from paymux.domain.representation import event_object
from paymux.events.addresses import EndpointNotAllowed, Resolver, resolve_target, system_resolver
from paymux.events.models import Delivery, DeliveryAttempt, DeliveryStatus
from paymux.events.retry import RetryPolicy
from paymux.events.signature import SIGNATURE_HEADER, signature_header
from paymux.events.transport import PostResult, WebhookTransport
from paymux.ledger.deliveries import DeliveryLedger
from paymux.ledger.ports import Ledger
from paymux.observability import logger
from paymux.services.clock import Clock, system_clock
from paymux.services.events import ALL_EVENTS

# A worker's hold on a delivery while it attempts it: longer than one attempt (10 s timeout). A
# worker that dies mid-attempt leaves the delivery due again when the lease ends.
LEASE_SECONDS = 60
_PARALLEL_ATTEMPTS = 8
_ENDPOINT_PAGE = 100

DeliveryHistory = list[tuple[Delivery, list[DeliveryAttempt]]]


class Notifier:
    def __init__(
        self,
        ledger: Ledger,
        deliveries: DeliveryLedger,
        transport: WebhookTransport,
        *,
        resolver: Resolver = system_resolver,
        clock: Clock = system_clock,
        policy: RetryPolicy | None = None,
        new_delivery_id: Callable[[], str] = lambda: new_id(IdPrefix.DELIVERY),
        parallel_attempts: int = _PARALLEL_ATTEMPTS,
        test_loopback: bool = True,
    ) -> None:
        self.ledger = ledger
        self.deliveries = deliveries
        self.transport = transport
        self.resolver = resolver
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.new_delivery_id = new_delivery_id
        self.parallel_attempts = parallel_attempts
        self.test_loopback = test_loopback

    # -- the first attempt, from the bus ---------------------------------------------------

    def fan_out(self, event: Event) -> list[Delivery]:
        """Create one delivery per subscribed endpoint (a repeat of the event finds them made and
        does nothing) and attempt the new ones now; returns them as recorded after the attempt."""
        created: list[Delivery] = []
        for endpoint in self._subscribed(event):
            now = self.clock()
            delivery = Delivery(
                id=self.new_delivery_id(),
                event_id=event.id,
                endpoint_id=endpoint.id,
                merchant_id=event.merchant_id,
                mode=event.mode,
                url=endpoint.url,
                window_start=now,
                next_attempt_at=now + LEASE_SECONDS,  # held by this worker for its first attempt
                created=now,
                updated=now,
            )
            if self.deliveries.create(delivery):
                created.append(delivery)
        return self._attempt_all(created, event)

    # -- retries, from the schedule --------------------------------------------------------

    def retry_due(self, limit: int = 100) -> list[Delivery]:
        """Attempt the deliveries whose retry is due; each is claimed first, so two sweeps running
        at once never send the same attempt twice."""
        now = self.clock()
        claimed = [d for d in (self._claim(d, now) for d in self.deliveries.due(now, limit)) if d]
        return self._attempt_all(claimed, None)

    def redeliver(self, scope: MerchantScope, event_id: str) -> DeliveryHistory:
        """Send the event again to every endpoint that subscribes to it now: each delivery becomes
        due at once with a new retry window (the retry sweep sends it). Raises NotFound."""
        event = self.ledger.get_event(event_id, scope)
        now = self.clock()
        existing = {d.endpoint_id: d for d, _ in self.deliveries.list_for_event(event_id)}
        for endpoint in self._subscribed(event):
            current = existing.get(endpoint.id)
            if current is None:
                self.deliveries.create(
                    Delivery(
                        id=self.new_delivery_id(),
                        event_id=event.id,
                        endpoint_id=endpoint.id,
                        merchant_id=event.merchant_id,
                        mode=event.mode,
                        url=endpoint.url,
                        window_start=now,
                        next_attempt_at=now,
                        created=now,
                        updated=now,
                    )
                )
                continue
            again = current.model_copy(
                update={
                    "status": DeliveryStatus.PENDING,
                    "url": endpoint.url,
                    "window_start": now,
                    "next_attempt_at": now,
                    "updated": now,
                    "version": current.version + 1,
                }
            )
            self.deliveries.replace(current, again)
        logger.info("event redelivery requested", extra={"event_id": event_id})
        return self.deliveries.list_for_event(event_id)

    def history(self, scope: MerchantScope, event_id: str) -> DeliveryHistory:
        """The event's deliveries and their attempts. Raises NotFound for another merchant's event."""
        self.ledger.get_event(event_id, scope)
        return self.deliveries.list_for_event(event_id)

    # -- one attempt -----------------------------------------------------------------------

    def attempt(self, delivery: Delivery, event: Event | None = None) -> Delivery:
        """Attempt a delivery this worker holds and record the outcome: delivered on a 2xx, else due
        again after a backoff, or dead-lettered once the retry window has passed."""
        event = event or self.ledger.get_event(delivery.event_id)
        endpoint = self._endpoint(delivery)
        if endpoint is None:
            return self._record(delivery, None, DeliveryStatus.CANCELED, None)
        body = json.dumps(event_object(event), separators=(",", ":")).encode()
        started = self.clock()
        result = self._post(endpoint, body, started)
        attempt = DeliveryAttempt(
            delivery_id=delivery.id,
            number=delivery.attempts + 1,
            at=started,
            duration_ms=result.duration_ms,
            status_code=result.status_code,
            error=result.error or (None if _is_2xx(result.status_code) else f"http_{result.status_code}"),
        )
        if attempt.succeeded:
            return self._record(delivery, attempt, DeliveryStatus.DELIVERED, None)
        retry_at = self.policy.next_attempt_at(attempt.number, delivery.window_start, self.clock())
        if retry_at is None:
            logger.warning(
                "webhook delivery dead-lettered",
                extra={"delivery_id": delivery.id, "event_id": delivery.event_id, "attempts": attempt.number},
            )
            return self._record(delivery, attempt, DeliveryStatus.DEAD_LETTERED, None)
        return self._record(delivery, attempt, DeliveryStatus.PENDING, retry_at)

    def _post(self, endpoint: WebhookEndpoint, body: bytes, timestamp: int) -> PostResult:
        try:
            target = resolve_target(
                endpoint.url, endpoint.mode, self.resolver, test_loopback=self.test_loopback
            )
        except EndpointNotAllowed as refused:
            return PostResult(None, f"address_not_allowed: {refused.message}", 0)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "paymux-webhooks/1",
            SIGNATURE_HEADER: signature_header(endpoint.secret, timestamp, body),
        }
        return self.transport.post(target, body, headers)

    def _record(
        self,
        delivery: Delivery,
        attempt: DeliveryAttempt | None,
        status: DeliveryStatus,
        next_attempt_at: int | None,
    ) -> Delivery:
        changed = delivery.model_copy(
            update={
                "status": status,
                "attempts": attempt.number if attempt else delivery.attempts,
                "next_attempt_at": next_attempt_at,
                "last_status_code": attempt.status_code if attempt else delivery.last_status_code,
                "last_error": (attempt.error if attempt else "endpoint deleted or disabled"),
                "updated": self.clock(),
                "version": delivery.version + 1,
            }
        )
        if not self.deliveries.replace(delivery, changed, attempt):
            # A redelivery request (or a worker that outlived our lease) changed it meanwhile.
            logger.warning("delivery changed during its attempt", extra={"delivery_id": delivery.id})
            return self.deliveries.get(delivery.event_id, delivery.endpoint_id) or changed
        return changed

    # -- plumbing --------------------------------------------------------------------------

    def _attempt_all(self, deliveries: list[Delivery], event: Event | None) -> list[Delivery]:
        if len(deliveries) <= 1 or self.parallel_attempts <= 1:
            return [self.attempt(d, event) for d in deliveries]
        with ThreadPoolExecutor(max_workers=min(self.parallel_attempts, len(deliveries))) as pool:
            return list(pool.map(lambda d: self.attempt(d, event), deliveries))

    def _claim(self, delivery: Delivery, now: int) -> Delivery | None:
        held = delivery.model_copy(
            update={"next_attempt_at": now + LEASE_SECONDS, "updated": now, "version": delivery.version + 1}
        )
        return held if self.deliveries.replace(delivery, held) else None

    def _endpoint(self, delivery: Delivery) -> WebhookEndpoint | None:
        scope = MerchantScope(merchant_id=delivery.merchant_id, mode=delivery.mode)
        try:
            endpoint = self.ledger.get_webhook_endpoint(delivery.endpoint_id, scope)
        except NotFound:
            return None
        return endpoint if endpoint.status == "enabled" else None

    def _subscribed(self, event: Event) -> Iterator[WebhookEndpoint]:
        scope = MerchantScope(merchant_id=event.merchant_id, mode=event.mode)
        starting_after: str | None = None
        while True:
            page = self.ledger.list_webhook_endpoints(scope, _ENDPOINT_PAGE, starting_after)
            for endpoint in page.data:
                wanted = ALL_EVENTS in endpoint.enabled_events or event.type.value in endpoint.enabled_events
                if endpoint.status == "enabled" and wanted:
                    yield endpoint
            if not page.has_more or not page.data:
                return
            starting_after = page.data[-1].id


def _is_2xx(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300
