"""Stripe's objects as its v1 API renders them (the fields a card integration sees), built as plain
JSON dicts. Amounts here are Stripe API amounts."""

from __future__ import annotations

import secrets
import string
from typing import Any

# The API version the sandbox renders events in: the one the pinned `stripe` SDK sends.
API_VERSION = "2026-10-28.endive"

_ID_ALPHABET = string.ascii_letters + string.digits

# Stripe's test PaymentMethods (https://docs.stripe.com/testing): id → (brand, last4, decline code).
TEST_PAYMENT_METHODS: dict[str, tuple[str, str, str | None]] = {
    "pm_card_visa": ("visa", "4242", None),
    "pm_card_mastercard": ("mastercard", "4444", None),
    "pm_card_amex": ("amex", "8431", None),
    "pm_card_chargeDeclined": ("visa", "0002", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": ("visa", "9995", "insufficient_funds"),
    "pm_card_chargeDeclinedExpiredCard": ("visa", "0069", "expired_card"),
}

DECLINE_MESSAGES: dict[str, str] = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
}


def new_object_id(prefix: str) -> str:
    """`pi_3Qx...`: a prefix and 24 random alphanumerics, as Stripe's ids look."""
    return f"{prefix}_3{''.join(secrets.choice(_ID_ALPHABET) for _ in range(23))}"


def payment_intent(
    *,
    amount: int,
    currency: str,
    created: int,
    description: str | None,
    metadata: dict[str, str],
    payment_method_types: list[str],
    automatic_payment_methods: dict[str, Any] | None,
) -> dict[str, Any]:
    intent_id = new_object_id("pi")
    secret = "".join(secrets.choice(_ID_ALPHABET) for _ in range(25))
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "allowed_payment_method_types": payment_method_types,
        "application_fee_amount": None,
        "automatic_payment_methods": automatic_payment_methods,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{intent_id}_secret_{secret}",
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": None,
        "description": description,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": metadata,
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": payment_method_types,
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }


def payment_method_id(test_method: str) -> str:
    """The PaymentMethod a test token such as `pm_card_visa` becomes when it is used."""
    return new_object_id("pm") if test_method in TEST_PAYMENT_METHODS else test_method


def charge(
    intent: dict[str, Any],
    *,
    payment_method: str,
    test_method: str,
    created: int,
    balance_transaction: str | None,
    decline_code: str | None,
) -> dict[str, Any]:
    brand, last4, _ = TEST_PAYMENT_METHODS[test_method]
    paid = decline_code is None
    return {
        "id": new_object_id("ch"),
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": intent["amount"] if paid else 0,
        "amount_refunded": 0,
        "application": None,
        "balance_transaction": balance_transaction,
        "billing_details": {
            "address": {
                "city": None,
                "country": None,
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": None,
            "name": None,
            "phone": None,
        },
        "calculated_statement_descriptor": "PAYMUX SANDBOX",
        "captured": paid,
        "created": created,
        "currency": intent["currency"],
        "customer": None,
        "description": intent["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None if paid else "card_declined",
        "failure_message": None
        if paid
        else DECLINE_MESSAGES.get(decline_code or "", "Your card was declined."),
        "fraud_details": {},
        "livemode": False,
        # Stripe copies the PaymentIntent's metadata to the charge at confirmation.
        "metadata": dict(intent["metadata"]),
        "outcome": {
            "network_status": "approved_by_network" if paid else "declined_by_network",
            "reason": None if paid else decline_code,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete." if paid else "The bank did not return any further details.",
            "type": "authorized" if paid else "issuer_declined",
        },
        "paid": paid,
        "payment_intent": intent["id"],
        "payment_method": payment_method,
        "payment_method_details": {
            "card": {
                "brand": brand,
                "country": "US",
                "exp_month": 12,
                "exp_year": 2034,
                "funding": "credit",
                "last4": last4,
                "network": brand,
            },
            "type": "card",
        },
        "receipt_email": None,
        "receipt_url": None,
        "refunded": False,
        "review": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded" if paid else "failed",
        "transfer_data": None,
        "transfer_group": None,
    }


def card_error(*, charge_id: str, payment_method: str, decline_code: str) -> dict[str, Any]:
    """The `last_payment_error` (and API error body) of a declined card."""
    return {
        "charge": charge_id,
        "code": "expired_card" if decline_code == "expired_card" else "card_declined",
        "decline_code": decline_code,
        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
        "message": DECLINE_MESSAGES.get(decline_code, "Your card was declined."),
        "payment_method": {"id": payment_method, "object": "payment_method", "type": "card"},
        "type": "card_error",
    }


def refund(
    *,
    amount: int,
    intent: dict[str, Any],
    charge_id: str,
    created: int,
    balance_transaction: str,
    metadata: dict[str, str],
    reason: str | None,
) -> dict[str, Any]:
    return {
        "id": new_object_id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": balance_transaction,
        "charge": charge_id,
        "created": created,
        "currency": intent["currency"],
        "destination_details": {
            "card": {
                "reference_status": "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "metadata": metadata,
        "payment_intent": intent["id"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }


def balance_transaction(
    *,
    amount: int,
    currency: str,
    created: int,
    source: str,
    kind: str,
    description: str | None,
    fee: int = 0,
) -> dict[str, Any]:
    """`kind` is Stripe's `type`: charge, refund or refund_failure."""
    fee_details = (
        [
            {
                "amount": fee,
                "application": None,
                "currency": currency,
                "description": "Stripe processing fees",
                "type": "stripe_fee",
            }
        ]
        if fee
        else []
    )
    return {
        "id": new_object_id("txn"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": created + 2 * 86_400,
        "created": created,
        "currency": currency,
        "description": description,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": fee_details,
        "net": amount - fee,
        "reporting_category": kind,
        "source": source,
        "status": "pending",
        "type": kind,
    }


def processing_fee(amount: int) -> int:
    """Stripe's standard card pricing, 2.9% + 30 minor units, rounded half up."""
    return (amount * 29 + 500) // 1000 + 30


def event(
    event_type: str, obj: dict[str, Any], *, created: int, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": obj}
    if previous:
        data["previous_attributes"] = previous
    return {
        "id": new_object_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def error_body(
    message: str,
    *,
    error_type: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Stripe's error shape: `{"error": {"type", "code", "message", "param", "doc_url", ...}}`."""
    error: dict[str, Any] = {"message": message, "type": error_type}
    if code is not None:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param is not None:
        error["param"] = param
    return {"error": error | (extra or {})}
