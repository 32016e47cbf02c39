"""Alipay notifications: the sandbox's signed notifications verify; anything altered does not."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl, urlencode

import pytest

from paymux.channels.alipay.sandbox.identity import platform_private_key
from paymux.channels.alipay.signing import NOTIFICATION_UNSIGNED, sign_text, signing_string
from paymux.channels.base import ProviderRequest
from paymux.domain.errors import Conflict, NotificationRejected
from paymux.domain.states import PaymentStatus, RefundStatus
from tests.unit.channels.alipay_support import NOW, Pair, make_pair, payment_of, payment_request, refund_of

NOTIFY_PATH = "/webhooks/alipay"


@pytest.fixture
def pair() -> Pair:
    return make_pair()


def _notification(pair: Pair, outcome: PaymentStatus = PaymentStatus.SUCCEEDED, amount: int = 2500):
    adapter, sandbox, _ = pair
    creds = adapter.sandbox_credentials()
    request = payment_request("h5", amount)
    payment = payment_of(request)
    return adapter, creds, payment, sandbox.notification_for(creds, payment, outcome, NOTIFY_PATH)


def _form(request: ProviderRequest) -> dict[str, str]:
    return dict(parse_qsl(request.body.decode()))


def _with_form(request: ProviderRequest, params: dict[str, str]) -> ProviderRequest:
    return replace(request, body=urlencode(params).encode())


def _signed_by_alipay(params: dict[str, str]) -> dict[str, str]:
    signature = sign_text(signing_string(params, NOTIFICATION_UNSIGNED), platform_private_key())
    return {**params, "sign": signature}


def test_the_sandboxs_payment_notification_verifies(pair: Pair) -> None:
    adapter, creds, payment, notification = _notification(pair)

    state = adapter.verify_notification(creds, notification)

    assert notification.method == "POST"
    assert notification.path == NOTIFY_PATH
    assert notification.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert adapter.notification_target(notification).payment_id == payment.id
    assert (state.payment_id, state.status, state.amount, state.currency) == (
        payment.id, PaymentStatus.SUCCEEDED, 2500, "cny")  # fmt: skip
    assert state.paid_at == NOW
    assert _form(notification)["total_amount"] == "25.00"
    assert _form(notification)["notify_type"] == "trade_status_sync"


@pytest.mark.parametrize("outcome", [PaymentStatus.FAILED, PaymentStatus.CLOSED])
def test_an_unpaid_outcome_is_alipays_trade_closed(pair: Pair, outcome: PaymentStatus) -> None:
    adapter, creds, payment, notification = _notification(pair, outcome)

    state = adapter.verify_notification(creds, notification)

    assert _form(notification)["trade_status"] == "TRADE_CLOSED"
    assert (state.status, state.paid_at) == (PaymentStatus.CLOSED, None)
    assert adapter.query_payment(creds, payment).status == PaymentStatus.CLOSED


def test_the_notified_outcome_is_what_a_later_query_answers(pair: Pair) -> None:
    adapter, creds, payment, notification = _notification(pair)

    assert adapter.query_payment(creds, payment) == adapter.verify_notification(creds, notification)


def test_a_paid_trade_cannot_then_be_closed_by_the_sandbox(pair: Pair) -> None:
    _, creds, payment, _ = _notification(pair)
    with pytest.raises(Conflict):
        pair[1].notification_for(creds, payment, PaymentStatus.CLOSED, NOTIFY_PATH)


def test_a_repeated_success_notification_is_the_same_trade(pair: Pair) -> None:
    adapter, creds, payment, first = _notification(pair)
    again = pair[1].notification_for(creds, payment, PaymentStatus.SUCCEEDED, NOTIFY_PATH)

    assert _form(again)["trade_no"] == _form(first)["trade_no"]
    assert _form(again)["notify_id"] != _form(first)["notify_id"]
    assert adapter.verify_notification(creds, again).status == PaymentStatus.SUCCEEDED


def test_alipay_sends_no_refund_notification(pair: Pair) -> None:
    _, creds, payment, _ = _notification(pair)
    refund = refund_of(payment, 100)

    assert (
        pair[1].refund_notification_for(creds, payment, refund, RefundStatus.SUCCEEDED, NOTIFY_PATH) is None
    )


@pytest.mark.parametrize(("name", "value"), [
    ("total_amount", "0.01"), ("out_trade_no", "pay_01ANOTHERPAYMENT0000000000"),
    ("trade_status", "TRADE_CLOSED"),
    ("notify_type", "trade_status_sync "), ("gmt_payment", "2025-06-15 23:06:41"),
])  # fmt: skip
def test_a_tampered_field_is_rejected(pair: Pair, name: str, value: str) -> None:
    adapter, creds, _, notification = _notification(pair)
    tampered = _with_form(notification, {**_form(notification), name: value})

    with pytest.raises(NotificationRejected):
        adapter.verify_notification(creds, tampered)


def test_an_added_field_is_rejected(pair: Pair) -> None:
    adapter, creds, _, notification = _notification(pair)
    with pytest.raises(NotificationRejected):
        adapter.verify_notification(
            creds, _with_form(notification, {**_form(notification), "refund_fee": "1"})
        )


def test_a_signature_by_another_key_is_rejected(pair: Pair) -> None:
    adapter, creds, _, notification = _notification(pair)
    params = _form(notification)
    params["sign"] = sign_text(signing_string(params, NOTIFICATION_UNSIGNED), creds.private_key())

    with pytest.raises(NotificationRejected, match="signature"):
        adapter.verify_notification(creds, _with_form(notification, params))


def test_a_correctly_signed_notification_for_another_app_is_rejected(pair: Pair) -> None:
    adapter, creds, _, notification = _notification(pair)
    params = _signed_by_alipay({**_form(notification), "app_id": "2021000000000009"})

    with pytest.raises(NotificationRejected, match="app_id"):
        adapter.verify_notification(creds, _with_form(notification, params))


def test_a_notification_signed_over_sign_type_too_is_rejected(pair: Pair) -> None:
    adapter, creds, _, notification = _notification(pair)
    params = _form(notification)
    params["sign"] = sign_text(signing_string(params), platform_private_key())

    with pytest.raises(NotificationRejected):
        adapter.verify_notification(creds, _with_form(notification, params))


@pytest.mark.parametrize("body", [b"", b"not a form", b"\xff\xfe", b"a=1&a=2", b"out_trade_no=pay_x"])
def test_malformed_bodies_are_rejected(pair: Pair, body: bytes) -> None:
    adapter, creds, _, notification = _notification(pair)
    malformed = replace(notification, body=body)

    with pytest.raises(NotificationRejected):
        adapter.verify_notification(creds, malformed)
    with pytest.raises(NotificationRejected):
        adapter.notification_target(malformed)


def test_a_repeated_parameter_is_rejected_even_when_one_copy_is_signed(pair: Pair) -> None:
    adapter, creds, _, notification = _notification(pair)
    doubled = replace(notification, body=notification.body + b"&total_amount=0.01")

    with pytest.raises(NotificationRejected, match="repeats"):
        adapter.verify_notification(creds, doubled)


def test_a_signed_refund_notification_leaves_the_payment_succeeded(pair: Pair) -> None:
    adapter, creds, _, notification = _notification(pair)
    params = {**_form(notification), "trade_status": "TRADE_CLOSED", "refund_fee": "25.00",
              "gmt_refund": "2025-06-16 10:00:00.123",
              "out_biz_no": "re_01J0000000000000000000000"}  # fmt: skip
    params = _signed_by_alipay({k: v for k, v in params.items() if k != "sign"})

    state = adapter.verify_notification(creds, _with_form(notification, params))

    assert (state.status, state.amount) == (PaymentStatus.SUCCEEDED, 2500)


def test_an_unknown_trade_status_is_rejected(pair: Pair) -> None:
    adapter, creds, _, notification = _notification(pair)
    params = _signed_by_alipay({k: v for k, v in _form(notification).items() if k != "sign"} | {
        "trade_status": "TRADE_PENDING"})  # fmt: skip

    with pytest.raises(NotificationRejected, match="malformed"):
        adapter.verify_notification(creds, _with_form(notification, params))


def test_acknowledgements_are_alipays_plain_text(pair: Pair) -> None:
    adapter = pair[0]

    assert (adapter.acknowledge(True).status, adapter.acknowledge(True).body) == (200, "success")
    assert (adapter.acknowledge(False).status, adapter.acknowledge(False).body) == (400, "fail")
    assert adapter.acknowledge(True).content_type == "text/plain"
