"""The channel adapter interface. An adapter speaks one provider's real protocol (signing,
verification, its request and notification formats) and nothing else: it never touches the ledger.
The core calls it; it never calls the core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

from paymux.domain.models import Channel, Payment, Refund
from paymux.domain.states import PaymentStatus, RefundStatus


class ChannelCredentials(BaseModel):
    """A merchant's credentials for one channel and mode, as stored in Secrets Manager.

    `gateway_url` points the adapter at the provider's own gateway or sandbox; when it is None the
    adapter talks to paymux's built-in sandbox in-process.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    # Live credentials name the provider's gateway: the built-in sandbox must never answer a live
    # payment. A channel whose live keys choose the gateway themselves (Stripe) turns this off.
    live_needs_gateway_url: ClassVar[bool] = True

    gateway_url: str | None = None

    @model_validator(mode="after")
    def _live_goes_to_the_provider(self, info: ValidationInfo) -> Self:
        mode = (info.context or {}).get("mode")
        if mode == "live" and self.live_needs_gateway_url and self.gateway_url is None:
            raise ValueError("live credentials need gateway_url: the provider's production gateway")
        return self

    def uses_builtin_sandbox(self) -> bool:
        return self.gateway_url is None


@dataclass(frozen=True)
class ProviderRequest:
    """An HTTP request from (or to) a provider, as received: raw body, lower-case header names."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderResponse:
    """What paymux answers a provider, in the provider's own protocol."""

    status: int
    body: str
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentRequest:
    """What a channel needs to create a payment for a scene."""

    payment_id: str  # sent to the provider as its out_trade_no / merchant order reference
    scene: str
    amount: int
    currency: str
    subject: str
    description: str | None
    expires_at: int | None
    return_url: str | None
    client_ip: str | None
    notify_url: str  # the platform's /webhooks/{channel} URL
    channel_extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreatedPayment:
    """What the shopper's side needs (`credential`) and the provider's id, if it gave one yet."""

    credential: dict[str, Any]
    channel_transaction_id: str | None = None


@dataclass(frozen=True)
class ChannelPaymentState:
    """A payment's state as the provider reports it (query or notification)."""

    payment_id: str
    status: PaymentStatus  # REQUIRES_ACTION while the provider still waits for the shopper
    amount: int
    currency: str
    channel_transaction_id: str | None = None
    paid_at: int | None = None
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True)
class ChannelRefundState:
    refund_id: str
    payment_id: str
    status: RefundStatus
    amount: int
    currency: str
    channel_refund_id: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True)
class NotificationTarget:
    """Which object an unverified notification names: read before verification only to find whose
    credentials verify it. Nothing in it is trusted."""

    payment_id: str | None = None
    refund_id: str | None = None


Notification = ChannelPaymentState | ChannelRefundState


@dataclass(frozen=True)
class StatementLine:
    """One line of a provider's daily statement, for reconciliation against the ledger."""

    kind: str  # "payment" or "refund"
    payment_id: str
    amount: int
    currency: str
    occurred_at: int
    channel_transaction_id: str | None = None
    refund_id: str | None = None
    fee: int | None = None


class ChannelAdapter(Protocol):
    """One provider's protocol. Every method raises `ChannelError` when the provider fails and
    `NotificationRejected` when a notification does not verify."""

    channel: Channel
    credentials_model: type[ChannelCredentials]

    def sandbox_credentials(self) -> ChannelCredentials:
        """The built-in sandbox's own merchant credentials, used in test mode when a merchant set none."""
        ...

    def create_payment(self, credentials: ChannelCredentials, request: PaymentRequest) -> CreatedPayment: ...

    def query_payment(self, credentials: ChannelCredentials, payment: Payment) -> ChannelPaymentState: ...

    def close_payment(self, credentials: ChannelCredentials, payment: Payment) -> None: ...

    def refund(
        self, credentials: ChannelCredentials, payment: Payment, refund: Refund
    ) -> ChannelRefundState: ...

    def query_refund(
        self, credentials: ChannelCredentials, payment: Payment, refund: Refund
    ) -> ChannelRefundState: ...

    def notification_target(self, request: ProviderRequest) -> NotificationTarget:
        """Read the object a notification names, without trusting it. Raises NotificationRejected
        if the request is not a notification of this provider at all."""
        ...

    def verify_notification(self, credentials: ChannelCredentials, request: ProviderRequest) -> Notification:
        """Verify the notification's signature (and app/merchant ids) against `credentials` and
        parse it. Raises NotificationRejected."""
        ...

    def acknowledge(self, accepted: bool) -> ProviderResponse:
        """The answer the provider expects: Alipay `success`/`fail`, WeChat JSON, ..."""
        ...

    def download_statement(self, credentials: ChannelCredentials, day: date) -> list[StatementLine]:
        """The provider's statement of `day` (the provider's own time zone), parsed."""
        ...


class ChannelSandbox(Protocol):
    """The built-in sandbox: plays the provider's side offline."""

    channel: Channel

    def notification_for(
        self, credentials: ChannelCredentials, payment: Payment, outcome: PaymentStatus, notify_path: str
    ) -> ProviderRequest:
        """The provider's real, signed notification of `payment` reaching `outcome`, ready to POST
        to `notify_path` on the platform. Also records the outcome in the sandbox's own trade state,
        so a later query answers the same."""
        ...

    def refund_notification_for(
        self,
        credentials: ChannelCredentials,
        payment: Payment,
        refund: Refund,
        outcome: RefundStatus,
        notify_path: str,
    ) -> ProviderRequest | None:
        """The provider's signed refund notification, or None where the provider sends none (Alipay
        answers refunds synchronously)."""
        ...


class SandboxCheckout(Protocol):
    """What a sandbox's shopper page may ask of the platform (the core provides it; the sandbox never
    imports the core)."""

    def payment(self, payment_id: str) -> tuple[Payment, ChannelCredentials]:
        """The test-mode payment a page names and its merchant's credentials on the built-in sandbox.
        Raises NotFound (unknown, or of another channel), InvalidRequest (a live payment) or Conflict
        (the merchant's test credentials point at the provider's own sandbox)."""
        ...

    def complete(self, payment: Payment, outcome: PaymentStatus) -> Payment:
        """Make the sandbox send its real signed notification of `outcome` to the platform's
        /webhooks/{channel}, as `POST /v1/test/payments/{id}/complete` does; the payment after it.
        Raises InvalidTransition, Conflict, ChannelError."""
        ...


@runtime_checkable
class ShopperPageSandbox(ChannelSandbox, Protocol):
    """A sandbox that also serves the provider's shopper-facing pages (optional: a sandbox without
    `shopper_page` simply has none). The platform serves them, in test mode only, at
    `/sandbox/{channel}/...` on its own origin, where the credentials of the scenes point: Alipay's
    cashier, UnionPay's front gateway, WeChat Pay's h5 page, a Stripe test card page."""

    def shopper_page(
        self, request: ProviderRequest, base_url: str, checkout: SandboxCheckout
    ) -> ProviderResponse:
        """Answer the shopper's browser: `request` as received (its `path` the full platform path),
        `base_url` the platform's public base URL. Verifies the signed request the page was reached
        with, then shows the order with Pay and Decline, or completes it through `checkout` when the
        shopper pressed one. Protocol refusals (a bad signature) are 4xx pages; the checkout's domain
        errors propagate."""
        ...


class SandboxStore(Protocol):
    """Where a built-in sandbox keeps the provider-side state of its trades (so a query after a
    completion answers as the provider would). Backed by the ledger table; JSON values only."""

    def load(self, channel: str, key: str) -> dict[str, Any] | None: ...

    def save(self, channel: str, key: str, value: dict[str, Any]) -> None: ...
