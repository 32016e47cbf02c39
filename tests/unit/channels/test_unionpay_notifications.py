"""UnionPay notifications: the sandbox's signed posts are accepted and parsed; tampered, forged,
other merchants' and malformed ones are rejected."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest

from paymux.channels.base import ChannelPaymentState, ChannelRefundState, ProviderRequest
from paymux.channels.unionpay import protocol as p
from paymux.channels.unionpay.signing import sign_with_key
from paymux.domain.errors import NotificationRejected
from paymux.domain.states import PaymentStatus, RefundStatus
from tests import builders
from tests.unit.channels.unionpay_fixtures import (
    NOTIFY_PATH,
    Sandboxed,
    attacker_chain,
    created,
    paid,
    sandboxed,
)


def payment_notification(env: Sandboxed, outcome: PaymentStatus = PaymentStatus.SUCCEEDED) -> ProviderRequest:
    return env.sandbox.notification_for(
        env.credentials, created(env, "qr", amount=4321), outcome, NOTIFY_PATH
    )


def with_fields(request: ProviderRequest, **changes: str) -> ProviderRequest:
    fields = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
    return ProviderRequest(
        request.method, request.path, request.headers, urlencode(fields | changes).encode()
    )


def test_sandbox_notification_is_a_signed_form_post_to_the_notify_path():
    env = sandboxed()
    request = payment_notification(env)
    fields = p.parse_form(request.body)

    assert (request.method, request.path) == ("POST", NOTIFY_PATH)
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert {"signature", "signPubKeyCert", "queryId", "traceTime", "settleDate"} <= fields.keys()
    assert (fields["respCode"], fields["txnType"], fields["txnAmt"]) == ("00", "01", "4321")


def test_successful_payment_notification_verifies_and_parses():
    env = sandboxed()
    request = payment_notification(env)

    target = env.adapter.notification_target(request)
    state = env.adapter.verify_notification(env.credentials, request)

    assert isinstance(state, ChannelPaymentState)
    assert state.payment_id == target.payment_id
    assert (state.status, state.amount, state.currency) == (PaymentStatus.SUCCEEDED, 4321, "cny")
    assert state.channel_transaction_id == p.parse_form(request.body)["queryId"]
    assert state.paid_at is not None


def test_failed_payment_notification_carries_the_failure():
    env = sandboxed()
    state = env.adapter.verify_notification(env.credentials, payment_notification(env, PaymentStatus.FAILED))
    assert isinstance(state, ChannelPaymentState)
    assert (state.status, state.failure_code, state.paid_at) == (PaymentStatus.FAILED, "01", None)


def test_refund_notification_names_refund_and_payment_and_verifies():
    env = sandboxed()
    payment = paid(env, "app", amount=800)
    refund = builders.refund(payment, amount=300)
    env.adapter.refund(env.credentials, payment, refund)

    request = env.sandbox.refund_notification_for(
        env.credentials, payment, refund, RefundStatus.SUCCEEDED, NOTIFY_PATH
    )
    assert request is not None
    target = env.adapter.notification_target(request)
    state = env.adapter.verify_notification(env.credentials, request)

    assert (target.payment_id, target.refund_id) == (payment.id, refund.id)
    assert isinstance(state, ChannelRefundState)
    assert (state.status, state.amount, state.payment_id) == (RefundStatus.SUCCEEDED, 300, payment.id)
    assert state.channel_refund_id


def test_failed_refund_notification_is_recorded_for_later_queries():
    env = sandboxed()
    payment = paid(env, "qr")
    refund = builders.refund(payment, amount=100)
    request = env.sandbox.refund_notification_for(
        env.credentials, payment, refund, RefundStatus.FAILED, NOTIFY_PATH
    )
    assert request is not None

    state = env.adapter.verify_notification(env.credentials, request)

    assert isinstance(state, ChannelRefundState)
    assert state.status is RefundStatus.FAILED
    assert env.adapter.query_refund(env.credentials, payment, refund).status is RefundStatus.FAILED


@pytest.mark.parametrize(
    "changes",
    [
        {"txnAmt": "1"},
        {"respCode": "01"},
        {"orderId": "pay01JH0M2Z3K4N5P6Q7R8S9T0VWX"},
        {"queryId": "1" * 21},
    ],
)
def test_tampered_notification_is_rejected(changes: dict[str, str]):
    env = sandboxed()
    with pytest.raises(NotificationRejected, match="does not verify"):
        env.adapter.verify_notification(env.credentials, with_fields(payment_notification(env), **changes))


def test_notification_with_a_wrong_signature_is_rejected():
    env = sandboxed()
    request = payment_notification(env)
    other = payment_notification(env)
    forged = with_fields(request, signature=p.parse_form(other.body)["signature"])
    with pytest.raises(NotificationRejected):
        env.adapter.verify_notification(env.credentials, forged)
    with pytest.raises(NotificationRejected):
        env.adapter.verify_notification(
            env.credentials, with_fields(request, signature="bm90IGEgc2lnbmF0dXJl")
        )


def test_notification_signed_by_a_certificate_of_another_ca_is_rejected():
    env = sandboxed()
    _, signer = attacker_chain()
    fields = {**p.parse_form(payment_notification(env).body), "signPubKeyCert": signer.cert_pem}
    fields["signature"] = sign_with_key(fields, signer.key)
    forged = ProviderRequest("POST", NOTIFY_PATH, {}, p.encode_form(fields))

    with pytest.raises(NotificationRejected, match="not issued by unionpay_cert"):
        env.adapter.verify_notification(env.credentials, forged)


def test_notification_for_another_merchant_is_rejected():
    env = sandboxed()
    other_merchant = env.credentials.model_copy(update={"mer_id": "777290000000999"})
    with pytest.raises(NotificationRejected, match="another merchant"):
        env.adapter.verify_notification(other_merchant, payment_notification(env))


def test_notification_verified_against_another_unionpay_trust_root_is_rejected():
    env = sandboxed()
    attacker_ca, _ = attacker_chain()
    distrusting = env.credentials.model_copy(
        update={"unionpay_cert": attacker_ca.cert_pem, "unionpay_root_cert": None}
    )
    with pytest.raises(NotificationRejected):
        env.adapter.verify_notification(distrusting, payment_notification(env))


@pytest.mark.parametrize(
    "request_",
    [
        ProviderRequest("POST", NOTIFY_PATH, {}, b"\xff\xfe"),
        ProviderRequest("POST", NOTIFY_PATH, {}, b"a=1&a=2"),
        ProviderRequest("GET", NOTIFY_PATH, {}, b"orderId=pay01JH0M2Z3K4N5P6Q7R8S9T0VWX&txnType=01"),
        ProviderRequest("POST", NOTIFY_PATH, {}, b"orderId=20240101000000&txnType=01"),
        ProviderRequest("POST", NOTIFY_PATH, {}, b"orderId=pay01JH0M2Z3K4N5P6Q7R8S9T0VWX&txnType=31"),
        ProviderRequest("POST", NOTIFY_PATH, {}, b'{"orderId": "pay01JH0M2Z3K4N5P6Q7R8S9T0VWX"}'),
    ],
)
def test_malformed_or_foreign_notifications_have_no_target(request_: ProviderRequest):
    env = sandboxed()
    with pytest.raises(NotificationRejected):
        env.adapter.notification_target(request_)
    with pytest.raises(NotificationRejected):
        env.adapter.verify_notification(env.credentials, request_)


def test_notification_target_reads_ids_without_verifying():
    env = sandboxed()
    unsigned = ProviderRequest("POST", NOTIFY_PATH, {}, b"orderId=pay01JH0M2Z3K4N5P6Q7R8S9T0VWX&txnType=01")
    assert env.adapter.notification_target(unsigned).payment_id == "pay_01JH0M2Z3K4N5P6Q7R8S9T0VWX"


def test_acknowledgement_is_http_200_ok_or_a_failure_status():
    env = sandboxed()
    accepted, rejected = env.adapter.acknowledge(True), env.adapter.acknowledge(False)
    assert (accepted.status, accepted.body) == (200, "ok")
    assert rejected.status != 200
