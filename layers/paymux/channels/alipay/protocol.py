"""The fixed parts of the Alipay open platform protocol: gateways, method names, product codes,
Beijing time and yuan amounts."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from paymux.domain.errors import InvalidRequest
from paymux.domain.money import Money

GATEWAY_URL = "https://openapi.alipay.com/gateway.do"
SANDBOX_GATEWAY_URL = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"

SIGN_TYPE = "RSA2"
CHARSET = "utf-8"
VERSION = "1.0"
FORMAT = "JSON"
# Alipay China settles in yuan only.
CURRENCY = "cny"

SUCCESS_CODE = "10000"
TRADE_NOT_EXIST = "ACQ.TRADE_NOT_EXIST"

PRECREATE = "alipay.trade.precreate"
WAP_PAY = "alipay.trade.wap.pay"
PAGE_PAY = "alipay.trade.page.pay"
APP_PAY = "alipay.trade.app.pay"
QUERY = "alipay.trade.query"
CLOSE = "alipay.trade.close"
REFUND = "alipay.trade.refund"
REFUND_QUERY = "alipay.trade.fastpay.refund.query"
BILL_URL_QUERY = "alipay.data.dataservice.bill.downloadurl.query"

# Scene -> (method, product_code). `qr` is a server call; the others are signed client requests.
SCENE_METHODS: dict[str, tuple[str, str]] = {
    "qr": (PRECREATE, "FACE_TO_FACE_PAYMENT"),
    "h5": (WAP_PAY, "QUICK_WAP_WAY"),
    "pc": (PAGE_PAY, "FAST_INSTANT_TRADE_PAY"),
    "app": (APP_PAY, "QUICK_MSECURITY_PAY"),
}
CLIENT_METHODS = frozenset({WAP_PAY, PAGE_PAY, APP_PAY})

# China has kept UTC+8 without daylight saving since 1991; a fixed offset needs no tz database.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def response_key(method: str) -> str:
    """`alipay.trade.query` answers under `alipay_trade_query_response`."""
    return method.replace(".", "_") + "_response"


def beijing_time(unix_seconds: float) -> str:
    return datetime.fromtimestamp(unix_seconds, BEIJING).strftime(TIME_FORMAT)


def parse_beijing_time(value: str) -> int:
    """Unix seconds of a "YYYY-MM-DD HH:MM:SS" Beijing time; raises ValueError if malformed."""
    return int(datetime.strptime(value, TIME_FORMAT).replace(tzinfo=BEIJING).timestamp())


def beijing_date(unix_seconds: float) -> date:
    return datetime.fromtimestamp(unix_seconds, BEIJING).date()


def yuan(amount: int, currency: str) -> str:
    """Fen to Alipay's decimal yuan string; raises InvalidRequest for any currency but CNY."""
    if currency != CURRENCY:
        raise InvalidRequest(
            f"Alipay China takes payments in cny only, not {currency!r}",
            param="currency",
            code="currency_not_supported",
        )
    return Money(amount, currency).to_major_string()


def fen(value: str) -> int:
    """Alipay's decimal yuan string to fen; raises InvalidRequest if it is not an exact amount."""
    return Money.from_major_string(value, CURRENCY).amount
