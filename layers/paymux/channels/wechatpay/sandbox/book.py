"""The sandbox's provider-side books: trades, refunds and each day's bill entries, as JSON in the
`SandboxStore`, and what WeChat Pay answers about them."""

from __future__ import annotations

import secrets
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from paymux.channels.base import SandboxStore
from paymux.channels.wechatpay import wire
from paymux.domain.models import Channel

_FEE_RATE = Decimal("0.006")  # the usual 0.60% WeChat Pay fee, shown in bills


class SandboxRefusal(Exception):
    """What WeChat Pay would answer with an error: HTTP status, `code` and `message`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Book:
    def __init__(self, store: SandboxStore) -> None:
        self._store = store

    def trade(self, mchid: str, out_trade_no: str) -> dict[str, Any] | None:
        return self._store.load(Channel.WECHATPAY, f"trade:{mchid}:{out_trade_no}")

    def save_trade(self, trade: dict[str, Any]) -> None:
        self._store.save(Channel.WECHATPAY, f"trade:{trade['mchid']}:{trade['out_trade_no']}", trade)

    def save_h5_ticket(self, trade: dict[str, Any]) -> None:
        """Index an h5 trade by the `prepay_id` of its h5_url, for the page the shopper opens."""
        ticket = trade["h5_ticket"]
        self._store.save(
            Channel.WECHATPAY,
            f"h5:{ticket['prepay_id']}",
            {"mchid": trade["mchid"], "out_trade_no": trade["out_trade_no"], "package": ticket["package"]},
        )

    def h5_ticket(self, prepay_id: str) -> dict[str, Any] | None:
        return self._store.load(Channel.WECHATPAY, f"h5:{prepay_id}") if prepay_id else None

    def refund(self, mchid: str, out_refund_no: str) -> dict[str, Any] | None:
        return self._store.load(Channel.WECHATPAY, f"refund:{mchid}:{out_refund_no}")

    def save_refund(self, refund: dict[str, Any]) -> None:
        self._store.save(Channel.WECHATPAY, f"refund:{refund['mchid']}:{refund['out_refund_no']}", refund)

    def record_in_bill(self, mchid: str, unix_seconds: int, kind: str, key: str) -> None:
        """List a paid trade or a settled refund in the bill of its (Beijing) day."""
        bill_key = f"bill:{mchid}:{wire.beijing_day(unix_seconds).isoformat()}"
        entries = (self._store.load(Channel.WECHATPAY, bill_key) or {"entries": []})["entries"]
        if [kind, key] not in entries:
            entries.append([kind, key])
        self._store.save(Channel.WECHATPAY, bill_key, {"entries": entries})

    def bill_entries(self, mchid: str, day: str) -> list[tuple[str, str]]:
        stored = self._store.load(Channel.WECHATPAY, f"bill:{mchid}:{day}") or {"entries": []}
        return [(kind, key) for kind, key in stored["entries"]]

    def save_bill_file(self, token: str, mchid: str, text: str) -> None:
        self._store.save(Channel.WECHATPAY, f"billfile:{token}", {"mchid": mchid, "text": text})

    def bill_file(self, token: str) -> dict[str, Any] | None:
        return self._store.load(Channel.WECHATPAY, f"billfile:{token}")


def pay(trade: dict[str, Any], now: int) -> None:
    trade.update(
        trade_state="SUCCESS",
        trade_state_desc="支付成功",
        success_time=wire.format_time(now),
        transaction_id="42000" + "".join(secrets.choice("0123456789") for _ in range(23)),
    )
    trade.setdefault("payer", {"openid": "o" + secrets.token_hex(13)})


def transaction(trade: dict[str, Any]) -> dict[str, Any]:
    """A trade as the query API and the payment notification's resource show it."""
    paid = trade["trade_state"] in {"SUCCESS", "REFUND"}
    answer: dict[str, Any] = {
        "appid": trade["appid"], "mchid": trade["mchid"], "out_trade_no": trade["out_trade_no"],
        "trade_type": trade["trade_type"], "trade_state": trade["trade_state"],
        "trade_state_desc": trade["trade_state_desc"], "attach": "",
        "amount": {
            "total": trade["amount"]["total"], "currency": wire.CURRENCY, "payer_currency": wire.CURRENCY,
        },
    }  # fmt: skip
    if paid:
        answer.update(
            transaction_id=trade["transaction_id"],
            bank_type="OTHERS",
            success_time=trade["success_time"],
            payer=trade["payer"],
        )
        answer["amount"]["payer_total"] = trade["amount"]["total"]
    return answer


def refund_answer(refund: dict[str, Any]) -> dict[str, Any]:
    """A refund as the refund and refund-query APIs answer it."""
    answer = {
        "refund_id": refund["refund_id"], "out_refund_no": refund["out_refund_no"],
        "transaction_id": refund["transaction_id"], "out_trade_no": refund["out_trade_no"],
        "channel": "ORIGINAL", "user_received_account": "支付用户零钱", "create_time": refund["create_time"],
        "status": refund["status"], "funds_account": "AVAILABLE",
        "amount": {
            "total": refund["total"], "refund": refund["amount"], "payer_total": refund["total"],
            "payer_refund": refund["amount"], "settlement_total": refund["total"],
            "settlement_refund": refund["amount"], "discount_refund": 0, "currency": wire.CURRENCY,
            "refund_fee": 0,
        },
    }  # fmt: skip
    if refund.get("success_time"):
        answer["success_time"] = refund["success_time"]
    return answer


def fee(amount: int) -> int:
    return int((Decimal(amount) * _FEE_RATE).quantize(Decimal(1), rounding=ROUND_HALF_UP))
