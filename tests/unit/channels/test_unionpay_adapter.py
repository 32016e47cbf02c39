"""The UnionPay adapter against the built-in sandbox, in-process and through the HTTP transport:
every scene, query, close, refund, refund query and the statement."""

from __future__ import annotations

from datetime import datetime

import pytest

from paymux.channels.unionpay import protocol as p
from paymux.channels.unionpay.adapter import UnionPayAdapter
from paymux.channels.unionpay.credentials import certificate, rsa_public_key
from paymux.channels.unionpay.sandbox.gateway import Registration, SandboxGateway
from paymux.channels.unionpay.signing import sign_request, verify_with_key
from paymux.domain.errors import ChannelError, Conflict, InvalidRequest
from paymux.domain.states import PaymentStatus, RefundStatus
from tests import builders
from tests.unit.channels.unionpay_fixtures import (
    NOTIFY_PATH,
    NOTIFY_URL,
    Sandboxed,
    created,
    issue,
    paid,
    payment_request,
    sandboxed,
    unionpay_payment,
)


def test_web_scene_returns_a_signed_form_for_the_front_gateway():
    env = sandboxed()
    payment = unionpay_payment("web")
    request = payment_request(payment, return_url="https://shop.example/done", expires_at=2_000_000_000)

    credential = env.adapter.create_payment(env.credentials, request).credential

    fields = credential["fields"]
    assert credential["type"] == "form_post"
    assert credential["action"].endswith(p.FRONT_TRANS_PATH)
    assert fields["orderId"] == p.to_order_id(payment.id)
    assert fields["txnAmt"] == "1234"
    assert fields["currencyCode"] == "156"
    assert (fields["txnType"], fields["txnSubType"], fields["bizType"], fields["channelType"]) == (
        "01",
        "01",
        "000201",
        "07",
    )
    assert fields["backUrl"] == NOTIFY_URL
    assert fields["frontUrl"] == "https://shop.example/done"
    assert fields["payTimeout"] == "20330518113320"  # 2_000_000_000 in Beijing time
    verify_with_key(fields, rsa_public_key(certificate(env.credentials.sign_cert)))


def test_web_form_posted_to_the_sandbox_cashier_opens_the_trade():
    env = sandboxed()
    payment = created(env, "web")

    page = env.sandbox.cashier(p.encode_form(payment.credential["fields"]), env.credentials)
    tampered = env.sandbox.cashier(
        p.encode_form({**payment.credential["fields"], "txnAmt": "1"}), env.credentials
    )

    assert page.status == 200
    assert "text/html" in page.content_type
    assert "respCode=11" in tampered.body
    assert env.adapter.query_payment(env.credentials, payment).status is PaymentStatus.REQUIRES_ACTION


def test_web_scene_points_at_unionpays_gateway_when_configured():
    env = sandboxed()
    creds = env.credentials.model_copy(update={"gateway_url": "https://gateway.test.95516.com/"})
    credential = env.adapter.create_payment(creds, payment_request(unionpay_payment("web"))).credential
    assert credential["action"] == "https://gateway.test.95516.com/gateway/api/frontTransReq.do"


def test_web_scene_takes_a_mobile_channel_type_and_refuses_others():
    env = sandboxed()
    mobile = payment_request(unionpay_payment("web"), channel_extra={"channel_type": "08"})
    assert env.adapter.create_payment(env.credentials, mobile).credential["fields"]["channelType"] == "08"
    with pytest.raises(InvalidRequest):
        env.adapter.create_payment(
            env.credentials, payment_request(unionpay_payment("web"), channel_extra={"channel_type": "01"})
        )


def test_app_scene_returns_the_gateways_tn():
    env = sandboxed()
    credential = created(env, "app").credential
    assert credential["type"] == "app"
    assert credential["tn"].isdigit()


def test_qr_scene_returns_the_qr_code():
    env = sandboxed()
    credential = created(env, "qr").credential
    assert credential["type"] == "qr_code"
    assert credential["qr_code"].startswith("https://")


def test_creating_the_same_order_twice_returns_the_same_credential():
    env = sandboxed()
    payment = unionpay_payment("app")
    first = env.adapter.create_payment(env.credentials, payment_request(payment))
    again = env.adapter.create_payment(env.credentials, payment_request(payment))
    assert first.credential == again.credential


def test_unknown_scene_and_currency_are_refused():
    env = sandboxed()
    with pytest.raises(InvalidRequest):
        env.adapter.create_payment(env.credentials, payment_request(unionpay_payment("jsapi")))
    with pytest.raises(InvalidRequest):
        env.adapter.create_payment(env.credentials, payment_request(unionpay_payment("qr"), currency="eur"))


def test_gateway_refuses_a_merchant_number_other_than_the_registered_one():
    env = sandboxed()
    impostor = env.credentials.model_copy(update={"mer_id": "777290000000999"})
    fields = {**qr_fields(env), "merId": impostor.mer_id}
    body = p.encode_form(sign_request(fields, impostor))

    reply = SandboxGateway(env.store).handle(p.BACK_TRANS_PATH, body, registration(env))

    assert "respCode=31" in reply.body


def test_gateway_refuses_a_key_other_than_the_registered_certificates():
    env = sandboxed()
    other = issue("another merchant")
    body = p.encode_form(sign_request(qr_fields(env), env.credentials))

    reply = SandboxGateway(env.store).handle(
        p.BACK_TRANS_PATH, body, Registration(env.credentials.mer_id, other.cert_pem)
    )

    assert "respCode=11" in reply.body


def test_gateway_refuses_tampered_requests_and_unknown_paths():
    env = sandboxed()
    signed = sign_request(qr_fields(env), env.credentials)
    gateway = SandboxGateway(env.store)

    assert (
        "respCode=11"
        in gateway.handle(p.BACK_TRANS_PATH, p.encode_form({**signed, "txnAmt": "1"}), registration(env)).body
    )
    assert "respCode=10" in gateway.handle(p.BACK_TRANS_PATH, b"%%%", registration(env)).body
    assert gateway.handle("/gateway/api/other.do", p.encode_form(signed), registration(env)).status == 404


def qr_fields(env: Sandboxed) -> dict[str, str]:
    payment = unionpay_payment("qr")
    return {
        "version": p.VERSION,
        "encoding": p.ENCODING,
        "txnType": "01",
        "txnSubType": "07",
        "bizType": "000000",
        "channelType": "08",
        "accessType": "0",
        "merId": env.credentials.mer_id,
        "orderId": p.to_order_id(payment.id),
        "txnTime": p.txn_time_of(payment.id),
        "txnAmt": "100",
        "currencyCode": "156",
        "backUrl": NOTIFY_URL,
    }


def registration(env: Sandboxed) -> Registration:
    return Registration(env.credentials.mer_id, env.credentials.sign_cert)


def test_query_waits_for_the_shopper_until_unionpay_knows_the_order():
    env = sandboxed()
    for payment in (unionpay_payment("web"), created(env, "qr")):
        state = env.adapter.query_payment(env.credentials, payment)
        assert state.status is PaymentStatus.REQUIRES_ACTION
        assert state.amount == payment.amount


def test_query_after_payment_reports_success_with_the_notifications_query_id():
    env = sandboxed()
    payment = paid(env, "app", amount=999)

    state = env.adapter.query_payment(env.credentials, payment)

    assert state.status is PaymentStatus.SUCCEEDED
    assert state.channel_transaction_id == payment.channel_transaction_id
    assert (state.amount, state.currency) == (999, "cny")
    assert state.paid_at is not None
    assert abs(state.paid_at - datetime.now().timestamp()) < 60


def test_query_after_a_failed_payment_reports_the_failure():
    env = sandboxed()
    payment = created(env, "qr")
    env.sandbox.notification_for(env.credentials, payment, PaymentStatus.FAILED, NOTIFY_PATH)

    state = env.adapter.query_payment(env.credentials, payment)

    assert state.status is PaymentStatus.FAILED
    assert state.failure_code == "01"


def test_sandbox_outcomes_are_final():
    env = sandboxed()
    payment = paid(env, "qr")
    with pytest.raises(Conflict):
        env.sandbox.notification_for(env.credentials, payment, PaymentStatus.FAILED, NOTIFY_PATH)
    with pytest.raises(InvalidRequest):
        env.sandbox.notification_for(env.credentials, payment, PaymentStatus.CLOSED, NOTIFY_PATH)


def test_close_of_an_unpaid_order_needs_nothing_at_the_gateway_but_a_paid_one_is_refused():
    env = sandboxed()
    env.adapter.close_payment(env.credentials, created(env, "qr"))
    with pytest.raises(ChannelError, match="already paid"):
        env.adapter.close_payment(env.credentials, paid(env, "qr"))


def test_partial_refunds_are_accepted_pending_then_succeed():
    env = sandboxed()
    payment = paid(env, "web", amount=1000)
    first, second = builders.refund(payment, amount=600), builders.refund(payment, amount=400)

    accepted = [env.adapter.refund(env.credentials, payment, refund) for refund in (first, second)]
    queried = [env.adapter.query_refund(env.credentials, payment, refund) for refund in (first, second)]

    assert [state.status for state in accepted] == [RefundStatus.PENDING] * 2
    assert all(state.channel_refund_id for state in accepted)
    assert [state.status for state in queried] == [RefundStatus.SUCCEEDED] * 2
    assert [state.channel_refund_id for state in queried] == [state.channel_refund_id for state in accepted]


def test_refund_past_the_paid_amount_is_refused_by_the_gateway():
    env = sandboxed()
    payment = paid(env, "qr", amount=1000)
    env.adapter.refund(env.credentials, payment, builders.refund(payment, amount=700))

    refused = env.adapter.refund(env.credentials, payment, builders.refund(payment, amount=301))

    assert refused.status is RefundStatus.FAILED
    assert refused.failure_code == "36"


def test_refund_of_an_unpaid_payment_is_refused():
    env = sandboxed()
    payment = created(env, "qr")
    with pytest.raises(ChannelError, match="queryId"):
        env.adapter.refund(env.credentials, payment, builders.refund(payment, amount=1))
    unknown = payment.model_copy(update={"channel_transaction_id": "123456789012345678901"})
    assert (
        env.adapter.refund(env.credentials, unknown, builders.refund(unknown, amount=1)).failure_code == "35"
    )


def test_refund_query_of_a_refund_unionpay_never_saw_stays_pending():
    env = sandboxed()
    payment = paid(env, "qr")
    state = env.adapter.query_refund(env.credentials, payment, builders.refund(payment, amount=1))
    assert state.status is RefundStatus.PENDING


def test_refund_needs_a_back_url_outside_the_sandbox():
    env = sandboxed()
    payment = paid(env, "qr")
    creds = env.credentials.model_copy(update={"gateway_url": "https://gateway.test.95516.com"})
    with pytest.raises(ChannelError, match="notify_url"):
        UnionPayAdapter(env.store, http_post=lambda url, body: "").refund(
            creds, payment, builders.refund(payment, amount=1)
        )


def test_statement_lists_the_days_payments_and_refunds_with_fees():
    env = sandboxed()
    payment = paid(env, "qr", amount=10_000)
    refund = builders.refund(payment, amount=2_500)
    env.adapter.refund(env.credentials, payment, refund)
    unpaid = created(env, "app")

    lines = env.adapter.download_statement(env.credentials, datetime.now(p.BEIJING).date())

    by_kind = {line.kind: line for line in lines}
    assert len(lines) == 2
    assert unpaid.id not in {line.payment_id for line in lines}
    assert (by_kind["payment"].payment_id, by_kind["payment"].amount, by_kind["payment"].fee) == (
        payment.id,
        10_000,
        60,
    )
    assert by_kind["payment"].channel_transaction_id == payment.channel_transaction_id
    assert (by_kind["refund"].refund_id, by_kind["refund"].payment_id, by_kind["refund"].amount) == (
        refund.id,
        payment.id,
        2_500,
    )


def test_statement_of_a_quiet_day_is_empty():
    env = sandboxed()
    paid(env, "qr")
    assert env.adapter.download_statement(env.credentials, datetime(2020, 3, 1).date()) == []


def test_http_transport_sends_the_same_form_and_verifies_the_answer():
    env = sandboxed()
    creds = env.credentials.model_copy(
        update={
            "gateway_url": "https://gateway.test.95516.com",
            "file_download_url": "https://filedownload.test",
        }
    )
    posted: list[str] = []

    def http_post(url: str, body: bytes) -> str:
        posted.append(url)
        path = url.removeprefix("https://gateway.test.95516.com").removeprefix("https://filedownload.test")
        return SandboxGateway(env.store).handle(path, body, Registration(creds.mer_id, creds.sign_cert)).body

    adapter = UnionPayAdapter(env.store, http_post=http_post)
    payment = unionpay_payment("qr")
    adapter.create_payment(creds, payment_request(payment))
    adapter.query_payment(creds, payment)
    adapter.download_statement(creds, datetime.now(p.BEIJING).date())

    assert posted == [
        "https://gateway.test.95516.com/gateway/api/backTransReq.do",
        "https://gateway.test.95516.com/gateway/api/queryTrans.do",
        "https://filedownload.test/",
    ]


def test_answers_that_fail_verification_or_name_another_order_are_channel_errors():
    env = sandboxed()
    creds = env.credentials.model_copy(update={"gateway_url": "https://gateway.test.95516.com"})
    genuine = SandboxGateway(env.store)

    def tampering(url: str, body: bytes) -> str:
        answer = genuine.handle(p.QUERY_TRANS_PATH, body, Registration(creds.mer_id, creds.sign_cert)).body
        return answer.replace("respCode=34", "respCode=00")

    def unsigned(url: str, body: bytes) -> str:
        return "respCode=00&qrCode=https://evil.example"

    def not_unionpay(url: str, body: bytes) -> str:
        return "<html>bad gateway</html>"

    payment = unionpay_payment("qr")
    for http_post, message in (
        (tampering, "verification"),
        (unsigned, "verification"),
        (not_unionpay, "not a"),
    ):
        with pytest.raises(ChannelError, match=message):
            UnionPayAdapter(env.store, http_post=http_post).query_payment(creds, payment)


def test_answer_for_another_order_is_refused():
    env = sandboxed()
    other = created(env, "app")
    creds = env.credentials.model_copy(update={"gateway_url": "https://gateway.test.95516.com"})
    gateway = SandboxGateway(env.store)

    def swapped(url: str, body: bytes) -> str:
        fields = p.parse_form(body)
        fields["orderId"] = p.to_order_id(other.id)
        fields["txnTime"] = p.txn_time_of(other.id)
        resigned = p.encode_form(sign_request({k: v for k, v in fields.items() if k != "signature"}, creds))
        return gateway.handle(p.APP_TRANS_PATH, resigned, Registration(creds.mer_id, creds.sign_cert)).body

    with pytest.raises(ChannelError, match="another orderId"):
        UnionPayAdapter(env.store, http_post=swapped).create_payment(
            creds, payment_request(unionpay_payment("app"))
        )
