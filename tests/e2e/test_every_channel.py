"""Every channel and scene end to end over real HTTP: created through the channel's function, completed
by its sandbox's real signed notification through /webhooks/{channel}, then refunded."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from paymux.domain.models import SCENES, Channel
from tests.e2e.platform import ApiClient

pytestmark = pytest.mark.e2e

EXTRA: dict[tuple[str, str], dict[str, Any]] = {
    ("wechatpay", "h5"): {"client_ip": "203.0.113.7"},
    ("wechatpay", "jsapi"): {"channel_extra": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}},
    ("alipay", "h5"): {"return_url": "https://shop.example/return"},
    ("alipay", "pc"): {"return_url": "https://shop.example/return"},
    ("unionpay", "web"): {"return_url": "https://shop.example/return"},
}
CURRENCY = {Channel.STRIPE: "usd"}
# What a sandbox's "failed" becomes: Alipay has no failed trade, only a closed one.
FAILED_AS = {Channel.ALIPAY: "closed"}
CASES = [(channel, scene) for channel in Channel for scene in sorted(SCENES[channel])]


def create(api: ApiClient, channel: Channel, scene: str, amount: int = 2_000) -> dict[str, Any]:
    order = f"{channel.value}-{scene}-{uuid.uuid4().hex[:10]}"
    body = {
        "amount": amount,
        "currency": CURRENCY.get(channel, "cny"),
        "merchant_order_id": order,
        "subject": "Oolong",
        "scene": scene,
        **EXTRA.get((channel.value, scene), {}),
    }
    response = api.post(f"/v1/channels/{channel.value}/payments", body, idempotency_key=order)
    assert response.status_code == 201, response.text
    payment: dict[str, Any] = response.json()
    assert payment["status"] == "requires_action"
    assert payment["credential"]["type"]
    return payment


def complete(api: ApiClient, payment: dict[str, Any], outcome: str) -> dict[str, Any]:
    response = api.post(
        f"/v1/test/payments/{payment['id']}/complete",
        {"outcome": outcome},
        idempotency_key=f"complete-{payment['id']}",
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize(("channel", "scene"), CASES, ids=[f"{c.value}-{s}" for c, s in CASES])
def test_a_payment_succeeds_through_the_channels_signed_notification(
    api: ApiClient, channel: Channel, scene: str
):
    payment = create(api, channel, scene)
    assert complete(api, payment, "succeeded")["status"] == "succeeded"

    fetched = api.get(f"/v1/payments/{payment['id']}").json()
    assert (fetched["status"], fetched["amount"]) == ("succeeded", 2_000)
    refund = api.post(
        f"/v1/payments/{payment['id']}/refunds", {"amount": 500}, idempotency_key=f"refund-{payment['id']}"
    )
    assert refund.status_code == 201, refund.text
    assert (refund.json()["amount"], refund.json()["status"]) == (500, "pending")
    too_much = api.post(
        f"/v1/payments/{payment['id']}/refunds", {"amount": 1_501}, idempotency_key=f"refund2-{payment['id']}"
    )
    assert too_much.status_code == 400
    assert too_much.json()["error"]["code"] == "refund_exceeds_amount"


@pytest.mark.parametrize("channel", list(Channel), ids=[c.value for c in Channel])
def test_a_failed_payment_is_failed_once(api: ApiClient, channel: Channel):
    payment = create(api, channel, sorted(SCENES[channel])[0])
    expected = FAILED_AS.get(channel, "failed")
    assert complete(api, payment, "failed")["status"] == expected

    again = api.post(
        f"/v1/test/payments/{payment['id']}/complete",
        {"outcome": "succeeded"},
        idempotency_key=f"again-{payment['id']}",
    )
    assert again.status_code == 409
    assert api.get(f"/v1/payments/{payment['id']}").json()["status"] == expected


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"amount": 10.5}, "amount"),
        ({"amount": "100"}, "amount"),
        ({"currency": "CNY"}, "currency"),
        ({"scene": "native"}, "scene"),
        ({"surprise": 1}, "surprise"),
        ({"metadata": {"k": "v" * 501}}, "metadata.k"),
        ({"metadata": {"k" * 41: "v"}}, "metadata." + "k" * 41),
        ({"channel_extra": {"blob": "x" * 5000}}, "channel_extra"),
        ({"expires_in": 0}, "expires_in"),
    ],
)
def test_bad_input_is_a_400_in_the_contracts_shape(api: ApiClient, body: dict[str, Any], param: str):
    valid = {
        "amount": 100,
        "currency": "cny",
        "merchant_order_id": f"bad-{uuid.uuid4().hex[:8]}",
        "subject": "x",
        "scene": "qr",
    }
    response = api.post("/v1/channels/alipay/payments", valid | body, idempotency_key=uuid.uuid4().hex)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", param)
    assert error["request_id"]


def test_a_post_without_an_idempotency_key_is_refused_and_writes_nothing(api: ApiClient):
    order = f"no-key-{uuid.uuid4().hex[:8]}"
    body = {"amount": 100, "currency": "cny", "merchant_order_id": order, "subject": "x", "scene": "qr"}
    response = api.request("POST", "/v1/channels/alipay/payments", json_body=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "parameter_missing"
    assert response.json()["error"]["param"] == "Idempotency-Key"
    assert api.get(f"/v1/payments?merchant_order_id={order}").json()["data"] == []


@pytest.mark.parametrize(
    "query",
    ["created[gte]=1000000000000000", "created[lte]=-5", "status=bogus", "channel=paypal", "limit=1000"],
)
def test_bad_list_filters_are_a_400_not_a_500(api: ApiClient, query: str):
    response = api.get(f"/v1/payments?{query}")
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "invalid_request_error"
