"""The sandbox's notifications: records a test completion in its books and builds WeChat Pay's real
notification of it, the resource sealed with the merchant's APIv3 key (AEAD_AES_256_GCM) and the
body signed with the sandbox platform key.

WeChat Pay notifies successful payments only. So that a test completion with `failed` or `closed`
also runs the real notification path, the sandbox sends the same signed, encrypted transaction
notification with `trade_state` PAYERROR or CLOSED (event types `TRANSACTION.PAYERROR` and
`TRANSACTION.CLOSED`, which only the sandbox sends)."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from paymux.channels.base import (
    ChannelCredentials,
    ProviderRequest,
    ProviderResponse,
    SandboxCheckout,
    SandboxStore,
)
from paymux.channels.sandbox_page import serve
from paymux.channels.wechatpay import signing, wire
from paymux.channels.wechatpay.credentials import WechatPayCredentials
from paymux.channels.wechatpay.sandbox import identity
from paymux.channels.wechatpay.sandbox.book import Book, pay, transaction
from paymux.channels.wechatpay.sandbox.refunds import settle
from paymux.domain.clock import Clock
from paymux.domain.errors import ChannelError
from paymux.domain.models import Channel, Payment, Refund
from paymux.domain.states import PaymentStatus, RefundStatus

_TRADE_OUTCOMES = {
    PaymentStatus.SUCCEEDED: ("SUCCESS", "支付成功"),
    PaymentStatus.FAILED: ("PAYERROR", "支付失败"),
    PaymentStatus.CLOSED: ("CLOSED", "订单已关闭"),
}
_REFUND_OUTCOMES = {RefundStatus.SUCCEEDED: "SUCCESS", RefundStatus.FAILED: "CLOSED"}
_REFUND_SUMMARIES = {"SUCCESS": "退款成功", "CLOSED": "退款关闭", "ABNORMAL": "退款异常"}


class WechatPaySandbox:
    channel = Channel.WECHATPAY

    def __init__(self, store: SandboxStore, clock: Clock) -> None:
        self._book = Book(store)
        self._clock = clock

    def notification_for(
        self, credentials: ChannelCredentials, payment: Payment, outcome: PaymentStatus, notify_path: str
    ) -> ProviderRequest:
        """Raises ChannelError for an outcome WeChat Pay cannot reach from the trade's state."""
        creds = _wechatpay(credentials)
        if outcome not in _TRADE_OUTCOMES:
            raise ChannelError(f"The WeChat Pay sandbox cannot complete a payment as {outcome}")
        trade = self._book.trade(creds.mchid, payment.id)
        if trade is None:
            raise ChannelError("The WeChat Pay sandbox has no such trade")
        trade_state, summary = _TRADE_OUTCOMES[outcome]
        if trade["trade_state"] in {"NOTPAY", "USERPAYING"}:
            self._finish(trade, trade_state)
        elif trade["trade_state"] != trade_state:
            raise ChannelError(f"The WeChat Pay sandbox trade is already {trade['trade_state']}")
        return self._notification(
            creds,
            f"TRANSACTION.{trade_state}",
            summary,
            "transaction",
            transaction(trade),
            notify_path,
            payment.id,
        )

    def shopper_page(
        self, request: ProviderRequest, base_url: str, checkout: SandboxCheckout
    ) -> ProviderResponse:
        """The h5 page an `h5` payment's `h5_url` opens: the order with Pay and Decline, settled
        through `checkout` (see `paymux.channels.sandbox_page`)."""
        from paymux.channels.wechatpay.sandbox.gateway import H5_PAGE_PATH
        from paymux.channels.wechatpay.sandbox.h5_page import H5PageFlow

        return serve(request, base_url, checkout, H5PageFlow(self._book), H5_PAGE_PATH)

    def refund_notification_for(
        self,
        credentials: ChannelCredentials,
        payment: Payment,
        refund: Refund,
        outcome: RefundStatus,
        notify_path: str,
    ) -> ProviderRequest | None:
        """Raises ChannelError if the sandbox never accepted the refund."""
        creds = _wechatpay(credentials)
        stored = self._book.refund(creds.mchid, refund.id)
        if stored is None or stored["out_trade_no"] != payment.id or outcome not in _REFUND_OUTCOMES:
            raise ChannelError("The WeChat Pay sandbox has no such refund to complete")
        stored = settle(self._book, stored, _REFUND_OUTCOMES[outcome], self._clock())
        status = stored["status"]
        return self._notification(
            creds,
            f"REFUND.{status}",
            _REFUND_SUMMARIES[status],
            "refund",
            _refund_resource(stored),
            notify_path,
            refund.id,
        )

    def _finish(self, trade: dict[str, Any], trade_state: str) -> None:
        now = self._clock()
        if trade_state == "SUCCESS":
            pay(trade, now)
            self._book.record_in_bill(trade["mchid"], now, "payment", trade["out_trade_no"])
        else:
            trade.update(
                trade_state=trade_state,
                trade_state_desc=_TRADE_OUTCOMES[
                    PaymentStatus.FAILED if trade_state == "PAYERROR" else PaymentStatus.CLOSED
                ][1],
            )
        self._book.save_trade(trade)

    def _notification(
        self,
        creds: WechatPayCredentials,
        event_type: str,
        summary: str,
        original_type: str,
        resource: dict[str, Any],
        notify_path: str,
        object_id: str,
    ) -> ProviderRequest:
        now, nonce = self._clock(), secrets.token_hex(6)
        body = wire.dumps(
            {
                "id": str(uuid.uuid4()),
                "create_time": wire.format_time(now),
                "resource_type": "encrypt-resource",
                "event_type": event_type,
                "summary": summary,
                "resource": {
                    "original_type": original_type,
                    "algorithm": signing.AEAD_ALGORITHM,
                    "ciphertext": signing.encrypt_resource(
                        creds.apiv3_key, nonce, original_type, wire.dumps(resource)
                    ),
                    "associated_data": original_type,
                    "nonce": nonce,
                },
            }
        )
        headers = signing.signed_response_headers(
            identity.platform_private_key(), identity.platform_serial_for(creds), body, now
        )
        headers["content-type"] = "application/json"
        # paymux's notify_url names the object as its last path segment (see the adapter).
        return ProviderRequest("POST", f"{notify_path.rstrip('/')}/{object_id}", headers, body.encode())


def _refund_resource(refund: dict[str, Any]) -> dict[str, Any]:
    resource = {
        "mchid": refund["mchid"], "out_trade_no": refund["out_trade_no"],
        "transaction_id": refund["transaction_id"], "out_refund_no": refund["out_refund_no"],
        "refund_id": refund["refund_id"], "refund_status": refund["status"],
        "user_received_account": "支付用户零钱",
        "amount": {"total": refund["total"], "refund": refund["amount"], "payer_total": refund["total"],
                   "payer_refund": refund["amount"]},
    }  # fmt: skip
    if refund.get("success_time"):
        resource["success_time"] = refund["success_time"]
    return resource


def _wechatpay(credentials: ChannelCredentials) -> WechatPayCredentials:
    if not isinstance(credentials, WechatPayCredentials):
        raise ChannelError("The WeChat Pay sandbox was given another channel's credentials")
    return credentials
