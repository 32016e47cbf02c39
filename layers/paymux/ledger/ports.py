"""What the core needs from a ledger. `DynamoLedger` is the implementation; tests may pass others."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from paymux.domain.models import (
    ApiKey,
    Event,
    Merchant,
    MerchantScope,
    Payment,
    Refund,
    WebhookEndpoint,
)
from paymux.domain.states import PaymentStatus, RefundStatus

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    data: list[T]
    has_more: bool


@dataclass(frozen=True)
class PaymentFilter:
    channel: str | None = None
    status: str | None = None
    created_gte: int | None = None
    created_lte: int | None = None

    def matches(self, payment: Payment) -> bool:
        """Whether one payment passes these filters (the ledger applies them in its queries)."""
        return (
            (self.channel is None or payment.channel.value == self.channel)
            and (self.status is None or payment.status.value == self.status)
            and (self.created_gte is None or payment.created >= self.created_gte)
            and (self.created_lte is None or payment.created <= self.created_lte)
        )


@dataclass(frozen=True)
class PaymentChanges:
    """What a transition records beside the status."""

    updated: int
    channel_transaction_id: str | None = None
    paid_at: int | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Ledger(Protocol):
    def put_merchant(self, merchant: Merchant) -> None: ...
    def get_merchant(self, merchant_id: str) -> Merchant: ...
    def put_api_key(self, key: ApiKey) -> None: ...
    def find_api_key(self, key_hash: str) -> ApiKey | None: ...

    def create_payment(self, payment: Payment, event: Event) -> None: ...
    def get_payment(self, payment_id: str, scope: MerchantScope | None = None) -> Payment: ...
    def find_payment_id_by_merchant_order_id(
        self, scope: MerchantScope, merchant_order_id: str
    ) -> str | None: ...
    def list_payments(
        self, scope: MerchantScope, filters: PaymentFilter, limit: int, starting_after: str | None
    ) -> Page[Payment]: ...
    def transition_payment(
        self, payment: Payment, target: PaymentStatus, changes: PaymentChanges, event: Event
    ) -> Payment: ...

    def create_refund(self, payment: Payment, refund: Refund, event: Event) -> None: ...
    def get_refund(self, refund_id: str, scope: MerchantScope | None = None) -> Refund: ...
    def list_refunds(self, payment_id: str, limit: int, starting_after: str | None) -> Page[Refund]: ...
    def transition_refund(
        self,
        refund: Refund,
        target: RefundStatus,
        updated: int,
        event: Event,
        channel_refund_id: str | None = None,
        failure_code: str | None = None,
        failure_message: str | None = None,
    ) -> Refund: ...

    def get_event(self, event_id: str, scope: MerchantScope | None = None) -> Event: ...
    def list_events(
        self, scope: MerchantScope, event_type: str | None, limit: int, starting_after: str | None
    ) -> Page[Event]: ...

    def put_webhook_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    def get_webhook_endpoint(self, endpoint_id: str, scope: MerchantScope) -> WebhookEndpoint: ...
    def list_webhook_endpoints(
        self, scope: MerchantScope, limit: int, starting_after: str | None
    ) -> Page[WebhookEndpoint]: ...
    def delete_webhook_endpoint(self, endpoint_id: str, scope: MerchantScope) -> None: ...
