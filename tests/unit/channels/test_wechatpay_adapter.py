"""The WeChat Pay adapter against its in-process sandbox: every scene, query, close, refunds,
refund query, statement, and the refusals on both sides."""

from __future__ import annotations

import json
from datetime import date

import pytest

from paymux.channels.base import ProviderRequest, ProviderResponse
from paymux.channels.wechatpay import build_adapter, signing
from paymux.channels.wechatpay.sandbox import identity
from paymux.domain.errors import ChannelError, InvalidRequest
from paymux.domain.states import PaymentStatus, RefundStatus
from tests.unit.channels.wechatpay_fixtures import NOW, World, payment_of, payment_request, refund_of


@pytest.fixture
def world() -> World:
    return World()


def _paid(world: World, scene: str = "native", amount: int = 1234):
    request = payment_request(scene, amount)
    world.adapter.create_payment(world.credentials, request)
    payment = payment_of(request)
    world.sandbox.notification_for(world.credentials, payment, PaymentStatus.SUCCEEDED, "/webhooks/wechatpay")
    return payment


def _verify_with_merchant_key(message: str, signature: str) -> bool:
    key = signing.load_private_key(identity.sandbox_credentials().merchant_private_key).public_key()
    return signing.verify(key, message, signature)


def test_native_returns_the_code_url_as_a_qr_code(world):
    created = world.adapter.create_payment(world.credentials, payment_request("native"))
    assert created.credential["type"] == "qr_code"
    assert created.credential["qr_code"].startswith("weixin://wxpay/bizpayurl?pr=")


def test_h5_redirects_to_h5_url_with_return_url_and_needs_client_ip(world):
    request = payment_request("h5", return_url="https://shop.example/done?o=1")
    credential = world.adapter.create_payment(world.credentials, request).credential
    assert credential["type"] == "redirect"
    # The built-in sandbox plays WeChat Pay's checkmweb page under the platform's base URL.
    assert credential["url"].startswith(
        "https://pay.example.com/sandbox/wechatpay/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx"
    )
    assert credential["url"].endswith("&redirect_url=https%3A%2F%2Fshop.example%2Fdone%3Fo%3D1")
    with pytest.raises(InvalidRequest) as error:
        world.adapter.create_payment(world.credentials, payment_request("h5", client_ip=None))
    assert error.value.param == "client_ip"


def test_app_params_are_signed_over_appid_timestamp_nonce_prepayid(world):
    credential = world.adapter.create_payment(world.credentials, payment_request("app")).credential
    assert credential["type"] == "app"
    assert credential["package"] == "Sign=WXPay"
    assert credential["partnerid"] == world.credentials.mchid
    assert credential["timestamp"] == str(NOW)
    message = signing.lines(
        credential["appid"], credential["timestamp"], credential["noncestr"], credential["prepayid"]
    )
    assert _verify_with_merchant_key(message, credential["sign"])


def test_jsapi_params_are_signed_and_need_the_openid(world):
    params = world.adapter.create_payment(world.credentials, payment_request("jsapi")).credential[
        "jsapi_params"
    ]
    assert params["package"].startswith("prepay_id=wx")
    assert params["signType"] == "RSA"
    message = signing.lines(params["appId"], params["timeStamp"], params["nonceStr"], params["package"])
    assert _verify_with_merchant_key(message, params["paySign"])
    with pytest.raises(InvalidRequest) as error:
        world.adapter.create_payment(world.credentials, payment_request("jsapi", channel_extra={}))
    assert error.value.param == "channel_extra.openid"


def test_unknown_scene_and_foreign_currency_are_refused_before_any_call(world):
    with pytest.raises(InvalidRequest):
        world.adapter.create_payment(world.credentials, payment_request("qr"))
    with pytest.raises(InvalidRequest):
        world.adapter.create_payment(world.credentials, payment_request(currency="usd"))
    assert world.store.items == {}


def test_order_request_carries_fen_beijing_time_expire_and_a_notify_url_naming_the_payment(world):
    request = payment_request("native")
    world.adapter.create_payment(world.credentials, request)
    trade = world.store.load("wechatpay", f"trade:{world.credentials.mchid}:{request.payment_id}")
    sent = json.loads(trade["request"])
    assert sent["amount"] == {"total": 1234, "currency": "CNY"}
    assert sent["time_expire"] == "2026-01-01T08:15:00+08:00"
    assert sent["notify_url"] == f"{request.notify_url}/{request.payment_id}"


def test_query_follows_the_trade_from_notpay_to_paid(world):
    request = payment_request("native")
    world.adapter.create_payment(world.credentials, request)
    payment = payment_of(request)
    assert world.adapter.query_payment(world.credentials, payment).status is PaymentStatus.REQUIRES_ACTION
    world.clock.now += 60
    world.sandbox.notification_for(world.credentials, payment, PaymentStatus.SUCCEEDED, "/webhooks/wechatpay")
    state = world.adapter.query_payment(world.credentials, payment)
    assert (state.status, state.amount, state.currency, state.paid_at) == (
        PaymentStatus.SUCCEEDED,
        1234,
        "cny",
        NOW + 60,
    )
    assert str(state.channel_transaction_id).startswith("42000")


def test_close_then_query_is_closed_and_a_paid_trade_cannot_close(world):
    request = payment_request("app")
    world.adapter.create_payment(world.credentials, request)
    payment = payment_of(request)
    world.adapter.close_payment(world.credentials, payment)
    assert world.adapter.query_payment(world.credentials, payment).status is PaymentStatus.CLOSED
    with pytest.raises(ChannelError) as error:
        world.adapter.close_payment(world.credentials, _paid(world))
    assert error.value.code == "ORDERPAID"


def test_unknown_trade_query_is_a_channel_error(world):
    with pytest.raises(ChannelError) as error:
        world.adapter.query_payment(world.credentials, payment_of(payment_request()))
    assert error.value.code == "ORDER_NOT_EXIST"


def test_partial_refunds_up_to_the_amount_then_refused(world):
    payment = _paid(world, amount=1000)
    first, second = refund_of(payment, 600), refund_of(payment, 400)
    state = world.adapter.refund(
        world.credentials, payment, first, notify_url="https://pay.example.com/webhooks/wechatpay"
    )
    assert (state.status, state.amount, state.refund_id) == (RefundStatus.PENDING, 600, first.id)
    assert (
        world.adapter.refund(world.credentials, payment, first).amount == 600
    )  # same refund again: idempotent
    world.adapter.refund(world.credentials, payment, second)
    with pytest.raises(ChannelError) as error:
        world.adapter.refund(world.credentials, payment, refund_of(payment, 1))
    assert error.value.code == "NOT_ENOUGH"
    queried = world.adapter.query_refund(world.credentials, payment, first)
    assert queried.status is RefundStatus.SUCCEEDED
    assert queried.channel_refund_id == state.channel_refund_id
    stored = world.store.load("wechatpay", f"refund:{world.credentials.mchid}:{first.id}")
    assert stored["notify_url"] == f"https://pay.example.com/webhooks/wechatpay/{first.id}"


def test_refund_of_an_unpaid_trade_is_refused(world):
    request = payment_request()
    world.adapter.create_payment(world.credentials, request)
    payment = payment_of(request)
    with pytest.raises(ChannelError, match="INVALID_REQUEST"):
        world.adapter.refund(world.credentials, payment, refund_of(payment, 1))


def test_statement_lists_payments_and_refunds_of_the_beijing_day(world):
    payment = _paid(world, amount=1000)
    refund = refund_of(payment, 250)
    world.adapter.refund(world.credentials, payment, refund)
    world.adapter.query_refund(world.credentials, payment, refund)
    lines = world.adapter.download_statement(world.credentials, date(2026, 1, 1))
    assert [(line.kind, line.payment_id, line.amount, line.refund_id) for line in lines] == [
        ("payment", payment.id, 1000, None),
        ("refund", payment.id, 250, refund.id),
    ]
    assert lines[0].fee == 6
    assert lines[0].occurred_at == NOW
    assert world.adapter.download_statement(world.credentials, date(2025, 12, 31)) == []


class _TamperingSender:
    """Stands in for HTTP to a gateway: hands the request to the sandbox and alters its answer."""

    def __init__(self, world: World, alter) -> None:
        from paymux.channels.wechatpay.sandbox.gateway import SandboxGateway

        self.gateway = SandboxGateway(world.store, world.clock)
        self.world = world
        self.alter = alter
        self.urls: list[str] = []

    def __call__(self, url: str, request: ProviderRequest) -> ProviderResponse:
        self.urls.append(url)
        return self.alter(self.gateway.handle(self.world.credentials, request))


def _adapter_via(world: World, sender):
    from paymux.channels.wechatpay.adapter import WechatPayAdapter
    from paymux.channels.wechatpay.transport import WechatPayTransport

    return WechatPayAdapter(WechatPayTransport(lambda: sender.gateway, world.clock, sender), world.clock)


def test_gateway_url_sends_the_same_signed_request_to_that_url(world):
    sender = _TamperingSender(world, lambda response: response)
    creds = world.credentials.model_copy(update={"gateway_url": "https://api.mch.weixin.qq.com/"})
    created = _adapter_via(world, sender).create_payment(creds, payment_request("native"))
    assert created.credential["type"] == "qr_code"
    assert sender.urls == ["https://api.mch.weixin.qq.com/v3/pay/transactions/native"]


def test_a_tampered_or_foreign_signed_answer_is_a_channel_error(world):
    def tamper(response: ProviderResponse) -> ProviderResponse:
        return ProviderResponse(
            response.status,
            response.body.replace("weixin://", "https://evil/"),
            response.content_type,
            response.headers,
        )

    creds = world.credentials.model_copy(update={"gateway_url": "https://api.mch.weixin.qq.com"})
    with pytest.raises(ChannelError, match="verification"):
        _adapter_via(world, _TamperingSender(world, tamper)).create_payment(creds, payment_request())
    other_key = creds.model_copy(update={"platform_public_key_id": "PUB_KEY_ID_OTHER"})
    sender = _TamperingSender(world, lambda response: response)
    with pytest.raises(ChannelError, match="verification"):
        _adapter_via(world, sender).create_payment(other_key, payment_request())


def test_sandbox_refuses_a_request_signed_with_another_key(world):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    stranger = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )

    class _Impostor:
        def handle(self, credentials, request):
            from paymux.channels.wechatpay.sandbox.gateway import SandboxGateway

            return SandboxGateway(world.store, world.clock).handle(world.credentials, request)

    from paymux.channels.wechatpay.adapter import WechatPayAdapter
    from paymux.channels.wechatpay.transport import WechatPayTransport

    adapter = WechatPayAdapter(WechatPayTransport(_Impostor, world.clock), world.clock)
    forged = world.credentials.model_copy(update={"merchant_private_key": stranger})
    with pytest.raises(ChannelError) as error:
        adapter.create_payment(forged, payment_request())
    assert error.value.code == "SIGN_ERROR"


def test_sandbox_refuses_a_stale_request_timestamp(world):
    request = payment_request()

    class _LateGateway:
        def handle(self, credentials, outgoing):
            from paymux.channels.wechatpay.sandbox.gateway import SandboxGateway

            world_later = World(clock=type(world.clock)(NOW + 301), store=world.store)
            return SandboxGateway(world_later.store, world_later.clock).handle(credentials, outgoing)

    from paymux.channels.wechatpay.adapter import WechatPayAdapter
    from paymux.channels.wechatpay.transport import WechatPayTransport

    adapter = WechatPayAdapter(WechatPayTransport(_LateGateway, world.clock), world.clock)
    with pytest.raises(ChannelError, match="SIGN_ERROR"):
        adapter.create_payment(world.credentials, request)


def test_the_same_out_trade_no_with_other_parameters_is_refused(world):
    request = payment_request("native")
    world.adapter.create_payment(world.credentials, request)
    again = world.adapter.create_payment(world.credentials, request)
    assert again.credential["type"] == "qr_code"
    with pytest.raises(ChannelError, match="INVALID_REQUEST"):
        world.adapter.create_payment(
            world.credentials, payment_request("native", payment_id=request.payment_id, amount=1)
        )


def test_build_adapter_uses_the_in_process_sandbox_without_network(world):
    adapter = build_adapter(world.store, world.clock)
    assert adapter.sandbox_credentials().gateway_url is None
    assert (
        adapter.create_payment(adapter.sandbox_credentials(), payment_request()).credential["type"]
        == "qr_code"
    )
