"""WeChat Pay notifications: the sandbox's signed, encrypted notifications are accepted; tampered,
forged, replayed, foreign and malformed ones are refused; the answer is in WeChat's format."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from paymux.channels.base import ChannelPaymentState, ChannelRefundState, ProviderRequest
from paymux.channels.wechatpay import signing, wire
from paymux.channels.wechatpay.sandbox import identity
from paymux.domain.errors import NotificationRejected
from paymux.domain.states import PaymentStatus, RefundStatus
from tests.unit.channels.wechatpay_fixtures import NOW, World, payment_of, payment_request, refund_of

NOTIFY_PATH = "/webhooks/wechatpay"


@pytest.fixture
def world() -> World:
    return World()


def _created(world: World, scene: str = "native"):
    request = payment_request(scene)
    world.adapter.create_payment(world.credentials, request)
    return payment_of(request)


def _success(world: World) -> tuple[object, ProviderRequest]:
    payment = _created(world)
    return payment, world.sandbox.notification_for(
        world.credentials, payment, PaymentStatus.SUCCEEDED, NOTIFY_PATH
    )


def _resigned(request: ProviderRequest, body: bytes, timestamp: int = NOW) -> ProviderRequest:
    """The same notification re-signed with the genuine platform key (as WeChat Pay would sign it)."""
    headers = signing.signed_response_headers(
        identity.platform_private_key(), request.headers["wechatpay-serial"], body.decode(), timestamp
    )
    return replace(request, body=body, headers={**request.headers, **headers})


def _reencrypted(world: World, request: ProviderRequest, change) -> ProviderRequest:
    """Decrypt the resource, change it, seal it again with the APIv3 key and re-sign."""
    envelope = json.loads(request.body)
    resource = envelope["resource"]
    plain = json.loads(
        signing.decrypt_resource(
            world.credentials.apiv3_key,
            resource["nonce"],
            resource["associated_data"],
            resource["ciphertext"],
        )
    )
    change(plain)
    resource["ciphertext"] = signing.encrypt_resource(
        world.credentials.apiv3_key, resource["nonce"], resource["associated_data"], json.dumps(plain)
    )
    return _resigned(request, json.dumps(envelope).encode())


@pytest.mark.parametrize("scene", ["native", "h5", "app", "jsapi"])
def test_payment_success_notification_is_accepted_for_every_scene(world, scene):
    payment = _created(world, scene)
    request = world.sandbox.notification_for(world.credentials, payment, PaymentStatus.SUCCEEDED, NOTIFY_PATH)
    assert request.path == f"{NOTIFY_PATH}/{payment.id}"
    assert json.loads(request.body)["event_type"] == "TRANSACTION.SUCCESS"
    assert world.adapter.notification_target(request).payment_id == payment.id
    state = world.adapter.verify_notification(world.credentials, request)
    assert isinstance(state, ChannelPaymentState)
    assert (state.payment_id, state.status, state.amount, state.currency, state.paid_at) == (
        payment.id,
        PaymentStatus.SUCCEEDED,
        payment.amount,
        "cny",
        NOW,
    )


@pytest.mark.parametrize(
    ("outcome", "code"), [(PaymentStatus.FAILED, "PAYERROR"), (PaymentStatus.CLOSED, None)]
)
def test_failed_and_closed_completions_notify_and_query_the_same(world, outcome, code):
    payment = _created(world)
    request = world.sandbox.notification_for(world.credentials, payment, outcome, NOTIFY_PATH)
    state = world.adapter.verify_notification(world.credentials, request)
    assert (state.status, state.failure_code) == (outcome, code)
    assert world.adapter.query_payment(world.credentials, payment).status is outcome


@pytest.mark.parametrize(
    ("outcome", "event"), [(RefundStatus.SUCCEEDED, "REFUND.SUCCESS"), (RefundStatus.FAILED, "REFUND.CLOSED")]
)
def test_refund_notifications_are_accepted(world, outcome, event):
    payment, _ = _success(world)
    refund = refund_of(payment, 100)
    world.adapter.refund(world.credentials, payment, refund)
    request = world.sandbox.refund_notification_for(world.credentials, payment, refund, outcome, NOTIFY_PATH)
    assert json.loads(request.body)["event_type"] == event
    assert world.adapter.notification_target(request).refund_id == refund.id
    state = world.adapter.verify_notification(world.credentials, request)
    assert isinstance(state, ChannelRefundState)
    assert (state.refund_id, state.payment_id, state.status, state.amount, state.currency) == (
        refund.id,
        payment.id,
        outcome,
        100,
        "cny",
    )
    assert world.adapter.query_refund(world.credentials, payment, refund).status is outcome


def test_tampered_body_is_refused(world):
    _, request = _success(world)
    body = request.body.replace(b"TRANSACTION.SUCCESS", b"TRANSACTION.SUCCESs")
    with pytest.raises(NotificationRejected, match="signature"):
        world.adapter.verify_notification(world.credentials, replace(request, body=body))


def test_signature_by_another_key_is_refused(world):
    _, request = _success(world)
    forged_signature = signing.sign(
        signing.load_private_key(world.credentials.merchant_private_key),
        signing.lines(
            request.headers["wechatpay-timestamp"], request.headers["wechatpay-nonce"], request.body.decode()
        ),
    )
    forged = replace(request, headers={**request.headers, "wechatpay-signature": forged_signature})
    with pytest.raises(NotificationRejected, match="signature"):
        world.adapter.verify_notification(world.credentials, forged)


def test_unknown_serial_is_refused_without_fetching_certificates(world):
    _, request = _success(world)
    renamed = replace(request, headers={**request.headers, "wechatpay-serial": "PUB_KEY_ID_SOMEONE_ELSE"})
    with pytest.raises(NotificationRejected, match="did not configure"):
        world.adapter.verify_notification(world.credentials, renamed)


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_timestamp_outside_the_replay_window_is_refused(world, skew):
    _, request = _success(world)
    world.clock.now = NOW + skew
    with pytest.raises(NotificationRejected, match="replay window"):
        world.adapter.verify_notification(world.credentials, request)


def test_a_timestamp_inside_the_window_is_accepted(world):
    _, request = _success(world)
    world.clock.now = NOW + 299
    assert world.adapter.verify_notification(world.credentials, request).status is PaymentStatus.SUCCEEDED


def test_a_resource_sealed_with_another_apiv3_key_is_refused(world):
    _, request = _success(world)
    other = world.credentials.model_copy(update={"apiv3_key": "0" * 32})
    with pytest.raises(NotificationRejected, match="decrypt"):
        world.adapter.verify_notification(other, request)


@pytest.mark.parametrize(
    ("name", "value", "reason"), [("mchid", "1900000999", "merchant"), ("appid", "wx0000000000000000", "app")]
)
def test_another_merchant_or_app_is_refused(world, name, value, reason):
    _, request = _success(world)
    foreign = _reencrypted(world, request, lambda plain: plain.update({name: value}))
    with pytest.raises(NotificationRejected, match=reason):
        world.adapter.verify_notification(world.credentials, foreign)


def test_a_genuine_notification_posted_to_another_payments_url_is_refused(world):
    _, request = _success(world)
    other = _created(world)
    with pytest.raises(NotificationRejected, match="another object"):
        world.adapter.verify_notification(
            world.credentials, replace(request, path=f"{NOTIFY_PATH}/{other.id}")
        )


@pytest.mark.parametrize(
    "change",
    [
        lambda e: e.update(resource_type="plain"),
        lambda e: e["resource"].update(algorithm="AEAD_SM4_GCM"),
        lambda e: e["resource"].pop("nonce"),
        lambda e: e.update(event_type="MCHTRANSFER.BILL.FINISHED"),
    ],
)
def test_malformed_envelopes_are_refused(world, change):
    _, request = _success(world)
    envelope = json.loads(request.body)
    change(envelope)
    with pytest.raises(NotificationRejected):
        world.adapter.verify_notification(
            world.credentials, _resigned(request, json.dumps(envelope).encode())
        )


def test_a_resource_missing_its_amount_is_refused(world):
    _, request = _success(world)
    broken = _reencrypted(world, request, lambda plain: plain.pop("amount"))
    with pytest.raises(NotificationRejected, match="Malformed"):
        world.adapter.verify_notification(world.credentials, broken)


def test_notification_target_refuses_what_is_not_a_wechatpay_notification(world):
    with pytest.raises(NotificationRejected):
        world.adapter.notification_target(ProviderRequest("POST", NOTIFY_PATH, {}, b"{}"))
    _, request = _success(world)
    with pytest.raises(NotificationRejected):
        world.adapter.notification_target(replace(request, body=b"not json"))
    assert world.adapter.notification_target(replace(request, path=NOTIFY_PATH)).payment_id is None


def test_acknowledge_answers_as_wechat_expects(world):
    accepted = world.adapter.acknowledge(True)
    assert (accepted.status, accepted.body) == (204, "")
    refused = world.adapter.acknowledge(False)
    assert 400 <= refused.status < 600
    assert wire.loads(refused.body)["code"] == "FAIL"
