"""The Alipay adapter: signs `alipay.trade.*` requests with the merchant app's key, sends them to the
gateway and verifies Alipay's signed answers and notifications."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from paymux.channels.alipay import notifications
from paymux.channels.alipay import protocol as p
from paymux.channels.alipay.credentials import AlipayCredentials
from paymux.channels.alipay.signing import dump_json, response_content, sign_params, verify_text
from paymux.channels.alipay.statement import parse_bill_zip
from paymux.channels.alipay.transport import GatewayTransport, HttpTransport, InProcessTransport
from paymux.channels.base import (
    ChannelCredentials,
    ChannelPaymentState,
    ChannelRefundState,
    CreatedPayment,
    NotificationTarget,
    PaymentRequest,
    ProviderRequest,
    ProviderResponse,
    SandboxStore,
    StatementLine,
)
from paymux.channels.sandbox_page import platform_base_url
from paymux.domain.errors import ChannelError, InvalidRequest
from paymux.domain.models import Channel, Payment, Refund
from paymux.domain.states import PaymentStatus, RefundStatus

if TYPE_CHECKING:
    from paymux.channels.alipay.sandbox.gateway import AlipaySandboxGateway

# Where the built-in sandbox's cashier page is served, on the platform's own origin.
SANDBOX_CASHIER_PATH = "/sandbox/alipay/gateway.do"
# `channel_extra` keys passed through into `biz_content` as Alipay defines them.
EXTRA_BIZ_FIELDS = frozenset({
    "seller_id", "store_id", "operator_id", "terminal_id", "passback_params", "goods_detail", "extend_params",
    "disable_pay_channels", "enable_pay_channels",
})  # fmt: skip
# Refusals that leave a refund's outcome unknown: retry with the same out_request_no.
RETRYABLE_REFUSALS = frozenset({"ACQ.SYSTEM_ERROR", "aop.ACQ.SYSTEM_ERROR"})


class AlipayRefused(ChannelError):
    """Alipay answered a call with a code other than 10000."""

    def __init__(self, method: str, content: dict[str, Any]) -> None:
        self.alipay_code = str(content.get("code", ""))
        self.sub_code = str(content.get("sub_code", ""))
        self.sub_msg = str(content.get("sub_msg", content.get("msg", "")))
        super().__init__(
            f"Alipay refused {method}: {self.alipay_code} {self.sub_code} {self.sub_msg}".strip()
        )


class AlipayAdapter:
    channel = Channel.ALIPAY
    credentials_model = AlipayCredentials

    def __init__(self, sandbox_store: SandboxStore, *, clock: Callable[[], float] = time.time) -> None:
        self.sandbox_store = sandbox_store
        self.clock = clock
        self._gateway: AlipaySandboxGateway | None = None

    def sandbox_credentials(self) -> AlipayCredentials:
        from paymux.channels.alipay.sandbox.identity import sandbox_credentials

        return sandbox_credentials()

    def create_payment(self, credentials: ChannelCredentials, request: PaymentRequest) -> CreatedPayment:
        """Raises InvalidRequest for an unknown scene, a non-CNY currency or bad `channel_extra`;
        ChannelError when Alipay refuses a precreate."""
        creds = _alipay(credentials)
        if request.scene not in p.SCENE_METHODS:
            raise InvalidRequest(f"Alipay has no scene {request.scene!r}", param="scene")
        method, product_code = p.SCENE_METHODS[request.scene]
        biz = _order(request, product_code)
        if method == p.PRECREATE:
            answer = self._call(creds, method, biz, notify_url=request.notify_url)
            return CreatedPayment({"type": "qr_code", "qr_code": answer["qr_code"]})
        return_url = request.return_url if method in (p.WAP_PAY, p.PAGE_PAY) else None
        query = urlencode(
            self._signed(creds, method, biz, notify_url=request.notify_url, return_url=return_url)
        )
        if method == p.APP_PAY:
            return CreatedPayment({"type": "app", "order_string": query})
        return CreatedPayment({"type": "redirect", "url": f"{self._client_gateway(creds, request)}?{query}"})

    def query_payment(self, credentials: ChannelCredentials, payment: Payment) -> ChannelPaymentState:
        """A trade Alipay does not know yet (QR not scanned, page not opened) still waits for the
        shopper. Raises ChannelError."""
        try:
            answer = self._call(_alipay(credentials), p.QUERY, {"out_trade_no": payment.id})
        except AlipayRefused as refused:
            if refused.sub_code != p.TRADE_NOT_EXIST:
                raise
            return ChannelPaymentState(
                payment.id, PaymentStatus.REQUIRES_ACTION, payment.amount, payment.currency
            )
        try:
            return notifications.trade_state(answer, paid_at_field="send_pay_date")
        except ValueError as error:
            raise ChannelError(f"Alipay answered alipay.trade.query with {error}") from None

    def close_payment(self, credentials: ChannelCredentials, payment: Payment) -> None:
        """Raises ChannelError if Alipay refuses (a paid trade). A trade Alipay never opened has
        nothing to close and counts as closed."""
        try:
            self._call(_alipay(credentials), p.CLOSE, {"out_trade_no": payment.id})
        except AlipayRefused as refused:
            if refused.sub_code != p.TRADE_NOT_EXIST:
                raise

    def refund(self, credentials: ChannelCredentials, payment: Payment, refund: Refund) -> ChannelRefundState:
        """Synchronous: succeeded or failed (Alipay refused it); raises ChannelError when the outcome
        is unknown (retry: the refund id is the idempotent `out_request_no`)."""
        creds = _alipay(credentials)
        biz = {"out_trade_no": payment.id, "refund_amount": p.yuan(refund.amount, refund.currency),
               "out_request_no": refund.id}  # fmt: skip
        if refund.reason:
            biz["refund_reason"] = refund.reason[:256]
        try:
            answer = self._call(creds, p.REFUND, biz)
        except AlipayRefused as refused:
            if refused.alipay_code != "40004" or refused.sub_code in RETRYABLE_REFUSALS:
                raise
            return _refund_state(refund, RefundStatus.FAILED, failure=refused)
        if answer.get("fund_change") != "Y":  # a repeated request: ask whether that refund happened
            return self.query_refund(creds, payment, refund)
        return _refund_state(refund, RefundStatus.SUCCEEDED, channel_refund_id=answer.get("trade_no"))

    def query_refund(
        self, credentials: ChannelCredentials, payment: Payment, refund: Refund
    ) -> ChannelRefundState:
        """Succeeded when Alipay reports it; pending when Alipay has no such refund (yet); failed when
        Alipay has no such trade. Raises ChannelError."""
        biz = {"out_trade_no": payment.id, "out_request_no": refund.id, "query_options": ["gmt_refund_pay"]}
        try:
            answer = self._call(_alipay(credentials), p.REFUND_QUERY, biz)
        except AlipayRefused as refused:
            if refused.sub_code != p.TRADE_NOT_EXIST:
                raise
            return _refund_state(refund, RefundStatus.FAILED, failure=refused)
        if (
            not answer.get("refund_amount")
            or answer.get("refund_status", "REFUND_SUCCESS") != "REFUND_SUCCESS"
        ):
            return _refund_state(refund, RefundStatus.PENDING)
        try:
            amount = p.fen(str(answer["refund_amount"]))
        except InvalidRequest:
            raise ChannelError("Alipay answered a refund query with a malformed amount") from None
        return _refund_state(
            refund, RefundStatus.SUCCEEDED, amount=amount, channel_refund_id=answer.get("trade_no")
        )

    def notification_target(self, request: ProviderRequest) -> NotificationTarget:
        return notifications.notification_target(request)

    def verify_notification(
        self, credentials: ChannelCredentials, request: ProviderRequest
    ) -> ChannelPaymentState:
        return notifications.verify_notification(_alipay(credentials), request)

    def acknowledge(self, accepted: bool) -> ProviderResponse:
        """Alipay retries until it reads the plain text `success`; `fail` (HTTP 400, so that the
        platform and its logs see the refusal too) makes it retry."""
        return ProviderResponse(200, "success") if accepted else ProviderResponse(400, "fail")

    def download_statement(self, credentials: ChannelCredentials, day: date) -> list[StatementLine]:
        """The trade bill of `day` (Beijing date). Raises ChannelError, also when no bill exists yet."""
        creds = _alipay(credentials)
        answer = self._call(creds, p.BILL_URL_QUERY, {"bill_type": "trade", "bill_date": day.isoformat()})
        url = answer.get("bill_download_url")
        if not isinstance(url, str) or not url:
            raise ChannelError("Alipay returned no bill_download_url")
        return parse_bill_zip(self._transport(creds).download(url))

    def _signed(
        self, creds: AlipayCredentials, method: str, biz: dict[str, Any], **extra: str | None
    ) -> dict[str, str]:
        params = {
            "app_id": creds.app_id, "method": method, "format": p.FORMAT, "charset": p.CHARSET,
            "sign_type": p.SIGN_TYPE, "timestamp": p.beijing_time(self.clock()), "version": p.VERSION,
            "biz_content": dump_json(biz), **{k: v for k, v in extra.items() if v},
        }  # fmt: skip
        params["sign"] = sign_params(params, creds.private_key())
        return params

    def _call(
        self, creds: AlipayCredentials, method: str, biz: dict[str, Any], **extra: str | None
    ) -> dict[str, Any]:
        """One server call, its answer verified. Raises AlipayRefused (a non-10000 code) or ChannelError."""
        raw = self._transport(creds).call(urlencode(self._signed(creds, method, biz, **extra)))
        try:
            signature = json.loads(raw).get("sign")
            text = response_content(raw, p.response_key(method)) or response_content(raw, "error_response")
            content = json.loads(text) if text else None
        except (ValueError, AttributeError):
            content = text = None
        if not isinstance(content, dict) or text is None:
            raise ChannelError(f"Alipay answered {method} with a malformed response")
        if signature and not verify_text(text, str(signature), creds.platform_key()):
            raise ChannelError(_signature_hint(method, creds))
        if content.get("code") != p.SUCCESS_CODE:
            raise AlipayRefused(method, content)
        if not signature:
            raise ChannelError(f"Alipay answered {method} without a signature")
        return content

    def _transport(self, creds: AlipayCredentials) -> GatewayTransport:
        if creds.gateway_url is not None:
            return HttpTransport(creds.gateway_url)
        if self._gateway is None:
            from paymux.channels.alipay.sandbox.gateway import AlipaySandboxGateway

            self._gateway = AlipaySandboxGateway(self.sandbox_store, self.clock)
        return InProcessTransport(self._gateway, creds.app_public_key())

    def _client_gateway(self, creds: AlipayCredentials, request: PaymentRequest) -> str:
        """Where the shopper's browser takes a signed wap/page request: Alipay's gateway, or the
        built-in sandbox's cashier on the platform's own origin."""
        if creds.gateway_url is not None:
            return creds.gateway_url
        return f"{platform_base_url(request.notify_url)}{SANDBOX_CASHIER_PATH}"


def _alipay(credentials: ChannelCredentials) -> AlipayCredentials:
    if not isinstance(credentials, AlipayCredentials):
        raise ChannelError("The Alipay channel was given another channel's credentials")
    return credentials


def _order(request: PaymentRequest, product_code: str) -> dict[str, Any]:
    biz: dict[str, Any] = {
        "out_trade_no": request.payment_id, "total_amount": p.yuan(request.amount, request.currency),
        "subject": request.subject[:256], "product_code": product_code,
    }  # fmt: skip
    if request.description:
        biz["body"] = request.description[:128]
    if request.expires_at is not None:
        biz["time_expire"] = p.beijing_time(request.expires_at)
    if request.scene == "h5" and request.return_url:
        biz["quit_url"] = request.return_url
    unknown = sorted(set(request.channel_extra) - EXTRA_BIZ_FIELDS)
    if unknown:
        raise InvalidRequest(
            f"Alipay does not take channel_extra {', '.join(unknown)}", param="channel_extra"
        )
    biz.update(request.channel_extra)
    return biz


def _refund_state(
    refund: Refund,
    status: RefundStatus,
    *,
    amount: int | None = None,
    channel_refund_id: str | None = None,
    failure: AlipayRefused | None = None,
) -> ChannelRefundState:
    return ChannelRefundState(
        refund_id=refund.id, payment_id=refund.payment_id, status=status,
        amount=refund.amount if amount is None else amount, currency=refund.currency,
        channel_refund_id=channel_refund_id,
        failure_code=failure.sub_code or failure.alipay_code if failure else None,
        failure_message=failure.sub_msg if failure else None,
    )  # fmt: skip


def _signature_hint(method: str, creds: AlipayCredentials) -> str:
    message = f"Alipay's answer to {method} does not verify with the credentials' alipay_public_key"
    if creds.uses_builtin_sandbox():
        message += (
            "; with the built-in sandbox (no gateway_url) alipay_public_key must be the sandbox's platform"
            " public key (see docs/channels.md, Alipay)"
        )
    return message
