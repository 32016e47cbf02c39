"""The UnionPay online payments (全渠道 5.1.0) adapter: web (signed form post to frontTransReq.do),
app (`tn` from appTransReq.do) and qr (申请二维码 on backTransReq.do); query, refund, refund query,
notifications and the daily statement. Hand-written on `cryptography`: no UnionPay SDK on PyPI is
kept up."""

from __future__ import annotations

from datetime import date

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
from paymux.channels.unionpay import notifications
from paymux.channels.unionpay import protocol as p
from paymux.channels.unionpay.credentials import UnionPayCredentials
from paymux.channels.unionpay.signing import SignatureRejected, sign_request, verify_unionpay_signed
from paymux.channels.unionpay.statement import ZmLine, parse_zm, unpack_file_content
from paymux.channels.unionpay.transport import HttpPost, gateway_client
from paymux.domain.errors import ChannelError, InvalidRequest
from paymux.domain.models import Channel, Payment, Refund
from paymux.domain.states import PaymentStatus, RefundStatus

# backUrl of refunds in the built-in sandbox when none is configured: the sandbox never posts to it.
SANDBOX_REFUND_BACK_URL = "https://sandbox.paymux.invalid/webhooks/unionpay"


class UnionPayAdapter:
    channel = Channel.UNIONPAY
    credentials_model: type[ChannelCredentials] = UnionPayCredentials

    def __init__(self, sandbox_store: SandboxStore, http_post: HttpPost | None = None) -> None:
        self.sandbox_store = sandbox_store
        self.http_post = http_post

    def sandbox_credentials(self) -> UnionPayCredentials:
        from paymux.channels.unionpay.sandbox.identity import sandbox_credentials

        return sandbox_credentials()

    def create_payment(self, credentials: ChannelCredentials, request: PaymentRequest) -> CreatedPayment:
        """Raises InvalidRequest for an unknown scene or currency, ChannelError if UnionPay refuses."""
        creds = _unionpay(credentials)
        fields = {
            "version": p.VERSION,
            "encoding": p.ENCODING,
            "txnType": p.TXN_CONSUME,
            "accessType": p.ACCESS_TYPE_MERCHANT,
            "merId": creds.mer_id,
            "orderId": p.to_order_id(request.payment_id),
            "txnTime": p.txn_time_of(request.payment_id),
            "txnAmt": p.amount_field(request.amount, request.currency),
            "currencyCode": p.currency_code(request.currency),
            "backUrl": request.notify_url,
            "payTimeout": p.beijing_time(request.expires_at) if request.expires_at else "",
        }
        if request.scene == "web":
            return self._web(creds, request, fields)
        if request.scene == "app":
            fields |= {
                "txnSubType": p.SUBTYPE_CONSUME,
                "bizType": p.BIZ_GATEWAY,
                "channelType": p.CHANNEL_MOBILE,
            }
            answer = self._call(creds, p.APP_TRANS_PATH, fields)
            return CreatedPayment(credential={"type": "app", "tn": _field(answer, "tn")})
        if request.scene == "qr":
            fields |= {
                "txnSubType": p.SUBTYPE_QR_APPLY,
                "bizType": p.BIZ_DEFAULT,
                "channelType": p.CHANNEL_MOBILE,
            }
            answer = self._call(creds, p.BACK_TRANS_PATH, fields)
            return CreatedPayment(credential={"type": "qr_code", "qr_code": _field(answer, "qrCode")})
        raise InvalidRequest(f"UnionPay has no scene {request.scene!r}", param="scene")

    def _web(
        self, creds: UnionPayCredentials, request: PaymentRequest, fields: dict[str, str]
    ) -> CreatedPayment:
        channel_type = str(request.channel_extra.get("channel_type", p.CHANNEL_PC))
        if channel_type not in (p.CHANNEL_PC, p.CHANNEL_MOBILE):
            raise InvalidRequest(
                "channel_extra.channel_type must be 07 (PC) or 08 (mobile)", param="channel_extra"
            )
        fields |= {
            "txnSubType": p.SUBTYPE_CONSUME,
            "bizType": p.BIZ_GATEWAY,
            "channelType": channel_type,
            "frontUrl": request.return_url or "",
        }
        if creds.uses_builtin_sandbox():
            from paymux.channels.sandbox_page import platform_base_url
            from paymux.channels.unionpay.sandbox import SANDBOX_FRONT_ACTION

            action = f"{platform_base_url(request.notify_url)}{SANDBOX_FRONT_ACTION}"
        else:
            action = f"{str(creds.gateway_url).rstrip('/')}{p.FRONT_TRANS_PATH}"
        signed = sign_request(fields, creds)
        return CreatedPayment(credential={"type": "form_post", "action": action, "fields": signed})

    def query_payment(self, credentials: ChannelCredentials, payment: Payment) -> ChannelPaymentState:
        """Raises ChannelError. An order UnionPay does not know yet still waits for the shopper."""
        answer = self._query(_unionpay(credentials), payment.id)
        pending = ChannelPaymentState(
            payment.id, PaymentStatus.REQUIRES_ACTION, payment.amount, payment.currency
        )
        if answer is None:
            return pending
        code = answer.get("origRespCode", "")
        if code in p.RESP_PENDING:
            return pending
        amount, currency = _amount_of(answer)
        if code == p.RESP_SUCCESS:
            return ChannelPaymentState(
                payment.id,
                PaymentStatus.SUCCEEDED,
                amount,
                currency,
                channel_transaction_id=answer.get("queryId"),
                paid_at=_paid_at(answer),
            )
        return ChannelPaymentState(
            payment.id,
            PaymentStatus.FAILED,
            amount,
            currency,
            failure_code=code or None,
            failure_message=answer.get("origRespMsg"),
        )

    def close_payment(self, credentials: ChannelCredentials, payment: Payment) -> None:
        """UnionPay has no close for an unpaid order: its payTimeout ends it. Checks it is unpaid;
        raises ChannelError if the shopper already paid (refund it instead)."""
        state = self.query_payment(credentials, payment)
        if state.status is PaymentStatus.SUCCEEDED:
            raise ChannelError(
                "The UnionPay order is already paid; refund it instead", code="payment_already_paid"
            )

    def refund(self, credentials: ChannelCredentials, payment: Payment, refund: Refund) -> ChannelRefundState:
        """退货 (txnType 04) against the payment's queryId. Accepted refunds are pending until the
        refund notification or a query; a refused one is failed. Raises ChannelError."""
        creds = _unionpay(credentials)
        if not payment.channel_transaction_id:
            raise ChannelError("The payment has no UnionPay queryId to refund")
        qr = payment.scene == "qr"
        fields = {
            "version": p.VERSION,
            "encoding": p.ENCODING,
            "txnType": p.TXN_REFUND,
            "txnSubType": p.SUBTYPE_DEFAULT,
            "bizType": p.BIZ_DEFAULT if qr else p.BIZ_GATEWAY,
            "channelType": p.CHANNEL_MOBILE if payment.scene in ("qr", "app") else p.CHANNEL_PC,
            "accessType": p.ACCESS_TYPE_MERCHANT,
            "merId": creds.mer_id,
            "orderId": p.to_order_id(refund.id),
            "txnTime": p.txn_time_of(refund.id),
            "txnAmt": p.amount_field(refund.amount, refund.currency),
            "currencyCode": p.currency_code(refund.currency),
            "origQryId": payment.channel_transaction_id,
            "backUrl": _refund_back_url(creds, payment),
            "reqReserved": payment.id,
        }
        answer = self._call(creds, p.BACK_TRANS_PATH, fields, require_success=False)
        code = answer.get("respCode", "")
        state = ChannelRefundState(
            refund.id,
            payment.id,
            RefundStatus.PENDING,
            refund.amount,
            refund.currency,
            channel_refund_id=answer.get("queryId"),
        )
        if code == p.RESP_SUCCESS or code in p.RESP_PENDING:
            return state
        return ChannelRefundState(
            refund.id,
            payment.id,
            RefundStatus.FAILED,
            refund.amount,
            refund.currency,
            failure_code=code,
            failure_message=answer.get("respMsg"),
        )

    def query_refund(
        self, credentials: ChannelCredentials, payment: Payment, refund: Refund
    ) -> ChannelRefundState:
        """Raises ChannelError. A refund UnionPay does not know (yet) stays pending: never claimed failed."""
        answer = self._query(_unionpay(credentials), refund.id)
        code = answer.get("origRespCode", "") if answer else ""
        status = RefundStatus.PENDING
        if code == p.RESP_SUCCESS:
            status = RefundStatus.SUCCEEDED
        elif answer is not None and code not in p.RESP_PENDING:
            status = RefundStatus.FAILED
        return ChannelRefundState(
            refund.id,
            payment.id,
            status,
            refund.amount,
            refund.currency,
            channel_refund_id=answer.get("queryId") if answer else refund.channel_refund_id,
            failure_code=code if status is RefundStatus.FAILED else None,
            failure_message=answer.get("origRespMsg") if answer and status is RefundStatus.FAILED else None,
        )

    def notification_target(self, request: ProviderRequest) -> NotificationTarget:
        return notifications.target_of(notifications.read_fields(request))

    def verify_notification(self, credentials: ChannelCredentials, request: ProviderRequest) -> Notification:
        return notifications.verify(notifications.read_fields(request), _unionpay(credentials))

    def acknowledge(self, accepted: bool) -> ProviderResponse:
        return notifications.acknowledgement(accepted)

    def download_statement(self, credentials: ChannelCredentials, day: date) -> list[StatementLine]:
        """The ZM file of settlement `day` (Beijing); orders paymux did not make are left out.
        Raises ChannelError."""
        creds = _unionpay(credentials)
        fields = {
            "version": p.VERSION,
            "encoding": p.ENCODING,
            "txnType": p.TXN_FILE_TRANSFER,
            "txnSubType": p.SUBTYPE_FILE,
            "bizType": p.BIZ_DEFAULT,
            "accessType": p.ACCESS_TYPE_MERCHANT,
            "merId": creds.mer_id,
            "settleDate": f"{day:%m%d}",
            "txnTime": p.beijing_time(p.now_unix()),
            "fileType": p.FILE_TYPE_MERCHANT,
        }
        answer = self._call(creds, p.FILE_TRANSFER_PATH, fields)
        try:
            files = unpack_file_content(_field(answer, "fileContent"))
            zm = [content for name, content in files.items() if "ZM_" in name and "ZME_" not in name]
            rows = [row for content in zm for row in parse_zm(content, day)]
        except (ValueError, UnicodeDecodeError) as error:
            raise ChannelError(f"UnionPay statement is malformed: {error}") from None
        return [line for row in rows if row.mer_id in ("", creds.mer_id) for line in _statement_line(row)]

    def _query(self, creds: UnionPayCredentials, object_id: str) -> dict[str, str] | None:
        """queryTrans.do for a paymux order; None if UnionPay has no such order."""
        fields = {
            "version": p.VERSION,
            "encoding": p.ENCODING,
            "txnType": p.TXN_QUERY,
            "txnSubType": p.SUBTYPE_DEFAULT,
            "bizType": p.BIZ_DEFAULT,
            "accessType": p.ACCESS_TYPE_MERCHANT,
            "merId": creds.mer_id,
            "orderId": p.to_order_id(object_id),
            "txnTime": p.txn_time_of(object_id),
        }
        answer = self._call(creds, p.QUERY_TRANS_PATH, fields, require_success=False)
        code = answer.get("respCode", "")
        if code == p.RESP_NOT_FOUND:
            return None
        if code != p.RESP_SUCCESS:
            raise ChannelError(f"UnionPay query failed: {code} {answer.get('respMsg', '')}".strip())
        return answer

    def _call(
        self, creds: UnionPayCredentials, path: str, fields: dict[str, str], *, require_success: bool = True
    ) -> dict[str, str]:
        """Sign, send, parse and verify one back-end request; raises ChannelError."""
        signed = sign_request(fields, creds)
        text = gateway_client(self.sandbox_store, creds, self.http_post).post(path, p.encode_form(signed))
        try:
            answer = p.parse_answer(text)
        except ValueError:
            raise ChannelError("UnionPay answered something that is not a UnionPay answer") from None
        code = answer.get("respCode", "")
        if "signature" not in answer and code != p.RESP_SUCCESS:
            raise ChannelError(f"UnionPay refused the request: {code} {answer.get('respMsg', '')}".strip())
        try:
            verify_unionpay_signed(answer, creds)
        except SignatureRejected as rejected:
            raise ChannelError(f"UnionPay answer failed verification: {rejected}") from None
        for echoed in ("merId", "orderId"):
            if echoed in answer and answer[echoed] != signed.get(echoed):
                raise ChannelError(f"UnionPay answered for another {echoed}")
        if require_success and code != p.RESP_SUCCESS:
            raise ChannelError(f"UnionPay refused the request: {code} {answer.get('respMsg', '')}".strip())
        return answer


def _statement_line(row: ZmLine) -> list[StatementLine]:
    object_id = p.from_order_id(row.order_id)
    if row.txn_type == p.TXN_CONSUME and object_id and object_id.startswith("pay_"):
        return [
            StatementLine(
                kind="payment",
                payment_id=object_id,
                amount=row.txn_amt,
                currency="cny",
                occurred_at=row.occurred_at,
                channel_transaction_id=row.query_id,
                fee=row.fee,
            )
        ]
    if (
        row.txn_type == p.TXN_REFUND
        and object_id
        and object_id.startswith("re_")
        and row.mer_reserved.startswith("pay_")
    ):
        return [
            StatementLine(
                kind="refund",
                payment_id=row.mer_reserved,
                amount=row.txn_amt,
                currency="cny",
                occurred_at=row.occurred_at,
                channel_transaction_id=row.query_id,
                refund_id=object_id,
                fee=row.fee,
            )
        ]
    return []


def _refund_back_url(creds: UnionPayCredentials, payment: Payment) -> str:
    """UnionPay requires backUrl on refunds: the configured notify_url, else the platform URL the
    payment was created with, else the web form's backUrl."""
    fields = payment.credential.get("fields")
    url = (
        creds.notify_url
        or payment.notify_url
        or (fields.get("backUrl") if isinstance(fields, dict) else None)
    )
    if url:
        return str(url)
    if creds.uses_builtin_sandbox():
        return SANDBOX_REFUND_BACK_URL
    raise ChannelError("Set notify_url in the UnionPay credentials: UnionPay needs a backUrl for refunds")


def _amount_of(answer: dict[str, str]) -> tuple[int, str]:
    try:
        return p.parse_amount(answer.get("txnAmt", "")), p.CURRENCIES_BY_CODE[answer.get("currencyCode", "")]
    except (ValueError, KeyError):
        raise ChannelError("UnionPay answer has no valid amount or currency") from None


def _paid_at(answer: dict[str, str]) -> int | None:
    try:
        return p.parse_trace_time(answer["traceTime"], answer["txnTime"])
    except (KeyError, ValueError):
        return None


def _field(answer: dict[str, str], name: str) -> str:
    value = answer.get(name)
    if not value:
        raise ChannelError(f"UnionPay answer has no {name}")
    return value


def _unionpay(credentials: ChannelCredentials) -> UnionPayCredentials:
    if not isinstance(credentials, UnionPayCredentials):
        raise ChannelError("The UnionPay adapter was given another channel's credentials")
    return credentials
