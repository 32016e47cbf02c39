"""The scheduled status sync: notifications get lost, so a channel's function asks the provider
about its payments still `requires_action` and its refunds still `pending` after a grace period,
applies what the provider says through the same transitions as a notification, and closes payments
past `expires_at` at the provider and in the ledger."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Protocol

from paymux.channels.base import ChannelAdapter, ChannelPaymentState
from paymux.domain.errors import ChannelError, ChannelNotConfigured, InvalidTransition
from paymux.domain.models import Channel, Payment, Refund
from paymux.domain.states import PaymentStatus, RefundStatus
from paymux.ledger.ports import Ledger
from paymux.observability import logger, security_event
from paymux.services.clock import Clock, system_clock
from paymux.services.credentials import CredentialResolver
from paymux.services.payments import PaymentService

DEFAULT_GRACE_SECONDS = 5 * 60
DEFAULT_BATCH = 100


class PendingPayments(Protocol):
    def list_pending_payments(self, channel: Channel, created_before: int, limit: int) -> list[Payment]: ...

    def list_pending_refunds(self, channel: Channel, created_before: int, limit: int) -> list[Refund]: ...


class SyncOutcome(StrEnum):
    SETTLED = "settled"  # the provider had an outcome the notification never brought
    CLOSED = "closed"  # expired: closed at the provider and in the ledger
    WAITING = "waiting"  # still waiting for the shopper
    SKIPPED = "skipped"  # moved on meanwhile, or the provider's answer did not match
    FAILED = "failed"  # the provider or the credentials failed; the next run tries again


@dataclass(frozen=True)
class SyncReport:
    outcomes: dict[str, SyncOutcome]

    def count(self, outcome: SyncOutcome) -> int:
        return sum(1 for o in self.outcomes.values() if o is outcome)


class StatusSync:
    def __init__(
        self,
        adapter: ChannelAdapter,
        ledger: Ledger,
        pending: PendingPayments,
        payments: PaymentService,
        credentials: CredentialResolver,
        *,
        clock: Clock = system_clock,
        grace_seconds: int = DEFAULT_GRACE_SECONDS,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        self.adapter = adapter
        self.ledger = ledger
        self.pending = pending
        self.payments = payments
        self.credentials = credentials
        self.clock = clock
        self.grace_seconds = grace_seconds
        self.batch = batch

    def run(self) -> SyncReport:
        """Sync the oldest pending payments and refunds of this channel; one failing object does not
        stop the others (it is retried on the next run)."""
        now = self.clock()
        before = now - self.grace_seconds
        work: list[tuple[str, Callable[[], SyncOutcome]]] = []
        for payment in self.pending.list_pending_payments(self.adapter.channel, before, self.batch):
            work.append((payment.id, partial(self.sync, payment, now)))
        for refund in self.pending.list_pending_refunds(self.adapter.channel, before, self.batch):
            work.append((refund.id, partial(self.sync_refund, refund)))
        outcomes: dict[str, SyncOutcome] = {}
        for object_id, sync in work:
            try:
                outcomes[object_id] = sync()
            except (ChannelError, ChannelNotConfigured) as error:
                logger.warning("status sync failed", extra={"object_id": object_id, "reason": error.message})
                outcomes[object_id] = SyncOutcome.FAILED
        report = SyncReport(outcomes)
        logger.info("status sync done", extra={o.value: report.count(o) for o in SyncOutcome})
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
            # the next run's query settles it.
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
