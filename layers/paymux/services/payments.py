"""Payments and refunds across every channel: create through a channel adapter, read, list, close,
refund, and apply provider notifications exactly once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from paymux.channels.base import (
    ChannelAdapter,
    ChannelCredentials,
    ChannelPaymentState,
    ChannelRefundState,
    Notification,
    PaymentRequest,
    ProviderRequest,
    ProviderResponse,
    SandboxStore,
)
from paymux.channels.registry import load_adapter, load_sandbox
from paymux.domain.clock import Clock, system_clock
from paymux.domain.errors import (
    ChannelError,
    Conflict,
    DuplicateMerchantOrderId,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    NotificationRejected,
)
from paymux.domain.ids import IdPrefix, new_id
from paymux.domain.models import (
    PAYMENT_STATUS_EVENTS,
    REFUND_STATUS_EVENTS,
    SCENES,
    Channel,
    Event,
    EventType,
    MerchantScope,
    Mode,
    Payment,
    Refund,
)
from paymux.domain.money import MAX_AMOUNT, Money
from paymux.domain.representation import payment_object, refund_object
from paymux.domain.states import PaymentStatus, RefundStatus, check_payment_transition
from paymux.ledger.ports import Ledger, Page, PaymentChanges, PaymentFilter
from paymux.observability import ledger_conflict, logger, security_event
from paymux.services.credentials import CredentialResolver

DEFAULT_EXPIRY_SECONDS = 2 * 3600
MAX_EXPIRY_SECONDS = 15 * 86_400

AdapterLoader = Callable[[Channel, SandboxStore], ChannelAdapter]
# Posts a provider request to a URL on the platform (the sandbox's notification to /webhooks/...).
Sender = Callable[[str, ProviderRequest], ProviderResponse]


@dataclass(frozen=True)
class CreatePayment:
    amount: int
    currency: str
    merchant_order_id: str
    subject: str
    scene: str
    description: str | None = None
    expires_in: int | None = None
    return_url: str | None = None
    client_ip: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    channel_extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreateRefund:
    amount: int | None = None
    reason: str | None = None
    merchant_refund_id: str | None = None


class PaymentService:
    def __init__(
        self,
        ledger: Ledger,
        credentials: CredentialResolver,
        sandbox_store: SandboxStore,
        *,
        clock: Clock = system_clock,
        adapters: AdapterLoader = load_adapter,
    ) -> None:
        self.ledger = ledger
        self.credentials = credentials
        self.sandbox_store = sandbox_store
        self.clock = clock
        self._load_adapter = adapters

    # -- payments ----------------------------------------------------------------------------

    def create_payment(
        self, scope: MerchantScope, channel: Channel, command: CreatePayment, base_url: str
    ) -> Payment:
        """Create the payment at the channel, then record it and its `payment.created` event.

        Raises InvalidRequest, DuplicateMerchantOrderId, ChannelNotConfigured, ChannelError.
        Nothing is written when the channel fails.
        """
        money = Money(command.amount, command.currency)
        if not 0 < money.amount <= MAX_AMOUNT:
            raise InvalidRequest(f"amount must be between 1 and {MAX_AMOUNT}", param="amount")
        if command.scene not in SCENES[channel]:
            raise InvalidRequest(
                f"{channel} supports the scenes {sorted(SCENES[channel])}, not {command.scene!r}",
                param="scene",
            )
        expires_in = command.expires_in or DEFAULT_EXPIRY_SECONDS
        if not 60 <= expires_in <= MAX_EXPIRY_SECONDS:
            raise InvalidRequest(
                f"expires_in must be between 60 and {MAX_EXPIRY_SECONDS}", param="expires_in"
            )
        if self.ledger.find_payment_id_by_merchant_order_id(scope, command.merchant_order_id):
            # Checked before the channel call to spare the provider an orphan order; the ledger's
            # transaction enforces it again under concurrency.
            raise DuplicateMerchantOrderId(
                f"merchant_order_id {command.merchant_order_id!r} was already used", param="merchant_order_id"
            )

        adapter = self._adapter(channel)
        credentials = self.credentials.resolve(adapter, scope.merchant_id, scope.mode)
        now = self.clock()
        payment_id = new_id(IdPrefix.PAYMENT)
        notify_url = f"{base_url.rstrip('/')}/webhooks/{channel.value}"
        created = adapter.create_payment(
            credentials,
            PaymentRequest(
                payment_id=payment_id,
                scene=command.scene,
                amount=money.amount,
                currency=money.currency,
                subject=command.subject,
                description=command.description,
                expires_at=now + expires_in,
                return_url=command.return_url,
                client_ip=command.client_ip,
                notify_url=notify_url,
                channel_extra=command.channel_extra,
            ),
        )
        payment = Payment(
            id=payment_id,
            merchant_id=scope.merchant_id,
            mode=scope.mode,
            channel=channel,
            scene=command.scene,
            amount=money.amount,
            currency=money.currency,
            merchant_order_id=command.merchant_order_id,
            subject=command.subject,
            description=command.description,
            credential=created.credential,
            channel_transaction_id=created.channel_transaction_id,
            metadata=command.metadata,
            return_url=command.return_url,
            client_ip=command.client_ip,
            notify_url=notify_url,
            created=now,
            updated=now,
            expires_at=now + expires_in,
        )
        self.ledger.create_payment(
            payment, self._event(payment, EventType.PAYMENT_CREATED, payment_object(payment))
        )
        logger.info("payment created", extra={"payment_id": payment.id, "channel": channel.value})
        return payment

    def get_payment(self, scope: MerchantScope, payment_id: str) -> Payment:
        return self.ledger.get_payment(payment_id, scope)

    def list_payments(
        self,
        scope: MerchantScope,
        filters: PaymentFilter,
        limit: int,
        starting_after: str | None,
        merchant_order_id: str | None = None,
    ) -> Page[Payment]:
        if merchant_order_id is not None:
            # At most one payment has the id; the other filters still apply to it.
            found = self.ledger.find_payment_id_by_merchant_order_id(scope, merchant_order_id)
            payment = self.ledger.get_payment(found, scope) if found else None
            matches = payment is not None and filters.matches(payment)
            return Page(data=[payment] if matches and payment else [], has_more=False)
        return self.ledger.list_payments(scope, filters, limit, starting_after)

    def close_payment(self, scope: MerchantScope, payment_id: str) -> Payment:
        """Close an unpaid payment and announce `payment.closed`; the channel closes it at the
        provider from that event. Raises NotFound, InvalidTransition."""
        payment = self.ledger.get_payment(payment_id, scope)
        check_payment_transition(payment.status, PaymentStatus.CLOSED)
        return self._transition(payment, PaymentStatus.CLOSED, PaymentChanges(updated=self.clock()))

    # -- refunds -----------------------------------------------------------------------------

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

    # -- provider notifications -------------------------------------------------------------

    def handle_notification(self, channel: Channel, request: ProviderRequest) -> ProviderResponse:
        """Verify a provider's notification and apply it exactly once; answer in the provider's
        protocol. A notification that fails verification, names an unknown or another merchant's
        payment, or carries another amount or currency changes nothing and is refused."""
        adapter = self._adapter(channel)
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
                refund: Refund | None = self.ledger.get_refund(target.refund_id)
                payment = self.ledger.get_payment(refund.payment_id)  # type: ignore[union-attr]
            elif target.payment_id:
                refund, payment = None, self.ledger.get_payment(target.payment_id)
            else:
                raise NotificationRejected("The notification names no payment or refund")
        except NotFound:
            raise NotificationRejected("The notification names an unknown payment or refund") from None
        if payment.channel is not adapter.channel:
            raise NotificationRejected("The notification names a payment of another channel")
        credentials = self.credentials.resolve(adapter, payment.merchant_id, payment.mode)
        notification = adapter.verify_notification(credentials, request)
        self._check_matches(notification, payment, refund)
        if isinstance(notification, ChannelRefundState):
            assert refund is not None  # _check_matches guarantees it
            try:
                self.settle_refund(refund, notification)
            except InvalidTransition:
                current = self.ledger.get_refund(refund.id)
                if current.status is not notification.status:
                    raise NotificationRejected(f"Refund {refund.id} is already {current.status}") from None
        else:
            self.apply_payment_state(payment, notification)

    def apply_payment_state(self, payment: Payment, state: ChannelPaymentState) -> Payment:
        """Move the payment to the state the provider reports, at most once. A repeat of an applied
        state is a no-op; a state the payment cannot reach any more is logged and left alone."""
        if state.status is PaymentStatus.REQUIRES_ACTION or state.status is payment.status:
            return payment
        try:
            return self._transition(
                payment,
                state.status,
                PaymentChanges(
                    updated=self.clock(),
                    channel_transaction_id=state.channel_transaction_id,
                    paid_at=state.paid_at if state.status is PaymentStatus.SUCCEEDED else None,
                    failure_code=state.failure_code,
                    failure_message=state.failure_message,
                ),
            )
        except InvalidTransition:
            current = self.ledger.get_payment(payment.id)
            if current.status is not state.status:
                # E.g. paid at the provider after it was closed here: money moved that the ledger
                # refuses, so it is raised for an operator (and reconciliation), not silently dropped.
                ledger_conflict(
                    payment_id=payment.id,
                    channel=payment.channel.value,
                    ledger_status=current.status.value,
                    channel_status=state.status.value,
                )
            return current

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

    # -- test mode ---------------------------------------------------------------------------

    def complete_test_payment(
        self, scope: MerchantScope, payment_id: str, outcome: PaymentStatus, base_url: str, send: Sender
    ) -> Payment:
        """Make the channel's sandbox send its real signed notification of `outcome` to the
        platform's /webhooks/{channel}, through the whole real path. Test mode only.

        Raises NotFound, InvalidRequest, InvalidTransition, Conflict, ChannelError."""
        if scope.mode is not Mode.TEST:
            raise InvalidRequest(
                "Test payments can be completed only with a test key", code="livemode_mismatch"
            )
        return self.complete_in_sandbox(self.ledger.get_payment(payment_id, scope), outcome, base_url, send)

    def complete_in_sandbox(
        self, payment: Payment, outcome: PaymentStatus, base_url: str, send: Sender
    ) -> Payment:
        """The one path of every test completion (the API's and the sandbox shopper pages'): the
        channel's built-in sandbox settles its trade and sends its real signed notification of
        `outcome` to `base_url`/webhooks/{channel}; returns the payment after the platform applied it.

        Raises InvalidRequest (a live payment, another outcome), InvalidTransition, Conflict (the
        merchant uses the provider's own sandbox, or the trade settled otherwise), ChannelError."""
        if outcome not in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
            raise InvalidRequest("outcome must be succeeded or failed", param="outcome")
        check_payment_transition(payment.status, outcome)
        _, credentials = self.sandbox_payment(payment)
        sandbox = load_sandbox(payment.channel, self.sandbox_store)
        notification = sandbox.notification_for(
            credentials, payment, outcome, f"/webhooks/{payment.channel.value}"
        )
        answer = send(f"{base_url.rstrip('/')}{notification.path}", notification)
        if answer.status >= 300:
            raise ChannelError(f"The platform refused the sandbox's notification ({answer.status})")
        return self.ledger.get_payment(payment.id)

    def sandbox_payment(self, payment: Payment) -> tuple[Payment, ChannelCredentials]:
        """`payment` with its merchant's credentials, if the built-in sandbox may settle it: a test
        payment whose merchant uses the built-in sandbox. Raises InvalidRequest, Conflict."""
        if payment.mode is not Mode.TEST:
            raise InvalidRequest(
                "Only test-mode payments can be completed in the sandbox", code="livemode_mismatch"
            )
        adapter = self._adapter(payment.channel)
        credentials = self.credentials.resolve(adapter, payment.merchant_id, payment.mode)
        self._require_builtin_sandbox(credentials, payment.channel)
        return payment, credentials

    @staticmethod
    def _require_builtin_sandbox(credentials: ChannelCredentials, channel: Channel) -> None:
        if not credentials.uses_builtin_sandbox():
            raise Conflict(
                f"This merchant's {channel} test credentials point at the provider's own sandbox; "
                "complete the payment there",
                code="external_sandbox",
            )

    # -- plumbing ----------------------------------------------------------------------------

    def _adapter(self, channel: Channel) -> ChannelAdapter:
        return self._load_adapter(channel, self.sandbox_store)

    def _transition(self, payment: Payment, target: PaymentStatus, changes: PaymentChanges) -> Payment:
        check_payment_transition(payment.status, target)
        moved = payment.model_copy(
            update={
                "status": target,
                "updated": changes.updated,
                **{
                    k: v
                    for k, v in {
                        "channel_transaction_id": changes.channel_transaction_id,
                        "paid_at": changes.paid_at,
                        "failure_code": changes.failure_code,
                        "failure_message": changes.failure_message,
                    }.items()
                    if v is not None
                },
            }
        )
        return self.ledger.transition_payment(
            payment,
            target,
            changes,
            self._event(payment, PAYMENT_STATUS_EVENTS[target], payment_object(moved)),
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
