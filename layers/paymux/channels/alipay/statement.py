"""Alipay's daily trade bill (`bill_type=trade`): a zip holding the GBK CSV `..._业务明细.csv`
(one row per payment and refund, between `#---业务明细列表---` markers) and its summary."""

# ruff: noqa: RUF001  (the bill format uses full-width punctuation)

from __future__ import annotations

import csv
import io
import zipfile
from decimal import InvalidOperation

from paymux.channels.alipay.protocol import CURRENCY, fen, parse_beijing_time
from paymux.channels.base import StatementLine
from paymux.domain.errors import ChannelError, InvalidRequest

BILL_ENCODING = "gbk"
DETAIL_MARK = "业务明细"
SUMMARY_MARK = "汇总"
LIST_START = "#-----------------------------------------业务明细列表----------------------------------------"
LIST_END = "#-----------------------------------------业务明细列表结束------------------------------------"
COLUMNS = (
    "支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号", "门店名称",
    "操作员", "终端号", "对方账户", "订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）",
    "支付宝优惠（元）", "商家优惠（元）", "券核销金额（元）", "券名称", "商家红包消费金额（元）",
    "卡消费金额（元）", "退款批次号/请求号", "服务费（元）", "分润（元）", "备注",
)  # fmt: skip
PAYMENT_TYPE = "交易"
REFUND_TYPE = "退款"


def parse_bill_zip(data: bytes) -> list[StatementLine]:
    """Raises ChannelError if the archive or its detail CSV is not an Alipay trade bill."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            member = next((m for m in archive.infolist() if _is_detail(_member_name(m))), None)
            if member is None:
                raise ChannelError("The Alipay bill holds no 业务明细 CSV")
            text = archive.read(member).decode(BILL_ENCODING)
    except (zipfile.BadZipFile, UnicodeDecodeError):
        raise ChannelError("The Alipay bill is not a zip of GBK CSV files") from None
    return parse_detail_csv(text)


def parse_detail_csv(text: str) -> list[StatementLine]:
    """Raises ChannelError on a missing header or a malformed row."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith(LIST_START))
    except StopIteration:
        raise ChannelError("The Alipay bill has no 业务明细列表") from None
    rows = csv.reader(lines[start + 1 :])
    header = [cell.strip() for cell in next(rows, [])]
    lines_out: list[StatementLine] = []
    for cells in rows:
        if cells and cells[0].startswith("#"):
            break
        if any(cell.strip() for cell in cells):
            lines_out.append(_line(dict(zip(header, (c.strip() for c in cells), strict=False))))
    return lines_out


def _line(row: dict[str, str]) -> StatementLine:
    try:
        kind = {PAYMENT_TYPE: "payment", REFUND_TYPE: "refund"}[row["业务类型"]]
        amount = abs(fen(row["订单金额（元）"]))
        fee = -fen(row["服务费（元）"]) if row.get("服务费（元）") else None
        occurred_at = parse_beijing_time(row["完成时间"])
    except (KeyError, ValueError, InvalidOperation, InvalidRequest):
        raise ChannelError("The Alipay bill has a malformed row") from None
    return StatementLine(
        kind=kind,
        payment_id=row["商户订单号"],
        amount=amount,
        currency=CURRENCY,
        occurred_at=occurred_at,
        channel_transaction_id=row["支付宝交易号"] or None,
        refund_id=(row.get("退款批次号/请求号") or None) if kind == "refund" else None,
        fee=fee,
    )


def _member_name(member: zipfile.ZipInfo) -> str:
    """Alipay writes GBK names without the zip UTF-8 flag; Python then reads them as cp437."""
    if member.flag_bits & 0x800:
        return member.filename
    try:
        return member.filename.encode("cp437").decode(BILL_ENCODING)
    except (UnicodeEncodeError, UnicodeDecodeError):
        return member.filename


def _is_detail(name: str) -> bool:
    return name.endswith(".csv") and DETAIL_MARK in name and SUMMARY_MARK not in name
