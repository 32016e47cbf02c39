"""The sandbox gateway refuses what Alipay refuses, and serves a real-format bill."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from urllib.parse import urlencode

import pytest

from paymux.channels.alipay import build_adapter, build_sandbox
from paymux.channels.alipay.protocol import beijing_time
from paymux.channels.alipay.sandbox.gateway import AlipaySandboxGateway
from paymux.channels.alipay.sandbox.identity import SANDBOX_APP_ID, sandbox_credentials
from paymux.channels.alipay.signing import response_content, sign_params, verify_text
from paymux.channels.alipay.statement import parse_bill_zip
from paymux.domain.errors import ChannelError
from tests.fakes import InMemorySandboxStore
from tests.unit.channels.alipay_support import NOW, Clock


@pytest.fixture
def gateway() -> AlipaySandboxGateway:
    return AlipaySandboxGateway(InMemorySandboxStore(), Clock())


def _form(method: str, biz: dict[str, object], **changes: str) -> dict[str, str]:
    params = {"app_id": SANDBOX_APP_ID, "method": method, "charset": "utf-8", "sign_type": "RSA2",
              "timestamp": beijing_time(NOW), "version": "1.0", "biz_content": json.dumps(biz)}  # fmt: skip
    params.update(changes)
    params["sign"] = sign_params(params, sandbox_credentials().private_key())
    return params


def _answer(gateway: AlipaySandboxGateway, method: str, form: dict[str, str]) -> dict[str, object]:
    raw = gateway.handle(urlencode(form))
    key = method.replace(".", "_") + "_response" if method.startswith("alipay.") else "error_response"
    text = response_content(raw, key)
    assert text is not None
    assert verify_text(text, json.loads(raw)["sign"], sandbox_credentials().platform_key())
    return dict(json.loads(text))


ORDER = {"out_trade_no": "pay_01J00000000000000000000000", "total_amount": "9.99", "subject": "书"}


def test_precreate_answers_a_signed_qr_code(gateway: AlipaySandboxGateway) -> None:
    answer = _answer(gateway, "alipay.trade.precreate", _form("alipay.trade.precreate", ORDER))

    assert answer["code"] == "10000"
    assert str(answer["qr_code"]).startswith("https://qr.alipay.com/")


def test_a_number_amount_keeps_its_exact_text(gateway: AlipaySandboxGateway) -> None:
    form = _form("alipay.trade.precreate", {**ORDER, "total_amount": 0.1})
    assert _answer(gateway, "alipay.trade.precreate", form)["code"] == "10000"
    query = _answer(
        gateway, "alipay.trade.query", _form("alipay.trade.query", {"out_trade_no": ORDER["out_trade_no"]})
    )
    assert query["total_amount"] == "0.1"


@pytest.mark.parametrize(("changes", "sub_code"), [
    ({"sign_type": "RSA"}, "isv.invalid-signature-type"),
    ({"timestamp": beijing_time(NOW - 16 * 60)}, "isv.invalid-timestamp"),
    ({"timestamp": "2025/06/15 23:06:40"}, "isv.invalid-timestamp"),
    ({"app_id": "2021000000000001"}, "isv.invalid-app-id"),
    ({"charset": "gbk"}, "isv.invalid-charset"),
])  # fmt: skip
def test_common_parameters_are_checked(
    gateway: AlipaySandboxGateway, changes: dict[str, str], sub_code: str
) -> None:
    answer = _answer(gateway, "alipay.trade.precreate", _form("alipay.trade.precreate", ORDER, **changes))

    assert (answer["code"], answer["sub_code"]) == ("40002", sub_code)


def test_a_request_without_app_id_is_refused(gateway: AlipaySandboxGateway) -> None:
    form = _form("alipay.trade.precreate", ORDER)
    del form["app_id"]

    assert _answer(gateway, "alipay.trade.precreate", form)["sub_code"] == "isv.missing-app-id"


def test_a_tampered_request_fails_signature_verification(gateway: AlipaySandboxGateway) -> None:
    form = _form("alipay.trade.precreate", ORDER)
    form["biz_content"] = form["biz_content"].replace("9.99", "0.01")

    assert _answer(gateway, "alipay.trade.precreate", form)["sub_code"] == "isv.invalid-signature"


def test_an_unknown_method_answers_under_error_response(gateway: AlipaySandboxGateway) -> None:
    answer = _answer(gateway, "error_response", _form("alipay.trade.pay", ORDER))

    assert answer["sub_code"] == "isv.invalid-method"


@pytest.mark.parametrize("biz", [
    {**ORDER, "total_amount": "0.001"}, {**ORDER, "total_amount": "100000000.01"}, {**ORDER, "subject": ""},
    {**ORDER, "out_trade_no": "pay-with-dash"}, {**ORDER, "time_expire": "tomorrow"},
])  # fmt: skip
def test_bad_orders_are_refused(gateway: AlipaySandboxGateway, biz: dict[str, object]) -> None:
    answer = _answer(gateway, "alipay.trade.precreate", _form("alipay.trade.precreate", biz))

    assert answer["code"] == "40002"


def test_the_same_number_with_another_amount_is_refused(gateway: AlipaySandboxGateway) -> None:
    _answer(gateway, "alipay.trade.precreate", _form("alipay.trade.precreate", ORDER))
    again = _answer(
        gateway, "alipay.trade.precreate", _form("alipay.trade.precreate", {**ORDER, "total_amount": "1"})
    )

    assert again["sub_code"] == "ACQ.CONTEXT_INCONSISTENT"


def test_the_package_builds_its_adapter_and_sandbox_on_one_store() -> None:
    store = InMemorySandboxStore()
    adapter, sandbox = build_adapter(store), build_sandbox(store)

    assert adapter.channel == sandbox.channel == "alipay"
    assert adapter.sandbox_store is sandbox.gateway.trades.store is store


def test_the_bill_is_a_zip_of_gbk_csvs_in_alipays_layout() -> None:
    gateway = AlipaySandboxGateway(InMemorySandboxStore(), Clock())
    trade = gateway.trades.open(SANDBOX_APP_ID, "alipay.trade.precreate", dict(ORDER), None)
    gateway.trades.pay(trade)
    method = "alipay.data.dataservice.bill.downloadurl.query"
    answer = _answer(gateway, method, _form(method, {"bill_type": "trade", "bill_date": "2025-06-15"}))

    data = gateway.download(str(answer["bill_download_url"]))

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        detail = archive.read(next(n for n in names if n.endswith("_业务明细.csv"))).decode("gbk")
    assert any(n.endswith("_业务明细(汇总).csv") for n in names)
    assert detail.startswith("#支付宝业务明细查询")
    assert "#-----------------------------------------业务明细列表结束" in detail
    assert f"{ORDER['out_trade_no']}\t,交易\t" in detail
    (line,) = parse_bill_zip(data)
    assert (line.payment_id, line.amount, line.fee) == (ORDER["out_trade_no"], 999, 6)


def test_a_bill_with_gbk_names_and_no_utf8_flag_parses() -> None:
    """As Alipay writes it: GBK file names without the zip UTF-8 flag (read back as cp437)."""
    csv_text = "\r\n".join([
        "#支付宝业务明细查询",
        "#-----------------------------------------业务明细列表----------------------------------------",
        "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
        "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,"  # noqa: RUF001
        "券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注",  # noqa: RUF001
        "2019091622001458860515315453\t,pay_1\t,退款\t,下单测试,2019-09-16 10:55:16,2019-09-16 10:56:48,"
        "\t,\t,\t,\t,x\t,-0.01,-0.01,0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,re_1\t,0.00,0.00,",
        "#-----------------------------------------业务明细列表结束------------------------------------",
    ])  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("2088_20190916_XXXXXXXX.csv", csv_text.encode("gbk"))
    # Python would set the UTF-8 flag for a non-ASCII name: put the raw GBK bytes in by hand.
    data = buffer.getvalue().replace(b"XXXXXXXX", "业务明细".encode("gbk"))

    (line,) = parse_bill_zip(data)

    assert (line.kind, line.payment_id, line.refund_id, line.amount) == ("refund", "pay_1", "re_1", 1)


@pytest.mark.parametrize("data", [b"not a zip", b""])
def test_a_broken_bill_is_a_channel_error(data: bytes) -> None:
    with pytest.raises(ChannelError):
        parse_bill_zip(data)


def test_the_download_of_an_unknown_url_is_refused(gateway: AlipaySandboxGateway) -> None:
    from paymux.channels.alipay.sandbox.trades import Rejected

    with pytest.raises(Rejected):
        gateway.download("https://example.com/bill.zip")


def test_statement_date_uses_beijing_time() -> None:
    """23:30 UTC on the 14th is 07:30 on the 15th in Beijing: the bill of the 15th lists it."""
    utc_midnight_of_the_15th = NOW - (15 * 3600 + 6 * 60 + 40)
    gateway = AlipaySandboxGateway(InMemorySandboxStore(), Clock(utc_midnight_of_the_15th - 30 * 60))
    gateway.trades.pay(gateway.trades.open(SANDBOX_APP_ID, "alipay.trade.precreate", dict(ORDER), None))

    assert gateway.trades.bill_rows(SANDBOX_APP_ID, date(2025, 6, 15).isoformat())
    assert not gateway.trades.bill_rows(SANDBOX_APP_ID, date(2025, 6, 14).isoformat())
