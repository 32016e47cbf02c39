"""The WeChat Pay API v3 channel adapter: native, h5, app and jsapi payments, query, close, refunds,
refund query, notifications and the daily trade bill."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

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
    StatementLine,
)
from paymux.channels.wechatpay import notifications, signing, statement, wire
from paymux.channels.wechatpay.credentials import WechatPayCredentials
from paymux.channels.wechatpay.transport import WechatPayTransport
from paymux.channels.wechatpay.verification import SignatureRejected, verify_signed
from paymux.domain.clock import Clock, system_clock
from paymux.domain.errors import ChannelError, InvalidRequest
from paymux.domain.models import Channel, Payment, Refund

_In = TypeVar("_In")
_Out = TypeVar("_Out")

_DESCRIPTION_LIMIT = 127  # characters WeChat Pay accepts in `description`


class WechatPayAdapter:
    channel = Channel.WECHATPAY
    credentials_model: type[ChannelCredentials] = WechatPayCredentials

    def __init__(self, transport: WechatPayTransport, clock: Clock = system_clock) -> None:
        self._transport = transport
        self._clock = clock

    def sandbox_credentials(self) -> WechatPayCredentials:
        from paymux.channels.wechatpay.sandbox.identity import sandbox_credentials

        return sandbox_credentials()

    def create_payment(self, credentials: ChannelCredentials, request: PaymentRequest) -> CreatedPayment:
        """Raises InvalidRequest for an unknown scene, a currency other than CNY, an h5 payment
        without client_ip or a jsapi payment without channel_extra.openid; ChannelError if refused."""
        creds = _wechatpay(credentials)
        if request.scene not in wire.SCENES:
            raise InvalidRequest(f"WeChat Pay has no scene {request.scene!r}", param="scene")
        if request.currency != "cny":
            raise InvalidRequest("WeChat Pay (domestic) takes CNY only", param="currency")
        body: dict[str, Any] = {
            "appid": creds.appid,
            "mchid": creds.mchid,
            "description": request.subject[:_DESCRIPTION_LIMIT],
            "out_trade_no": request.payment_id,
            "notify_url": f"{request.notify_url.rstrip('/')}/{request.payment_id}",
            "amount": {"total": request.amount, "currency": wire.CURRENCY},
        }
        if request.expires_at is not None:
            body["time_expire"] = wire.format_time(request.expires_at)
        body.update(_scene_fields(request))
        path_segment, _ = wire.SCENES[request.scene]
        answer = self._call(creds, "POST", f"{wire.TRANSACTIONS}/{path_segment}", body)
        return CreatedPayment(credential=self._credential(creds, request, answer))

    def query_payment(self, credentials: ChannelCredentials, payment: Payment) -> ChannelPaymentState:
        creds = _wechatpay(credentials)
        target = f"{_trade_path(payment.id)}?{urlencode({'mchid': creds.mchid})}"
        answer = self._call(creds, "GET", target)
        if answer.get("out_trade_no") != payment.id or answer.get("mchid") != creds.mchid:
            raise ChannelError("WeChat Pay answered about another trade")
        return _parsed(wire.payment_state, answer)

    def close_payment(self, credentials: ChannelCredentials, payment: Payment) -> None:
        creds = _wechatpay(credentials)
        self._call(creds, "POST", f"{_trade_path(payment.id)}/close", {"mchid": creds.mchid})

    def refund(
        self, credentials: ChannelCredentials, payment: Payment, refund: Refund, notify_url: str | None = None
    ) -> ChannelRefundState:
        """Refund `refund.amount` of `payment`; `notify_url` (the platform's /webhooks/wechatpay URL),
        when given, makes WeChat Pay notify the refund there rather than at the merchant platform's
        configured address. Raises ChannelError if refused."""
        creds = _wechatpay(credentials)
        body: dict[str, Any] = {
            "out_trade_no": payment.id,
            "out_refund_no": refund.id,
            "amount": {"refund": refund.amount, "total": payment.amount, "currency": wire.CURRENCY},
        }
        if refund.reason:
            body["reason"] = refund.reason[:80]
        notify_url = notify_url or payment.notify_url
        if notify_url:
            body["notify_url"] = f"{notify_url.rstrip('/')}/{refund.id}"
        return self._refund_state(payment, refund, self._call(creds, "POST", wire.REFUNDS, body))

    def query_refund(
        self, credentials: ChannelCredentials, payment: Payment, refund: Refund
    ) -> ChannelRefundState:
        creds = _wechatpay(credentials)
        return self._refund_state(
            payment, refund, self._call(creds, "GET", f"{wire.REFUNDS}/{quote(refund.id, safe='')}")
        )

    def notification_target(self, request: ProviderRequest) -> NotificationTarget:
        return notifications.target_of(request)

    def verify_notification(self, credentials: ChannelCredentials, request: ProviderRequest) -> Notification:
        return notifications.verify(_wechatpay(credentials), request, self._clock())

    def acknowledge(self, accepted: bool) -> ProviderResponse:
        """204 with no body; on failure a 4xx with `{"code": "FAIL", "message": ...}` (WeChat retries)."""
        if accepted:
            return ProviderResponse(204, "", "application/json")
        return ProviderResponse(
            400, wire.dumps({"code": "FAIL", "message": "notification rejected"}), "application/json"
        )

    def download_statement(self, credentials: ChannelCredentials, day: date) -> list[StatementLine]:
        """The trade bill of `day` (Beijing time), its SHA1 checked; [] when WeChat Pay has none.
        Raises ChannelError."""
        creds = _wechatpay(credentials)
        query = urlencode({"bill_date": day.isoformat(), "bill_type": "ALL"})
        try:
            answer = self._call(creds, "GET", f"{wire.TRADE_BILL}?{query}")
        except ChannelError as error:
            if error.code == "NO_STATEMENT_EXIST":
                return []
            raise
        download_url, hash_value = answer.get("download_url"), answer.get("hash_value")
        if not isinstance(download_url, str) or not isinstance(hash_value, str):
            raise ChannelError("WeChat Pay's bill answer has no download_url or hash_value")
        response = self._transport.call(creds, "GET", download_url)
        if response.status != 200:
            raise ChannelError(f"WeChat Pay bill download failed with HTTP {response.status}")
        digest = hashlib.sha1(response.body.encode(), usedforsecurity=False).hexdigest()
        if answer.get("hash_type", "SHA1") != "SHA1" or digest != hash_value.lower():
            raise ChannelError("WeChat Pay bill does not match its SHA1 hash")
        return _parsed(statement.parse, response.body)

    def _call(
        self, creds: WechatPayCredentials, method: str, target: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A verified JSON answer ({} for 204). Raises ChannelError on refusal or a bad signature."""
        response = self._transport.call(creds, method, target, wire.dumps(body) if body is not None else "")
        if not 200 <= response.status < 300:
            raise _refusal(response)
        try:
            verify_signed(creds, response.headers, response.body, self._clock())
        except SignatureRejected as rejected:
            raise ChannelError(f"WeChat Pay's answer failed verification: {rejected}") from None
        return _parsed(wire.loads, response.body) if response.body else {}

    def _credential(
        self, creds: WechatPayCredentials, request: PaymentRequest, answer: dict[str, Any]
    ) -> dict[str, Any]:
        if request.scene == "native":
            return {"type": "qr_code", "qr_code": _text(answer, "code_url")}
        if request.scene == "h5":
            url = _text(answer, "h5_url")
            if request.return_url:
                url += ("&" if "?" in url else "?") + urlencode({"redirect_url": request.return_url})
            return {"type": "redirect", "url": url}
        prepay_id = _text(answer, "prepay_id")
        timestamp, nonce = str(self._clock()), signing.new_nonce()
        key = signing.load_private_key(creds.merchant_private_key)
        if request.scene == "app":
            sign = signing.sign(key, signing.lines(creds.appid, timestamp, nonce, prepay_id))
            return {
                "type": "app",
                "appid": creds.appid,
                "partnerid": creds.mchid,
                "prepayid": prepay_id,
                "package": "Sign=WXPay",
                "noncestr": nonce,
                "timestamp": timestamp,
                "sign": sign,
            }
        package = f"prepay_id={prepay_id}"
        pay_sign = signing.sign(key, signing.lines(creds.appid, timestamp, nonce, package))
        return {
            "type": "jsapi",
            "jsapi_params": {
                "appId": creds.appid,
                "timeStamp": timestamp,
                "nonceStr": nonce,
                "package": package,
                "signType": "RSA",
                "paySign": pay_sign,
            },
        }

    @staticmethod
    def _refund_state(payment: Payment, refund: Refund, answer: dict[str, Any]) -> ChannelRefundState:
        if answer.get("out_refund_no") != refund.id or answer.get("out_trade_no") != payment.id:
            raise ChannelError("WeChat Pay answered about another refund")
        return _parsed(wire.refund_state, answer)


def _scene_fields(request: PaymentRequest) -> dict[str, Any]:
    if request.scene == "h5":
        if not request.client_ip:
            raise InvalidRequest("WeChat Pay h5 payments need the shopper's client_ip", param="client_ip")
        return {"scene_info": {"payer_client_ip": request.client_ip, "h5_info": {"type": "Wap"}}}
    if request.scene == "jsapi":
        openid = request.channel_extra.get("openid")
        if not isinstance(openid, str) or not openid:
            raise InvalidRequest(
                "WeChat Pay jsapi payments need channel_extra.openid (the payer's openid)",
                param="channel_extra.openid",
            )
        return {"payer": {"openid": openid}}
    if request.client_ip:
        return {"scene_info": {"payer_client_ip": request.client_ip}}
    return {}


def _refusal(response: ProviderResponse) -> ChannelError:
    try:
        answer = wire.loads(response.body)
    except wire.WireFormatError:
        answer = {}
    code = str(answer.get("code") or f"HTTP_{response.status}")[:64]
    message = str(answer.get("message") or "no message")[:200]
    return ChannelError(f"WeChat Pay refused ({response.status} {code}): {message}", code=code)


def _trade_path(payment_id: str) -> str:
    return f"{wire.TRANSACTIONS}/out-trade-no/{quote(payment_id, safe='')}"


def _text(answer: dict[str, Any], name: str) -> str:
    value = answer.get(name)
    if not isinstance(value, str) or not value:
        raise ChannelError(f"WeChat Pay's answer has no {name}")
    return value


def _parsed(parse: Callable[[_In], _Out], value: _In) -> _Out:
    try:
        return parse(value)
    except wire.WireFormatError as error:
        raise ChannelError(f"WeChat Pay's answer is malformed: {error}") from None


def _wechatpay(credentials: ChannelCredentials) -> WechatPayCredentials:
    if not isinstance(credentials, WechatPayCredentials):
        raise ChannelError("WeChat Pay was given another channel's credentials")
    return credentials
