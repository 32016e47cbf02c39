"""The sandbox's `gateway.do`: takes a signed Alipay request (form-encoded), verifies it as Alipay
does and answers with a signed `{"<method>_response": {...}, "sign": ...}`.

Which app key verifies a request: the committed sandbox app's public key for the sandbox app id;
for any other app id (a merchant's own test credentials with no `gateway_url`) the public key the
caller passes in-process, derived from that merchant's `app_private_key`, because the built-in
sandbox cannot know a public key the merchant never uploaded anywhere.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from paymux.channels.alipay import protocol as p
from paymux.channels.alipay.sandbox.bill_file import bill_zip
from paymux.channels.alipay.sandbox.identity import (
    SANDBOX_APP_ID,
    SANDBOX_SELLER_ID,
    platform_private_key,
    sandbox_app_public_key,
)
from paymux.channels.alipay.sandbox.trades import Rejected, Trade, TradeBook, refunded
from paymux.channels.alipay.signing import signed_response, verify_params
from paymux.channels.base import SandboxStore

BILL_URL = "https://dwbillcenter.sandbox.paymux.invalid/downloadBillFile.resource"
TIMESTAMP_TOLERANCE_SECONDS = 15 * 60
_OUT_NO = re.compile(r"^[0-9A-Za-z_]{1,64}$")
_AMOUNT = re.compile(r"^\d{1,9}(\.\d{1,2})?$")
_MIN, _MAX = Decimal("0.01"), Decimal("100000000")


@dataclass(frozen=True)
class _Call:
    """One verified server call."""

    app_id: str
    biz: dict[str, Any]
    notify_url: str | None


def _invalid(sub_code: str, sub_msg: str) -> Rejected:
    return Rejected(sub_code, sub_msg, code="40002", msg="Invalid Arguments")


class AlipaySandboxGateway:
    def __init__(self, store: SandboxStore, clock: Callable[[], float] = time.time) -> None:
        self.trades = TradeBook(store, clock)
        self.clock = clock
        self._handlers: dict[str, Callable[[_Call], dict[str, Any]]] = {
            p.PRECREATE: self._precreate, p.QUERY: self._query, p.CLOSE: self._close,
            p.REFUND: self._refund, p.REFUND_QUERY: self._refund_query, p.BILL_URL_QUERY: self._bill_url,
        }  # fmt: skip

    def handle(self, form: str, *, app_public_key: rsa.RSAPublicKey | None = None) -> str:
        """Answer one server call; the body is always a signed JSON response, as Alipay's."""
        key_name = "error_response"
        try:
            params = _parse(form)
            if params.get("method") not in self._handlers:
                raise _invalid("isv.invalid-method", "不存在的方法名")
            key_name = p.response_key(params["method"])
            biz = self._verified_biz(params, app_public_key)
            content: dict[str, Any] = {"code": p.SUCCESS_CODE, "msg": "Success"}
            call = _Call(params["app_id"], biz, params.get("notify_url"))
            content.update(self._handlers[params["method"]](call))
        except Rejected as refused:
            content = {"code": refused.code, "msg": refused.msg, "sub_code": refused.sub_code,
                       "sub_msg": refused.sub_msg}  # fmt: skip
        return signed_response(key_name, content, platform_private_key())

    def open_client_request(self, form: str, *, app_public_key: rsa.RSAPublicKey | None = None) -> Trade:
        """What happens when a shopper's browser or app hands Alipay a signed `wap.pay`, `page.pay`
        or `app.pay` request: verify it and open the trade. Raises Rejected."""
        params, biz = self.verify_client_request(form, app_public_key=app_public_key)
        return self.trades.open(params["app_id"], params["method"], biz, params.get("notify_url"))

    def verify_client_request(
        self, form: str, *, app_public_key: rsa.RSAPublicKey | None = None
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """A client request's parameters and order (`biz_content`), verified as Alipay does, without
        opening its trade. Raises Rejected."""
        params = _parse(form)
        if params.get("method") not in p.CLIENT_METHODS:
            raise _invalid("isv.invalid-method", "不存在的方法名")
        biz = self._verified_biz(params, app_public_key)
        _check_order(biz)
        return params, biz

    def download(self, url: str) -> bytes:
        """The bill a `bill_download_url` names. Raises Rejected for any other URL."""
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        if f"{parts.scheme}://{parts.netloc}{parts.path}" != BILL_URL or "userId" not in query:
            raise Rejected("isp.bill_not_exist", "账单不存在")
        day = datetime.strptime(query.get("bizDates", ""), "%Y%m%d").date()
        rows = self.trades.bill_rows(query["userId"], day.isoformat())
        return bill_zip(SANDBOX_SELLER_ID, day, rows, self.trades.now())

    def _verified_biz(
        self, params: dict[str, str], app_public_key: rsa.RSAPublicKey | None
    ) -> dict[str, Any]:
        if not params.get("app_id"):
            raise _invalid("isv.missing-app-id", "缺少AppID参数")
        key = sandbox_app_public_key() if params["app_id"] == SANDBOX_APP_ID else app_public_key
        if key is None:
            raise _invalid("isv.invalid-app-id", "无效的AppID参数")
        if params.get("sign_type") != p.SIGN_TYPE:
            raise _invalid("isv.invalid-signature-type", "无效的签名类型")
        if params.get("charset", "").lower() != p.CHARSET or params.get("version") != p.VERSION:
            raise _invalid("isv.invalid-charset", "字符集或版本不合法")
        if not verify_params(params, key):
            raise _invalid("isv.invalid-signature", "验签出错")
        try:
            sent = p.parse_beijing_time(params.get("timestamp", ""))
        except ValueError:
            raise _invalid("isv.invalid-timestamp", "非法的时间戳参数") from None
        if abs(sent - self.clock()) > TIMESTAMP_TOLERANCE_SECONDS:
            raise _invalid("isv.invalid-timestamp", "非法的时间戳参数")
        try:
            # Numbers keep their exact text: an amount sent as 0.01 must not become a float.
            biz = json.loads(params.get("biz_content", "{}"), parse_float=str)
        except json.JSONDecodeError:
            raise _invalid("isv.invalid-parameter", "biz_content 不是 JSON") from None
        if not isinstance(biz, dict):
            raise _invalid("isv.invalid-parameter", "biz_content 不是 JSON 对象")
        return biz

    def _precreate(self, call: _Call) -> dict[str, Any]:
        _check_order(call.biz)
        trade = self.trades.open(call.app_id, p.PRECREATE, call.biz, call.notify_url)
        if "qr_code" not in trade:
            trade["qr_code"] = f"https://qr.alipay.com/bax0{secrets.token_hex(10)}"
            self.trades.save(trade)
        return {"out_trade_no": trade["out_trade_no"], "qr_code": trade["qr_code"]}

    def _query(self, call: _Call) -> dict[str, Any]:
        trade = self.trades.get(call.app_id, _out_trade_no(call.biz))
        paid = "gmt_payment" in trade
        received = trade["total_amount"] if paid else "0.00"
        answer = {
            "trade_no": trade["trade_no"], "out_trade_no": trade["out_trade_no"],
            "trade_status": trade["trade_status"], "total_amount": trade["total_amount"],
            "buyer_pay_amount": received, "receipt_amount": received, "invoice_amount": received,
            "point_amount": "0.00",
        }  # fmt: skip
        if paid:
            answer.update(send_pay_date=trade["gmt_payment"], buyer_user_id=trade["buyer_user_id"],
                          buyer_logon_id=trade["buyer_logon_id"])  # fmt: skip
        return answer

    def _close(self, call: _Call) -> dict[str, Any]:
        trade = self.trades.close(self.trades.get(call.app_id, _out_trade_no(call.biz)))
        return {"trade_no": trade["trade_no"], "out_trade_no": trade["out_trade_no"]}

    def _refund(self, call: _Call) -> dict[str, Any]:
        amount = str(call.biz.get("refund_amount", ""))  # a JSON number arrives as its exact text
        if not _AMOUNT.match(amount):
            raise _invalid("isv.invalid-parameter", "refund_amount 不合法")
        trade = self.trades.get(call.app_id, _out_trade_no(call.biz))
        # Without out_request_no Alipay takes the trade number: one full refund.
        request_no = str(call.biz.get("out_request_no") or trade["out_trade_no"])
        trade, moved = self.trades.refund(trade, request_no, amount, call.biz.get("refund_reason"))
        refund = trade["refunds"][request_no]
        return {
            "trade_no": trade["trade_no"], "out_trade_no": trade["out_trade_no"],
            "buyer_logon_id": trade.get("buyer_logon_id", ""),
            "buyer_user_id": trade.get("buyer_user_id", ""),
            "fund_change": "Y" if moved else "N", "refund_fee": f"{refunded(trade):.2f}",
            "send_back_fee": refund["refund_amount"], "gmt_refund_pay": refund["gmt_refund_pay"],
        }  # fmt: skip

    def _refund_query(self, call: _Call) -> dict[str, Any]:
        trade = self.trades.get(call.app_id, _out_trade_no(call.biz))
        request_no = str(call.biz.get("out_request_no", ""))
        refund = trade["refunds"].get(request_no)
        if refund is None:  # Alipay answers 10000 with no refund fields: no such refund happened
            return {}
        answer = {
            "trade_no": trade["trade_no"], "out_trade_no": trade["out_trade_no"],
            "out_request_no": request_no,
            "total_amount": trade["total_amount"], "refund_amount": refund["refund_amount"],
            "refund_status": "REFUND_SUCCESS",
        }  # fmt: skip
        if "gmt_refund_pay" in call.biz.get("query_options", []):
            answer["gmt_refund_pay"] = refund["gmt_refund_pay"]
        return answer

    def _bill_url(self, call: _Call) -> dict[str, Any]:
        if call.biz.get("bill_type") != "trade":
            raise _invalid("isv.invalid-parameter", "bill_type 仅支持 trade")
        try:
            day = date.fromisoformat(str(call.biz.get("bill_date", "")))
        except ValueError:
            raise _invalid("isv.invalid-parameter", "bill_date 格式应为 yyyy-MM-dd") from None
        # Alipay serves yesterday's bill at the earliest; the sandbox also serves today's so far.
        if day > p.beijing_date(self.clock()):
            raise Rejected("isp.bill_not_exist", "账单不存在")
        query = {
            "bizType": "trade", "userId": call.app_id, "fileType": "csv.zip", "bizDates": f"{day:%Y%m%d}",
            "downloadFileName": f"{call.app_id}_{day:%Y%m%d}.csv.zip", "fileId": secrets.token_hex(8),
        }  # fmt: skip
        return {"bill_download_url": f"{BILL_URL}?{urlencode(query)}"}


def _parse(form: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(form, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise _invalid("isv.invalid-parameter", "请求不是表单编码") from None
    params = dict(pairs)
    if len(params) != len(pairs):
        raise _invalid("isv.invalid-parameter", "参数重复")
    return params


def _out_trade_no(biz: dict[str, Any]) -> str:
    value = biz.get("out_trade_no")
    if not isinstance(value, str) or not _OUT_NO.match(value):
        raise _invalid("isv.invalid-parameter", "out_trade_no 不合法")
    return value


def _check_order(biz: dict[str, Any]) -> None:
    _out_trade_no(biz)
    amount = biz.get("total_amount")
    if isinstance(amount, int | str) and not isinstance(amount, bool):
        biz["total_amount"] = amount = str(amount)
    if not isinstance(amount, str) or not _AMOUNT.match(amount) or not _MIN <= Decimal(amount) <= _MAX:
        raise _invalid("isv.invalid-parameter", "total_amount 不合法")
    if not isinstance(biz.get("subject"), str) or not biz["subject"]:
        raise _invalid("isv.missing-parameter", "缺少必选参数 subject")
    expire = biz.get("time_expire")
    if expire is not None:
        try:
            p.parse_beijing_time(str(expire))
        except ValueError:
            raise _invalid("isv.invalid-parameter", "time_expire 格式应为 yyyy-MM-dd HH:mm:ss") from None
