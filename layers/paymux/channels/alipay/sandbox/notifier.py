"""The sandbox as a `ChannelSandbox`: settles a trade as a shopper would and produces Alipay's signed,
form-encoded `trade_status_sync` notification; also serves the shopper-side cashier page."""

from __future__ import annotations

import html
import secrets
import time
from collections.abc import Callable
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric import rsa

from paymux.channels.alipay import protocol as p
from paymux.channels.alipay.credentials import AlipayCredentials
from paymux.channels.alipay.sandbox.gateway import AlipaySandboxGateway
from paymux.channels.alipay.sandbox.identity import SANDBOX_SELLER_ID, platform_private_key
from paymux.channels.alipay.sandbox.trades import PAID, TRADE_CLOSED, Rejected, Trade
from paymux.channels.alipay.signing import NOTIFICATION_UNSIGNED, sign_text, signing_string
from paymux.channels.base import (
    ChannelCredentials,
    ProviderRequest,
    ProviderResponse,
    SandboxCheckout,
    SandboxStore,
)
from paymux.channels.sandbox_page import serve
from paymux.domain.errors import Conflict, InvalidRequest
from paymux.domain.models import Channel, Payment, Refund
from paymux.domain.states import PaymentStatus, RefundStatus

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


class AlipaySandbox:
    channel = Channel.ALIPAY

    def __init__(self, store: SandboxStore, clock: Callable[[], float] = time.time) -> None:
        self.gateway = AlipaySandboxGateway(store, clock)
        self.clock = clock

    def notification_for(
        self, credentials: ChannelCredentials, payment: Payment, outcome: PaymentStatus, notify_path: str
    ) -> ProviderRequest:
        """Settle the sandbox trade (`succeeded` pays it; `failed` or `closed` closes it: Alipay has no
        failed trade, an unpaid one closes) and return its signed notification. Raises Conflict if the
        trade already settled the other way, InvalidRequest for a non-CNY payment."""
        if not isinstance(credentials, AlipayCredentials):
            raise InvalidRequest("Alipay sandbox needs Alipay credentials")
        trade = self._trade(credentials.app_id, payment)
        try:
            if outcome is PaymentStatus.SUCCEEDED:
                trade = self.gateway.trades.pay(trade)
            elif outcome in (PaymentStatus.FAILED, PaymentStatus.CLOSED):
                trade = self.gateway.trades.close(trade)
        except Rejected as refused:
            raise Conflict(
                f"The Alipay sandbox trade cannot settle as {outcome}: {refused.sub_code}"
            ) from None
        params = self._notification(trade)
        params["sign"] = sign_text(signing_string(params, NOTIFICATION_UNSIGNED), platform_private_key())
        return ProviderRequest(
            method="POST", path=notify_path, headers={"content-type": FORM_CONTENT_TYPE},
            body=urlencode(params).encode("utf-8"),
        )  # fmt: skip

    def refund_notification_for(
        self, credentials: ChannelCredentials, payment: Payment, refund: Refund, outcome: RefundStatus,
        notify_path: str,
    ) -> ProviderRequest | None:  # fmt: skip
        """None: Alipay refunds are synchronous, the refund call's answer is the outcome."""
        del credentials, payment, refund, outcome, notify_path
        return None

    def cashier(self, query: str, *, app_public_key: rsa.RSAPublicKey | None = None) -> ProviderResponse:
        """The page a shopper's browser reaches with a signed `wap.pay`/`page.pay` URL: verifies it and
        opens the trade, as Alipay's cashier does."""
        try:
            trade = self.gateway.open_client_request(query, app_public_key=app_public_key)
        except Rejected as refused:
            reason = html.escape(f"{refused.sub_code} {refused.sub_msg}")
            body = f"<h1>Alipay sandbox</h1><p>Refused: {reason}</p>"
            return ProviderResponse(400, body, content_type="text/html; charset=utf-8")
        body = (
            f"<h1>Alipay sandbox cashier</h1><p>{html.escape(trade['subject'])}: ¥{trade['total_amount']}"
            f" ({html.escape(trade['out_trade_no'])}, {trade['trade_status']})</p>"
            "<p>Complete it with <code>POST /v1/test/payments/{id}/complete</code>.</p>"
        )
        return ProviderResponse(200, body, content_type="text/html; charset=utf-8")

    def shopper_page(
        self, request: ProviderRequest, base_url: str, checkout: SandboxCheckout
    ) -> ProviderResponse:
        """The cashier the `h5` and `pc` redirects open: the order with Pay and Decline, settled
        through `checkout` (see `paymux.channels.sandbox_page`)."""
        from paymux.channels.alipay.adapter import SANDBOX_CASHIER_PATH
        from paymux.channels.alipay.sandbox.cashier import CashierFlow

        return serve(request, base_url, checkout, CashierFlow(self.gateway), SANDBOX_CASHIER_PATH)

    def _trade(self, app_id: str, payment: Payment) -> Trade:
        trade = self.gateway.trades.find(app_id, payment.id)
        if trade is not None:
            return trade
        method = p.SCENE_METHODS.get(payment.scene, (p.PRECREATE, ""))[0]
        order = {"out_trade_no": payment.id, "subject": payment.subject,
                 "total_amount": p.yuan(payment.amount, payment.currency)}  # fmt: skip
        return self.gateway.trades.open(app_id, method, order, None)

    def _notification(self, trade: Trade) -> dict[str, str]:
        params = {
            "notify_time": p.beijing_time(self.clock()), "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(17), "app_id": trade["app_id"], "auth_app_id": trade["app_id"],
            "charset": p.CHARSET, "version": p.VERSION, "sign_type": p.SIGN_TYPE,
            "trade_no": trade["trade_no"], "out_trade_no": trade["out_trade_no"],
            "seller_id": SANDBOX_SELLER_ID,
            "trade_status": trade["trade_status"], "total_amount": trade["total_amount"],
            "subject": trade["subject"], "gmt_create": trade["gmt_create"],
        }  # fmt: skip
        if trade["trade_status"] in PAID:
            amount = trade["total_amount"]
            params.update(
                gmt_payment=trade["gmt_payment"], buyer_id=trade["buyer_user_id"],
                buyer_logon_id=trade["buyer_logon_id"], receipt_amount=amount, invoice_amount=amount,
                buyer_pay_amount=amount, point_amount="0.00",
                fund_bill_list=f'[{{"amount":"{amount}","fundChannel":"ALIPAYACCOUNT"}}]',
            )  # fmt: skip
        if trade["trade_status"] == TRADE_CLOSED:
            params["gmt_close"] = trade["gmt_close"]
        return params
