"""Provider notifications: verified, matched against the payment or refund they name, and applied
exactly once through the payment service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paymux.channels.base import (
    ChannelAdapter,
    ChannelRefundState,
    Notification,
    ProviderRequest,
    ProviderResponse,
)
from paymux.domain.errors import InvalidTransition, NotFound, NotificationRejected
from paymux.domain.models import Channel, Payment, Refund
from paymux.observability import security_event

if TYPE_CHECKING:
    from paymux.services.payments import PaymentService


class NotificationHandler:
    """`PaymentService.handle_notification`: applies what a notification reports through the
    service's own state changes."""

    def __init__(self, payments: PaymentService) -> None:
        self.payments = payments

    def handle(self, channel: Channel, request: ProviderRequest) -> ProviderResponse:
        """Verify a provider's notification and apply it exactly once; answer in the provider's
        protocol. A notification that fails verification, names an unknown or another merchant's
        payment, or carries another amount or currency changes nothing and is refused."""
        adapter = self.payments.adapter(channel)
        try:
            self._apply_notification(adapter, request)
        except NotificationRejected as rejected:
            security_event("notification_rejected", channel=channel.value, reason=rejected.message)
            return adapter.acknowledge(False)
        return adapter.acknowledge(True)

    def _apply_notification(self, adapter: ChannelAdapter, request: ProviderRequest) -> None:
        target = adapter.notification_target(request)
        try:
            if target.refund_id:
                refund: Refund | None = self.payments.ledger.get_refund(target.refund_id)
                payment = self.payments.ledger.get_payment(refund.payment_id)  # type: ignore[union-attr]
            elif target.payment_id:
                refund, payment = None, self.payments.ledger.get_payment(target.payment_id)
            else:
                raise NotificationRejected("The notification names no payment or refund")
        except NotFound:
            raise NotificationRejected("The notification names an unknown payment or refund") from None
        if payment.channel is not adapter.channel:
            raise NotificationRejected("The notification names a payment of another channel")
        credentials = self.payments.credentials.resolve(adapter, payment.merchant_id, payment.mode)
        notification = adapter.verify_notification(credentials, request)
        self._check_matches(notification, payment, refund)
        if isinstance(notification, ChannelRefundState):
            assert refund is not None  # _check_matches guarantees it
            try:
                self.payments.settle_refund(refund, notification)
            except InvalidTransition:
                current = self.payments.ledger.get_refund(refund.id)
                if current.status is not notification.status:
                    raise NotificationRejected(f"Refund {refund.id} is already {current.status}") from None
        else:
            self.payments.apply_payment_state(payment, notification)

    @staticmethod
    def _check_matches(notification: Notification, payment: Payment, refund: Refund | None) -> None:
        if notification.payment_id != payment.id:
            raise NotificationRejected("The notification's payment does not match the one it named")
        if isinstance(notification, ChannelRefundState):
            if refund is None or notification.refund_id != refund.id:
                raise NotificationRejected("The notification's refund does not match the one it named")
            expected = (refund.amount, refund.currency)
        else:
            expected = (payment.amount, payment.currency)
        if (notification.amount, notification.currency) != expected:
            raise NotificationRejected(
                f"Amount mismatch: notified {notification.amount} {notification.currency}, "
                f"expected {expected[0]} {expected[1]}"
            )
