"""The sandbox's API v3 gateway: authenticates the merchant's signed request, acts on its books and
answers as WeChat Pay does, every JSON answer signed with the sandbox platform key.

It is given the merchant's credentials the way WeChat Pay holds a merchant's records: it uses the
API certificate's public key (derived from the key pair), the mchid, the appid and the key mode."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from paymux.channels.base import ProviderRequest, ProviderResponse, SandboxStore
from paymux.channels.sandbox_page import platform_base_url
from paymux.channels.wechatpay import signing, wire
from paymux.channels.wechatpay.credentials import WechatPayCredentials
from paymux.channels.wechatpay.sandbox import identity
from paymux.channels.wechatpay.sandbox.bills import bill_answer, bill_download
from paymux.channels.wechatpay.sandbox.book import Book, SandboxRefusal, refund_answer, transaction
from paymux.channels.wechatpay.sandbox.refunds import create_refund, settle_on_query
from paymux.domain.clock import Clock

_OUT_TRADE_NO = re.compile(r"^[A-Za-z0-9_\-|*]{6,32}$")
_TRADE = re.compile(r"^/v3/pay/transactions/out-trade-no/([^/]+)$")
_CLOSE = re.compile(r"^/v3/pay/transactions/out-trade-no/([^/]+)/close$")
_REFUND = re.compile(r"^/v3/refund/domestic/refunds/([^/]+)$")
_CLOCK_SKEW_SECONDS = 300
# Where an h5 payment's `h5_url` takes the shopper: WeChat Pay's checkmweb page, played by the
# sandbox under the platform's base URL (`WechatPaySandbox.shopper_page`).
H5_PAGE_PATH = "/sandbox/wechatpay/cgi-bin/mmpayweb-bin/checkmweb"

Answer = dict[str, Any] | str | None  # JSON, a bill file, or 204


class SandboxGateway:
    def __init__(self, store: SandboxStore, clock: Clock) -> None:
        self._book = Book(store)
        self._clock = clock

    def handle(self, credentials: WechatPayCredentials, request: ProviderRequest) -> ProviderResponse:
        try:
            self._authenticate(credentials, request)
            status, answer = self._route(credentials, request)
        except SandboxRefusal as refusal:
            status, answer = refusal.status, {"code": refusal.code, "message": refusal.message}
        if isinstance(answer, str):  # a bill file: not signed, its SHA1 was in the signed bill answer
            return ProviderResponse(status, answer, "text/plain", {"content-type": "text/plain"})
        body = wire.dumps(answer) if answer is not None else ""
        headers = signing.signed_response_headers(
            identity.platform_private_key(), identity.platform_serial_for(credentials), body, self._clock()
        )
        headers["request-id"] = secrets.token_hex(16)
        return ProviderResponse(status, body, "application/json", headers)

    def _authenticate(self, credentials: WechatPayCredentials, request: ProviderRequest) -> None:
        authorization = signing.Authorization.parse(request.headers.get("authorization", ""))
        if authorization is None:
            raise SandboxRefusal(401, "SIGN_ERROR", "Authorization 头缺失或格式错误")
        if (
            authorization.mchid != credentials.mchid
            or authorization.serial_no != credentials.merchant_serial_no
        ):
            raise SandboxRefusal(401, "SIGN_ERROR", "商户号或证书序列号不匹配")
        if (
            not authorization.timestamp.isdigit()
            or abs(self._clock() - int(authorization.timestamp)) > _CLOCK_SKEW_SECONDS
        ):
            raise SandboxRefusal(401, "SIGN_ERROR", "请求时间戳超出有效期")
        target = request.path + (f"?{urlencode(request.query)}" if request.query else "")
        message = signing.request_message(
            request.method,
            target,
            authorization.timestamp,
            authorization.nonce_str,
            request.body.decode("utf-8", "replace"),
        )
        merchant_key = signing.load_private_key(credentials.merchant_private_key).public_key()
        if not signing.verify(merchant_key, message, authorization.signature):
            raise SandboxRefusal(401, "SIGN_ERROR", "签名错误")

    def _route(self, creds: WechatPayCredentials, request: ProviderRequest) -> tuple[int, Answer]:
        method, path = request.method, request.path
        if method == "POST" and path.startswith(wire.TRANSACTIONS + "/") and path.count("/") == 4:
            return 200, self._create(creds, path.rsplit("/", 1)[1], _json(request))
        if method == "GET" and (match := _TRADE.match(path)):
            if request.query.get("mchid") != creds.mchid:
                raise SandboxRefusal(400, "PARAM_ERROR", "mchid 与请求方不一致")
            return 200, transaction(self._trade(creds, match.group(1)))
        if method == "POST" and (match := _CLOSE.match(path)):
            self._close(creds, match.group(1), _json(request))
            return 204, None
        if method == "POST" and path == wire.REFUNDS:
            return 200, create_refund(self._book, creds, _json(request), self._clock())
        if method == "GET" and (match := _REFUND.match(path)):
            return 200, refund_answer(settle_on_query(self._book, creds, match.group(1), self._clock()))
        if method == "GET" and path == wire.TRADE_BILL:
            return 200, bill_answer(self._book, creds, request.query.get("bill_date", ""), self._clock())
        if method == "GET" and path == "/v3/billdownload/file":
            return 200, bill_download(self._book, creds, request.query.get("token", ""))
        raise SandboxRefusal(404, "NOT_FOUND", "请求的资源不存在")

    def _create(
        self, creds: WechatPayCredentials, scene_segment: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        trade_type = next((kind for segment, kind in wire.SCENES.values() if segment == scene_segment), None)
        if trade_type is None:
            raise SandboxRefusal(404, "NOT_FOUND", "请求的资源不存在")
        trade = _new_trade(creds, trade_type, body)
        existing = self._book.trade(creds.mchid, trade["out_trade_no"])
        if existing is not None:
            if existing["trade_state"] in {"SUCCESS", "REFUND"}:
                raise SandboxRefusal(400, "ORDERPAID", "该订单已支付")
            if existing["trade_state"] == "CLOSED":
                raise SandboxRefusal(400, "ORDER_CLOSED", "订单已关闭")
            if existing["request"] != trade["request"]:
                raise SandboxRefusal(400, "INVALID_REQUEST", "201 商户订单号重复")
            previous: dict[str, Any] = existing["answer"]
            return previous
        self._book.save_trade(trade)
        if "h5_ticket" in trade:
            self._book.save_h5_ticket(trade)
        answer: dict[str, Any] = trade["answer"]
        return answer

    def _close(self, creds: WechatPayCredentials, out_trade_no: str, body: dict[str, Any]) -> None:
        if body.get("mchid") != creds.mchid:
            raise SandboxRefusal(400, "PARAM_ERROR", "mchid 与请求方不一致")
        trade = self._trade(creds, out_trade_no)
        if trade["trade_state"] in {"SUCCESS", "REFUND"}:
            raise SandboxRefusal(400, "ORDERPAID", "该订单已支付")
        trade.update(trade_state="CLOSED", trade_state_desc="订单已关闭")
        self._book.save_trade(trade)

    def _trade(self, creds: WechatPayCredentials, out_trade_no: str) -> dict[str, Any]:
        trade = self._book.trade(creds.mchid, out_trade_no)
        if trade is None:
            raise SandboxRefusal(404, "ORDER_NOT_EXIST", "订单不存在")
        return trade


def _new_trade(creds: WechatPayCredentials, trade_type: str, body: dict[str, Any]) -> dict[str, Any]:
    """Validate an order request as WeChat Pay does; raises SandboxRefusal (PARAM_ERROR)."""
    if body.get("appid") != creds.appid or body.get("mchid") != creds.mchid:
        raise SandboxRefusal(400, "APPID_MCHID_NOT_MATCH", "appid 和 mch_id 不匹配")
    out_trade_no, description = body.get("out_trade_no"), body.get("description")
    amount, notify_url = body.get("amount"), body.get("notify_url")
    if not isinstance(out_trade_no, str) or not _OUT_TRADE_NO.match(out_trade_no):
        raise SandboxRefusal(400, "PARAM_ERROR", "out_trade_no 格式错误")
    if not isinstance(description, str) or not 1 <= len(description) <= 127:
        raise SandboxRefusal(400, "PARAM_ERROR", "description 长度应为 1 到 127")
    if not isinstance(notify_url, str) or not notify_url.startswith(("https://", "http://")):
        raise SandboxRefusal(400, "PARAM_ERROR", "notify_url 格式错误")
    amount = amount if isinstance(amount, dict) else {}
    total = amount.get("total")
    if (
        not isinstance(total, int)
        or isinstance(total, bool)
        or total < 1
        or amount.get("currency", "CNY") != "CNY"
    ):
        raise SandboxRefusal(400, "PARAM_ERROR", "amount.total 应为正整数(分), currency 为 CNY")
    if "time_expire" in body:
        try:
            wire.parse_time(body["time_expire"])
        except wire.WireFormatError:
            raise SandboxRefusal(400, "PARAM_ERROR", "time_expire 格式错误") from None
    scene_info, payer = body.get("scene_info") or {}, body.get("payer") or {}
    if trade_type == "MWEB" and not (
        scene_info.get("payer_client_ip") and scene_info.get("h5_info", {}).get("type")
    ):
        raise SandboxRefusal(400, "PARAM_ERROR", "H5 支付需要 scene_info.payer_client_ip 和 h5_info")
    if trade_type == "JSAPI" and not payer.get("openid"):
        raise SandboxRefusal(400, "PARAM_ERROR", "JSAPI 支付需要 payer.openid")
    prepay_id = "wx" + datetime.now(wire.BEIJING).strftime("%d%H%M%S") + secrets.token_hex(13)
    h5_ticket = {"prepay_id": prepay_id, "package": str(secrets.randbelow(10**10))}
    answers = {
        "NATIVE": {"code_url": f"weixin://wxpay/bizpayurl?pr={secrets.token_urlsafe(6)}"},
        "MWEB": {"h5_url": f"{platform_base_url(notify_url)}{H5_PAGE_PATH}?{urlencode(h5_ticket)}"},
        "APP": {"prepay_id": prepay_id},
        "JSAPI": {"prepay_id": prepay_id},
    }  # fmt: skip
    trade: dict[str, Any] = {
        "mchid": creds.mchid, "appid": creds.appid, "out_trade_no": out_trade_no, "trade_type": trade_type,
        "trade_state": "NOTPAY", "trade_state_desc": "订单未支付", "description": description,
        "notify_url": notify_url, "amount": {"total": total, "currency": "CNY"}, "refunded": 0,
        "request": wire.dumps(body), "answer": answers[trade_type],
    }  # fmt: skip
    if payer.get("openid"):
        trade["payer"] = {"openid": payer["openid"]}
    if trade_type == "MWEB":
        trade["h5_ticket"] = h5_ticket
    return trade


def _json(request: ProviderRequest) -> dict[str, Any]:
    try:
        return wire.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, wire.WireFormatError):
        raise SandboxRefusal(400, "PARAM_ERROR", "请求体不是合法的 JSON") from None
