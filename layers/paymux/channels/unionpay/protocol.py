"""UnionPay online payments (全渠道, version 5.1.0) wire format: field values, endpoint paths, the
`orderId` and `txnTime` mappings, amounts, and the two body encodings (form posts to the gateway,
unencoded `k=v&k=v` answers from it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode

from ulid import ULID

from paymux.domain.errors import InvalidRequest
from paymux.domain.money import Money

VERSION = "5.1.0"
ENCODING = "UTF-8"
SIGN_METHOD_RSA = "01"  # RSA-SHA256 with the merchant's certificate (`certId`)
ACCESS_TYPE_MERCHANT = "0"

TXN_QUERY = "00"
TXN_CONSUME = "01"
TXN_REFUND = "04"
TXN_VOID = "31"
TXN_FILE_TRANSFER = "76"

BIZ_GATEWAY = "000201"  # B2C gateway payments (web and app)
BIZ_DEFAULT = "000000"  # QR code application, queries, file transfer

CHANNEL_PC = "07"
CHANNEL_MOBILE = "08"

SUBTYPE_CONSUME = "01"
SUBTYPE_QR_APPLY = "07"
SUBTYPE_DEFAULT = "00"
SUBTYPE_FILE = "01"
FILE_TYPE_MERCHANT = "00"

# Endpoint paths under the gateway (gateway.95516.com, gateway.test.95516.com).
FRONT_TRANS_PATH = "/gateway/api/frontTransReq.do"
APP_TRANS_PATH = "/gateway/api/appTransReq.do"
BACK_TRANS_PATH = "/gateway/api/backTransReq.do"
QUERY_TRANS_PATH = "/gateway/api/queryTrans.do"
# Served from the file download host (filedownload.95516.com), at its root.
FILE_TRANSFER_PATH = "/"

RESP_SUCCESS = "00"
# The transaction is still in flight (交易通讯超时 / 交易状态未明 / 交易已受理).
RESP_PENDING = frozenset({"03", "04", "05"})
RESP_NOT_FOUND = "34"  # 查无此交易

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving since 1991

# ISO 4217 numeric codes UnionPay settles merchants in.
CURRENCY_CODES: dict[str, str] = {"cny": "156", "hkd": "344", "usd": "840"}
CURRENCIES_BY_CODE = {code: currency for currency, code in CURRENCY_CODES.items()}

_ID_PREFIXES = ("pay", "re")
_ULID_LENGTH = 26


def to_order_id(object_id: str) -> str:
    """`pay_<ULID>` → `pay<ULID>`: UnionPay's orderId is 8-40 letters and digits, no `_`."""
    return object_id.replace("_", "", 1)


def from_order_id(order_id: str) -> str | None:
    """Reverse `to_order_id`; None if `order_id` is not one paymux made."""
    for prefix in _ID_PREFIXES:
        tail = order_id[len(prefix) :]
        if order_id.startswith(prefix) and len(tail) == _ULID_LENGTH and tail.isalnum():
            return f"{prefix}_{tail}"
    return None


def txn_time_of(object_id: str) -> str:
    """The `txnTime` (Beijing yyyyMMddHHmmss) of a payment or refund: its id's ULID time, so the
    query that must repeat the original `txnTime` can recompute it."""
    millis = ULID.from_str(object_id.partition("_")[2]).milliseconds
    return datetime.fromtimestamp(millis // 1000, BEIJING).strftime("%Y%m%d%H%M%S")


def beijing_time(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, BEIJING).strftime("%Y%m%d%H%M%S")


def parse_beijing_time(value: str) -> int:
    """yyyyMMddHHmmss in Beijing time → unix seconds; raises ValueError if malformed."""
    return int(datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=BEIJING).timestamp())


def parse_trace_time(trace_time: str, txn_time: str) -> int:
    """UnionPay's `traceTime` (MMDDhhmmss, no year) → unix seconds, the year taken from the order's
    `txnTime` (the next year if the trace month is earlier); raises ValueError if malformed."""
    year = int(txn_time[:4])
    if int(trace_time[:2]) < int(txn_time[4:6]):
        year += 1
    return parse_beijing_time(f"{year}{trace_time}")


def currency_code(currency: str) -> str:
    """Raises InvalidRequest for a currency UnionPay does not settle."""
    try:
        return CURRENCY_CODES[currency]
    except KeyError:
        raise InvalidRequest(f"UnionPay does not take {currency!r}", param="currency") from None


def amount_field(amount: int, currency: str) -> str:
    """`txnAmt`: the amount in minor units (fen), as digits."""
    return str(Money(amount, currency).amount)


def parse_amount(value: str) -> int:
    """Raises ValueError unless `value` is a non-negative integer of minor units."""
    if not value.isdigit():
        raise ValueError("txnAmt must be digits")
    return int(value)


def now_unix() -> int:
    return int(datetime.now(UTC).timestamp())


def encode_form(fields: dict[str, str]) -> bytes:
    """A request body as the gateway takes it: application/x-www-form-urlencoded, UTF-8."""
    return urlencode(fields).encode()


def parse_form(body: bytes) -> dict[str, str]:
    """A form-encoded body (requests, notifications); raises ValueError if malformed or a field repeats."""
    pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise ValueError("a field repeats")
    return fields


def encode_answer(fields: dict[str, str]) -> str:
    """A gateway answer as UnionPay sends it: `k=v&k=v`, values not URL-encoded."""
    return "&".join(f"{key}={value}" for key, value in fields.items())


def parse_answer(text: str) -> dict[str, str]:
    """Parse a gateway answer the way UnionPay's SDK does: split on `&` outside `{...}` and `[...]`,
    each part on its first `=`, no URL decoding. Raises ValueError if malformed."""
    fields: dict[str, str] = {}
    part: list[str] = []
    closer: str | None = None
    for char in text.strip() + "&":
        if closer is None and char == "&":
            key, sep, value = "".join(part).partition("=")
            if not key or not sep:
                raise ValueError("not a key=value answer")
            fields[key] = value
            part = []
            continue
        if closer is not None and char == closer:
            closer = None
        elif closer is None and char in "{[":
            closer = "}" if char == "{" else "]"
        part.append(char)
    return fields
