"""`ChannelSandbox` for Stripe: moves the sandbox's PaymentIntent or refund to an outcome and returns
the webhook event Stripe would send about it, signed with the endpoint's secret."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from paymux.channels.base import (
    ChannelCredentials,
    ProviderRequest,
    ProviderResponse,
    SandboxCheckout,
    SandboxStore,
)
from paymux.channels.sandbox_page import serve
from paymux.channels.stripe.credentials import StripeCredentials
from paymux.channels.stripe.sandbox import objects
from paymux.channels.stripe.sandbox.account import SandboxAccount, StripeApiError
from paymux.channels.stripe.sandbox.signing import signature_header
from paymux.channels.stripe.sandbox.state import SandboxState
from paymux.domain.errors import ChannelError
from paymux.domain.models import Channel, Payment, Refund
from paymux.domain.states import PaymentStatus, RefundStatus

_WEBHOOK_HEADERS = {
    "content-type": "application/json; charset=utf-8",
    "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    "cache-control": "no-cache",
    "accept": "*/*; q=0.5, application/xml",
}


class StripeSandbox:
    channel = Channel.STRIPE

    def __init__(self, store: SandboxStore, clock: Callable[[], int]) -> None:
        self.clock = clock
        self.state = SandboxState(store)
        self.account = SandboxAccount(self.state, clock)

    def notification_for(
        self, credentials: ChannelCredentials, payment: Payment, outcome: PaymentStatus, notify_path: str
    ) -> ProviderRequest:
        """`payment_intent.succeeded`, `.payment_failed` or `.canceled`. Raises ChannelError when the
        sandbox has no PaymentIntent for the payment or it cannot reach `outcome` any more."""
        intent = self._intent_of(payment)
        previous = {"status": intent["status"]}
        try:
            event_type, intent = self._move(intent, outcome)
        except StripeApiError as error:
            raise ChannelError(f"The Stripe sandbox refused: {error}") from None
        return self._signed(
            credentials,
            objects.event(event_type, intent, created=self.clock(), previous=previous),
            notify_path,
        )

    def shopper_page(
        self, request: ProviderRequest, base_url: str, checkout: SandboxCheckout
    ) -> ProviderResponse:
        """The test card page (`/sandbox/stripe/pay?client_secret=...`), standing in for Stripe.js:
        the order with Pay and Decline, settled through `checkout` (see `paymux.channels.sandbox_page`)."""
        from paymux.channels.stripe.sandbox.card_page import CARD_PAGE_PATH, CardPageFlow

        return serve(request, base_url, checkout, CardPageFlow(self.state), CARD_PAGE_PATH)

    def refund_notification_for(
        self,
        credentials: ChannelCredentials,
        payment: Payment,  # noqa: ARG002 - the refund names its Stripe refund itself
        refund: Refund,
        outcome: RefundStatus,
        notify_path: str,
    ) -> ProviderRequest | None:
        """`refund.updated` (succeeded) or `refund.failed`. Raises ChannelError for an unknown refund."""
        stripe_refund = self.state.get(refund.channel_refund_id or "")
        if stripe_refund is None or stripe_refund.get("metadata", {}).get("paymux_refund_id") != refund.id:
            raise ChannelError(f"The Stripe sandbox has no refund for {refund.id}")
        previous = {"status": stripe_refund["status"]}
        if outcome is RefundStatus.FAILED:
            stripe_refund = self.account.fail_refund(stripe_refund)
            event_type = "refund.failed"
        elif outcome is RefundStatus.SUCCEEDED and stripe_refund["status"] == "succeeded":
            event_type = "refund.updated"
        else:
            raise ChannelError(
                f"The Stripe sandbox cannot move a {stripe_refund['status']} refund to {outcome}"
            )
        return self._signed(
            credentials,
            objects.event(event_type, stripe_refund, created=self.clock(), previous=previous),
            notify_path,
        )

    def _intent_of(self, payment: Payment) -> dict[str, Any]:
        intent_id = payment.channel_transaction_id or self.state.intent_id_of(payment.id)
        intent = self.state.get(intent_id) if intent_id else None
        if intent is None or intent["metadata"].get("paymux_payment_id") != payment.id:
            raise ChannelError(f"The Stripe sandbox has no PaymentIntent for {payment.id}")
        return intent

    def _move(self, intent: dict[str, Any], outcome: PaymentStatus) -> tuple[str, dict[str, Any]]:
        status = intent["status"]
        if outcome is PaymentStatus.SUCCEEDED:
            if status == "succeeded":
                return "payment_intent.succeeded", intent
            if status not in (
                "requires_payment_method",
                "requires_confirmation",
                "requires_action",
                "processing",
            ):
                raise ChannelError(f"A {status} PaymentIntent cannot succeed")
            return "payment_intent.succeeded", self.account.succeed(intent)
        if outcome is PaymentStatus.FAILED:
            if status == "requires_payment_method" and intent["last_payment_error"]:
                return "payment_intent.payment_failed", intent
            if status not in ("requires_payment_method", "requires_confirmation", "requires_action"):
                raise ChannelError(f"A {status} PaymentIntent cannot fail")
            return "payment_intent.payment_failed", self.account.decline(
                intent, "pm_card_chargeDeclined", "generic_decline"
            )
        if outcome is PaymentStatus.CLOSED:
            if status == "canceled":
                return "payment_intent.canceled", intent
            return "payment_intent.canceled", self.account.cancel_payment_intent(
                intent["id"], {"cancellation_reason": "abandoned"}
            )
        raise ChannelError(f"{outcome} is not an outcome a Stripe webhook announces")

    def _signed(
        self, credentials: ChannelCredentials, event: dict[str, Any], notify_path: str
    ) -> ProviderRequest:
        if not isinstance(credentials, StripeCredentials):
            raise ChannelError("The Stripe sandbox needs Stripe credentials to sign its webhook")
        body = json.dumps(event, indent=2)
        header = signature_header(body, credentials.webhook_secret.get_secret_value(), self.clock())
        return ProviderRequest(
            method="POST",
            path=notify_path,
            headers=_WEBHOOK_HEADERS | {"stripe-signature": header},
            body=body.encode("utf-8"),
        )
