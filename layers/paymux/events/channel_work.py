"""Work a channel's function does after creation, from bus events on its queue: carry out a refund
at the provider and record the outcome, close a payment at the provider. Both are safe to repeat:
the provider deduplicates on the refund id and a closed trade stays closed."""

from __future__ import annotations

from paymux.channels.base import ChannelAdapter
from paymux.domain.errors import ChannelError, InvalidTransition
from paymux.domain.models import Event, EventType
from paymux.domain.states import PaymentStatus, RefundStatus
from paymux.ledger.ports import Ledger
from paymux.observability import logger
from paymux.services.credentials import CredentialResolver
from paymux.services.payments import PaymentService


class ChannelWorker:
    def __init__(
        self,
        adapter: ChannelAdapter,
        ledger: Ledger,
        payments: PaymentService,
        credentials: CredentialResolver,
    ) -> None:
        self.adapter = adapter
        self.ledger = ledger
        self.payments = payments
        self.credentials = credentials

    def handle(self, event: Event) -> None:
        """Carry out what the event asks of this channel. Raises ChannelError (retry later) and
        ChannelNotConfigured; an event of another channel or type is logged and skipped."""
        if event.channel is not self.adapter.channel:
            logger.error("channel work for another channel", extra={"event_id": event.id})
            return
        object_id = str(event.data["object"]["id"])
        if event.type is EventType.REFUND_CREATED:
            self.carry_out_refund(object_id)
        elif event.type in (EventType.PAYMENT_CLOSED, EventType.PAYMENT_FAILED):
            self.close_at_provider(object_id)
        else:
            logger.info("no channel work for this event", extra={"event_id": event.id})

    def carry_out_refund(self, refund_id: str) -> None:
        """Ask the provider to refund a pending refund and settle it with the answer (a provider that
        answers later leaves it pending for its notification). Raises ChannelError."""
        refund = self.ledger.get_refund(refund_id)
        if refund.status is not RefundStatus.PENDING:
            return
        payment = self.ledger.get_payment(refund.payment_id)
        credentials = self.credentials.resolve(self.adapter, payment.merchant_id, payment.mode)
        state = self.adapter.refund(credentials, payment, refund)
        try:
            self.payments.settle_refund(refund, state)
        except InvalidTransition:
            current = self.ledger.get_refund(refund_id)
            if current.status is not state.status:
                logger.error(
                    "refund outcome conflicts with the ledger",
                    extra={"refund_id": refund_id, "ledger_status": current.status.value},
                )
        logger.info("refund carried out", extra={"refund_id": refund_id, "status": state.status.value})

    def close_at_provider(self, payment_id: str) -> None:
        """Close a payment the ledger closed or failed, so nobody can pay it there afterwards. A provider
        that refuses (closed already, or paid in the
        meantime) is asked for the trade's state: closed or failed there is done; paid there is a
        conflict for an operator (logged through `apply_payment_state`). Raises ChannelError while
        the trade is still open at the provider."""
        payment = self.ledger.get_payment(payment_id)
        if payment.status not in (PaymentStatus.CLOSED, PaymentStatus.FAILED):
            return
        credentials = self.credentials.resolve(self.adapter, payment.merchant_id, payment.mode)
        try:
            self.adapter.close_payment(credentials, payment)
        except ChannelError:
            state = self.adapter.query_payment(credentials, payment)
            if state.status is PaymentStatus.REQUIRES_ACTION:
                raise
            self.payments.apply_payment_state(payment, state)
        logger.info("payment closed at the provider", extra={"payment_id": payment_id})
