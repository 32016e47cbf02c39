"""The sandbox's UnionPay gateway: takes the same form posts as gateway.95516.com, checks them
against the merchant's registered certificate, keeps the trades and answers signed `k=v&k=v`."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from paymux.channels.base import SandboxStore
from paymux.channels.unionpay import protocol as p
from paymux.channels.unionpay.credentials import certificate, rsa_public_key
from paymux.channels.unionpay.sandbox.identity import sign_as_unionpay
from paymux.channels.unionpay.sandbox.trades import (
    FAILED,
    SUCCEEDED,
    Trade,
    TradeBook,
    finished,
    new_query_id,
)
from paymux.channels.unionpay.signing import SignatureRejected, verify_with_key
from paymux.channels.unionpay.statement import (
    MER_CHARGE,
    MER_ID,
    MER_RESERVED,
    ORDER_ID,
    ORIG_QRY_ID,
    QUERY_ID,
    TRADE_CODE,
    TXN_AMT,
    TXN_TIME,
    TXN_TYPE,
    format_zm_line,
    pack_file_content,
    zm_file_name,
)

# Response codes (《平台接入接口规范-第5部分-附录》) the sandbox answers with.
MESSAGES = {
    "00": "成功[0000000]",
    "05": "交易已受理",
    "10": "报文格式错误",
    "11": "验证签名失败",
    "12": "重复交易",
    "31": "商户状态不正确",
    "34": "查无此交易",
    "35": "原交易不存在或状态不正确",
    "36": "与原交易信息不符",
}
FEE_PER_MILLE = 6  # the sandbox charges 0.6% on consumes


@dataclass(frozen=True)
class Registration:
    """What UnionPay knows of a merchant: its number and the signing certificate it registered."""

    mer_id: str
    cert_pem: str


@dataclass(frozen=True)
class GatewayReply:
    status: int
    body: str
    content_type: str = "text/plain;charset=UTF-8"


class RequestRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(MESSAGES[code])
        self.code = code


class SandboxGateway:
    def __init__(self, store: SandboxStore) -> None:
        self.book = TradeBook(store)

    def handle(self, path: str, body: bytes, registered: Registration) -> GatewayReply:
        """Answer one request as UnionPay would (200 with a signed answer; 404 for an unknown path)."""
        routes = {
            p.FRONT_TRANS_PATH: self._front_consume,
            p.APP_TRANS_PATH: self._app_consume,
            p.BACK_TRANS_PATH: self._back_trans,
            p.QUERY_TRANS_PATH: self._query,
            p.FILE_TRANSFER_PATH: self._file_transfer,
        }
        route = routes.get(path)
        if route is None:
            return GatewayReply(404, "not found")
        try:
            fields = p.parse_form(body)
        except (ValueError, UnicodeDecodeError):
            return _answer({}, "10")
        try:
            _check_request(fields, registered)
            return route(fields)
        except RequestRefused as refused:
            return _answer(fields, refused.code)

    def front_consume(self, body: bytes, registered: Registration) -> Trade:
        """The web scene's signed form as the front gateway takes it from a browser: checked against
        the merchant's registered certificate, its trade opened (or the same one again). Raises
        RequestRefused."""
        try:
            fields = p.parse_form(body)
        except (ValueError, UnicodeDecodeError):
            raise RequestRefused("10") from None
        _check_request(fields, registered)
        return self._open_consume(fields)

    def _front_consume(self, fields: dict[str, str]) -> GatewayReply:
        trade = self._open_consume(fields)
        page = (
            "<!doctype html><title>UnionPay sandbox</title><h1>UnionPay sandbox cashier</h1>"
            f"<p>Order {html.escape(trade.order_id)}: {trade.txn_amt} fen. Complete it with "
            "<code>POST /v1/test/payments/{id}/complete</code>.</p>"
        )
        return GatewayReply(200, page, "text/html;charset=UTF-8")

    def _app_consume(self, fields: dict[str, str]) -> GatewayReply:
        trade = self._open_consume(fields)
        return _answer(fields, "00", tn=trade.tn)

    def _back_trans(self, fields: dict[str, str]) -> GatewayReply:
        kind = (fields.get("txnType"), fields.get("txnSubType"))
        if kind == (p.TXN_CONSUME, p.SUBTYPE_QR_APPLY):
            return _answer(fields, "00", qrCode=self._open_consume(fields).qr_code)
        if fields.get("txnType") == p.TXN_REFUND:
            refund = self._refund(fields)
            return _answer(fields, "00", queryId=refund.query_id)
        raise RequestRefused("10")

    def _open_consume(self, fields: dict[str, str]) -> Trade:
        _require(fields, "orderId", "txnTime", "txnAmt", "currencyCode", "backUrl", "txnSubType", "bizType")
        if fields.get("txnType") != p.TXN_CONSUME or not _valid_order_id(fields["orderId"]):
            raise RequestRefused("10")
        amount = _amount(fields["txnAmt"])
        existing = self.book.load(fields["merId"], fields["orderId"])
        if existing is not None:
            if (existing.txn_amt, existing.txn_time) != (amount, fields["txnTime"]):
                raise RequestRefused("12")
            return existing
        token = new_query_id()
        trade = Trade(
            mer_id=fields["merId"],
            order_id=fields["orderId"],
            txn_type=p.TXN_CONSUME,
            txn_sub_type=fields["txnSubType"],
            biz_type=fields["bizType"],
            txn_time=fields["txnTime"],
            txn_amt=amount,
            currency_code=fields["currencyCode"],
            back_url=fields["backUrl"],
            pay_timeout=fields.get("payTimeout", ""),
            tn=token,
            qr_code=f"https://sandbox.paymux.invalid/unionpay/qr/{token}",
        )
        self.book.save(trade)
        return trade

    def _refund(self, fields: dict[str, str]) -> Trade:
        _require(fields, "orderId", "txnTime", "txnAmt", "origQryId", "backUrl")
        if not _valid_order_id(fields["orderId"]):
            raise RequestRefused("10")
        amount = _amount(fields["txnAmt"])
        original = self.book.by_query_id(fields["merId"], fields["origQryId"])
        if original is None or original.status != SUCCEEDED or original.txn_type != p.TXN_CONSUME:
            raise RequestRefused("35")
        existing = self.book.load(fields["merId"], fields["orderId"])
        if existing is not None:
            if (existing.txn_amt, existing.orig_query_id) != (amount, original.query_id):
                raise RequestRefused("12")
            return existing
        refunded = sum(r.txn_amt for r in self.book.refunds_of(original) if r.status != FAILED)
        if amount <= 0 or refunded + amount > original.txn_amt:
            raise RequestRefused("36")
        # The sandbox settles a refund as soon as it accepts it; the answer still only says accepted.
        refund = finished(
            Trade(
                mer_id=fields["merId"],
                order_id=fields["orderId"],
                txn_type=p.TXN_REFUND,
                txn_sub_type=p.SUBTYPE_DEFAULT,
                biz_type=original.biz_type,
                txn_time=fields["txnTime"],
                txn_amt=amount,
                currency_code=original.currency_code,
                orig_query_id=original.query_id,
                req_reserved=fields.get("reqReserved", ""),
                back_url=fields["backUrl"],
            ),
            SUCCEEDED,
            "00",
        )
        self.book.add_refund(original, refund)
        return refund

    def _query(self, fields: dict[str, str]) -> GatewayReply:
        _require(fields, "orderId", "txnTime")
        if fields.get("txnType") != p.TXN_QUERY:
            raise RequestRefused("10")
        trade = self.book.load(fields["merId"], fields["orderId"])
        if trade is None or trade.txn_time != fields["txnTime"]:
            raise RequestRefused("34")
        extra = {
            "origRespCode": trade.resp_code or "05",
            "origRespMsg": MESSAGES.get(trade.resp_code or "05", "交易失败"),
            "txnAmt": str(trade.txn_amt),
            "currencyCode": trade.currency_code,
        }
        if trade.query_id:
            extra |= {
                "queryId": trade.query_id,
                "traceNo": trade.trace_no,
                "traceTime": trade.trace_time,
                "settleDate": trade.settle_date[4:],
            }
        if trade.orig_query_id:
            extra["origQryId"] = trade.orig_query_id
        return _answer(fields, "00", **extra)

    def _file_transfer(self, fields: dict[str, str]) -> GatewayReply:
        _require(fields, "settleDate", "txnTime", "fileType")
        if fields.get("txnType") != p.TXN_FILE_TRANSFER or len(fields["settleDate"]) != 4:
            raise RequestRefused("10")
        day = _settle_day(fields["settleDate"], fields["txnTime"])
        trades = self.book.settled_on(fields["merId"], f"{day:%Y%m%d}")
        content = b"\r\n".join(_zm_line(trade) for trade in trades)
        file_content = pack_file_content({zm_file_name(fields["merId"], day): content})
        return _answer(
            fields,
            "00",
            fileType=fields["fileType"],
            settleDate=fields["settleDate"],
            fileName=f"{fields['merId']}_{day:%Y%m%d}.zip",
            fileContent=file_content,
        )


def _check_request(fields: dict[str, str], registered: Registration) -> None:
    if fields.get("version") != p.VERSION or fields.get("signMethod") != p.SIGN_METHOD_RSA:
        raise RequestRefused("10")
    cert = certificate(registered.cert_pem)
    if fields.get("certId") != str(cert.serial_number):
        raise RequestRefused("11")
    try:
        verify_with_key(fields, rsa_public_key(cert))
    except SignatureRejected:
        raise RequestRefused("11") from None
    if fields.get("merId") != registered.mer_id:
        raise RequestRefused("31")


def _require(fields: dict[str, str], *names: str) -> None:
    if any(not fields.get(name) for name in names):
        raise RequestRefused("10")


def _valid_order_id(order_id: str) -> bool:
    return 8 <= len(order_id) <= 40 and order_id.isascii() and order_id.isalnum()


def _amount(value: str) -> int:
    try:
        amount = p.parse_amount(value)
    except ValueError:
        raise RequestRefused("10") from None
    if amount <= 0:
        raise RequestRefused("10")
    return amount


def _settle_day(mmdd: str, txn_time: str) -> date:
    """The latest date with month and day `mmdd` that is not after the request's day (+1)."""
    try:
        latest = datetime.strptime(txn_time[:8], "%Y%m%d").date() + timedelta(days=1)
        month, day = int(mmdd[:2]), int(mmdd[2:])
    except ValueError:
        raise RequestRefused("10") from None
    for year in range(latest.year, latest.year - 5, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= latest:
            return candidate
    raise RequestRefused("10")


def _zm_line(trade: Trade) -> bytes:
    fee = trade.txn_amt * FEE_PER_MILLE // 1000 if trade.txn_type == p.TXN_CONSUME else 0
    return format_zm_line(
        {
            TRADE_CODE: "S22" if trade.txn_type == p.TXN_CONSUME else "S30",
            TXN_TIME: trade.trace_time,
            TXN_AMT: f"{trade.txn_amt:012d}",
            QUERY_ID: trade.query_id,
            ORDER_ID: trade.order_id,
            MER_CHARGE: f"D{fee:012d}",
            TXN_TYPE: trade.txn_type,
            ORIG_QRY_ID: trade.orig_query_id,
            MER_ID: trade.mer_id,
            MER_RESERVED: trade.req_reserved,
        }
    )


def _answer(request: dict[str, str], code: str, **extra: str) -> GatewayReply:
    echoed = (
        "version",
        "encoding",
        "bizType",
        "txnType",
        "txnSubType",
        "accessType",
        "merId",
        "orderId",
        "txnTime",
    )
    fields = {name: request[name] for name in echoed if request.get(name)}
    fields |= {"respCode": code, "respMsg": MESSAGES[code], **extra}
    fields.setdefault("version", p.VERSION)
    fields.setdefault("encoding", p.ENCODING)
    return GatewayReply(200, p.encode_answer(sign_as_unionpay(fields)))
