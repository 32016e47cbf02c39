"""paymux's built-in UnionPay sandbox: the gateway (`gateway.SandboxGateway`) and the signed
notifications UnionPay posts to the merchant's `backUrl`."""

from __future__ import annotations

from paymux.channels.base import (
    ChannelCredentials,
    ProviderRequest,
    ProviderResponse,
    SandboxCheckout,
    SandboxStore,
)
from paymux.channels.sandbox_page import serve
from paymux.channels.unionpay import protocol as p
from paymux.channels.unionpay.credentials import UnionPayCredentials
from paymux.channels.unionpay.sandbox.gateway import MESSAGES, Registration, SandboxGateway
from paymux.channels.unionpay.sandbox.identity import sign_as_unionpay
from paymux.channels.unionpay.sandbox.trades import FAILED, SUCCEEDED, Trade, TradeBook, finished
from paymux.domain.errors import Conflict, InvalidRequest
from paymux.domain.models import Channel, Payment, Refund
from paymux.domain.states import PaymentStatus, RefundStatus

# Where a browser posts the web scene's form when the merchant uses the built-in sandbox, under the
# platform's base URL: `UnionPaySandbox.shopper_page` answers there.
SANDBOX_FRONT_ACTION = "/sandbox/unionpay" + p.FRONT_TRANS_PATH
_FORM = "application/x-www-form-urlencoded;charset=UTF-8"
_SCENE_KINDS = {
    "web": (p.SUBTYPE_CONSUME, p.BIZ_GATEWAY),
    "app": (p.SUBTYPE_CONSUME, p.BIZ_GATEWAY),
    "qr": (p.SUBTYPE_QR_APPLY, p.BIZ_DEFAULT),
}


class UnionPaySandbox:
    channel = Channel.UNIONPAY

    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        self.book = TradeBook(store)

    def cashier(self, body: bytes, credentials: ChannelCredentials) -> ProviderResponse:
        """The sandbox cashier a browser reaches by posting the web scene's signed form (checked
        against the merchant's certificate, as UnionPay's front gateway does); opens the trade."""
        creds = _unionpay(credentials)
        registered = Registration(creds.mer_id, creds.sign_cert)
        reply = SandboxGateway(self.store).handle(p.FRONT_TRANS_PATH, body, registered)
        return ProviderResponse(status=reply.status, body=reply.body, content_type=reply.content_type)

    def shopper_page(
        self, request: ProviderRequest, base_url: str, checkout: SandboxCheckout
    ) -> ProviderResponse:
        """The front gateway the `web` scene's form is posted to: the order with Pay and Decline,
        settled through `checkout` (see `paymux.channels.sandbox_page`)."""
        from paymux.channels.unionpay.sandbox.cashier import FrontGatewayFlow

        return serve(request, base_url, checkout, FrontGatewayFlow(self.store), SANDBOX_FRONT_ACTION)

    def notification_for(
        self, credentials: ChannelCredentials, payment: Payment, outcome: PaymentStatus, notify_path: str
    ) -> ProviderRequest:
        """Raises InvalidRequest for an outcome UnionPay does not notify, Conflict if the trade
        already reached the other outcome."""
        if outcome not in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
            raise InvalidRequest(f"UnionPay notifies payments that succeeded or failed, not {outcome}")
        creds = _unionpay(credentials)
        trade = self.book.load(creds.mer_id, p.to_order_id(payment.id)) or _trade_of(creds, payment)
        trade = self._complete(trade, outcome is PaymentStatus.SUCCEEDED)
        fields = {
            **_common(trade),
            "currencyCode": trade.currency_code,
            "settleAmt": str(trade.txn_amt),
            "settleCurrencyCode": trade.currency_code,
        }
        return _notification(fields, notify_path)

    def refund_notification_for(
        self,
        credentials: ChannelCredentials,
        payment: Payment,
        refund: Refund,
        outcome: RefundStatus,
        notify_path: str,
    ) -> ProviderRequest | None:
        """Raises InvalidRequest for a pending outcome, Conflict if the refund already reached the other."""
        if outcome is RefundStatus.PENDING:
            raise InvalidRequest("UnionPay notifies refunds that succeeded or failed")
        creds = _unionpay(credentials)
        trade = self.book.load(creds.mer_id, p.to_order_id(refund.id)) or Trade(
            mer_id=creds.mer_id,
            order_id=p.to_order_id(refund.id),
            txn_type=p.TXN_REFUND,
            txn_sub_type=p.SUBTYPE_DEFAULT,
            biz_type=p.BIZ_GATEWAY,
            txn_time=p.txn_time_of(refund.id),
            txn_amt=refund.amount,
            currency_code=p.currency_code(refund.currency),
            orig_query_id=payment.channel_transaction_id or "",
            req_reserved=payment.id,
        )
        trade = self._complete(trade, outcome is RefundStatus.SUCCEEDED, allow_reversal=True)
        fields = {
            **_common(trade),
            "currencyCode": trade.currency_code,
            "origQryId": trade.orig_query_id,
            "reqReserved": trade.req_reserved,
        }
        return _notification(fields, notify_path)

    def _complete(self, trade: Trade, succeeded: bool, *, allow_reversal: bool = False) -> Trade:
        status = SUCCEEDED if succeeded else FAILED
        if trade.status == status:
            return trade
        if trade.status in (SUCCEEDED, FAILED) and not allow_reversal:
            raise Conflict(f"The UnionPay sandbox trade already {trade.status}")
        done = finished(trade, status, "00" if succeeded else "01")
        self.book.save(done)
        return done


def _trade_of(credentials: UnionPayCredentials, payment: Payment) -> Trade:
    """The trade of a payment the gateway never saw (a web form the shopper did not post here)."""
    sub_type, biz_type = _SCENE_KINDS.get(payment.scene, (p.SUBTYPE_CONSUME, p.BIZ_GATEWAY))
    return Trade(
        mer_id=credentials.mer_id,
        order_id=p.to_order_id(payment.id),
        txn_type=p.TXN_CONSUME,
        txn_sub_type=sub_type,
        biz_type=biz_type,
        txn_time=p.txn_time_of(payment.id),
        txn_amt=payment.amount,
        currency_code=p.currency_code(payment.currency),
    )


def _common(trade: Trade) -> dict[str, str]:
    return {
        "version": p.VERSION,
        "encoding": p.ENCODING,
        "accessType": p.ACCESS_TYPE_MERCHANT,
        "bizType": trade.biz_type,
        "txnType": trade.txn_type,
        "txnSubType": trade.txn_sub_type,
        "merId": trade.mer_id,
        "orderId": trade.order_id,
        "txnTime": trade.txn_time,
        "txnAmt": str(trade.txn_amt),
        "queryId": trade.query_id,
        "traceNo": trade.trace_no,
        "traceTime": trade.trace_time,
        "settleDate": trade.settle_date[4:],
        "respCode": trade.resp_code,
        "respMsg": MESSAGES.get(trade.resp_code, "交易失败"),
    }


def _notification(fields: dict[str, str], notify_path: str) -> ProviderRequest:
    body = p.encode_form(sign_as_unionpay({key: value for key, value in fields.items() if value}))
    return ProviderRequest(method="POST", path=notify_path, headers={"content-type": _FORM}, body=body)


def _unionpay(credentials: ChannelCredentials) -> UnionPayCredentials:
    if not isinstance(credentials, UnionPayCredentials):
        raise InvalidRequest("Not UnionPay credentials")
    return credentials
