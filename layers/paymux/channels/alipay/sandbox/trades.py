"""The sandbox's provider-side trades, refunds and per-day bill rows, kept in the SandboxStore as
Alipay would keep them (yuan strings, Beijing times, Alipay statuses)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from paymux.channels.alipay.protocol import beijing_date, beijing_time, parse_beijing_time
from paymux.channels.base import SandboxStore

CHANNEL = "alipay"
WAIT_BUYER_PAY = "WAIT_BUYER_PAY"
TRADE_SUCCESS = "TRADE_SUCCESS"
TRADE_FINISHED = "TRADE_FINISHED"
TRADE_CLOSED = "TRADE_CLOSED"
PAID = frozenset({TRADE_SUCCESS, TRADE_FINISHED})
# What the sandbox charges per payment, as Alipay's standard 0.6% rate.
FEE_RATE = Decimal("0.006")
SANDBOX_BUYER = {"buyer_user_id": "2088102177846880", "buyer_logon_id": "sbx***@sandbox.com"}

Trade = dict[str, Any]


class Rejected(Exception):
    """Alipay refuses the call: `code`/`msg` and the business `sub_code`/`sub_msg`."""

    def __init__(
        self, sub_code: str, sub_msg: str, *, code: str = "40004", msg: str = "Business Failed"
    ) -> None:
        super().__init__(f"{sub_code}: {sub_msg}")
        self.code, self.msg, self.sub_code, self.sub_msg = code, msg, sub_code, sub_msg


class TradeBook:
    def __init__(self, store: SandboxStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def now(self) -> str:
        return beijing_time(self.clock())

    def find(self, app_id: str, out_trade_no: str) -> Trade | None:
        trade = self.store.load(CHANNEL, _trade_key(app_id, out_trade_no))
        if trade and trade["trade_status"] == WAIT_BUYER_PAY and _expired(trade, self.clock()):
            trade.update(trade_status=TRADE_CLOSED, gmt_close=trade["time_expire"])
            self.save(trade)
        return trade

    def get(self, app_id: str, out_trade_no: str) -> Trade:
        """Raises Rejected(ACQ.TRADE_NOT_EXIST)."""
        trade = self.find(app_id, out_trade_no)
        if trade is None:
            raise Rejected("ACQ.TRADE_NOT_EXIST", "交易不存在")
        return trade

    def save(self, trade: Trade) -> None:
        self.store.save(CHANNEL, _trade_key(trade["app_id"], trade["out_trade_no"]), trade)

    def open(self, app_id: str, method: str, biz: dict[str, Any], notify_url: str | None) -> Trade:
        """Create the trade a payment request describes, or return the same one again. Raises Rejected
        if the number is taken by a different or finished trade."""
        existing = self.find(app_id, biz["out_trade_no"])
        if existing is not None:
            if existing["trade_status"] in PAID:
                raise Rejected("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
            if existing["trade_status"] == TRADE_CLOSED:
                raise Rejected("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
            if existing["total_amount"] != biz["total_amount"]:
                raise Rejected("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
            return existing
        trade: Trade = {
            "app_id": app_id, "out_trade_no": biz["out_trade_no"], "trade_no": _trade_no(self.clock()),
            "method": method, "subject": biz["subject"], "total_amount": biz["total_amount"],
            "trade_status": WAIT_BUYER_PAY, "gmt_create": self.now(), "time_expire": biz.get("time_expire"),
            "notify_url": notify_url, "refunds": {},
        }  # fmt: skip
        self.save(trade)
        return trade

    def pay(self, trade: Trade) -> Trade:
        """The shopper pays. Raises Rejected if the trade is closed."""
        if trade["trade_status"] in PAID:
            return trade
        if trade["trade_status"] == TRADE_CLOSED:
            raise Rejected("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
        trade.update(trade_status=TRADE_SUCCESS, gmt_payment=self.now(), **SANDBOX_BUYER)
        self.save(trade)
        self._add_bill_row(trade["app_id"], _payment_row(trade), trade["gmt_payment"])
        return trade

    def close(self, trade: Trade) -> Trade:
        """Raises Rejected(ACQ.TRADE_STATUS_ERROR) if the trade is already paid."""
        if trade["trade_status"] in PAID:
            raise Rejected("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        if trade["trade_status"] != TRADE_CLOSED:
            trade.update(trade_status=TRADE_CLOSED, gmt_close=self.now())
            self.save(trade)
        return trade

    def refund(
        self, trade: Trade, out_request_no: str, amount: str, reason: str | None
    ) -> tuple[Trade, bool]:
        """Refund synchronously; returns the trade and whether funds moved now (`fund_change`).
        Raises Rejected for an unpaid trade, an amount past what is left, or a reused request number
        with another amount."""
        if trade["trade_status"] not in PAID and not trade["refunds"]:
            raise Rejected("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        done = trade["refunds"].get(out_request_no)
        if done is not None:
            if Decimal(done["refund_amount"]) != Decimal(amount):
                raise Rejected("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额与原请求不一致")
            return trade, False
        if Decimal(amount) <= 0 or refunded(trade) + Decimal(amount) > Decimal(trade["total_amount"]):
            raise Rejected("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
        refund = {"refund_amount": amount, "gmt_refund_pay": self.now(), "refund_reason": reason or ""}
        trade["refunds"][out_request_no] = refund
        if refunded(trade) == Decimal(trade["total_amount"]):
            trade.update(trade_status=TRADE_CLOSED, gmt_close=refund["gmt_refund_pay"])
        self.save(trade)
        self._add_bill_row(trade["app_id"], _refund_row(trade, out_request_no), refund["gmt_refund_pay"])
        return trade, True

    def bill_rows(self, app_id: str, day: str) -> list[list[str]]:
        saved = self.store.load(CHANNEL, _bill_key(app_id, day))
        return list(saved["rows"]) if saved else []

    def _add_bill_row(self, app_id: str, row: list[str], at: str) -> None:
        day = beijing_date(parse_beijing_time(at)).isoformat()
        rows = self.bill_rows(app_id, day)
        self.store.save(CHANNEL, _bill_key(app_id, day), {"rows": [*rows, row]})


def refunded(trade: Trade) -> Decimal:
    return sum((Decimal(r["refund_amount"]) for r in trade["refunds"].values()), Decimal(0))


def _payment_row(trade: Trade) -> list[str]:
    total = trade["total_amount"]
    fee = (Decimal(total) * FEE_RATE).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    return _row(trade, "交易", trade["gmt_payment"], total, "", f"{-fee:.2f}")


def _refund_row(trade: Trade, out_request_no: str) -> list[str]:
    refund = trade["refunds"][out_request_no]
    amount = f"-{Decimal(refund['refund_amount']):.2f}"
    return _row(trade, "退款", refund["gmt_refund_pay"], amount, out_request_no, "0.00")


def _row(trade: Trade, kind: str, finished: str, amount: str, request_no: str, fee: str) -> list[str]:
    # Alipay pads its text columns with a tab so spreadsheets keep long numbers as text.
    return [
        f"{trade['trade_no']}\t", f"{trade['out_trade_no']}\t", f"{kind}\t", trade["subject"],
        trade["gmt_create"], finished, "\t", "\t", "\t", "\t", f"{trade.get('buyer_logon_id', '')}\t",
        amount, amount, "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00\t", "0.00", f"{request_no}\t",
        fee, "0.00", "",
    ]  # fmt: skip


def _expired(trade: Trade, now: float) -> bool:
    expire = trade.get("time_expire")
    return isinstance(expire, str) and parse_beijing_time(expire) <= now


def _trade_no(now: float) -> str:
    """Alipay's 28-digit trade number: date, channel digits, then a serial."""
    return beijing_date(now).strftime("%Y%m%d") + "22001" + f"{secrets.randbelow(10**15):015d}"


def _trade_key(app_id: str, out_trade_no: str) -> str:
    return f"trade#{app_id}#{out_trade_no}"


def _bill_key(app_id: str, day: str) -> str:
    return f"bill#{app_id}#{day}"
