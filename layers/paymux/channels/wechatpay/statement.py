"""WeChat Pay's trade bill (`bill_type=ALL`): a CSV whose header names the columns in Chinese, whose
values each start with a backtick, and which ends with a summary header and a summary line. Amounts
are yuan with two decimals (fees sometimes with five)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from paymux.channels.base import StatementLine
from paymux.channels.wechatpay.wire import WireFormatError, beijing_seconds

COLUMNS = (
    "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识",
    "交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号",
    "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包",
    "手续费", "费率", "订单金额", "申请退款金额", "费率备注",
)  # fmt: skip
SUMMARY_COLUMNS = (
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
)


@dataclass(frozen=True)
class BillRow:
    """One trade or refund line, in fen."""

    time: str  # Beijing time, `YYYY-MM-DD HH:MM:SS`
    appid: str
    mchid: str
    transaction_id: str
    out_trade_no: str
    trade_type: str
    trade_state: str  # SUCCESS or REFUND
    currency: str
    order_total: int
    fee: int
    openid: str = ""
    description: str = ""
    refund_id: str = ""
    out_refund_no: str = ""
    refund_amount: int = 0
    refund_status: str = ""


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def fen(value: str) -> int:
    """Yuan to fen, rounding half up (fees come with five decimals); raises WireFormatError."""
    try:
        return int((Decimal(value or "0") * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation:
        raise WireFormatError(f"not an amount: {value[:20]!r}") from None


def render(rows: list[BillRow]) -> str:
    """The bill WeChat Pay serves for a day."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for row in rows:
        refund = row.trade_state == "REFUND"
        writer.writerow("`" + value for value in (
            row.time, row.appid, row.mchid, "0", "", row.transaction_id, row.out_trade_no, row.openid,
            row.trade_type, row.trade_state, "OTHERS", row.currency,
            yuan(0 if refund else row.order_total), "0.00",
            row.refund_id or "0", row.out_refund_no or "0", yuan(row.refund_amount), "0.00",
            "ORIGINAL" if refund else "", row.refund_status, row.description, "",
            yuan(row.fee), "0.60%", yuan(row.order_total), yuan(row.refund_amount), "",
        ))  # fmt: skip
    writer.writerow(SUMMARY_COLUMNS)
    paid = sum(r.order_total for r in rows if r.trade_state != "REFUND")
    refunded = sum(r.refund_amount for r in rows)
    writer.writerow("`" + value for value in (
        str(len(rows)), yuan(paid), yuan(refunded), "0.00", yuan(sum(r.fee for r in rows)),
        yuan(paid), yuan(refunded),
    ))  # fmt: skip
    return out.getvalue()


def parse(text: str) -> list[StatementLine]:
    """The bill's trade and refund lines; raises WireFormatError if it is not a WeChat Pay bill."""
    records = [row for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) if row]
    if not records or tuple(name.strip() for name in records[0][: len(COLUMNS) - 1]) != COLUMNS[:-1]:
        raise WireFormatError("not a WeChat Pay trade bill")
    header = [name.strip() for name in records[0]]
    lines: list[StatementLine] = []
    for record in records[1:]:
        if record[0].strip() == SUMMARY_COLUMNS[0]:
            break
        values = dict(zip(header, (value.strip().lstrip("`") for value in record), strict=False))
        lines.append(_line(values))
    return lines


def _line(values: dict[str, str]) -> StatementLine:
    refund = values.get("交易状态") == "REFUND"
    order_total = values.get("订单金额") or values.get("应结订单金额", "0")
    return StatementLine(
        kind="refund" if refund else "payment",
        payment_id=values.get("商户订单号", ""),
        amount=fen(values.get("退款金额", "0") if refund else order_total),
        currency=values.get("货币种类", "CNY").lower(),
        occurred_at=beijing_seconds(values.get("交易时间", "")),
        channel_transaction_id=values.get("微信订单号") or None,
        refund_id=values.get("商户退款单号") if refund else None,
        fee=fen(values.get("手续费", "0")),
    )
