"""PaymentService with a fake channel: creation, refunds, and notifications applied exactly once."""

from __future__ import annotations

import pytest

from paymux.domain.errors import (
    ChannelError,
    ChannelNotConfigured,
    DuplicateMerchantOrderId,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    RefundExceedsAmount,
)
from paymux.domain.models import Channel, EventType, MerchantScope, Mode
from paymux.domain.states import PaymentStatus, RefundStatus
from paymux.ledger.dynamodb import DynamoLedger
from paymux.ledger.ports import PaymentFilter
from paymux.services.credentials import CredentialResolver
from paymux.services.payments import PaymentService
from paymux.services.refunds import CreateRefund
from tests.fakes import FakeAdapter, InMemorySandboxStore, fake_notification
from tests.unit.core.conftest import BASE_URL, create_command


def events_of(ledger: DynamoLedger, scope: MerchantScope) -> list[str]:
    return [e.type.value for e in reversed(ledger.list_events(scope, None, 100, None).data)]


def paid(service: PaymentService, scope: MerchantScope, **overrides: object):  # type: ignore[no-untyped-def]
    payment = service.create_payment(scope, Channel.ALIPAY, create_command(**overrides), BASE_URL)
    answer = service.handle_notification(
        Channel.ALIPAY,
        fake_notification(
            payment_id=payment.id,
            status="succeeded",
            amount=payment.amount,
            currency=payment.currency,
            txn="T1",
        ),
    )
    assert answer.body == "success"
    return service.get_payment(scope, payment.id)


def test_create_records_the_payment_and_its_event_with_the_channel_credential(
    service, ledger, scope, adapter
):
    payment = service.create_payment(scope, Channel.ALIPAY, create_command(), BASE_URL)

    assert payment.status is PaymentStatus.REQUIRES_ACTION
    assert payment.credential == {"type": "qr_code", "qr_code": f"fake://{payment.id}"}
    assert ledger.get_payment(payment.id, scope) == payment
    assert adapter.created[0].notify_url == "https://pay.example/webhooks/alipay"
    assert events_of(ledger, scope) == ["payment.created"]


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"scene": "native"}, "scene"),
        ({"currency": "xyz"}, "currency"),
        ({"amount": 0}, "amount"),
        ({"expires_in": 5}, "expires_in"),
    ],
)
def test_bad_input_is_refused_before_the_channel_is_called(service, ledger, scope, adapter, overrides, param):
    with pytest.raises(InvalidRequest) as refused:
        service.create_payment(scope, Channel.ALIPAY, create_command(**overrides), BASE_URL)
    assert refused.value.param == param
    assert adapter.created == []
    assert events_of(ledger, scope) == []


def test_a_merchant_order_id_is_used_once_per_merchant_and_mode(service, scope):
    service.create_payment(scope, Channel.ALIPAY, create_command(merchant_order_id="A-1"), BASE_URL)
    with pytest.raises(DuplicateMerchantOrderId):
        service.create_payment(scope, Channel.ALIPAY, create_command(merchant_order_id="A-1"), BASE_URL)
    live = MerchantScope(merchant_id=scope.merchant_id, mode=Mode.LIVE)
    with pytest.raises(ChannelNotConfigured):  # the same id is free in live mode, which needs credentials
        service.create_payment(live, Channel.ALIPAY, create_command(merchant_order_id="A-1"), BASE_URL)


def test_a_channel_failure_writes_nothing(ledger, scope, credential_store):
    failing = PaymentService(
        ledger,
        CredentialResolver(credential_store),
        InMemorySandboxStore(),
        adapters=lambda c, s: FakeAdapter(fail_create=True),
    )
    with pytest.raises(ChannelError):
        failing.create_payment(scope, Channel.ALIPAY, create_command(), BASE_URL)
    assert ledger.list_payments(scope, PaymentFilter(), 10, None).data == []
    assert events_of(ledger, scope) == []


def test_live_mode_uses_the_merchants_own_credentials(service, ledger, credential_store, adapter):
    live = MerchantScope(merchant_id="mch_LIVE", mode=Mode.LIVE)
    credential_store.values[("alipay", "mch_LIVE", "live")] = {
        "signing_secret": "merchant-secret",
        "gateway_url": "https://provider.example/gateway",
    }
    payment = service.create_payment(live, Channel.ALIPAY, create_command(), BASE_URL)

    sandbox_signed = fake_notification(
        payment_id=payment.id, status="succeeded", amount=10_000, currency="cny"
    )
    assert service.handle_notification(Channel.ALIPAY, sandbox_signed).body == "fail"
    merchant_signed = fake_notification(
        "merchant-secret", payment_id=payment.id, status="succeeded", amount=10_000, currency="cny"
    )
    assert service.handle_notification(Channel.ALIPAY, merchant_signed).body == "success"


def test_a_notification_moves_the_payment_exactly_once(service, ledger, scope):
    payment = paid(service, scope)
    again = fake_notification(
        payment_id=payment.id, status="succeeded", amount=10_000, currency="cny", txn="T1"
    )

    assert service.handle_notification(Channel.ALIPAY, again).body == "success"
    assert payment.status is PaymentStatus.SUCCEEDED
    assert payment.channel_transaction_id == "T1"
    assert events_of(ledger, scope) == ["payment.created", "payment.succeeded"]


@pytest.mark.parametrize(
    "tamper",
    [
        {"amount": 9_999},
        {"currency": "usd"},
        {"payment_id": "pay_01ARZ3NDEKTSV4RRFFQ69G5FAV"},
        {"secret": "forged"},
    ],
)
def test_a_bad_notification_is_refused_and_changes_nothing(service, ledger, scope, tamper):
    payment = service.create_payment(scope, Channel.ALIPAY, create_command(), BASE_URL)
    fields = {"payment_id": payment.id, "status": "succeeded", "amount": 10_000, "currency": "cny"}
    secret = tamper.pop("secret", "sandbox-secret")
    answer = service.handle_notification(Channel.ALIPAY, fake_notification(str(secret), **(fields | tamper)))

    assert (answer.status, answer.body) == (400, "fail")
    assert service.get_payment(scope, payment.id).status is PaymentStatus.REQUIRES_ACTION
    assert events_of(ledger, scope) == ["payment.created"]


def test_a_notification_for_another_channels_payment_is_refused(ledger, scope, credential_store):
    wechat = PaymentService(
        ledger,
        CredentialResolver(credential_store),
        InMemorySandboxStore(),
        adapters=lambda c, s: FakeAdapter(c),
    )
    payment = wechat.create_payment(scope, Channel.ALIPAY, create_command(), BASE_URL)
    forged = fake_notification(payment_id=payment.id, status="succeeded", amount=10_000, currency="cny")
    assert wechat.handle_notification(Channel.WECHATPAY, forged).body == "fail"


def test_close_then_late_success_keeps_the_payment_closed(service, ledger, scope):
    payment = service.create_payment(scope, Channel.ALIPAY, create_command(), BASE_URL)
    assert service.close_payment(scope, payment.id).status is PaymentStatus.CLOSED
    with pytest.raises(InvalidTransition):
        service.close_payment(scope, payment.id)
    late = fake_notification(payment_id=payment.id, status="succeeded", amount=10_000, currency="cny")
    service.handle_notification(Channel.ALIPAY, late)
    assert service.get_payment(scope, payment.id).status is PaymentStatus.CLOSED
    assert events_of(ledger, scope) == ["payment.created", "payment.closed"]


def test_refunds_partial_multiple_and_never_past_the_amount(service, ledger, scope):
    payment = paid(service, scope)
    first = service.create_refund(scope, payment.id, CreateRefund(amount=3_000, merchant_refund_id="r-1"))
    service.create_refund(scope, payment.id, CreateRefund(amount=7_000))
    with pytest.raises(RefundExceedsAmount):
        service.create_refund(scope, payment.id, CreateRefund(amount=1))

    assert first.status is RefundStatus.PENDING
    assert [r.amount for r in service.list_refunds(scope, payment.id, 10, None).data] == [7_000, 3_000]
    assert events_of(ledger, scope)[-2:] == [EventType.REFUND_CREATED.value] * 2


def test_a_refund_defaults_to_the_remaining_amount_and_needs_a_paid_payment(service, scope):
    unpaid = service.create_payment(scope, Channel.ALIPAY, create_command(), BASE_URL)
    with pytest.raises(InvalidTransition):
        service.create_refund(scope, unpaid.id, CreateRefund())
    payment = paid(service, scope)
    service.create_refund(scope, payment.id, CreateRefund(amount=2_500))
    assert service.create_refund(scope, payment.id, CreateRefund()).amount == 7_500


def test_a_refund_notification_settles_the_refund_once(service, ledger, scope):
    payment = paid(service, scope)
    refund = service.create_refund(scope, payment.id, CreateRefund(amount=4_000))
    notice = fake_notification(
        payment_id=payment.id, refund_id=refund.id, status="succeeded", amount=4_000, currency="cny"
    )
    assert service.handle_notification(Channel.ALIPAY, notice).body == "success"
    assert service.handle_notification(Channel.ALIPAY, notice).body == "success"

    assert service.get_refund(scope, refund.id).status is RefundStatus.SUCCEEDED
    assert service.get_payment(scope, payment.id).amount_refunded == 4_000
    assert events_of(ledger, scope).count("refund.succeeded") == 1


def test_another_merchants_objects_are_not_found(service, scope):
    payment = paid(service, scope)
    stranger = MerchantScope(merchant_id="mch_STRANGER", mode=Mode.TEST)
    with pytest.raises(NotFound):
        service.get_payment(stranger, payment.id)
    with pytest.raises(NotFound):
        service.create_refund(stranger, payment.id, CreateRefund())
    with pytest.raises(NotFound):
        service.list_refunds(stranger, payment.id, 10, None)


def test_a_merchant_order_id_lookup_still_applies_the_other_filters(service, scope):
    payment = service.create_payment(scope, Channel.ALIPAY, create_command(merchant_order_id="M-9"), BASE_URL)
    found = service.list_payments(scope, PaymentFilter(status="requires_action"), 10, None, "M-9").data
    assert [p.id for p in found] == [payment.id]
    assert service.list_payments(scope, PaymentFilter(status="succeeded"), 10, None, "M-9").data == []
    assert service.list_payments(scope, PaymentFilter(channel="stripe"), 10, None, "M-9").data == []
    assert service.list_payments(scope, PaymentFilter(), 10, None, "M-404").data == []
