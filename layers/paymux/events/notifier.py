"""Merchant webhooks: each event goes to every enabled endpoint of its merchant and mode that
subscribes to its type, signed, with every attempt recorded; failures are retried from the work
index with backoff until the retry window has passed, then dead-lettered. A failing endpoint holds
up nothing else: its retries wait in the index, not in a queue.

The first attempt is made before its delivery is written, and the delivery is then written once
with the outcome: the queue message and the consumer's claim on the event guard that attempt (see
"When the notifier dies between steps" in docs/events.md)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from paymux.domain.clock import Clock, system_clock
from paymux.domain.deliveries import Delivery, DeliveryAttempt, DeliveryStatus
from paymux.domain.errors import NotFound
from paymux.domain.ids import IdPrefix, new_id
from paymux.domain.models import Event, MerchantScope, WebhookEndpoint
from paymux.domain.representation import event_object
from paymux.events.addresses import EndpointNotAllowed, Resolver, resolve_target, system_resolver
from paymux.events.retry import RetryPolicy
from paymux.events.signature import SIGNATURE_HEADER, signature_header
from paymux.events.transport import PostResult, WebhookTransport
from paymux.ledger.deliveries import DeliveryLedger
from paymux.ledger.ports import Ledger
from paymux.observability import logger
from paymux.services.events import ALL_EVENTS

# A worker's hold on a delivery while it attempts it: longer than one attempt (10 s timeout). A
# worker that dies mid-attempt leaves the delivery due again when the lease ends.
LEASE_SECONDS = 60
_PARALLEL_ATTEMPTS = 8
_ENDPOINT_PAGE = 100
# Tries to add an attempt to a delivery that keeps changing under us (racing redelivery requests).
_ADD_ATTEMPT_TRIES = 3

DeliveryHistory = list[tuple[Delivery, list[DeliveryAttempt]]]
_Item = TypeVar("_Item")


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
        """Attempt the event at every subscribed endpoint and record each delivery once, with its
        first attempt's outcome; returns them as recorded. Run under the consumer's once-only claim
        on the event: a run that dies before the claim is done is run again (see docs/events.md)."""
        return self._each(
            lambda endpoint: self._first_attempt(event, endpoint), list(self._subscribed(event))
        )

    def _first_attempt(self, event: Event, endpoint: WebhookEndpoint) -> Delivery:
        # Not stored yet: the outcome is its first version.
        fresh = self._new_delivery(event, endpoint, self.clock(), version=0)
        attempt = self._post(fresh, endpoint, event)
        recorded = self._outcome(fresh, attempt)
        if self.deliveries.create(recorded):
            return recorded
        # It exists: an earlier run of this fan-out died before its claim was marked done, or a
        # redelivery request created it meanwhile. The attempt is added to it.
        return self._add_attempt(fresh, attempt)

    def _new_delivery(self, event: Event, endpoint: WebhookEndpoint, now: int, **fields: Any) -> Delivery:
        return Delivery(
            id=self.new_delivery_id(),
            event_id=event.id,
            endpoint_id=endpoint.id,
            merchant_id=event.merchant_id,
            mode=event.mode,
            url=endpoint.url,
            window_start=now,
            created=now,
            updated=now,
            **fields,
        )

    # -- retries, from the schedule --------------------------------------------------------

    def retry_due(self, limit: int = 100) -> list[Delivery]:
        """Attempt the deliveries whose retry is due; each is claimed first, so two sweeps running
        at once never send the same attempt twice."""
        now = self.clock()
        claimed = [d for d in (self._claim(d, now) for d in self.deliveries.due(now, limit)) if d]
        return self._each(self.attempt, claimed)

    def redeliver(self, scope: MerchantScope, event_id: str) -> DeliveryHistory:
        """Send the event again to every endpoint that subscribes to it now: each delivery becomes
        due at once with a new retry window (the retry sweep sends it). Raises NotFound."""
        event = self.ledger.get_event(event_id, scope)
        now = self.clock()
        existing = {d.endpoint_id: d for d, _ in self.deliveries.list_for_event(event_id)}
        for endpoint in self._subscribed(event):
            current = existing.get(endpoint.id)
            if current is None:
                self.deliveries.create(self._new_delivery(event, endpoint, now, next_attempt_at=now))
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

    def attempt(self, delivery: Delivery) -> Delivery:
        """Attempt a delivery this worker holds (claimed) and record the outcome: delivered on a
        2xx, else due again after a backoff, or dead-lettered once the retry window has passed.
        Raises NotFound if its event is gone."""
        endpoint = self._endpoint(delivery)
        if endpoint is None:
            return self._cancel(delivery)
        attempt = self._post(delivery, endpoint, self.ledger.get_event(delivery.event_id))
        recorded = self._outcome(delivery, attempt)
        if self.deliveries.replace(delivery, recorded):
            return recorded
        # A redelivery request (or a worker that outlived our lease) changed it meanwhile.
        return self._add_attempt(delivery, attempt)

    def _post(self, delivery: Delivery, endpoint: WebhookEndpoint, event: Event) -> DeliveryAttempt:
        """POST the signed event to the endpoint: the attempt numbered after the delivery's last."""
        body = json.dumps(event_object(event), separators=(",", ":")).encode()
        started = self.clock()
        result = self._send(endpoint, body, started)
        return DeliveryAttempt(
            delivery_id=delivery.id,
            number=delivery.attempts + 1,
            at=started,
            duration_ms=result.duration_ms,
            status_code=result.status_code,
            error=result.error or (None if _is_2xx(result.status_code) else f"http_{result.status_code}"),
        )

    def _send(self, endpoint: WebhookEndpoint, body: bytes, timestamp: int) -> PostResult:
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

    def _outcome(self, delivery: Delivery, attempt: DeliveryAttempt) -> Delivery:
        """The delivery after an attempt made by the worker holding it."""
        status, retry_at = DeliveryStatus.DELIVERED, None
        if not attempt.succeeded:
            retry_at = self.policy.next_attempt_at(attempt.number, delivery.window_start, self.clock())
            status = DeliveryStatus.PENDING if retry_at is not None else DeliveryStatus.DEAD_LETTERED
        if status is DeliveryStatus.DEAD_LETTERED:
            logger.warning(
                "webhook delivery dead-lettered",
                extra={"delivery_id": delivery.id, "event_id": delivery.event_id, "attempts": attempt.number},
            )
        return _with_attempt(delivery, attempt, self.clock()).model_copy(
            update={"status": status, "next_attempt_at": retry_at}
        )

    def _cancel(self, delivery: Delivery) -> Delivery:
        canceled = delivery.model_copy(
            update={
                "status": DeliveryStatus.CANCELED,
                "next_attempt_at": None,
                "last_error": "endpoint deleted or disabled",
                "updated": self.clock(),
                "version": delivery.version + 1,
            }
        )
        if self.deliveries.replace(delivery, canceled):
            return canceled
        return self.deliveries.get(delivery.event_id, delivery.endpoint_id) or canceled

    def _add_attempt(self, delivery: Delivery, attempt: DeliveryAttempt) -> Delivery:
        """Record an attempt on a delivery someone else changed while it was made: it is numbered
        after the stored ones and leaves the stored schedule alone, except that a 2xx delivers a
        pending delivery."""
        for _ in range(_ADD_ATTEMPT_TRIES):
            current = self.deliveries.get(delivery.event_id, delivery.endpoint_id)
            if current is None:
                break
            numbered = attempt.model_copy(update={"delivery_id": current.id, "number": current.attempts + 1})
            changed = _with_attempt(current, numbered, self.clock())
            if numbered.succeeded and current.status is DeliveryStatus.PENDING:
                changed = changed.model_copy(
                    update={"status": DeliveryStatus.DELIVERED, "next_attempt_at": None}
                )
            if self.deliveries.replace(current, changed):
                return changed
        logger.warning("delivery attempt not recorded", extra={"delivery_id": delivery.id})
        return self.deliveries.get(delivery.event_id, delivery.endpoint_id) or delivery

    # -- plumbing --------------------------------------------------------------------------

    def _each(self, work: Callable[[_Item], Delivery], items: list[_Item]) -> list[Delivery]:
        """`work` on every item, up to `parallel_attempts` at once (attempts wait on the network)."""
        if len(items) <= 1 or self.parallel_attempts <= 1:
            return [work(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.parallel_attempts, len(items))) as pool:
            return list(pool.map(work, items))

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


def _with_attempt(delivery: Delivery, attempt: DeliveryAttempt, now: int) -> Delivery:
    return delivery.model_copy(
        update={
            "attempts": attempt.number,
            "last_attempt": attempt,
            "last_status_code": attempt.status_code,
            "last_error": attempt.error,
            "updated": now,
            "version": delivery.version + 1,
        }
    )
