"""WeChat Pay's h5 page (`checkmweb`) as a shopper page: where an `h5` payment's `h5_url` takes the
shopper's browser. The link's `prepay_id` and `package` must be the ones the sandbox issued for the
trade; the shopper then pays or declines."""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import parse_qsl

from paymux.channels.base import ChannelCredentials
from paymux.channels.sandbox_page import PageRefused
from paymux.channels.wechatpay.credentials import WechatPayCredentials
from paymux.channels.wechatpay.sandbox.book import Book
from paymux.domain.models import Payment


class H5PageFlow:
    """`ShopperFlow` of WeChat Pay's h5 page."""

    provider = "WeChat Pay sandbox"

    def __init__(self, book: Book) -> None:
        self._book = book

    def payment_id(self, signed: str) -> str:
        """The trade the link's ticket names. Raises PageRefused for a link the sandbox never issued."""
        return str(self._ticket(signed)["out_trade_no"])

    def verify(self, signed: str, payment: Payment, credentials: ChannelCredentials) -> None:
        """The ticket belongs to this merchant's h5 trade of this payment. Raises PageRefused."""
        if not isinstance(credentials, WechatPayCredentials):
            raise PageRefused(400, "The payment's credentials are not WeChat Pay's")
        ticket = self._ticket(signed)
        trade = self._book.trade(credentials.mchid, payment.id)
        if (
            ticket["mchid"] != credentials.mchid
            or trade is None
            or trade["trade_type"] != "MWEB"
            or trade["amount"]["total"] != payment.amount
        ):
            raise PageRefused(400, "ORDER_NOT_EXIST: 订单不存在 (the link does not match the payment)")

    def _ticket(self, signed: str) -> dict[str, Any]:
        query = dict(parse_qsl(signed))
        ticket = self._book.h5_ticket(query.get("prepay_id", ""))
        if ticket is None or not hmac.compare_digest(str(ticket["package"]), query.get("package", "")):
            raise PageRefused(400, "INVALID_REQUEST: 链接无效 (not an h5_url the sandbox issued)")
        return ticket
