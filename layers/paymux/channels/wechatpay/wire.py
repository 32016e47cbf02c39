"""WeChat Pay API v3 wire formats shared by the adapter and the sandbox: paths, times (RFC 3339 in
Beijing time), compact JSON, and the provider's trade and refund states mapped to paymux's."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from paymux.channels.base import ChannelPaymentState, ChannelRefundState
from paymux.domain.states import PaymentStatus, RefundStatus

BEIJING = timezone(timedelta(hours=8))
CURRENCY = "CNY"

# paymux scene -> the API's path segment and the `trade_type` WeChat Pay reports.
SCENES: dict[str, tuple[str, str]] = {
    "native": ("native", "NATIVE"),
    "h5": ("h5", "MWEB"),
    "app": ("app", "APP"),
    "jsapi": ("jsapi", "JSAPI"),
}

TRANSACTIONS = "/v3/pay/transactions"
REFUNDS = "/v3/refund/domestic/refunds"
TRADE_BILL = "/v3/bill/tradebill"

TRADE_STATES: dict[str, PaymentStatus] = {
    "SUCCESS": PaymentStatus.SUCCEEDED,
    "REFUND": PaymentStatus.SUCCEEDED,  # paid, then (partly) refunded
    "NOTPAY": PaymentStatus.REQUIRES_ACTION,
    "USERPAYING": PaymentStatus.REQUIRES_ACTION,
    "CLOSED": PaymentStatus.CLOSED,
    "REVOKED": PaymentStatus.CLOSED,
    "PAYERROR": PaymentStatus.FAILED,
}

REFUND_STATES: dict[str, RefundStatus] = {
    "SUCCESS": RefundStatus.SUCCEEDED,
    "PROCESSING": RefundStatus.PENDING,
    "CLOSED": RefundStatus.FAILED,
    "ABNORMAL": RefundStatus.FAILED,
}


class WireFormatError(ValueError):
    """A WeChat Pay message lacks a field or carries one of the wrong type."""


def dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(body: str) -> dict[str, Any]:
    """Raises WireFormatError unless `body` is a JSON object."""
    try:
        value = json.loads(body)
    except ValueError:
        raise WireFormatError("not JSON") from None
    if not isinstance(value, dict):
        raise WireFormatError("not a JSON object")
    return value


def format_time(unix_seconds: int) -> str:
    """`2018-06-08T10:34:56+08:00`."""
    return datetime.fromtimestamp(unix_seconds, BEIJING).isoformat(timespec="seconds")


def parse_time(value: str) -> int:
    """Raises WireFormatError unless `value` is RFC 3339 with an offset."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise WireFormatError(f"not an RFC 3339 time: {value!r}") from None
    if moment.tzinfo is None:
        raise WireFormatError(f"time without offset: {value!r}")
    return int(moment.timestamp())


def beijing_day(unix_seconds: int) -> date:
    return datetime.fromtimestamp(unix_seconds, BEIJING).date()


def beijing_seconds(local: str) -> int:
    """`2021-01-28 17:07:11` (Beijing time, as in statements) to unix seconds."""
    try:
        moment = datetime.strptime(local, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError:
        raise WireFormatError(f"not a statement time: {local!r}") from None
    return int(moment.astimezone(UTC).timestamp())


def field(data: dict[str, Any], name: str, kind: type) -> Any:
    """`data[name]`, which must be a `kind`; raises WireFormatError."""
    value = data.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise WireFormatError(f"{name} missing or not {kind.__name__}")
    return value


def payment_state(transaction: dict[str, Any]) -> ChannelPaymentState:
    """A query answer's or payment notification's `transaction`; raises WireFormatError."""
    trade_state = field(transaction, "trade_state", str)
    if trade_state not in TRADE_STATES:
        raise WireFormatError(f"unknown trade_state {trade_state[:20]!r}")
    amount = field(transaction, "amount", dict)
    status = TRADE_STATES[trade_state]
    success_time = transaction.get("success_time")
    return ChannelPaymentState(
        payment_id=field(transaction, "out_trade_no", str),
        status=status,
        amount=field(amount, "total", int),
        currency=str(amount.get("currency", CURRENCY)).lower(),
        channel_transaction_id=transaction.get("transaction_id") or None,
        paid_at=parse_time(success_time) if status is PaymentStatus.SUCCEEDED and success_time else None,
        failure_code=trade_state if status is PaymentStatus.FAILED else None,
        failure_message=transaction.get("trade_state_desc") if status is PaymentStatus.FAILED else None,
    )


def refund_state(refund: dict[str, Any], status_field: str = "status") -> ChannelRefundState:
    """A refund answer (`status`) or refund notification (`refund_status`); raises WireFormatError."""
    provider_status = field(refund, status_field, str)
    if provider_status not in REFUND_STATES:
        raise WireFormatError(f"unknown refund status {provider_status[:20]!r}")
    amount = field(refund, "amount", dict)
    status = REFUND_STATES[provider_status]
    return ChannelRefundState(
        refund_id=field(refund, "out_refund_no", str),
        payment_id=field(refund, "out_trade_no", str),
        status=status,
        amount=field(amount, "refund", int),
        # Refund notifications carry no currency; WeChat Pay's domestic refunds are CNY only.
        currency=str(amount.get("currency", CURRENCY)).lower(),
        channel_refund_id=refund.get("refund_id") or None,
        failure_code=provider_status if status is RefundStatus.FAILED else None,
        failure_message=f"WeChat Pay reports the refund {provider_status}"
        if status is RefundStatus.FAILED
        else None,
    )
