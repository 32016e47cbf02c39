"""Payments and refunds across every channel: create through a channel adapter, read, list, close,
refund, and apply provider notifications exactly once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from paymux.channels.base import (
    ChannelAdapter,
    ChannelPaymentState,
    PaymentRequest,
    ProviderRequest,
    ProviderResponse,
    SandboxStore,
)
from paymux.channels.registry import load_adapter
from paymux.domain.clock import Clock, system_clock
from paymux.domain.errors import DuplicateMerchantOrderId, InvalidRequest, InvalidTransition
from paymux.domain.ids import IdPrefix, new_id
from paymux.domain.models import (
    PAYMENT_STATUS_EVENTS,
    SCENES,
    Channel,
    EventType,
    MerchantScope,
    Mode,
    Payment,
)
from paymux.domain.money import MAX_AMOUNT, Money
from paymux.domain.representation import payment_object
from paymux.domain.states import PaymentStatus, check_payment_transition
from paymux.ledger.ports import Ledger, Page, PaymentChanges, PaymentFilter
from paymux.observability import ledger_conflict, logger
from paymux.services.credentials import CredentialResolver
from paymux.services.notifications import NotificationHandler
from paymux.services.refunds import RefundOperations
from paymux.services.sandbox_completion import SandboxCompletion, Sender

DEFAULT_EXPIRY_SECONDS = 2 * 3600
MAX_EXPIRY_SECONDS = 15 * 86_400

AdapterLoader = Callable[[Channel, SandboxStore], ChannelAdapter]


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


class PaymentService(RefundOperations):
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
        self.notifications = NotificationHandler(self)
        self.sandbox = SandboxCompletion(self)

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

        adapter = self.adapter(channel)
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

    # -- provider notifications -------------------------------------------------------------

    def handle_notification(self, channel: Channel, request: ProviderRequest) -> ProviderResponse:
        """See `NotificationHandler.handle`: verified, applied once, answered in the provider's protocol."""
        return self.notifications.handle(channel, request)

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
        return self.sandbox.complete(self.ledger.get_payment(payment_id, scope), outcome, base_url, send)

    # -- plumbing ----------------------------------------------------------------------------

    def adapter(self, channel: Channel) -> ChannelAdapter:
        """The channel's adapter, on this service's sandbox store."""
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
