"""The sandbox's provider-side trade records (consumes and refunds), kept in the SandboxStore."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, replace
from datetime import datetime

from paymux.channels.base import SandboxStore
from paymux.channels.unionpay.protocol import BEIJING, now_unix

CHANNEL = "unionpay"
PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"


@dataclass(frozen=True)
class Trade:
    mer_id: str
    order_id: str
    txn_type: str
    txn_sub_type: str
    biz_type: str
    txn_time: str
    txn_amt: int
    currency_code: str
    status: str = PENDING
    query_id: str = ""
    trace_no: str = ""
    trace_time: str = ""  # MMDDhhmmss, Beijing
    settle_date: str = ""  # yyyymmdd, Beijing
    resp_code: str = ""
    orig_query_id: str = ""
    req_reserved: str = ""
    back_url: str = ""
    pay_timeout: str = ""
    tn: str = ""
    qr_code: str = ""


def new_query_id() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(21))


def finished(trade: Trade, status: str, resp_code: str) -> Trade:
    """`trade` reaching `status` now: a queryId (kept if it has one), trace and settlement dates."""
    moment = datetime.fromtimestamp(now_unix(), BEIJING)
    return replace(
        trade,
        status=status,
        resp_code=resp_code,
        query_id=trade.query_id or new_query_id(),
        trace_no=f"{secrets.randbelow(1_000_000):06d}",
        trace_time=moment.strftime("%m%d%H%M%S"),
        settle_date=moment.strftime("%Y%m%d"),
    )


class TradeBook:
    def __init__(self, store: SandboxStore) -> None:
        self.store = store

    def load(self, mer_id: str, order_id: str) -> Trade | None:
        value = self.store.load(CHANNEL, f"order:{mer_id}:{order_id}")
        return Trade(**value) if value else None

    def save(self, trade: Trade) -> None:
        self.store.save(CHANNEL, f"order:{trade.mer_id}:{trade.order_id}", asdict(trade))
        if trade.query_id:
            self.store.save(CHANNEL, f"query:{trade.mer_id}:{trade.query_id}", {"order_id": trade.order_id})
        if trade.settle_date:
            self._index(trade)

    def by_query_id(self, mer_id: str, query_id: str) -> Trade | None:
        value = self.store.load(CHANNEL, f"query:{mer_id}:{query_id}")
        return self.load(mer_id, str(value["order_id"])) if value else None

    def refunds_of(self, original: Trade) -> list[Trade]:
        value = self.store.load(CHANNEL, f"refunds:{original.mer_id}:{original.order_id}") or {"orders": []}
        refunds = (self.load(original.mer_id, order_id) for order_id in value["orders"])
        return [refund for refund in refunds if refund is not None]

    def add_refund(self, original: Trade, refund: Trade) -> None:
        key = f"refunds:{original.mer_id}:{original.order_id}"
        orders = (self.store.load(CHANNEL, key) or {"orders": []})["orders"]
        if refund.order_id not in orders:
            self.store.save(CHANNEL, key, {"orders": [*orders, refund.order_id]})
        self.save(refund)

    def settled_on(self, mer_id: str, day: str) -> list[Trade]:
        """Trades that succeeded on `day` (yyyymmdd, Beijing)."""
        value = self.store.load(CHANNEL, f"day:{mer_id}:{day}") or {"orders": []}
        trades = (self.load(mer_id, order_id) for order_id in value["orders"])
        return [trade for trade in trades if trade is not None and trade.status == SUCCEEDED]

    def _index(self, trade: Trade) -> None:
        key = f"day:{trade.mer_id}:{trade.settle_date}"
        orders = (self.store.load(CHANNEL, key) or {"orders": []})["orders"]
        if trade.order_id not in orders:
            self.store.save(CHANNEL, key, {"orders": [*orders, trade.order_id]})
