"""Write a day's trade bill as Alipay serves it: a zip of two GBK CSVs, detail and summary."""

# ruff: noqa: RUF001  (the bill format uses full-width punctuation)

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

from paymux.channels.alipay.statement import BILL_ENCODING, COLUMNS, LIST_END, LIST_START

_AMOUNT = COLUMNS.index("订单金额（元）")
_KIND = COLUMNS.index("业务类型")


def bill_zip(seller_id: str, day: date, rows: list[list[str]], exported_at: str) -> bytes:
    stem = f"{seller_id}0156_{day:%Y%m%d}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            f"{stem}_业务明细.csv", _detail(seller_id, day, rows, exported_at).encode(BILL_ENCODING)
        )
        archive.writestr(f"{stem}_业务明细(汇总).csv", _summary(seller_id, day, rows).encode(BILL_ENCODING))
    return buffer.getvalue()


def _period(seller_id: str, day: date) -> list[str]:
    start = f"{day:%Y年%m月%d日} 00:00:00"
    end = f"{date.fromordinal(day.toordinal() + 1):%Y年%m月%d日} 00:00:00"
    return [f"#账号：[{seller_id}0156]", f"#起始日期：[{start}]   终止日期：[{end}]"]


def _totals(rows: list[list[str]], kind: str) -> tuple[int, Decimal]:
    picked = [Decimal(row[_AMOUNT]) for row in rows if row[_KIND].strip() == kind]
    return len(picked), sum(picked, Decimal(0))


def _detail(seller_id: str, day: date, rows: list[list[str]], exported_at: str) -> str:
    paid_count, paid = _totals(rows, "交易")
    refund_count, refunded = _totals(rows, "退款")
    lines = [
        "#支付宝业务明细查询", *_period(seller_id, day), LIST_START, ",".join(COLUMNS),
        *(",".join(row) for row in rows),
        LIST_END,
        f"#交易合计：{paid_count}笔，商家实收共{paid:.2f}元，商家优惠共0.00元",
        f"#退款合计：{refund_count}笔，商家实收退款共{refunded:.2f}元，商家优惠退款共0.00元",
        f"#导出时间：[{exported_at}]",
    ]  # fmt: skip
    return "\r\n".join(lines) + "\r\n"


def _summary(seller_id: str, day: date, rows: list[list[str]]) -> str:
    paid_count, paid = _totals(rows, "交易")
    refund_count, refunded = _totals(rows, "退款")
    lines = [
        "#支付宝业务汇总查询", *_period(seller_id, day),
        "#-----------------------------------------业务汇总列表----------------------------------------",
        "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）",
        f",合计,{paid_count},{refund_count},{paid + refunded:.2f},{paid + refunded:.2f}",
        "#----------------------------------------业务汇总列表结束-------------------------------------",
    ]  # fmt: skip
    return "\r\n".join(lines) + "\r\n"
