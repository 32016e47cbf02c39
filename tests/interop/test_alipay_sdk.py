"""python-alipay-sdk as the other side of paymux's Alipay channel.

- The SDK as the merchant app talks to paymux's sandbox gateway (its `urlopen` routed in-process)
  and verifies every signed answer; its signed order strings open trades in the sandbox.
- The SDK with swapped keys plays Alipay: its notifications and responses pass paymux's
  verification, and it verifies what paymux signs as the merchant.
Tampered copies are refused on both sides. No network: every "HTTP" call is a function call.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from alipay import AliPay
from alipay.exceptions import AliPayValidationError
from cryptography.hazmat.primitives import serialization

from paymux.channels.alipay.credentials import AlipayCredentials
from paymux.channels.alipay.protocol import BEIJING
from paymux.channels.alipay.sandbox.gateway import AlipaySandboxGateway
from paymux.channels.alipay.sandbox.identity import (
    platform_private_key,
    platform_public_key_pem,
    sandbox_app_public_key,
    sandbox_credentials,
)
from paymux.channels.alipay.sandbox.trades import Rejected
from paymux.channels.alipay.signing import public_pem
from paymux.channels.base import ProviderRequest
from paymux.domain.errors import ChannelError, NotificationRejected
from paymux.domain.states import PaymentStatus
from tests.unit.channels.alipay_support import make_pair, payment_of, payment_request

pytestmark = pytest.mark.interop

APP_PRIVATE = sandbox_credentials().app_private_key.get_secret_value()
APP_PUBLIC = public_pem(sandbox_app_public_key())
PLATFORM_PRIVATE = (
    platform_private_key()
    .private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    .decode()
)
PLATFORM_PUBLIC = platform_public_key_pem()
APP_ID = sandbox_credentials().app_id
ORDER_NO = "pay_01J0000000000000000000SDK1"


class _BeijingDatetime(datetime):
    """The SDK stamps requests with the server's local clock; Alipay reads it as Beijing time."""

    @classmethod
    def now(cls, tz: Any = None) -> _BeijingDatetime:
        return datetime.now(BEIJING).replace(tzinfo=None)  # type: ignore[return-value]


class _Response(io.BytesIO):
    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


@dataclass
class MerchantSdk:
    """The SDK as the sandbox merchant app; its HTTP calls answered by paymux's sandbox gateway.
    `answers` collects the raw answers; `tamper` replacements alter them in flight."""

    sdk: AliPay
    gateway: AlipaySandboxGateway
    answers: list[str] = field(default_factory=list)
    tamper: list[tuple[str, str]] = field(default_factory=list)

    def urlopen(self, url: str, timeout: float = 0) -> _Response:
        raw = self.gateway.handle(urlsplit(url).query)
        for old, new in self.tamper:
            raw = raw.replace(old, new)
        self.answers.append(raw)
        return _Response(raw.encode())


def merchant_side_sdk() -> AliPay:
    return AliPay(appid=APP_ID, app_private_key_string=APP_PRIVATE, alipay_public_key_string=PLATFORM_PUBLIC)


@pytest.fixture
def merchant(monkeypatch: pytest.MonkeyPatch) -> MerchantSdk:
    world = MerchantSdk(merchant_side_sdk(), AlipaySandboxGateway(make_pair()[2]))
    monkeypatch.setattr("alipay.urlopen", world.urlopen)
    monkeypatch.setattr("alipay.datetime", _BeijingDatetime)
    return world


def alipay_side_sdk() -> AliPay:
    """The SDK with swapped keys: it signs with Alipay's (sandbox platform) key and verifies the app."""
    return AliPay(appid=APP_ID, app_private_key_string=PLATFORM_PRIVATE, alipay_public_key_string=APP_PUBLIC)


def test_the_sdk_runs_a_whole_trade_against_paymuxs_sandbox_and_verifies_each_answer(
    merchant: MerchantSdk,
) -> None:
    sdk, gateway = merchant.sdk, merchant.gateway

    created = sdk.api_alipay_trade_precreate(subject="书", out_trade_no=ORDER_NO, total_amount="9.99")
    waiting = sdk.api_alipay_trade_query(out_trade_no=ORDER_NO)
    gateway.trades.pay(gateway.trades.get(APP_ID, ORDER_NO))
    paid = sdk.api_alipay_trade_query(out_trade_no=ORDER_NO)
    refunded = sdk.api_alipay_trade_refund("1.00", out_trade_no=ORDER_NO, out_request_no="re_sdk_1")
    refund = sdk.api_alipay_trade_fastpay_refund_query("re_sdk_1", out_trade_no=ORDER_NO)

    assert created["code"] == "10000"
    assert created["qr_code"].startswith("https://qr.alipay.com/")
    assert (waiting["trade_status"], paid["trade_status"]) == ("WAIT_BUYER_PAY", "TRADE_SUCCESS")
    assert (refunded["fund_change"], refunded["refund_fee"]) == ("Y", "1.00")
    assert (refund["refund_status"], refund["refund_amount"]) == ("REFUND_SUCCESS", "1.00")


def test_the_sdk_refuses_a_tampered_sandbox_answer(merchant: MerchantSdk) -> None:
    sdk, answers = merchant.sdk, merchant.answers
    sdk.api_alipay_trade_precreate(subject="书", out_trade_no=ORDER_NO, total_amount="9.99")
    merchant.tamper.append(('"total_amount":"9.99"', '"total_amount":"0.01"'))

    with pytest.raises(AliPayValidationError):
        sdk.api_alipay_trade_query(out_trade_no=ORDER_NO)
    assert '"total_amount":"0.01"' in answers[-1]


def test_the_sandbox_refuses_an_sdk_request_signed_with_another_key(merchant: MerchantSdk) -> None:
    impostor = AliPay(
        appid=APP_ID, app_private_key_string=PLATFORM_PRIVATE, alipay_public_key_string=PLATFORM_PUBLIC
    )

    answer = impostor.api_alipay_trade_query(out_trade_no=ORDER_NO)  # the refusal itself is signed

    assert (answer["code"], answer["sub_code"]) == ("40002", "isv.invalid-signature")


@pytest.mark.parametrize(
    "method", ["api_alipay_trade_app_pay", "api_alipay_trade_page_pay", "api_alipay_trade_wap_pay"]
)
def test_sdk_order_strings_open_trades_in_the_sandbox(merchant: MerchantSdk, method: str) -> None:
    sdk, gateway = merchant.sdk, merchant.gateway
    order_string = getattr(sdk, method)(
        subject="测试 & =",
        out_trade_no=ORDER_NO,
        total_amount="0.01",
        notify_url="https://pay.example.com/webhooks/alipay",
    )

    trade = gateway.open_client_request(order_string)

    assert (trade["out_trade_no"], trade["total_amount"], trade["subject"]) == (ORDER_NO, "0.01", "测试 & =")
    with pytest.raises(Rejected, match="invalid-signature"):
        gateway.open_client_request(order_string.replace("0.01", "0.02"))


def test_paymuxs_order_signature_is_byte_for_byte_the_sdks() -> None:
    adapter, _, _ = make_pair()
    order = adapter.create_payment(sandbox_credentials(), payment_request("app", 1999)).credential[
        "order_string"
    ]
    params = dict(parse_qsl(order))
    signature = params.pop("sign")
    sdk = merchant_side_sdk()

    # RSA PKCS#1 v1.5 is deterministic: the same signing string gives the same signature.
    assert dict(parse_qsl(sdk.sign_data(dict(params))))["sign"] == signature
    raw = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    assert alipay_side_sdk()._verify(raw, signature)
    assert not alipay_side_sdk()._verify(raw.replace("19.99", "0.01"), signature)


def test_the_merchant_sdk_verifies_paymuxs_sandbox_notification_and_refuses_a_tampered_one() -> None:
    _, sandbox, _ = make_pair()
    creds = sandbox_credentials()
    payment = payment_of(payment_request("qr", 2500))
    notification = sandbox.notification_for(creds, payment, PaymentStatus.SUCCEEDED, "/webhooks/alipay")
    params = dict(parse_qsl(notification.body.decode()))
    signature = params.pop("sign")
    sdk = merchant_side_sdk()

    assert sdk.verify(dict(params), signature)
    assert not sdk.verify({**params, "total_amount": "0.01"}, signature)


def _sdk_notification(**changes: str) -> ProviderRequest:
    params = {
        "notify_time": "2025-06-15 23:10:00",
        "notify_type": "trade_status_sync",
        "notify_id": "ac05099524730693",
        "app_id": APP_ID,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": "2025061522001412345678901234",
        "out_trade_no": ORDER_NO,
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "88.88",
        "gmt_payment": "2025-06-15 23:09:58",
        "subject": "大乐透 & co",
        "buyer_id": "2088102116773037",
    }
    params.update(changes)
    body = alipay_side_sdk().sign_data(params) + "&sign_type=RSA2"  # Alipay signs without sign_type
    return ProviderRequest(
        method="POST",
        path="/webhooks/alipay",
        body=body.encode(),
        headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
    )


def test_a_notification_the_sdk_signs_as_alipay_verifies_in_paymux() -> None:
    adapter, _, _ = make_pair()

    state = adapter.verify_notification(sandbox_credentials(), _sdk_notification())

    assert (state.payment_id, state.status, state.amount) == (ORDER_NO, PaymentStatus.SUCCEEDED, 8888)
    assert state.paid_at == int(datetime(2025, 6, 15, 23, 9, 58, tzinfo=BEIJING).timestamp())


def test_a_tampered_sdk_notification_is_refused() -> None:
    adapter, _, _ = make_pair()
    genuine = _sdk_notification()
    tampered = ProviderRequest(
        method=genuine.method,
        path=genuine.path,
        headers=genuine.headers,
        body=genuine.body.replace(b"total_amount=88.88", b"total_amount=0.88"),
    )

    with pytest.raises(NotificationRejected):
        adapter.verify_notification(sandbox_credentials(), tampered)
    with pytest.raises(NotificationRejected, match="app_id"):
        adapter.verify_notification(sandbox_credentials(), _sdk_notification(app_id="2021000000000009"))


class _AlipayOverHttp:
    """Alipay's gateway as a fake `urllib.request.urlopen`: answers signed by the SDK as Alipay."""

    def __init__(self, content: dict[str, Any], tamper: bool = False) -> None:
        self.content, self.tamper = content, tamper
        self.requests: list[dict[str, str]] = []

    def __call__(self, request: Any, timeout: float = 0) -> _Response:
        self.requests.append(dict(parse_qsl(request.data.decode())))
        text = json.dumps(self.content, separators=(",", ":"))
        signature = alipay_side_sdk()._sign(text)
        if self.tamper:
            text = text.replace("TRADE_SUCCESS", "TRADE_FINISHED")
        return _Response(f'{{"alipay_trade_query_response":{text},"sign":"{signature}"}}'.encode())


def _http_credentials() -> AlipayCredentials:
    return sandbox_credentials().model_copy(
        update={"gateway_url": "https://openapi-sandbox.dl.alipaydev.com/gateway.do"}
    )


def test_paymux_over_http_verifies_an_answer_the_sdk_signs_as_alipay(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter, _, _ = make_pair()
    gateway = _AlipayOverHttp(
        {
            "code": "10000",
            "msg": "Success",
            "out_trade_no": ORDER_NO,
            "trade_no": "2025",
            "trade_status": "TRADE_SUCCESS",
            "total_amount": "1.50",
            "send_pay_date": "2025-06-15 23:00:00",
        }
    )
    monkeypatch.setattr("urllib.request.urlopen", gateway)
    payment = payment_of(payment_request("qr", 150, payment_id=ORDER_NO))

    state = adapter.query_payment(_http_credentials(), payment)

    assert (state.status, state.amount) == (PaymentStatus.SUCCEEDED, 150)
    sent = gateway.requests[0]
    assert sent["method"] == "alipay.trade.query"
    sent_sign = sent.pop("sign")
    assert alipay_side_sdk()._verify("&".join(f"{k}={v}" for k, v in sorted(sent.items())), sent_sign)


def test_paymux_over_http_refuses_a_tampered_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter, _, _ = make_pair()
    monkeypatch.setattr(
        "urllib.request.urlopen",
        _AlipayOverHttp(
            {
                "code": "10000",
                "msg": "Success",
                "out_trade_no": ORDER_NO,
                "trade_status": "TRADE_SUCCESS",
                "total_amount": "1.50",
            },
            tamper=True,
        ),
    )

    with pytest.raises(ChannelError, match="does not verify"):
        adapter.query_payment(
            _http_credentials(), payment_of(payment_request("qr", 150, payment_id=ORDER_NO))
        )
