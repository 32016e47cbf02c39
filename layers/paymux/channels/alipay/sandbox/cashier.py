"""The sandbox cashier as a shopper page: where the `h5` (`wap.pay`) and `pc` (`page.pay`) redirects
take the shopper's browser. The signed request is verified as Alipay's cashier does, checked
against the payment, and opens the sandbox's trade; the shopper then pays or declines."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from paymux.channels.alipay import protocol as p
from paymux.channels.alipay.credentials import AlipayCredentials
from paymux.channels.alipay.sandbox.gateway import AlipaySandboxGateway
from paymux.channels.alipay.sandbox.trades import Rejected
from paymux.channels.base import ChannelCredentials
from paymux.channels.sandbox_page import PageRefused
from paymux.domain.models import Payment
from paymux.domain.states import PaymentStatus

# The browser scenes; `app.pay` order strings go to the Alipay app, never to a page.
BROWSER_METHODS = frozenset({p.WAP_PAY, p.PAGE_PAY})


class CashierFlow:
    """`ShopperFlow` of Alipay's cashier."""

    provider = "Alipay sandbox cashier"

    def __init__(self, gateway: AlipaySandboxGateway) -> None:
        self.gateway = gateway

    def payment_id(self, signed: str) -> str:
        """The request's unverified `out_trade_no`. Raises PageRefused."""
        try:
            biz: Any = json.loads(dict(parse_qsl(signed)).get("biz_content", ""))
        except ValueError:
            raise PageRefused(400, "isv.invalid-parameter: biz_content is not JSON") from None
        out_trade_no = biz.get("out_trade_no") if isinstance(biz, dict) else None
        if not isinstance(out_trade_no, str) or not out_trade_no:
            raise PageRefused(400, "isv.missing-parameter: out_trade_no")
        return out_trade_no

    def verify(self, signed: str, payment: Payment, credentials: ChannelCredentials) -> None:
        """Verify the signature with the merchant app's key, match the order to the payment and open
        the trade while it waits for the shopper. Raises PageRefused."""
        if not isinstance(credentials, AlipayCredentials):
            raise PageRefused(400, "The payment's credentials are not Alipay's")
        try:
            params, biz = self.gateway.verify_client_request(
                signed, app_public_key=credentials.app_public_key()
            )
        except Rejected as refused:
            raise PageRefused(400, f"{refused.sub_code}: {refused.sub_msg}") from None
        if params["method"] not in BROWSER_METHODS or params["app_id"] != credentials.app_id:
            raise PageRefused(400, "isv.invalid-method: not a cashier request of this merchant's app")
        if (biz["out_trade_no"], biz["total_amount"]) != (
            payment.id,
            p.yuan(payment.amount, payment.currency),
        ):
            raise PageRefused(400, "ACQ.CONTEXT_INCONSISTENT: the order does not match the payment")
        if payment.status is not PaymentStatus.REQUIRES_ACTION:
            return
        try:
            self.gateway.trades.open(params["app_id"], params["method"], biz, params.get("notify_url"))
        except Rejected as refused:
            raise PageRefused(409, f"{refused.sub_code}: {refused.sub_msg}") from None
