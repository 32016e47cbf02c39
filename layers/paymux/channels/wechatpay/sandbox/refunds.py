"""The sandbox's domestic refunds: accepted as PROCESSING, settled when queried (as if WeChat Pay
had finished meanwhile) or when a test completion sends the refund notification."""

from __future__ import annotations

import secrets
from typing import Any

from paymux.channels.wechatpay import wire
from paymux.channels.wechatpay.credentials import WechatPayCredentials
from paymux.channels.wechatpay.sandbox.book import Book, SandboxRefusal, refund_answer

FINAL_STATES = frozenset({"SUCCESS", "CLOSED", "ABNORMAL"})


def create_refund(book: Book, creds: WechatPayCredentials, body: dict[str, Any], now: int) -> dict[str, Any]:
    """Raises SandboxRefusal as WeChat Pay refuses: unknown or unpaid trade, inconsistent total,
    refunds past the paid amount."""
    out_trade_no, out_refund_no, amount = (
        body.get("out_trade_no"),
        body.get("out_refund_no"),
        body.get("amount"),
    )
    if (
        not isinstance(out_refund_no, str)
        or not 1 <= len(out_refund_no) <= 64
        or not isinstance(amount, dict)
    ):
        raise SandboxRefusal(400, "PARAM_ERROR", "out_refund_no 或 amount 格式错误")
    trade = book.trade(creds.mchid, str(out_trade_no))
    if trade is None:
        raise SandboxRefusal(404, "RESOURCE_NOT_EXISTS", "订单不存在")
    refund_amount, total = amount.get("refund"), amount.get("total")
    if not isinstance(refund_amount, int) or refund_amount < 1 or total != trade["amount"]["total"]:
        raise SandboxRefusal(400, "PARAM_ERROR", "订单金额或退款金额与之前请求不一致")
    existing = book.refund(creds.mchid, out_refund_no)
    if existing is not None:
        if existing["amount"] != refund_amount or existing["out_trade_no"] != out_trade_no:
            raise SandboxRefusal(400, "INVALID_REQUEST", "退款单号重复但参数不一致")
        return refund_answer(existing)
    if trade["trade_state"] not in {"SUCCESS", "REFUND"}:
        raise SandboxRefusal(400, "INVALID_REQUEST", "订单未支付, 不能退款")
    if trade["refunded"] + refund_amount > trade["amount"]["total"]:
        raise SandboxRefusal(403, "NOT_ENOUGH", "订单可退金额不足")
    trade.update(
        trade_state="REFUND", trade_state_desc="转入退款", refunded=trade["refunded"] + refund_amount
    )
    refund = {
        "mchid": creds.mchid, "out_refund_no": out_refund_no, "out_trade_no": trade["out_trade_no"],
        "transaction_id": trade["transaction_id"], "refund_id": "50" + secrets.token_hex(15)[:30].upper(),
        "status": "PROCESSING", "amount": refund_amount, "total": trade["amount"]["total"],
        "create_time": wire.format_time(now), "notify_url": body.get("notify_url"),
    }  # fmt: skip
    book.save_trade(trade)
    book.save_refund(refund)
    return refund_answer(refund)


def settle(book: Book, refund: dict[str, Any], status: str, now: int) -> dict[str, Any]:
    """Move a PROCESSING refund to `status` (SUCCESS, CLOSED or ABNORMAL); a final one stays as is."""
    if refund["status"] in FINAL_STATES:
        return refund
    refund["status"] = status
    if status == "SUCCESS":
        refund["success_time"] = wire.format_time(now)
        book.record_in_bill(refund["mchid"], now, "refund", refund["out_refund_no"])
    else:
        trade = book.trade(refund["mchid"], refund["out_trade_no"])
        if trade is not None:
            trade["refunded"] -= refund["amount"]
            book.save_trade(trade)
    book.save_refund(refund)
    return refund


def settle_on_query(book: Book, creds: WechatPayCredentials, out_refund_no: str, now: int) -> dict[str, Any]:
    refund = book.refund(creds.mchid, out_refund_no)
    if refund is None:
        raise SandboxRefusal(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
    return settle(book, refund, "SUCCESS", now)
