"""UnionPay merchant statement (对账文件): the `fileTransfer.do` answer's `fileContent` is base64 of a
zlib-deflated zip; its `INN<yymmdd>88ZM_<merId>` file (全渠道 ZM) has one fixed-width GBK line per
transaction, fields separated by one space. paymux reads the documented subset below."""

from __future__ import annotations

import base64
import io
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime

from paymux.channels.unionpay.protocol import BEIJING

# Field widths of a ZM line, in order (《全渠道平台接入接口规范 第3部分 文件接口》 6.1).
ZM_WIDTHS = (
    3, 11, 11, 6, 10, 19, 12, 4, 2, 21, 2, 32, 2, 6, 10, 13, 13, 4, 15, 2, 2, 6, 2, 4, 32, 1, 21, 15, 1,
    15, 32, 13, 13, 8, 32, 13, 13, 12, 2, 1, 32, 98,
)  # fmt: skip
# Positions (0-based) of the fields paymux reads.
TRADE_CODE, TXN_TIME, TXN_AMT, QUERY_ID, ORDER_ID = 0, 4, 6, 9, 11
MER_CHARGE, TXN_TYPE, ORIG_QRY_ID, MER_ID, MER_RESERVED = 15, 19, 26, 27, 34


@dataclass(frozen=True)
class ZmLine:
    """The fields paymux reads from one ZM line; amounts in fen."""

    txn_type: str
    order_id: str
    query_id: str
    txn_amt: int
    fee: int
    occurred_at: int
    orig_query_id: str
    mer_id: str
    mer_reserved: str


def zm_file_name(mer_id: str, day: date) -> str:
    return f"INN{day:%y%m%d}88ZM_{mer_id}"


def pack_file_content(files: dict[str, bytes]) -> str:
    """`fileContent`: the files zipped, zlib-deflated, base64."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return base64.b64encode(zlib.compress(buffer.getvalue())).decode()


def unpack_file_content(file_content: str) -> dict[str, bytes]:
    """Reverse `pack_file_content`; raises ValueError if it is not that shape."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(zlib.decompress(base64.b64decode(file_content, validate=True))))
        return {name: archive.read(name) for name in archive.namelist()}
    except (zlib.error, zipfile.BadZipFile, ValueError) as error:
        raise ValueError("fileContent is not a deflated zip") from error


def format_zm_line(values: dict[int, str]) -> bytes:
    """One ZM line with `values` at their positions, every other field blank."""
    cells = []
    for position, width in enumerate(ZM_WIDTHS):
        cell = values.get(position, "").encode("gbk")
        if len(cell) > width:
            raise ValueError(f"ZM field {position} is wider than {width}")
        cells.append(cell.ljust(width))
    return b" ".join(cells)


def parse_zm(content: bytes, day: date) -> list[ZmLine]:
    """The lines of a ZM file of settlement `day`; raises ValueError on a malformed line."""
    return [_parse_line(line, day) for line in content.splitlines() if line.strip()]


def _parse_line(line: bytes, day: date) -> ZmLine:
    cells: list[str] = []
    start = 0
    for width in ZM_WIDTHS:
        cells.append(line[start : start + width].decode("gbk").strip())
        start += width + 1
    if not cells[TXN_AMT].isdigit():
        raise ValueError("ZM line has no amount")
    return ZmLine(
        txn_type=cells[TXN_TYPE],
        order_id=cells[ORDER_ID],
        query_id=cells[QUERY_ID],
        txn_amt=int(cells[TXN_AMT]),
        fee=_unsigned_amount(cells[MER_CHARGE]),
        occurred_at=_transmission_time(cells[TXN_TIME], day),
        orig_query_id=cells[ORIG_QRY_ID],
        mer_id=cells[MER_ID],
        mer_reserved=cells[MER_RESERVED],
    )


def _unsigned_amount(cell: str) -> int:
    """Fee cells are C/D (credit/debit) and 12 digits; paymux reports the fee's size."""
    digits = cell.lstrip("CD")
    return int(digits) if digits.isdigit() else 0


def _transmission_time(cell: str, day: date) -> int:
    """MMDDhhmmss (Beijing) → unix seconds, in the year that puts it nearest the settlement day."""
    if len(cell) != 10 or not cell.isdigit():
        raise ValueError("ZM line has no transmission time")
    candidates = []
    for year in (day.year - 1, day.year, day.year + 1):
        try:
            candidates.append(datetime.strptime(f"{year}{cell}", "%Y%m%d%H%M%S").replace(tzinfo=BEIJING))
        except ValueError:
            continue
    if not candidates:
        raise ValueError("ZM line has an impossible transmission time")
    settlement = datetime(day.year, day.month, day.day, tzinfo=BEIJING)
    return int(min(candidates, key=lambda moment: abs(moment - settlement)).timestamp())
