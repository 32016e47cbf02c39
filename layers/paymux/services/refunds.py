"""Refunds of a payment: recorded pending, read, listed, and settled once with the channel's
answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paymux.channels.base import ChannelRefundState
from paymux.domain.clock import Clock
from paymux.domain.errors import InvalidRequest, InvalidTransition
from paymux.domain.ids import IdPrefix, new_id
from paymux.domain.models import REFUND_STATUS_EVENTS, Event, EventType, MerchantScope, Payment, Refund
from paymux.domain.representation import refund_object
from paymux.domain.states import PaymentStatus, RefundStatus
from paymux.ledger.ports import Ledger, Page


@dataclass(frozen=True)
class CreateRefund:
    amount: int | None = None
    reason: str | None = None
    merchant_refund_id: str | None = None


class RefundOperations:
    """The refund half of `PaymentService`, on its ledger and clock."""

    ledger: Ledger
    clock: Clock

    def create_refund(self, scope: MerchantScope, payment_id: str, command: CreateRefund) -> Refund:
        """Record a pending refund (the whole remaining amount if none is given) and announce
        `refund.created`. Raises NotFound, InvalidTransition, RefundExceedsAmount, Conflict."""
        payment = self.ledger.get_payment(payment_id, scope)
        if payment.status is not PaymentStatus.SUCCEEDED:
            raise InvalidTransition(
                f"Payment {payment.id} is {payment.status}; only a succeeded payment can be refunded"
            )
        amount = (
            command.amount if command.amount is not None else payment.amount - payment.amount_refund_reserved
        )
        if amount <= 0:
            raise InvalidRequest(
                "amount must be a positive integer in minor units",
                param="amount",
                code="refund_exceeds_amount" if command.amount is None else None,
            )
        now = self.clock()
        refund = Refund(
            id=new_id(IdPrefix.REFUND),
            merchant_id=scope.merchant_id,
            mode=scope.mode,
            payment_id=payment.id,
            channel=payment.channel,
            amount=amount,
            currency=payment.currency,
            reason=command.reason,
            merchant_refund_id=command.merchant_refund_id,
            created=now,
            updated=now,
        )
        self.ledger.create_refund(
            payment, refund, self._event(payment, EventType.REFUND_CREATED, refund_object(refund))
        )
        return refund

    def get_refund(self, scope: MerchantScope, refund_id: str) -> Refund:
        return self.ledger.get_refund(refund_id, scope)

    def list_refunds(
        self, scope: MerchantScope, payment_id: str, limit: int, starting_after: str | None
    ) -> Page[Refund]:
        self.ledger.get_payment(payment_id, scope)  # NotFound for anyone else's payment
        return self.ledger.list_refunds(payment_id, limit, starting_after)

    def settle_refund(self, refund: Refund, state: ChannelRefundState) -> Refund:
        """Apply the channel's final answer on a pending refund, once. Raises InvalidTransition if
        it was settled already with another outcome."""
        if state.status is RefundStatus.PENDING:
            return refund
        if refund.status is state.status:
            return refund
        now = self.clock()
        settled = refund.model_copy(
            update={
                "status": state.status,
                "updated": now,
                "channel_refund_id": state.channel_refund_id,
                "failure_code": state.failure_code,
                "failure_message": state.failure_message,
            }
        )
        payment = self.ledger.get_payment(refund.payment_id)
        return self.ledger.transition_refund(
            refund,
            state.status,
            now,
            self._event(payment, REFUND_STATUS_EVENTS[state.status], refund_object(settled)),
            channel_refund_id=state.channel_refund_id,
            failure_code=state.failure_code,
            failure_message=state.failure_message,
        )

    def _event(self, payment: Payment, event_type: EventType, obj: dict[str, Any]) -> Event:
        return Event(
            id=new_id(IdPrefix.EVENT),
            merchant_id=payment.merchant_id,
            mode=payment.mode,
            type=event_type,
            created=self.clock(),
            channel=payment.channel,
            data={"object": obj},
        )
