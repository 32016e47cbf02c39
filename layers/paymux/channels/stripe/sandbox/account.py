"""The sandbox account's behaviour: what Stripe does to PaymentIntents, charges, refunds and balance
transactions for each API call, with Stripe's error codes. Amounts are Stripe API amounts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from paymux.channels.stripe.sandbox import objects
from paymux.channels.stripe.sandbox.state import SandboxState

_OPEN_INTENT_STATES = frozenset(
    {"requires_payment_method", "requires_confirmation", "requires_action", "processing"}
)
_REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})
_CANCELLATION_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer", "abandoned"})
_METADATA_SEARCH = re.compile(r"^metadata\['([A-Za-z0-9_\-]+)'\]:'([^']*)'$")
_PAYMENT_ID_KEY = "paymux_payment_id"


class StripeApiError(Exception):
    """An API error as Stripe answers it: an HTTP status and `{"error": {...}}`."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body["error"]["message"])
        self.status = status
        self.body = body


def invalid(
    message: str, *, code: str | None = None, param: str | None = None, status: int = 400
) -> StripeApiError:
    return StripeApiError(status, objects.error_body(message, code=code, param=param))


def missing(kind: str, object_id: str, param: str) -> StripeApiError:
    return invalid(f"No such {kind}: '{object_id}'", code="resource_missing", param=param, status=404)


class SandboxAccount:
    """One Stripe test account. Every method raises StripeApiError where Stripe would refuse."""

    def __init__(self, state: SandboxState, clock: Callable[[], int]) -> None:
        self.state = state
        self.clock = clock

    # PaymentIntents

    def create_payment_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        amount = _positive_int(params.get("amount"), "amount")
        currency = params.get("currency")
        if not isinstance(currency, str) or not re.fullmatch(r"[a-z]{3}", currency):
            raise invalid("Missing required param: currency.", code="parameter_missing", param="currency")
        automatic = params.get("automatic_payment_methods")
        types = params.get("allowed_payment_method_types", params.get("payment_method_types", ["card"]))
        if not isinstance(types, list) or any(t != "card" for t in types):
            raise invalid(
                "The sandbox accepts only the card payment method type.",
                code="payment_intent_invalid_parameter",
                param="allowed_payment_method_types",
            )
        intent = objects.payment_intent(
            amount=amount,
            currency=currency,
            created=self.clock(),
            description=params.get("description"),
            metadata=_metadata(params.get("metadata")),
            payment_method_types=types,
            automatic_payment_methods=(
                {"allow_redirects": automatic.get("allow_redirects", "always"), "enabled": True}
                if isinstance(automatic, dict) and automatic.get("enabled") == "true"
                else None
            ),
        )
        self._save_intent(intent)
        if params.get("confirm") == "true":
            return self.confirm_payment_intent(intent["id"], params)
        return intent

    def retrieve_payment_intent(self, intent_id: str, expand: Any = None) -> dict[str, Any]:
        """`expand[]=latest_charge` replaces the charge id with the charge."""
        intent = self.state.get(intent_id)
        if intent is None or intent.get("object") != "payment_intent":
            raise missing("payment_intent", intent_id, "intent")
        if isinstance(expand, list) and "latest_charge" in expand and intent["latest_charge"]:
            intent["latest_charge"] = self.state.get(intent["latest_charge"]) or intent["latest_charge"]
        return intent

    def search_payment_intents(self, query: str) -> list[dict[str, Any]]:
        """Only `metadata['paymux_payment_id']:'pay_...'`, the query paymux sends."""
        match = _METADATA_SEARCH.match(query.strip())
        if match is None or match.group(1) != _PAYMENT_ID_KEY:
            raise invalid(
                "The sandbox searches PaymentIntents by metadata['paymux_payment_id'] only.",
                code="parameter_invalid_string",
                param="query",
            )
        intent_id = self.state.intent_id_of(match.group(2))
        return [self.retrieve_payment_intent(intent_id)] if intent_id else []

    def confirm_payment_intent(self, intent_id: str, params: dict[str, Any]) -> dict[str, Any]:
        intent = self.retrieve_payment_intent(intent_id)
        self._require_state(intent, _OPEN_INTENT_STATES - {"processing"}, "confirm")
        test_method = params.get("payment_method") or intent.get("payment_method")
        if not isinstance(test_method, str):
            raise invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
                param="payment_method",
            )
        if test_method not in objects.TEST_PAYMENT_METHODS:
            raise missing("PaymentMethod", test_method, "payment_method")
        decline_code = objects.TEST_PAYMENT_METHODS[test_method][2]
        if decline_code is None:
            return self.succeed(intent, test_method)
        declined = self.decline(intent, test_method, decline_code)
        raise StripeApiError(402, {"error": {**declined["last_payment_error"], "payment_intent": declined}})

    def succeed(self, intent: dict[str, Any], test_method: str = "pm_card_visa") -> dict[str, Any]:
        """Charge the card: a succeeded charge, its balance transaction and a succeeded intent."""
        now = self.clock()
        method = objects.payment_method_id(test_method)
        charge = objects.charge(
            intent,
            payment_method=method,
            test_method=test_method,
            created=now,
            balance_transaction=None,
            decline_code=None,
        )
        txn = objects.balance_transaction(
            amount=charge["amount"],
            currency=charge["currency"],
            created=now,
            source=charge["id"],
            kind="charge",
            description=intent["description"],
            fee=objects.processing_fee(charge["amount"]),
        )
        charge["balance_transaction"] = txn["id"]
        self.state.put(charge)
        self.state.add_balance_transaction(txn)
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            latest_charge=charge["id"],
            payment_method=method,
            last_payment_error=None,
        )
        self._save_intent(intent)
        return intent

    def decline(self, intent: dict[str, Any], test_method: str, decline_code: str) -> dict[str, Any]:
        """A declined card: a failed charge, and the intent back to requires_payment_method."""
        method = objects.payment_method_id(test_method)
        charge = objects.charge(
            intent,
            payment_method=method,
            test_method=test_method,
            created=self.clock(),
            balance_transaction=None,
            decline_code=decline_code,
        )
        self.state.put(charge)
        intent.update(
            status="requires_payment_method",
            latest_charge=charge["id"],
            payment_method=None,
            last_payment_error=objects.card_error(
                charge_id=charge["id"], payment_method=method, decline_code=decline_code
            ),
        )
        self._save_intent(intent)
        return intent

    def cancel_payment_intent(self, intent_id: str, params: dict[str, Any]) -> dict[str, Any]:
        intent = self.retrieve_payment_intent(intent_id)
        self._require_state(intent, _OPEN_INTENT_STATES | {"requires_capture"}, "cancel")
        reason = params.get("cancellation_reason")
        if reason is not None and reason not in _CANCELLATION_REASONS:
            raise invalid(
                f"Invalid cancellation_reason: {reason}",
                code="parameter_invalid_string",
                param="cancellation_reason",
            )
        intent.update(status="canceled", canceled_at=self.clock(), cancellation_reason=reason)
        self._save_intent(intent)
        return intent

    # Refunds

    def create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        intent_id = params.get("payment_intent")
        if not isinstance(intent_id, str):
            raise invalid(
                "One of `charge` or `payment_intent` is required.",
                code="parameter_missing",
                param="payment_intent",
            )
        intent = self.retrieve_payment_intent(intent_id)
        charge = self.state.get(str(intent.get("latest_charge")))
        if intent["status"] != "succeeded" or charge is None:
            raise invalid(
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                code="charge_not_refundable",
                param="payment_intent",
            )
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining == 0:
            raise invalid(f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
        amount = _positive_int(params.get("amount", remaining), "amount")
        if amount > remaining:
            raise invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                code="amount_too_large",
                param="amount",
            )
        reason = params.get("reason")
        if reason is not None and reason not in _REFUND_REASONS:
            raise invalid(
                f"Invalid reason: must be one of {', '.join(sorted(_REFUND_REASONS))}",
                code="parameter_invalid_string",
                param="reason",
            )
        now = self.clock()
        txn = objects.balance_transaction(
            amount=-amount,
            currency=charge["currency"],
            created=now,
            source="",
            kind="refund",
            description="REFUND FOR CHARGE",
        )
        refund = objects.refund(
            amount=amount,
            intent=intent,
            charge_id=charge["id"],
            created=now,
            balance_transaction=txn["id"],
            metadata=_metadata(params.get("metadata")),
            reason=reason,
        )
        txn["source"] = refund["id"]
        self.state.add_balance_transaction(txn)
        self.state.put(refund)
        self.state.index_refund(intent["id"], refund["id"])
        charge.update(amount_refunded=charge["amount_refunded"] + amount)
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self.state.put(charge)
        return refund

    def list_refunds(self, params: dict[str, Any]) -> dict[str, Any]:
        """The refunds of `payment_intent`, newest first (the sandbox lists by PaymentIntent only)."""
        intent_id = params.get("payment_intent")
        if not isinstance(intent_id, str):
            raise invalid(
                "The sandbox lists refunds by payment_intent only.",
                code="parameter_missing",
                param="payment_intent",
            )
        refunds = sorted(
            self.state.refunds_of(self.retrieve_payment_intent(intent_id)["id"]),
            key=lambda refund: (refund["created"], refund["id"]),
            reverse=True,
        )
        limit = _int_param(params.get("limit", 10), "limit")
        return {
            "object": "list",
            "data": refunds[:limit],
            "has_more": len(refunds) > limit,
            "url": "/v1/refunds",
        }

    def retrieve_refund(self, refund_id: str) -> dict[str, Any]:
        refund = self.state.get(refund_id)
        if refund is None or refund.get("object") != "refund":
            raise missing("refund", refund_id, "refund")
        return refund

    def fail_refund(self, refund: dict[str, Any], reason: str = "expired_or_canceled_card") -> dict[str, Any]:
        """The refund failed at the card network after the fact: funds come back to the balance."""
        if refund["status"] == "failed":
            return refund
        txn = objects.balance_transaction(
            amount=refund["amount"],
            currency=refund["currency"],
            created=self.clock(),
            source=refund["id"],
            kind="refund_failure",
            description="REFUND FAILURE",
        )
        self.state.add_balance_transaction(txn)
        charge = self.state.get(str(refund["charge"]))
        if charge is not None:
            charge.update(amount_refunded=charge["amount_refunded"] - refund["amount"], refunded=False)
            self.state.put(charge)
        refund.update(status="failed", failure_reason=reason, failure_balance_transaction=txn["id"])
        self.state.put(refund)
        return refund

    # Balance transactions

    def list_balance_transactions(self, params: dict[str, Any]) -> dict[str, Any]:
        """Newest first, filtered by `created[gte|gt|lte|lt]`, paged by `limit` and `starting_after`;
        `expand[]=data.source` replaces each source id with its object."""
        created = params.get("created")
        if not isinstance(created, dict):
            created = {}
        bounds = {op: _int_param(value, f"created[{op}]") for op, value in created.items()}
        low = max(bounds.get("gte", 0), bounds.get("gt", -1) + 1)
        high = min(bounds.get("lte", 2**62), bounds.get("lt", 2**62 + 1) - 1)
        rows = [
            txn
            for day in _days(low, high, self.clock())
            for txn in self.state.balance_transactions_of_day(day)
            if low <= txn["created"] <= high and params.get("type") in (None, txn["type"])
        ]
        rows.sort(key=lambda txn: (txn["created"], txn["id"]), reverse=True)
        if (cursor := params.get("starting_after")) is not None:
            ids = [txn["id"] for txn in rows]
            if cursor not in ids:
                raise missing("balance_transaction", str(cursor), "starting_after")
            rows = rows[ids.index(cursor) + 1 :]
        limit = _int_param(params.get("limit", 10), "limit")
        if not 1 <= limit <= 100:
            raise invalid(
                "Invalid limit: must be between 1 and 100", code="parameter_invalid_integer", param="limit"
            )
        page = rows[:limit]
        if "data.source" in (params.get("expand") or []):
            page = [txn | {"source": self.state.get(txn["source"]) or txn["source"]} for txn in page]
        return {
            "object": "list",
            "data": page,
            "has_more": len(rows) > limit,
            "url": "/v1/balance_transactions",
        }

    def _save_intent(self, intent: dict[str, Any]) -> None:
        self.state.put(intent)
        if (payment_id := intent["metadata"].get(_PAYMENT_ID_KEY)) is not None:
            self.state.index_payment(payment_id, intent["id"])

    @staticmethod
    def _require_state(intent: dict[str, Any], allowed: frozenset[str], action: str) -> None:
        if intent["status"] not in allowed:
            raise StripeApiError(
                400,
                objects.error_body(
                    f"You cannot {action} this PaymentIntent because it has a status of {intent['status']}.",
                    code="payment_intent_unexpected_state",
                    extra={"payment_intent": intent},
                ),
            )


def _positive_int(value: Any, param: str) -> int:
    number = _int_param(value, param)
    if number < 1:
        raise invalid("This value must be greater than or equal to 1.", code="amount_too_small", param=param)
    return number


def _int_param(value: Any, param: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    code = "parameter_missing" if value is None else "parameter_invalid_integer"
    raise invalid(
        f"Invalid integer: {value}" if value is not None else f"Missing required param: {param}.",
        code=code,
        param=param,
    )


def _metadata(value: Any) -> dict[str, str]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict) or len(value) > 50:
        raise invalid(
            "Invalid metadata: a hash of at most 50 keys", code="parameter_invalid_string", param="metadata"
        )
    return {str(key): str(item) for key, item in value.items()}


def _days(low: int, high: int, now: int) -> list[str]:
    """The UTC days the range touches, capped to the 30 days of sandbox retention before `now`."""
    start = max(low, now - 31 * 86_400)
    end = min(high, now + 86_400)
    first = datetime.fromtimestamp(start, UTC).date()
    last = datetime.fromtimestamp(max(end, start), UTC).date()
    return [(first + timedelta(days=offset)).isoformat() for offset in range((last - first).days + 1)]
