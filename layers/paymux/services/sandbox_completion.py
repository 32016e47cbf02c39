"""Test-mode completion in a channel's built-in sandbox, shared by `POST /v1/test/payments/{id}/complete`
and the sandbox shopper pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from paymux.channels.base import ChannelCredentials, ProviderRequest, ProviderResponse
from paymux.channels.registry import load_sandbox
from paymux.domain.errors import ChannelError, Conflict, InvalidRequest
from paymux.domain.models import Channel, Mode, Payment
from paymux.domain.states import PaymentStatus, check_payment_transition

if TYPE_CHECKING:
    from paymux.services.payments import PaymentService

# Posts a provider request to a URL on the platform (the sandbox's notification to /webhooks/...).
Sender = Callable[[str, ProviderRequest], ProviderResponse]


class SandboxCompletion:
    """Completes `PaymentService`'s test payments in the channel's built-in sandbox."""

    def __init__(self, payments: PaymentService) -> None:
        self.payments = payments

    def complete(self, payment: Payment, outcome: PaymentStatus, base_url: str, send: Sender) -> Payment:
        """The one path of every test completion (the API's and the sandbox shopper pages'): the
        channel's built-in sandbox settles its trade and sends its real signed notification of
        `outcome` to `base_url`/webhooks/{channel}; returns the payment after the platform applied it.

        Raises InvalidRequest (a live payment, another outcome), InvalidTransition, Conflict (the
        merchant uses the provider's own sandbox, or the trade settled otherwise), ChannelError."""
        if outcome not in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
            raise InvalidRequest("outcome must be succeeded or failed", param="outcome")
        check_payment_transition(payment.status, outcome)
        _, credentials = self.sandbox_payment(payment)
        sandbox = load_sandbox(payment.channel, self.payments.sandbox_store)
        notification = sandbox.notification_for(
            credentials, payment, outcome, f"/webhooks/{payment.channel.value}"
        )
        answer = send(f"{base_url.rstrip('/')}{notification.path}", notification)
        if answer.status >= 300:
            raise ChannelError(f"The platform refused the sandbox's notification ({answer.status})")
        return self.payments.ledger.get_payment(payment.id)

    def sandbox_payment(self, payment: Payment) -> tuple[Payment, ChannelCredentials]:
        """`payment` with its merchant's credentials, if the built-in sandbox may settle it: a test
        payment whose merchant uses the built-in sandbox. Raises InvalidRequest, Conflict."""
        if payment.mode is not Mode.TEST:
            raise InvalidRequest(
                "Only test-mode payments can be completed in the sandbox", code="livemode_mismatch"
            )
        adapter = self.payments.adapter(payment.channel)
        credentials = self.payments.credentials.resolve(adapter, payment.merchant_id, payment.mode)
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
