"""The sandbox's trade bills: `GET /v3/bill/tradebill` answers a signed download_url and SHA1;
the download serves the CSV itself."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from paymux.channels.wechatpay import statement, wire
from paymux.channels.wechatpay.credentials import WechatPayCredentials
from paymux.channels.wechatpay.sandbox.book import Book, SandboxRefusal, fee

_DOWNLOAD_BASE = "https://api.mch.weixin.qq.com/v3/billdownload/file"


def bill_answer(book: Book, creds: WechatPayCredentials, bill_date: str, now: int) -> dict[str, Any]:
    """Raises SandboxRefusal for a malformed or future date (the sandbox also serves today's bill so
    far, which WeChat Pay does not)."""
    try:
        day = date.fromisoformat(bill_date)
    except ValueError:
        raise SandboxRefusal(400, "PARAM_ERROR", "bill_date 格式应为 yyyy-MM-DD") from None
    if day > wire.beijing_day(now):
        raise SandboxRefusal(400, "NO_STATEMENT_EXIST", "账单文件不存在")
    text = statement.render(
        [_row(book, creds.mchid, kind, key) for kind, key in book.bill_entries(creds.mchid, bill_date)]
    )
    token = secrets.token_urlsafe(24)
    book.save_bill_file(token, creds.mchid, text)
    digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
    return {
        "hash_type": "SHA1",
        "hash_value": digest,
        "download_url": f"{_DOWNLOAD_BASE}?{urlencode({'token': token})}",
    }


def bill_download(book: Book, creds: WechatPayCredentials, token: str) -> str:
    stored = book.bill_file(token)
    if stored is None or stored["mchid"] != creds.mchid:
        raise SandboxRefusal(404, "NOT_FOUND", "账单文件不存在或已过期")
    text: str = stored["text"]
    return text


def _row(book: Book, mchid: str, kind: str, key: str) -> statement.BillRow:
    if kind == "refund":
        refund = _found(book.refund(mchid, key))
        trade = _found(book.trade(mchid, refund["out_trade_no"]))
        return statement.BillRow(
            time=_local(refund["success_time"]), appid=trade["appid"], mchid=mchid,
            transaction_id=trade["transaction_id"], out_trade_no=trade["out_trade_no"],
            trade_type=trade["trade_type"], trade_state="REFUND", currency="CNY",
            order_total=trade["amount"]["total"], fee=-fee(refund["amount"]),
            openid=trade["payer"]["openid"], description=trade["description"], refund_id=refund["refund_id"],
            out_refund_no=refund["out_refund_no"], refund_amount=refund["amount"], refund_status="SUCCESS",
        )  # fmt: skip
    trade = _found(book.trade(mchid, key))
    return statement.BillRow(
        time=_local(trade["success_time"]), appid=trade["appid"], mchid=mchid,
        transaction_id=trade["transaction_id"], out_trade_no=trade["out_trade_no"],
        trade_type=trade["trade_type"], trade_state="SUCCESS", currency="CNY",
        order_total=trade["amount"]["total"], fee=fee(trade["amount"]["total"]),
        openid=trade["payer"]["openid"], description=trade["description"],
    )  # fmt: skip


def _local(rfc3339: str) -> str:
    """`2021-01-28T17:07:11+08:00` to the bill's `2021-01-28 17:07:11` (Beijing time)."""
    return datetime.fromisoformat(rfc3339).astimezone(wire.BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _found(record: dict[str, Any] | None) -> dict[str, Any]:
    if record is None:
        raise SandboxRefusal(500, "SYSTEM_ERROR", "账单记录缺失")
    return record
