"""Alipay's asynchronous `trade_status_sync` notifications: a form-encoded POST signed with RSA2
over the sorted parameters without `sign` and `sign_type`, verified with Alipay's public key."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from paymux.channels.alipay import protocol as p
from paymux.channels.alipay.credentials import AlipayCredentials
from paymux.channels.alipay.signing import NOTIFICATION_UNSIGNED, verify_params
from paymux.channels.base import ChannelPaymentState, NotificationTarget, ProviderRequest
from paymux.domain.errors import InvalidRequest, NotificationRejected
from paymux.domain.states import PaymentStatus

TRADE_STATUSES: dict[str, PaymentStatus] = {
    "WAIT_BUYER_PAY": PaymentStatus.REQUIRES_ACTION,
    "TRADE_SUCCESS": PaymentStatus.SUCCEEDED,
    "TRADE_FINISHED": PaymentStatus.SUCCEEDED,
    "TRADE_CLOSED": PaymentStatus.CLOSED,
}
_REQUIRED = ("notify_type", "notify_id", "app_id", "sign", "sign_type", "out_trade_no", "trade_status",
             "total_amount")  # fmt: skip


def parse_form(body: bytes) -> dict[str, str]:
    """Raises NotificationRejected unless `body` is a UTF-8 form without repeated names."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise NotificationRejected("Not a form-encoded Alipay notification") from None
    params = dict(pairs)
    if len(params) != len(pairs):
        raise NotificationRejected("The Alipay notification repeats a parameter")
    return params


def notification_target(request: ProviderRequest) -> NotificationTarget:
    """The payment the notification names, unverified. Raises NotificationRejected."""
    params = parse_form(request.body)
    if params.get("notify_type") != "trade_status_sync" or not params.get("out_trade_no"):
        raise NotificationRejected("Not an Alipay trade_status_sync notification")
    return NotificationTarget(payment_id=params["out_trade_no"])


def verify_notification(credentials: AlipayCredentials, request: ProviderRequest) -> ChannelPaymentState:
    """Raises NotificationRejected for a bad signature, another app's notification, or bad fields.
    A refund's notification reports the trade as paid: it changes nothing here, because Alipay
    refunds are synchronous and already recorded by the refund call."""
    params = parse_form(request.body)
    missing = [name for name in _REQUIRED if not params.get(name)]
    if missing:
        raise NotificationRejected(f"The Alipay notification lacks {', '.join(missing)}")
    if params["sign_type"] != p.SIGN_TYPE or params.get("charset", p.CHARSET).lower() != p.CHARSET:
        raise NotificationRejected("The Alipay notification is not RSA2 in utf-8")
    if not verify_params(params, credentials.platform_key(), NOTIFICATION_UNSIGNED):
        raise NotificationRejected("The Alipay notification's signature does not verify")
    if params["app_id"] != credentials.app_id:
        raise NotificationRejected("The Alipay notification is for another app_id")
    if params["notify_type"] != "trade_status_sync":
        raise NotificationRejected("Not an Alipay trade_status_sync notification")
    try:
        return trade_state(params, paid_at_field="gmt_payment")
    except ValueError as error:
        raise NotificationRejected(f"The Alipay notification is malformed: {error}") from None


def trade_state(fields: Mapping[str, str], *, paid_at_field: str) -> ChannelPaymentState:
    """A trade as paymux sees it, from a notification or a query answer. A TRADE_CLOSED trade that
    was paid was refunded in full: for paymux the payment stays succeeded. Raises ValueError."""
    status = TRADE_STATUSES.get(fields.get("trade_status", ""))
    if status is None:
        raise ValueError("unknown trade_status")
    paid_at = p.parse_beijing_time(fields[paid_at_field]) if fields.get(paid_at_field) else None
    if status is PaymentStatus.CLOSED and paid_at is not None:
        status = PaymentStatus.SUCCEEDED
    try:
        amount = p.fen(fields.get("total_amount", ""))
    except InvalidRequest:
        raise ValueError("total_amount is not a yuan amount") from None
    return ChannelPaymentState(
        payment_id=fields["out_trade_no"], status=status, amount=amount, currency=p.CURRENCY,
        channel_transaction_id=fields.get("trade_no") or None,
        paid_at=paid_at if status is PaymentStatus.SUCCEEDED else None,
    )  # fmt: skip
