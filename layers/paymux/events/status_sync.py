"""The scheduled status sync: notifications get lost, so a channel's function asks the provider
about its payments still `requires_action` and its refunds still `pending` once they are due in the
work index (first after a grace period), applies what the provider says through the same transitions
as a notification, and closes payments past `expires_at` at the provider and in the ledger.

An object the provider still shows waiting, or whose check failed, is moved later in the index with
a backoff, so it never stays at the head and starves newer ones; a run stops starting checks when its
time budget runs low, and what it did not reach is due on the next run."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from itertools import chain, zip_longest
from typing import Protocol

from paymux.channels.base import ChannelAdapter, ChannelPaymentState
from paymux.domain.clock import Clock, system_clock
from paymux.domain.errors import ChannelError, ChannelNotConfigured, InvalidTransition
from paymux.domain.models import Channel, Payment, Refund
from paymux.domain.states import PaymentStatus, RefundStatus
from paymux.ledger.ports import Ledger
from paymux.observability import logger, security_event
from paymux.services.credentials import CredentialResolver
from paymux.services.payments import PaymentService

DEFAULT_BATCH = 100
# How long one run may go on starting checks, when no invocation deadline says less.
DEFAULT_BUDGET_SECONDS = 20.0
# What a started check may still need before the invocation ends: one provider call at its timeout
# (10 s) and the ledger's writes. A check that meets two provider timeouts (an expired payment's
# query, then its close) can still run past; the next run settles what it left.
DEFAULT_RESERVE_SECONDS = 12.0


class PendingWork(Protocol):
    """The work index as the status sync uses it (`DynamoLedger` implements it)."""

    def list_due_payments(self, channel: Channel, now: int, limit: int) -> list[Payment]: ...

    def list_due_refunds(self, channel: Channel, now: int, limit: int) -> list[Refund]: ...

    def reschedule_payment_check(self, payment: Payment, next_check: int) -> bool: ...

    def reschedule_refund_check(self, refund: Refund, next_check: int) -> bool: ...


class SyncOutcome(StrEnum):
    SETTLED = "settled"  # the provider had an outcome the notification never brought
    CLOSED = "closed"  # expired: closed at the provider and in the ledger
    WAITING = "waiting"  # still waiting for the shopper
    SKIPPED = "skipped"  # moved on meanwhile, or the provider's answer did not match
    FAILED = "failed"  # the provider or the credentials failed; checked again after a backoff


# Outcomes that ended the object's wait (and took it out of the work index in the same write).
_WAIT_ENDED = frozenset({SyncOutcome.SETTLED, SyncOutcome.CLOSED})


@dataclass(frozen=True)
class Backoff:
    """When an object still waiting is checked next: as long after this check as it has waited so
    far (so checks double apart: 5, 10, 20, 40 minutes...), at least `first_seconds`, at most
    `cap_seconds`; a payment is checked at its expiry at the latest, so it is closed on time."""

    first_seconds: int = 5 * 60
    cap_seconds: int = 6 * 60 * 60

    def next_check(self, created: int, now: int, expires_at: int | None = None) -> int:
        delay = min(max(now - created, self.first_seconds), self.cap_seconds)
        if expires_at is not None and now < expires_at:
            return min(now + delay, expires_at)
        return now + delay


DEFAULT_BACKOFF = Backoff()


@dataclass(frozen=True)
class SyncReport:
    outcomes: dict[str, SyncOutcome]
    # Due objects this run did not start (its time budget ran low): due again on the next run.
    deferred: int = 0

    def count(self, outcome: SyncOutcome) -> int:
        return sum(1 for o in self.outcomes.values() if o is outcome)


@dataclass(frozen=True)
class _Check:
    object_id: str
    run: Callable[[], SyncOutcome]
    # Moves the object later in the work index while it still waits; False if it moved on.
    reschedule: Callable[[], bool]


class StatusSync:
    def __init__(
        self,
        adapter: ChannelAdapter,
        ledger: Ledger,
        pending: PendingWork,
        payments: PaymentService,
        credentials: CredentialResolver,
        *,
        clock: Clock = system_clock,
        batch: int = DEFAULT_BATCH,
        backoff: Backoff = DEFAULT_BACKOFF,
        budget_seconds: float = DEFAULT_BUDGET_SECONDS,
        reserve_seconds: float = DEFAULT_RESERVE_SECONDS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.adapter = adapter
        self.ledger = ledger
        self.pending = pending
        self.payments = payments
        self.credentials = credentials
        self.clock = clock
        self.batch = batch
        self.backoff = backoff
        self.budget_seconds = budget_seconds
        self.reserve_seconds = reserve_seconds
        self.timer = timer

    def run(self, remaining_seconds: Callable[[], float] | None = None) -> SyncReport:
        """Check this channel's due payments and refunds, earliest due first (the two kinds taken in
        turn), until they are done or the time runs low: `budget_seconds` from now, or
        `remaining_seconds()` (the invocation's time left) down to `reserve_seconds`. One failing
        object does not stop the others; it is checked again after a backoff."""
        started = self.timer()

        def time_is_low() -> bool:
            if self.timer() - started >= self.budget_seconds:
                return True
            return remaining_seconds is not None and remaining_seconds() < self.reserve_seconds

        checks = list(self._due_checks(self.clock()))
        outcomes: dict[str, SyncOutcome] = {}
        for check in checks:
            if time_is_low():
                break
            outcomes[check.object_id] = self._check(check)
        report = SyncReport(outcomes, deferred=len(checks) - len(outcomes))
        logger.info(
            "status sync done",
            extra={**{o.value: report.count(o) for o in SyncOutcome}, "deferred": report.deferred},
        )
        return report

    def sync(self, payment: Payment, now: int) -> SyncOutcome:
        """Query one payment and apply the answer. Raises ChannelError, ChannelNotConfigured."""
        current = self.ledger.get_payment(payment.id)
        if current.status is not PaymentStatus.REQUIRES_ACTION:
            return SyncOutcome.SKIPPED
        credentials = self.credentials.resolve(self.adapter, current.merchant_id, current.mode)
        state = self.adapter.query_payment(credentials, current)
        if (state.payment_id, state.amount, state.currency) != (current.id, current.amount, current.currency):
            security_event("status_sync_mismatch", channel=current.channel.value, payment_id=current.id)
            return SyncOutcome.SKIPPED
        if state.status is not PaymentStatus.REQUIRES_ACTION:
            self.payments.apply_payment_state(current, state)
            return SyncOutcome.SETTLED
        if current.expires_at is not None and current.expires_at <= now:
            # At the provider first: once it is closed there nobody can pay it, so the ledger's
            # close cannot hide a payment. A provider refusal (paid just now) raises ChannelError and
            # the next check's query settles it.
            self.adapter.close_payment(credentials, current)
            closed = ChannelPaymentState(current.id, PaymentStatus.CLOSED, current.amount, current.currency)
            self.payments.apply_payment_state(current, closed)
            return SyncOutcome.CLOSED
        return SyncOutcome.WAITING

    def sync_refund(self, refund: Refund) -> SyncOutcome:
        """Query one pending refund and settle it if the provider has an outcome. Raises
        ChannelError, ChannelNotConfigured."""
        current = self.ledger.get_refund(refund.id)
        if current.status is not RefundStatus.PENDING:
            return SyncOutcome.SKIPPED
        payment = self.ledger.get_payment(current.payment_id)
        credentials = self.credentials.resolve(self.adapter, payment.merchant_id, payment.mode)
        state = self.adapter.query_refund(credentials, payment, current)
        if (state.refund_id, state.amount, state.currency) != (current.id, current.amount, current.currency):
            security_event("status_sync_mismatch", channel=payment.channel.value, refund_id=current.id)
            return SyncOutcome.SKIPPED
        if state.status is RefundStatus.PENDING:
            return SyncOutcome.WAITING
        try:
            self.payments.settle_refund(current, state)
        except InvalidTransition:
            return SyncOutcome.SKIPPED  # settled meanwhile by its notification or the channel work
        return SyncOutcome.SETTLED

    def _due_checks(self, now: int) -> Iterator[_Check]:
        """The due payments and refunds in turn, so neither kind can crowd out the other."""
        channel = self.adapter.channel
        payments = (
            _Check(p.id, partial(self.sync, p, now), partial(self._reschedule_payment, p))
            for p in self.pending.list_due_payments(channel, now, self.batch)
        )
        refunds = (
            _Check(r.id, partial(self.sync_refund, r), partial(self._reschedule_refund, r))
            for r in self.pending.list_due_refunds(channel, now, self.batch)
        )
        for check in chain.from_iterable(zip_longest(payments, refunds)):
            if check is not None:
                yield check

    def _check(self, check: _Check) -> SyncOutcome:
        """Run one check; unless it ended the wait, move the object later in the work index (a
        no-op if it moved on meanwhile), whatever the check raised."""
        try:
            outcome = check.run()
        except (ChannelError, ChannelNotConfigured) as error:
            logger.warning(
                "status sync failed", extra={"object_id": check.object_id, "reason": error.message}
            )
            outcome = SyncOutcome.FAILED
        except Exception:
            # One object's unexpected failure must not stop the others, nor (since it stays due
            # first) every later run.
            logger.exception("status sync failed unexpectedly", extra={"object_id": check.object_id})
            outcome = SyncOutcome.FAILED
        if outcome not in _WAIT_ENDED:
            check.reschedule()
        return outcome

    def _reschedule_payment(self, payment: Payment) -> bool:
        next_check = self.backoff.next_check(payment.created, self.clock(), payment.expires_at)
        return self.pending.reschedule_payment_check(payment, next_check)

    def _reschedule_refund(self, refund: Refund) -> bool:
        return self.pending.reschedule_refund_check(
            refund, self.backoff.next_check(refund.created, self.clock())
        )
