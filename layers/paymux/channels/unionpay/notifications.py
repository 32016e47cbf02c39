"""UnionPay's asynchronous notifications (form posts to `backUrl`) for consumes and refunds."""

from __future__ import annotations

from paymux.channels.base import (
    ChannelPaymentState,
    ChannelRefundState,
    Notification,
    NotificationTarget,
    ProviderRequest,
    ProviderResponse,
)
from paymux.channels.unionpay import protocol as p
from paymux.channels.unionpay.credentials import UnionPayCredentials
from paymux.channels.unionpay.signing import SignatureRejected, verify_unionpay_signed
from paymux.domain.errors import NotificationRejected
from paymux.domain.states import PaymentStatus, RefundStatus


def read_fields(request: ProviderRequest) -> dict[str, str]:
    """The notification's non-blank fields (as UnionPay's SDK reads them); raises NotificationRejected."""
    if request.method.upper() != "POST":
        raise NotificationRejected("UnionPay notifications are POSTs")
    try:
        fields = p.parse_form(request.body)
    except (ValueError, UnicodeDecodeError):
        raise NotificationRejected("Not a form-encoded UnionPay notification") from None
    return {key: value for key, value in fields.items() if value}


def target_of(fields: dict[str, str]) -> NotificationTarget:
    """The ids a notification names, unverified; raises NotificationRejected if it names none of paymux's."""
    object_id = p.from_order_id(fields.get("orderId", ""))
    txn_type = fields.get("txnType")
    if txn_type == p.TXN_CONSUME and object_id and object_id.startswith("pay_"):
        return NotificationTarget(payment_id=object_id)
    if txn_type == p.TXN_REFUND and object_id and object_id.startswith("re_"):
        payment_id = fields.get("reqReserved", "")
        return NotificationTarget(
            payment_id=payment_id if payment_id.startswith("pay_") else None, refund_id=object_id
        )
    raise NotificationRejected("Not a UnionPay consume or refund notification of a paymux order")


def verify(fields: dict[str, str], credentials: UnionPayCredentials) -> Notification:
    """Verify signature, signer certificate and merchant, then parse; raises NotificationRejected."""
    try:
        verify_unionpay_signed(fields, credentials)
    except SignatureRejected as rejected:
        raise NotificationRejected(f"UnionPay notification: {rejected}") from None
    if fields.get("merId") != credentials.mer_id:
        raise NotificationRejected("UnionPay notification names another merchant")
    if fields.get("version") != p.VERSION:
        raise NotificationRejected("UnionPay notification is not version 5.1.0")
    target = target_of(fields)
    try:
        amount = p.parse_amount(fields.get("txnAmt", ""))
        currency = p.CURRENCIES_BY_CODE[fields.get("currencyCode", "")]
    except (ValueError, KeyError):
        raise NotificationRejected("UnionPay notification has no valid amount or currency") from None
    code = fields.get("respCode", "")
    if target.refund_id is not None:
        if target.payment_id is None:
            raise NotificationRejected("UnionPay refund notification does not name its payment")
        return ChannelRefundState(
            refund_id=target.refund_id,
            payment_id=target.payment_id,
            amount=amount,
            currency=currency,
            status=_refund_status(code),
            channel_refund_id=fields.get("queryId"),
            failure_code=None if code == p.RESP_SUCCESS else code,
            failure_message=None if code == p.RESP_SUCCESS else fields.get("respMsg"),
        )
    assert target.payment_id is not None  # target_of names a payment or a refund
    status = _payment_status(code)
    return ChannelPaymentState(
        payment_id=target.payment_id,
        status=status,
        amount=amount,
        currency=currency,
        channel_transaction_id=fields.get("queryId"),
        paid_at=_paid_at(fields) if status is PaymentStatus.SUCCEEDED else None,
        failure_code=code if status is PaymentStatus.FAILED else None,
        failure_message=fields.get("respMsg") if status is PaymentStatus.FAILED else None,
    )


def acknowledgement(accepted: bool) -> ProviderResponse:
    """UnionPay needs only an HTTP 200; anything else makes it notify again."""
    return ProviderResponse(status=200, body="ok") if accepted else ProviderResponse(status=400, body="fail")


def _payment_status(code: str) -> PaymentStatus:
    if code == p.RESP_SUCCESS:
        return PaymentStatus.SUCCEEDED
    return PaymentStatus.REQUIRES_ACTION if code in p.RESP_PENDING else PaymentStatus.FAILED


def _refund_status(code: str) -> RefundStatus:
    if code == p.RESP_SUCCESS:
        return RefundStatus.SUCCEEDED
    return RefundStatus.PENDING if code in p.RESP_PENDING else RefundStatus.FAILED


def _paid_at(fields: dict[str, str]) -> int | None:
    try:
        return p.parse_trace_time(fields["traceTime"], fields["txnTime"])
    except (KeyError, ValueError):
        return None
