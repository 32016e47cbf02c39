"""The sandbox shopper pages in test mode: where a scene's credential takes the shopper's browser
(`/sandbox/{channel}/...`), answered by the channel's built-in sandbox, which completes the payment
through the same path as `POST /v1/test/payments/{id}/complete`."""

from __future__ import annotations

from collections.abc import Callable

from paymux.channels.base import (
    ChannelCredentials,
    ChannelSandbox,
    ProviderRequest,
    ProviderResponse,
    SandboxStore,
    ShopperPageSandbox,
)
from paymux.channels.registry import load_sandbox, parse_channel
from paymux.domain.errors import NotFound
from paymux.domain.models import Channel, Payment
from paymux.domain.states import PaymentStatus
from paymux.services.payments import PaymentService
from paymux.services.sandbox_completion import Sender

SandboxLoader = Callable[[Channel, SandboxStore], ChannelSandbox]


class ShopperPages:
    def __init__(
        self, payments: PaymentService, send: Sender, *, sandboxes: SandboxLoader = load_sandbox
    ) -> None:
        self.payments = payments
        self.send = send
        self._load_sandbox = sandboxes

    def page(self, channel_name: str, request: ProviderRequest, base_url: str) -> ProviderResponse:
        """The channel's sandbox page for `request`. Raises InvalidRequest for an unknown channel,
        NotFound where its sandbox serves no pages; the page's own errors (NotFound, InvalidRequest,
        InvalidTransition, Conflict, ChannelError) propagate for the caller to render."""
        channel = parse_channel(channel_name)
        sandbox = self._load_sandbox(channel, self.payments.sandbox_store)
        if not isinstance(sandbox, ShopperPageSandbox):
            raise NotFound(f"The {channel} sandbox has no shopper pages", code="route_not_found")
        return sandbox.shopper_page(request, base_url, _Checkout(self, channel, base_url))


class _Checkout:
    """`SandboxCheckout` for one channel's page: payments of that channel only, completed through
    SandboxCompletion.complete."""

    def __init__(self, pages: ShopperPages, channel: Channel, base_url: str) -> None:
        self._pages = pages
        self._channel = channel
        self._base_url = base_url

    def payment(self, payment_id: str) -> tuple[Payment, ChannelCredentials]:
        payment = self._pages.payments.ledger.get_payment(payment_id)
        if payment.channel is not self._channel:
            raise NotFound(f"No such {self._channel} payment: {payment_id}")
        return self._pages.payments.sandbox.sandbox_payment(payment)

    def complete(self, payment: Payment, outcome: PaymentStatus) -> Payment:
        return self._pages.payments.sandbox.complete(payment, outcome, self._base_url, self._pages.send)
