"""A test card page in place of Stripe.js: where a developer sends the shopper with the `card`
scene's `client_secret` (`/sandbox/stripe/pay?client_secret=...`). The secret must be the
PaymentIntent's own; Pay charges the test card `pm_card_visa`, Decline `pm_card_chargeDeclined`."""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import parse_qsl

from paymux.channels.base import ChannelCredentials
from paymux.channels.sandbox_page import PageRefused
from paymux.channels.stripe.amounts import to_stripe_amount
from paymux.channels.stripe.mapping import PAYMENT_ID_KEY
from paymux.channels.stripe.sandbox.state import SandboxState
from paymux.domain.models import Payment
from paymux.domain.money import Money

CARD_PAGE_PATH = "/sandbox/stripe/pay"


class CardPageFlow:
    """`ShopperFlow` of the sandbox's test card page."""

    provider = "Stripe sandbox test card"

    def __init__(self, state: SandboxState) -> None:
        self._state = state

    def payment_id(self, signed: str) -> str:
        """The payment of the PaymentIntent the client_secret opens. Raises PageRefused."""
        payment_id = self._intent(signed)["metadata"].get(PAYMENT_ID_KEY)
        if not isinstance(payment_id, str):
            raise PageRefused(400, "resource_missing: the PaymentIntent is not a paymux payment's")
        return payment_id

    def verify(self, signed: str, payment: Payment, credentials: ChannelCredentials) -> None:
        """The PaymentIntent is this payment's, for its amount and currency. Raises PageRefused."""
        del credentials  # the client_secret is the shopper's whole authorization, as with Stripe.js
        intent = self._intent(signed)
        expected = (to_stripe_amount(Money(payment.amount, payment.currency)), payment.currency)
        if (
            intent["metadata"].get(PAYMENT_ID_KEY) != payment.id
            or (intent["amount"], intent["currency"]) != expected
        ):
            raise PageRefused(
                400, "payment_intent_unexpected_state: the PaymentIntent does not match the payment"
            )

    def _intent(self, signed: str) -> dict[str, Any]:
        secret = dict(parse_qsl(signed)).get("client_secret", "")
        intent_id, separator, _ = secret.partition("_secret_")
        intent = self._state.get(intent_id) if separator and intent_id.startswith("pi_") else None
        if (
            intent is None
            or intent.get("object") != "payment_intent"
            or not hmac.compare_digest(str(intent.get("client_secret", "")), secret)
        ):
            raise PageRefused(400, "resource_missing: no PaymentIntent has this client_secret")
        return intent
