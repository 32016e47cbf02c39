"""The Alipay adapter against the in-process sandbox: every scene, query, close, refund, refund
query and statement, through the real signed wire format."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import parse_qsl, urlsplit

import pytest
from pydantic import SecretStr

from paymux.channels.alipay.adapter import AlipayAdapter
from paymux.channels.alipay.credentials import AlipayCredentials
from paymux.channels.alipay.sandbox.identity import platform_public_key_pem, sandbox_app_public_key
from paymux.channels.alipay.signing import public_pem, verify_params
from paymux.channels.base import ChannelCredentials
from paymux.domain.errors import ChannelError, InvalidRequest
from paymux.domain.models import Payment
from paymux.domain.states import PaymentStatus, RefundStatus
from tests.unit.channels.alipay_support import (
    NOW,
    Clock,
    Pair,
    make_pair,
    payment_of,
    payment_request,
    refund_of,
)

NOTIFY_PATH = "/webhooks/alipay"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def pair(clock: Clock) -> Pair:
    return make_pair(clock)


def _paid(
    pair: Pair, scene: str = "qr", amount: int = 1000
) -> tuple[AlipayAdapter, AlipayCredentials, Payment]:
    adapter, sandbox, _ = pair
    creds = adapter.sandbox_credentials()
    request = payment_request(scene, amount)
    adapter.create_payment(creds, request)
    payment = payment_of(request)
    sandbox.notification_for(creds, payment, PaymentStatus.SUCCEEDED, NOTIFY_PATH)
    return adapter, creds, payment


def test_qr_scene_precreates_and_returns_the_qr_code(pair: Pair) -> None:
    adapter, _, store = pair
    request = payment_request("qr", 1234, expires_at=NOW + 900)

    created = adapter.create_payment(adapter.sandbox_credentials(), request)

    assert created.credential["type"] == "qr_code"
    assert created.credential["qr_code"].startswith("https://qr.alipay.com/")
    trade = store.load("alipay", f"trade#9021000140600001#{request.payment_id}")
    assert trade["total_amount"] == "12.34"
    assert trade["time_expire"] == "2025-06-15 23:21:40"  # Beijing time, not UTC
    assert trade["notify_url"] == request.notify_url


@pytest.mark.parametrize(("scene", "method", "product"), [
    ("h5", "alipay.trade.wap.pay", "QUICK_WAP_WAY"),
    ("pc", "alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"),
])  # fmt: skip
def test_browser_scenes_return_a_signed_redirect(pair: Pair, scene: str, method: str, product: str) -> None:
    adapter, sandbox, _ = pair
    request = payment_request(scene, 50, return_url="https://shop.example.com/done", description="两件")

    url = adapter.create_payment(adapter.sandbox_credentials(), request).credential["url"]

    parts = urlsplit(url)
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://pay.example.com/sandbox/alipay/gateway.do"
    )
    params = dict(parse_qsl(parts.query))
    biz = json.loads(params["biz_content"])
    assert params["method"] == method
    assert params["return_url"] == "https://shop.example.com/done"
    assert params["notify_url"] == request.notify_url
    assert params["timestamp"] == "2025-06-15 23:06:40"
    assert biz == {**biz, "out_trade_no": request.payment_id, "total_amount": "0.50", "product_code": product,
                   "body": "两件", "subject": request.subject}  # fmt: skip
    assert verify_params(params, sandbox_app_public_key())
    assert sandbox.cashier(parts.query).status == 200


def test_app_scene_returns_the_signed_order_string(pair: Pair) -> None:
    adapter, sandbox, _ = pair
    request = payment_request("app", 1, return_url="https://shop.example.com/done")

    credential = adapter.create_payment(adapter.sandbox_credentials(), request).credential

    params = dict(parse_qsl(credential["order_string"]))
    assert credential["type"] == "app"
    assert params["method"] == "alipay.trade.app.pay"
    assert "return_url" not in params
    assert json.loads(params["biz_content"])["product_code"] == "QUICK_MSECURITY_PAY"
    assert sandbox.gateway.open_client_request(credential["order_string"])["total_amount"] == "0.01"


def test_a_tampered_redirect_is_refused_by_the_sandbox_cashier(pair: Pair) -> None:
    adapter, sandbox, _ = pair
    url = adapter.create_payment(adapter.sandbox_credentials(), payment_request("pc", 100)).credential["url"]

    response = sandbox.cashier(urlsplit(url).query.replace("1.00", "0.01"))

    assert response.status == 400
    assert "isv.invalid-signature" in response.body


def test_non_cny_payments_are_refused_clearly(pair: Pair) -> None:
    adapter, _, _ = pair
    with pytest.raises(InvalidRequest) as raised:
        adapter.create_payment(adapter.sandbox_credentials(), payment_request("qr", currency="usd"))
    assert raised.value.code == "currency_not_supported"
    assert raised.value.param == "currency"


def test_unknown_scene_and_channel_extra_are_refused(pair: Pair) -> None:
    adapter, _, _ = pair
    creds = adapter.sandbox_credentials()
    with pytest.raises(InvalidRequest):
        adapter.create_payment(creds, payment_request("native"))
    with pytest.raises(InvalidRequest):
        adapter.create_payment(creds, payment_request("qr", channel_extra={"total_amount": "0.01"}))


def test_channel_extra_reaches_biz_content(pair: Pair) -> None:
    adapter, _, _ = pair
    request = payment_request("app", channel_extra={"passback_params": "merchant-data"})

    order = adapter.create_payment(adapter.sandbox_credentials(), request).credential["order_string"]

    assert json.loads(dict(parse_qsl(order))["biz_content"])["passback_params"] == "merchant-data"


def test_query_follows_the_trade_from_unknown_to_paid(pair: Pair) -> None:
    adapter, sandbox, _ = pair
    creds = adapter.sandbox_credentials()
    request = payment_request("pc", 888)
    adapter.create_payment(creds, request)
    payment = payment_of(request)

    unknown = adapter.query_payment(creds, payment)  # the page was never opened
    sandbox.notification_for(creds, payment, PaymentStatus.SUCCEEDED, NOTIFY_PATH)
    paid = adapter.query_payment(creds, payment)

    assert (unknown.status, unknown.amount) == (PaymentStatus.REQUIRES_ACTION, 888)
    assert (paid.status, paid.amount, paid.currency) == (PaymentStatus.SUCCEEDED, 888, "cny")
    assert paid.paid_at == NOW
    assert paid.channel_transaction_id is not None
    assert len(paid.channel_transaction_id) == 28


def test_close_closes_an_unpaid_trade_and_query_agrees(pair: Pair) -> None:
    adapter, _, _ = pair
    creds = adapter.sandbox_credentials()
    request = payment_request("qr")
    adapter.create_payment(creds, request)
    payment = payment_of(request)

    adapter.close_payment(creds, payment)

    assert adapter.query_payment(creds, payment).status == PaymentStatus.CLOSED


def test_closing_a_trade_alipay_never_opened_is_not_an_error(pair: Pair) -> None:
    adapter, _, _ = pair
    adapter.close_payment(adapter.sandbox_credentials(), payment_of(payment_request("pc")))


def test_closing_a_paid_trade_is_refused(pair: Pair) -> None:
    adapter, creds, payment = _paid(pair)
    with pytest.raises(ChannelError, match=r"ACQ\.TRADE_STATUS_ERROR"):
        adapter.close_payment(creds, payment)


def test_an_expired_unpaid_trade_closes_itself(pair: Pair, clock: Clock) -> None:
    adapter, _, _ = pair
    creds = adapter.sandbox_credentials()
    request = payment_request("qr", expires_at=NOW + 60)
    adapter.create_payment(creds, request)

    clock.now = NOW + 61

    assert adapter.query_payment(creds, payment_of(request)).status == PaymentStatus.CLOSED


def test_partial_and_multiple_refunds_never_pass_the_paid_amount(pair: Pair) -> None:
    adapter, creds, payment = _paid(pair, amount=1000)
    first, second, too_much = refund_of(payment, 300, "破损"), refund_of(payment, 700), refund_of(payment, 1)

    assert adapter.refund(creds, payment, first).status == RefundStatus.SUCCEEDED
    assert adapter.refund(creds, payment, second).status == RefundStatus.SUCCEEDED
    refused = adapter.refund(creds, payment, too_much)

    assert (refused.status, refused.failure_code) == (RefundStatus.FAILED, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL")
    assert adapter.query_refund(creds, payment, first).amount == 300
    assert adapter.query_refund(creds, payment, too_much).status == RefundStatus.PENDING
    # Refunded in full, the trade is TRADE_CLOSED at Alipay but the payment stays succeeded.
    assert adapter.query_payment(creds, payment).status == PaymentStatus.SUCCEEDED


def test_a_repeated_refund_request_confirms_the_first_without_moving_money_twice(pair: Pair) -> None:
    adapter, creds, payment = _paid(pair, amount=1000)
    refund = refund_of(payment, 400)

    first = adapter.refund(creds, payment, refund)
    again = adapter.refund(creds, payment, refund)

    assert first.status == again.status == RefundStatus.SUCCEEDED
    assert again.amount == 400
    assert adapter.refund(creds, payment, refund_of(payment, 600)).status == RefundStatus.SUCCEEDED


def test_refunding_an_unpaid_trade_fails(pair: Pair) -> None:
    adapter, _, _ = pair
    creds = adapter.sandbox_credentials()
    request = payment_request("qr")
    adapter.create_payment(creds, request)
    payment = payment_of(request)

    refused = adapter.refund(creds, payment, refund_of(payment, 100))

    assert (refused.status, refused.failure_code) == (RefundStatus.FAILED, "ACQ.TRADE_STATUS_ERROR")


def test_statement_lists_the_days_payments_and_refunds_with_fees(pair: Pair) -> None:
    adapter, creds, payment = _paid(pair, amount=10_000)
    refund = refund_of(payment, 2_500)
    adapter.refund(creds, payment, refund)

    lines = adapter.download_statement(creds, date(2025, 6, 15))  # the Beijing date; UTC is still the 15th
    paid, refunded = lines

    assert (paid.kind, paid.payment_id, paid.amount, paid.fee, paid.occurred_at) == (
        "payment",
        payment.id,
        10_000,
        60,
        NOW,
    )
    assert (refunded.kind, refunded.refund_id, refunded.amount) == ("refund", refund.id, 2_500)
    assert adapter.download_statement(creds, date(2025, 6, 14)) == []


def test_statement_of_a_future_day_is_a_channel_error(pair: Pair) -> None:
    adapter, _, _ = pair
    with pytest.raises(ChannelError, match=r"isp\.bill_not_exist"):
        adapter.download_statement(adapter.sandbox_credentials(), date(2025, 6, 16))


def test_a_merchants_own_test_app_works_in_process_with_the_sandbox_platform_key(pair: Pair) -> None:
    adapter, sandbox, _ = pair
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    own_key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    creds = AlipayCredentials(app_id="2021000122600000", app_private_key=SecretStr(own_key),
                              alipay_public_key=platform_public_key_pem())  # fmt: skip
    request = payment_request("qr", 100)
    adapter.create_payment(creds, request)
    payment = payment_of(request)
    notification = sandbox.notification_for(creds, payment, PaymentStatus.SUCCEEDED, NOTIFY_PATH)

    assert adapter.verify_notification(creds, notification).status == PaymentStatus.SUCCEEDED
    assert adapter.query_payment(creds, payment).status == PaymentStatus.SUCCEEDED


def test_a_wrong_alipay_public_key_fails_with_a_hint_about_the_sandbox_key(pair: Pair) -> None:
    adapter, _, _ = pair
    own = adapter.sandbox_credentials()
    wrong = own.model_copy(update={"alipay_public_key": public_pem(own.app_public_key())})

    with pytest.raises(ChannelError, match=r"sandbox's platform public key") as raised:
        adapter.create_payment(wrong, payment_request("qr"))
    assert "PRIVATE" not in str(raised.value)


def test_other_channels_credentials_are_refused(pair: Pair) -> None:
    adapter, _, _ = pair
    with pytest.raises(ChannelError):
        adapter.create_payment(ChannelCredentials(), payment_request("qr"))
