"""The Stripe channel: card payments through PaymentIntents, with the official `stripe` SDK doing the
API work. The shopper's card goes from Stripe.js straight to Stripe; paymux sees only the
PaymentIntent and hands the shopper its `client_secret`."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import stripe
from pydantic import SecretStr

from paymux.channels.base import (
    ChannelCredentials,
    ChannelPaymentState,
    ChannelRefundState,
    CreatedPayment,
    Notification,
    NotificationTarget,
    PaymentRequest,
    ProviderRequest,
    ProviderResponse,
    SandboxStore,
    StatementLine,
)
from paymux.channels.stripe import webhooks
from paymux.channels.stripe.amounts import from_stripe_amount, to_stripe_amount
from paymux.channels.stripe.credentials import StripeCredentials
from paymux.channels.stripe.mapping import (
    PAYMENT_ID_KEY,
    REFUND_ID_KEY,
    UnknownObject,
    payment_state,
    refund_state,
)
from paymux.channels.stripe.sandbox.api import StripeSandboxApi
from paymux.channels.stripe.sandbox.identity import sandbox_identity
from paymux.channels.stripe.transport import stripe_client
from paymux.domain.errors import ChannelError, InvalidRequest
from paymux.domain.models import Channel, Payment, Refund
from paymux.domain.money import Money

if TYPE_CHECKING:
    from stripe.params import PaymentIntentCreateParams, RefundCreateParams

_STRIPE_REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})
_CHANNEL_EXTRA_KEYS = frozenset({"receipt_email", "statement_descriptor_suffix"})
_SECRETS = re.compile(r"\b(sk|rk|pk|whsec)_[A-Za-z0-9_]+")
_CLIENT_CACHE_SIZE = 32

T = TypeVar("T")


class StripeAdapter:
    channel = Channel.STRIPE
    credentials_model: type[ChannelCredentials] = StripeCredentials

    def __init__(self, sandbox_store: SandboxStore, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._sandbox_store = sandbox_store
        self._sandbox_api: StripeSandboxApi | None = None
        self._clients: dict[tuple[str, str | None], stripe.StripeClient] = {}

    def sandbox_credentials(self) -> StripeCredentials:
        identity = sandbox_identity()
        return StripeCredentials(
            secret_key=SecretStr(identity.secret_key),
            webhook_secret=SecretStr(identity.webhook_secret),
            publishable_key=identity.publishable_key,
        )

    def create_payment(self, credentials: ChannelCredentials, request: PaymentRequest) -> CreatedPayment:
        """A PaymentIntent for the card scene, created once per payment id (the Idempotency-Key).
        Raises InvalidRequest for another scene or unknown channel_extra, ChannelError if Stripe refuses."""
        creds = _stripe(credentials)
        if request.scene != "card":
            raise InvalidRequest(f"Stripe has no scene {request.scene!r}", param="scene")
        unknown = set(request.channel_extra) - _CHANNEL_EXTRA_KEYS
        if unknown:
            raise InvalidRequest(f"Stripe takes no channel_extra {sorted(unknown)}", param="channel_extra")
        params: PaymentIntentCreateParams = {
            "amount": to_stripe_amount(Money(request.amount, request.currency)),
            "currency": request.currency,
            "allowed_payment_method_types": ["card"],
            "description": request.description or request.subject,
            "metadata": {PAYMENT_ID_KEY: request.payment_id},
        }
        if "receipt_email" in request.channel_extra:
            params["receipt_email"] = str(request.channel_extra["receipt_email"])
        if "statement_descriptor_suffix" in request.channel_extra:
            params["statement_descriptor_suffix"] = str(request.channel_extra["statement_descriptor_suffix"])
        intent = self._call(
            lambda client: client.v1.payment_intents.create(
                params, options={"idempotency_key": request.payment_id}
            ),
            creds,
        )
        credential: dict[str, Any] = {
            "type": "client_secret",
            "client_secret": intent.client_secret,
            "payment_intent": intent.id,
        }
        if creds.publishable_key is not None:
            credential["publishable_key"] = creds.publishable_key
        return CreatedPayment(credential=credential, channel_transaction_id=intent.id)

    def query_payment(self, credentials: ChannelCredentials, payment: Payment) -> ChannelPaymentState:
        """The PaymentIntent's state (retrieved with its latest charge). Raises ChannelError."""
        creds = _stripe(credentials, payment)
        intent_id = self._intent_id(creds, payment)
        intent = self._call(
            lambda client: client.v1.payment_intents.retrieve(intent_id, {"expand": ["latest_charge"]}), creds
        ).to_dict()
        return _owned_state(intent, payment)

    def close_payment(self, credentials: ChannelCredentials, payment: Payment) -> None:
        """Cancel the PaymentIntent; one already canceled counts as closed. Raises ChannelError when
        Stripe refuses (a succeeded PaymentIntent cannot be canceled)."""
        creds = _stripe(credentials, payment)
        intent_id = self._intent_id(creds, payment)
        try:
            self._client(creds).v1.payment_intents.cancel(intent_id, {"cancellation_reason": "abandoned"})
        except stripe.InvalidRequestError as error:
            body = error.json_body if isinstance(error.json_body, dict) else {}
            intent = body.get("error", {}).get("payment_intent") or {}
            if error.code == "payment_intent_unexpected_state" and intent.get("status") == "canceled":
                return
            raise _channel_error(error) from None
        except stripe.StripeError as error:
            raise _channel_error(error) from None

    def refund(self, credentials: ChannelCredentials, payment: Payment, refund: Refund) -> ChannelRefundState:
        """A Stripe Refund of the PaymentIntent, created once per refund id. Raises ChannelError."""
        creds = _stripe(credentials, payment)
        intent_id = self._intent_id(creds, payment)
        params: RefundCreateParams = {
            "payment_intent": intent_id,
            "amount": to_stripe_amount(Money(refund.amount, refund.currency)),
            "metadata": {REFUND_ID_KEY: refund.id, PAYMENT_ID_KEY: payment.id},
        }
        if refund.reason in _STRIPE_REFUND_REASONS:
            params["reason"] = refund.reason
        created = self._call(
            lambda client: client.v1.refunds.create(params, options={"idempotency_key": refund.id}), creds
        )
        return _owned_refund(created.to_dict(), refund)

    def query_refund(
        self, credentials: ChannelCredentials, payment: Payment, refund: Refund
    ) -> ChannelRefundState:
        """The Stripe Refund's state, by id or among the PaymentIntent's refunds. Raises ChannelError."""
        creds = _stripe(credentials, payment)
        if refund.channel_refund_id is not None:
            refund_id = refund.channel_refund_id
            retrieved = self._call(lambda client: client.v1.refunds.retrieve(refund_id), creds)
            return _owned_refund(retrieved.to_dict(), refund)
        intent_id = self._intent_id(creds, payment)
        listed = self._call(
            lambda client: client.v1.refunds.list({"payment_intent": intent_id, "limit": 100}), creds
        )
        for item in listed.auto_paging_iter():
            found = item.to_dict()
            if (found.get("metadata") or {}).get(REFUND_ID_KEY) == refund.id:
                return _owned_refund(found, refund)
        raise ChannelError(f"Stripe has no refund for {refund.id}")

    def notification_target(self, request: ProviderRequest) -> NotificationTarget:
        return webhooks.event_target(request)

    def verify_notification(self, credentials: ChannelCredentials, request: ProviderRequest) -> Notification:
        return webhooks.verify_event(_stripe(credentials), request, now=self.clock())

    def acknowledge(self, accepted: bool) -> ProviderResponse:
        """Stripe retries anything but a 2xx; a rejected event gets a 400."""
        if accepted:
            return ProviderResponse(status=200, body='{"received": true}', content_type="application/json")
        return ProviderResponse(status=400, body='{"received": false}', content_type="application/json")

    def download_statement(self, credentials: ChannelCredentials, day: date) -> list[StatementLine]:
        """The balance transactions created on `day` (UTC, Stripe's reporting day) for paymux's
        charges and refunds. Raises ChannelError."""
        creds = _stripe(credentials)
        start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
        end = int((datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)).timestamp())
        listed = self._call(
            lambda client: client.v1.balance_transactions.list(
                {
                    "created": {"gte": start, "lt": end},
                    "limit": 100,
                    "expand": ["data.source"],
                }
            ),
            creds,
        )
        try:
            lines = [line for txn in listed.auto_paging_iter() if (line := _statement_line(txn.to_dict()))]
        except stripe.StripeError as error:
            raise _channel_error(error) from None
        return sorted(lines, key=lambda line: (line.occurred_at, line.kind, line.payment_id))

    # Stripe calls

    def _client(self, creds: StripeCredentials) -> stripe.StripeClient:
        key = (creds.secret_key.get_secret_value(), creds.gateway_url)
        client = self._clients.get(key)
        if client is None:
            if len(self._clients) >= _CLIENT_CACHE_SIZE:
                self._clients.clear()
            client = self._clients[key] = stripe_client(
                creds, self._sandbox() if creds.gateway_url is None else None
            )
        return client

    def _sandbox(self) -> StripeSandboxApi:
        if self._sandbox_api is None:
            self._sandbox_api = StripeSandboxApi(self._sandbox_store, lambda: int(self.clock()))
        return self._sandbox_api

    def _call(self, action: Callable[[stripe.StripeClient], T], creds: StripeCredentials) -> T:
        try:
            return action(self._client(creds))
        except stripe.StripeError as error:
            raise _channel_error(error) from None

    def _intent_id(self, creds: StripeCredentials, payment: Payment) -> str:
        """The payment's PaymentIntent: recorded at creation, or found by its metadata."""
        if payment.channel_transaction_id is not None:
            return payment.channel_transaction_id
        found = self._call(
            lambda client: client.v1.payment_intents.search(
                {"query": f"metadata['{PAYMENT_ID_KEY}']:'{payment.id}'"}
            ),
            creds,
        )
        for intent in found.data:
            return intent.id
        raise ChannelError(f"Stripe has no PaymentIntent for {payment.id}")


def _stripe(credentials: ChannelCredentials, payment: Payment | None = None) -> StripeCredentials:
    if not isinstance(credentials, StripeCredentials):
        raise ChannelError("The Stripe channel needs Stripe credentials")
    if payment is not None and payment.mode.livemode != credentials.livemode:
        wanted = "sk_live_" if payment.mode.livemode else "sk_test_"
        raise ChannelError(f"A {payment.mode} payment needs a Stripe {wanted} key")
    return credentials


def _owned_state(intent: dict[str, Any], payment: Payment) -> ChannelPaymentState:
    try:
        state = payment_state(intent, paid_at=None)
    except UnknownObject as error:
        raise ChannelError(f"Stripe returned {intent.get('id')}, {error}") from None
    if state.payment_id != payment.id:
        raise ChannelError(f"PaymentIntent {intent.get('id')} belongs to another payment")
    return state


def _owned_refund(found: dict[str, Any], refund: Refund) -> ChannelRefundState:
    try:
        state = refund_state(found)
    except UnknownObject as error:
        raise ChannelError(f"Stripe returned {found.get('id')}, {error}") from None
    if state.refund_id != refund.id:
        raise ChannelError(f"Stripe refund {found.get('id')} belongs to another refund")
    return state


def _statement_line(txn: dict[str, Any]) -> StatementLine | None:
    """A charge or refund of paymux's; None for payouts, fees, other integrations' objects."""
    source = txn.get("source")
    if not isinstance(source, dict):
        return None
    metadata = source.get("metadata") or {}
    payment_id = metadata.get(PAYMENT_ID_KEY)
    if not payment_id or txn.get("type") not in ("charge", "payment", "refund", "payment_refund"):
        return None
    money = from_stripe_amount(int(source["amount"]), str(source["currency"]))
    same_currency = str(txn.get("currency")) == money.currency
    fee = from_stripe_amount(int(txn.get("fee") or 0), money.currency).amount if same_currency else None
    if source.get("object") == "charge":
        return StatementLine(
            kind="payment",
            payment_id=payment_id,
            amount=money.amount,
            currency=money.currency,
            occurred_at=int(txn["created"]),
            channel_transaction_id=source.get("payment_intent"),
            fee=fee,
        )
    if source.get("object") == "refund" and metadata.get(REFUND_ID_KEY):
        return StatementLine(
            kind="refund",
            payment_id=payment_id,
            amount=money.amount,
            currency=money.currency,
            occurred_at=int(txn["created"]),
            channel_transaction_id=source.get("payment_intent"),
            refund_id=metadata[REFUND_ID_KEY],
            fee=fee,
        )
    return None


def _channel_error(error: stripe.StripeError) -> ChannelError:
    """Stripe's failure, as a ChannelError whose message carries no key material."""
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        message = f"Stripe refused the API key (HTTP {error.http_status})"
    elif isinstance(error, stripe.APIConnectionError):
        message = "Stripe could not be reached"
    else:
        detail = _SECRETS.sub("****", error.user_message or "")
        message = f"Stripe refused the request (HTTP {error.http_status}, {error.code or 'error'}): {detail}"
    return ChannelError(message)
