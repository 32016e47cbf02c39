"""Interop with `wechatpayv3`, the WeChat Pay v3 Python SDK, as the other side:
- the SDK, as a merchant client, talks to paymux's sandbox (the SDK's `requests` calls are routed
  into the sandbox in-process): the sandbox accepts its signed requests and the SDK verifies the
  sandbox's signed answers, refusing a tampered one;
- paymux's Authorization header and app/jsapi signatures equal what the SDK computes;
- the SDK's `callback` accepts paymux's sandbox notifications (and refuses tampered copies);
- notifications signed with the SDK's primitives are accepted by paymux; tampered and replayed ones
  (which the SDK's own callback accepts) are refused.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from requests.structures import CaseInsensitiveDict
from wechatpayv3 import WeChatPay, WeChatPayType, utils

from paymux.channels.base import ProviderRequest
from paymux.channels.wechatpay import signing
from paymux.channels.wechatpay.sandbox import identity
from paymux.channels.wechatpay.sandbox.gateway import SandboxGateway
from paymux.domain.errors import NotificationRejected
from paymux.domain.states import PaymentStatus, RefundStatus
from tests.unit.channels.wechatpay_fixtures import FakeClock, World, payment_of, payment_request, refund_of

pytestmark = [pytest.mark.interop, pytest.mark.disable_socket]

NOTIFY_PATH = "/webhooks/wechatpay"


@pytest.fixture
def world() -> World:
    # The SDK signs with the real time, so the sandbox and the adapter run on it too.
    return World(clock=FakeClock(int(time.time())))


def _sdk(world: World, pay_type: WeChatPayType = WeChatPayType.NATIVE) -> WeChatPay:
    """The SDK in public-key mode: its constructor then makes no network call."""
    creds = world.credentials
    return WeChatPay(
        wechatpay_type=pay_type, mchid=creds.mchid, private_key=creds.merchant_private_key,
        cert_serial_no=creds.merchant_serial_no, appid=creds.appid, apiv3_key=creds.apiv3_key,
        notify_url="https://pay.example.com/webhooks/wechatpay", public_key=creds.platform_public_key,
        public_key_id=creds.platform_public_key_id,
    )  # fmt: skip


@pytest.fixture
def sdk_to_sandbox(world: World, monkeypatch: pytest.MonkeyPatch) -> list[requests.Response]:
    """Route the SDK's HTTP calls into the sandbox gateway; returns the answers it got."""
    gateway = SandboxGateway(world.store, world.clock)
    answers: list[requests.Response] = []

    def route(method: str):
        def call(url: str, json=None, headers=None, **_ignored) -> requests.Response:
            prepared = requests.Request(method, url, json=json, headers=headers).prepare()
            split = urlsplit(prepared.url)
            request = ProviderRequest(
                method, split.path, {k.lower(): v for k, v in prepared.headers.items()},
                prepared.body or b"", dict(parse_qsl(split.query, keep_blank_values=True)),
            )  # fmt: skip
            answer = gateway.handle(world.credentials, request)
            response = requests.Response()
            response.status_code = answer.status
            response._content = answer.body.encode()
            response.headers = CaseInsensitiveDict({**answer.headers, "Content-Type": answer.content_type})
            answers.append(response)
            return response

        return call

    monkeypatch.setattr(requests, "get", route("GET"))
    monkeypatch.setattr(requests, "post", route("POST"))
    return answers


@pytest.mark.parametrize(
    ("pay_type", "extra", "answer_field"),
    [
        (WeChatPayType.NATIVE, {}, "code_url"),
        (
            WeChatPayType.H5,
            {"scene_info": {"payer_client_ip": "203.0.113.7", "h5_info": {"type": "Wap"}}},
            "h5_url",
        ),
        (WeChatPayType.APP, {}, "prepay_id"),
        (WeChatPayType.JSAPI, {"payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}, "prepay_id"),
    ],
)
def test_sdk_orders_are_accepted_and_the_sdk_verifies_the_sandbox_answers(
    world, sdk_to_sandbox, pay_type, extra, answer_field
):
    sdk = _sdk(world, pay_type)
    out_trade_no = payment_request().payment_id
    code, message = sdk.pay(description="Coffee", out_trade_no=out_trade_no, amount={"total": 1234}, **extra)
    assert code == 200, message
    assert json.loads(message)[answer_field]
    code, message = sdk.query(out_trade_no=out_trade_no)
    assert (code, json.loads(message)["trade_state"]) == (200, "NOTPAY")
    code, _ = sdk.close(out_trade_no=out_trade_no)
    assert code == 204
    assert json.loads(sdk.query(out_trade_no=out_trade_no)[1])["trade_state"] == "CLOSED"


def test_sdk_refunds_and_bills_run_against_the_sandbox(world, sdk_to_sandbox):
    request = payment_request(amount=1000)
    world.adapter.create_payment(world.credentials, request)
    payment = payment_of(request)
    world.sandbox.notification_for(world.credentials, payment, PaymentStatus.SUCCEEDED, NOTIFY_PATH)
    sdk = _sdk(world)
    code, message = sdk.refund(
        out_refund_no="re_sdk_1",
        amount={"refund": 300, "total": 1000, "currency": "CNY"},
        out_trade_no=payment.id,
    )
    assert (code, json.loads(message)["status"]) == (200, "PROCESSING")
    assert json.loads(sdk.query_refund(out_refund_no="re_sdk_1")[1])["status"] == "SUCCESS"
    code, message = sdk.trade_bill(
        bill_date=time.strftime("%Y-%m-%d", time.gmtime(world.clock.now + 8 * 3600))
    )
    assert code == 200
    code, bill = sdk.download_bill(json.loads(message)["download_url"])
    assert code == 200
    assert payment.id in bill.decode()


def test_sdk_refuses_a_tampered_sandbox_answer(world, sdk_to_sandbox, monkeypatch):
    routed_post = requests.post

    def tampering_post(url, **kwargs):
        response = routed_post(url, **kwargs)
        response._content = response._content.replace(b"weixin://", b"https://evil.example/")
        return response

    monkeypatch.setattr(requests, "post", tampering_post)
    with pytest.raises(Exception, match="failed to verify the signature"):
        _sdk(world).pay(description="Coffee", out_trade_no=payment_request().payment_id, amount={"total": 1})


def test_paymux_authorization_header_equals_the_sdks(world, monkeypatch):
    creds = world.credentials
    key = signing.load_private_key(creds.merchant_private_key)
    body = '{"mchid":"1900000109"}'
    monkeypatch.setattr(utils.time, "time", lambda: 1_767_225_600)
    theirs = utils.build_authorization(
        "/v3/pay/transactions/out-trade-no/pay_x/close",
        "POST",
        creds.mchid,
        creds.merchant_serial_no,
        utils.load_private_key(creds.merchant_private_key),
        data=body,
        nonce_str="5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
    )
    ours = signing.sign_request(
        mchid=creds.mchid,
        serial_no=creds.merchant_serial_no,
        private_key=key,
        method="POST",
        path_with_query="/v3/pay/transactions/out-trade-no/pay_x/close",
        body=body,
        timestamp=1_767_225_600,
        nonce="5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
    )
    assert ours.header() == theirs


def test_paymux_app_and_jsapi_signatures_equal_the_sdks(world):
    sdk = _sdk(world)
    app = world.adapter.create_payment(world.credentials, payment_request("app")).credential
    assert app["sign"] == sdk.sign([app["appid"], app["timestamp"], app["noncestr"], app["prepayid"]])
    params = world.adapter.create_payment(world.credentials, payment_request("jsapi")).credential[
        "jsapi_params"
    ]
    assert params["paySign"] == sdk.sign(
        [params["appId"], params["timeStamp"], params["nonceStr"], params["package"]]
    )


def test_sdk_callback_accepts_paymux_sandbox_notifications_and_refuses_tampered_ones(world):
    request = payment_request()
    world.adapter.create_payment(world.credentials, request)
    payment = payment_of(request)
    notification = world.sandbox.notification_for(
        world.credentials, payment, PaymentStatus.SUCCEEDED, NOTIFY_PATH
    )
    sdk = _sdk(world)
    result = sdk.callback(notification.headers, notification.body)
    assert result["event_type"] == "TRANSACTION.SUCCESS"
    assert (result["resource"]["out_trade_no"], result["resource"]["amount"]["total"]) == (
        payment.id,
        payment.amount,
    )
    assert sdk.callback(notification.headers, notification.body.replace(b"SUCCESS", b"SUCCESs")) is None

    refund = refund_of(payment, 100)
    world.adapter.refund(world.credentials, payment, refund)
    refund_note = world.sandbox.refund_notification_for(
        world.credentials, payment, refund, RefundStatus.SUCCEEDED, NOTIFY_PATH
    )
    resource = sdk.callback(refund_note.headers, refund_note.body)["resource"]
    assert (resource["out_refund_no"], resource["refund_status"]) == (refund.id, "SUCCESS")


def _sdk_signed_notification(world: World, payment_id: str, timestamp: int) -> ProviderRequest:
    """A payment notification sealed with AES-GCM and signed with the SDK's own `rsa_sign`."""
    creds = world.credentials
    resource = json.dumps({
        "appid": creds.appid, "mchid": creds.mchid, "out_trade_no": payment_id,
        "transaction_id": "4200000000000000000000000001", "trade_type": "NATIVE", "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功", "success_time": "2026-01-01T08:00:00+08:00",
        "payer": {"openid": "oUpF8"}, "amount": {"total": 1234, "payer_total": 1234, "currency": "CNY"},
    })  # fmt: skip
    ciphertext = AESGCM(creds.apiv3_key.encode()).encrypt(b"0123456789ab", resource.encode(), b"transaction")
    body = json.dumps({
        "id": "EV-2018022511223320873", "create_time": "2026-01-01T08:00:00+08:00",
        "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                     "ciphertext": base64.b64encode(ciphertext).decode(), "associated_data": "transaction",
                     "nonce": "0123456789ab"},
    }, ensure_ascii=False)  # fmt: skip
    nonce = "fdasflkja484w"
    signature = utils.rsa_sign(identity.platform_private_key(), f"{timestamp}\n{nonce}\n{body}\n")
    headers = {
        "wechatpay-timestamp": str(timestamp), "wechatpay-nonce": nonce, "wechatpay-signature": signature,
        "wechatpay-serial": creds.platform_public_key_id,
        "wechatpay-signature-type": "WECHATPAY2-SHA256-RSA2048",
    }  # fmt: skip
    return ProviderRequest("POST", f"{NOTIFY_PATH}/{payment_id}", headers, body.encode())


def test_sdk_signed_notifications_are_accepted_and_tampered_or_replayed_copies_refused(world):
    payment_id = payment_request().payment_id
    fresh = _sdk_signed_notification(world, payment_id, world.clock.now)
    assert utils.aes_decrypt(
        **{k: json.loads(fresh.body)["resource"][k] for k in ("nonce", "ciphertext", "associated_data")},
        apiv3_key=world.credentials.apiv3_key,
    )
    state = world.adapter.verify_notification(world.credentials, fresh)
    assert (state.payment_id, state.status, state.amount) == (payment_id, PaymentStatus.SUCCEEDED, 1234)

    tampered = replace(fresh, body=fresh.body.replace(b'"summary"', b'"summarY"'))
    with pytest.raises(NotificationRejected, match="signature"):
        world.adapter.verify_notification(world.credentials, tampered)

    replayed = _sdk_signed_notification(world, payment_id, world.clock.now - 3600)
    assert _sdk(world).callback(replayed.headers, replayed.body) is not None  # the SDK has no replay window
    with pytest.raises(NotificationRejected, match="replay window"):
        world.adapter.verify_notification(world.credentials, replayed)
