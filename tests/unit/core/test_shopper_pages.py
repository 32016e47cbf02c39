"""The sandbox shopper pages through the core (moto ledger, every real channel sandbox): the page a
credential opens, the shopper's Pay or Decline sent as the sandbox's real signed notification, and
refusals that change nothing."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import boto3
import pytest
from moto import mock_aws

from paymux.channels.base import ProviderRequest, ProviderResponse
from paymux.channels.sandbox_page import (
    OUTCOME_FIELD,
    SIGNED_FIELD,
    PageRefused,
    platform_base_url,
    read_arrival,
)
from paymux.channels.unionpay import protocol as unionpay
from paymux.domain.errors import InvalidRequest, InvalidTransition, NotFound
from paymux.domain.models import Channel, MerchantScope, Mode, Payment
from paymux.domain.states import PaymentStatus
from paymux.ledger.dynamodb import DynamoLedger
from paymux.ledger.schema import create_table
from paymux.services.credentials import CredentialResolver
from paymux.services.payments import CreatePayment, PaymentService
from paymux.services.shopper_pages import ShopperPages
from tests.fakes import InMemorySandboxStore

BASE_URL = "https://pay.example/dev"
SUBJECT = "Tea <script>alert(1)</script> & cups"
_SIGNED = re.compile(rf'name="{SIGNED_FIELD}" value="([^"]*)"')


class _NoStoredCredentials:
    def load(self, channel: str, merchant_id: str, mode: str) -> dict[str, Any] | None:
        return None


@pytest.fixture
def service(aws_credentials: None, aws_session: boto3.session.Session) -> Iterator[PaymentService]:
    with mock_aws():
        client = aws_session.client("dynamodb")
        name = f"paymux-pages-{uuid.uuid4().hex[:8]}"
        create_table(client, name)
        yield PaymentService(
            DynamoLedger(name, client), CredentialResolver(_NoStoredCredentials()), InMemorySandboxStore()
        )


@pytest.fixture
def sent() -> list[str]:
    return []


@pytest.fixture
def pages(service: PaymentService, sent: list[str]) -> ShopperPages:
    def send(url: str, request: ProviderRequest) -> ProviderResponse:
        """Delivers to the platform's webhook in-process, as the local platform does over HTTP."""
        sent.append(url)
        channel = Channel(urlsplit(url).path.split("/")[3])
        return service.handle_notification(channel, request)

    return ShopperPages(service, send)


SCOPE = MerchantScope(merchant_id="mch_01J0000000000000000000PAGE", mode=Mode.TEST)
CASES = {
    "alipay-h5": (Channel.ALIPAY, "h5", "cny"),
    "alipay-pc": (Channel.ALIPAY, "pc", "cny"),
    "unionpay-web": (Channel.UNIONPAY, "web", "cny"),
    "wechatpay-h5": (Channel.WECHATPAY, "h5", "cny"),
    "stripe-card": (Channel.STRIPE, "card", "usd"),
}


def create(service: PaymentService, channel: Channel, scene: str, currency: str) -> Payment:
    command = CreatePayment(
        amount=2_050, currency=currency, merchant_order_id=f"o-{uuid.uuid4().hex[:10]}", subject=SUBJECT,
        scene=scene, return_url="https://shop.example/back?a=1&b=2", client_ip="203.0.113.7",
    )  # fmt: skip
    return service.create_payment(SCOPE, channel, command, BASE_URL)


def arrival(payment: Payment) -> ProviderRequest:
    """The browser's first request, from what the credential gives the shopper."""
    credential = payment.credential
    if credential["type"] == "form_post":
        action = urlsplit(credential["action"])
        assert f"{action.scheme}://{action.netloc}{action.path}".startswith(BASE_URL)
        return _request(
            "POST", action.path.removeprefix("/dev"), body=unionpay.encode_form(credential["fields"])
        )
    if credential["type"] == "client_secret":
        return _request("GET", "/sandbox/stripe/pay", query={"client_secret": credential["client_secret"]})
    url = urlsplit(credential["url"])
    assert f"{url.scheme}://{url.netloc}{url.path}".startswith(f"{BASE_URL}/sandbox/")
    return _request("GET", url.path.removeprefix("/dev"), query=dict(parse_qsl(url.query)))


def decide(page: ProviderResponse, first: ProviderRequest, outcome: str) -> ProviderRequest:
    """Pressing a button: the page's own form posted back to where it was served."""
    signed = html.unescape(_SIGNED.search(page.body).group(1))  # type: ignore[union-attr]
    return _request(
        "POST", first.path, body=urlencode({SIGNED_FIELD: signed, OUTCOME_FIELD: outcome}).encode()
    )


def _request(
    method: str, path: str, *, query: dict[str, str] | None = None, body: bytes = b""
) -> ProviderRequest:
    headers = {"content-type": "application/x-www-form-urlencoded"} if method == "POST" else {}
    return ProviderRequest(method=method, path=path, headers=headers, body=body, query=query or {})


@pytest.mark.parametrize("case", list(CASES))
def test_the_page_shows_the_order_and_pay_completes_it_through_the_webhook(
    pages: ShopperPages, service: PaymentService, sent: list[str], case: str
):
    channel, scene, currency = CASES[case]
    payment = create(service, channel, scene, currency)
    first = arrival(payment)

    page = pages.page(channel.value, first, BASE_URL)

    assert (page.status, page.content_type) == (200, "text/html; charset=utf-8")
    assert f"20.50 {currency.upper()}" in page.body
    assert html.escape(SUBJECT) in page.body
    assert "<script>" not in page.body
    assert f'action="{BASE_URL}{first.path}"' in page.body
    assert sent == []

    done = pages.page(channel.value, decide(page, first, "succeeded"), BASE_URL)

    assert done.status == 200
    assert "Payment succeeded" in done.body
    assert 'href="https://shop.example/back?a=1&amp;b=2"' in done.body
    assert len(sent) == 1
    assert sent[0].startswith(f"{BASE_URL}/webhooks/{channel.value}")
    assert service.get_payment(SCOPE, payment.id).status is PaymentStatus.SUCCEEDED
    # Opened again, the page shows the outcome instead of the buttons.
    assert "Payment succeeded" in pages.page(channel.value, first, BASE_URL).body


@pytest.mark.parametrize(
    ("case", "expected"), [("alipay-pc", "closed"), ("unionpay-web", "failed"), ("stripe-card", "failed")]
)
def test_decline_fails_the_payment(pages: ShopperPages, service: PaymentService, case: str, expected: str):
    channel, scene, currency = CASES[case]
    payment = create(service, channel, scene, currency)
    first = arrival(payment)
    checkout = pages.page(channel.value, first, BASE_URL)

    pages.page(channel.value, decide(checkout, first, "failed"), BASE_URL)

    assert service.get_payment(SCOPE, payment.id).status.value == expected
    with pytest.raises(InvalidTransition):  # the same page's other button: rendered as a refusal
        pages.page(channel.value, decide(checkout, first, "succeeded"), BASE_URL)
    assert service.get_payment(SCOPE, payment.id).status.value == expected


def _tampered(case: str, request: ProviderRequest) -> ProviderRequest:
    if case == "unionpay-web":
        fields = unionpay.parse_form(request.body) | {"txnAmt": "1"}
        return _request("POST", request.path, body=unionpay.encode_form(fields))
    query = dict(request.query)
    key = {
        "alipay-h5": "sign",
        "alipay-pc": "timestamp",
        "wechatpay-h5": "package",
        "stripe-card": "client_secret",
    }[case]
    query[key] = query[key][:-2] + ("00" if not query[key].endswith("00") else "11")
    return _request("GET", request.path, query=query)


@pytest.mark.parametrize("case", list(CASES))
def test_a_tampered_credential_is_refused_and_changes_nothing(
    pages: ShopperPages, service: PaymentService, sent: list[str], case: str
):
    channel, scene, currency = CASES[case]
    payment = create(service, channel, scene, currency)
    tampered = _tampered(case, arrival(payment))

    page = pages.page(channel.value, tampered, BASE_URL)

    assert page.status == 400
    assert 'role="alert"' in page.body
    assert "Pay</button>" not in page.body
    assert sent == []
    assert service.get_payment(SCOPE, payment.id).status is PaymentStatus.REQUIRES_ACTION


def test_a_decision_for_a_tampered_request_is_refused(pages: ShopperPages, service: PaymentService):
    payment = create(service, Channel.WECHATPAY, "h5", "cny")
    first = arrival(payment)
    forged = _tampered("wechatpay-h5", first)
    decision = _request(
        "POST",
        first.path,
        body=urlencode({SIGNED_FIELD: urlencode(forged.query), OUTCOME_FIELD: "succeeded"}).encode(),
    )

    assert pages.page("wechatpay", decision, BASE_URL).status == 400
    assert service.get_payment(SCOPE, payment.id).status is PaymentStatus.REQUIRES_ACTION


def test_a_payment_of_another_channel_or_an_unknown_page_is_refused(
    pages: ShopperPages, service: PaymentService
):
    payment = create(service, Channel.ALIPAY, "h5", "cny")
    first = arrival(payment)

    with pytest.raises(NotFound):
        pages.page(
            "alipay",
            _request("GET", first.path, query={"biz_content": '{"out_trade_no": "pay_nope"}'}),
            BASE_URL,
        )
    assert (
        pages.page("alipay", _request("GET", "/sandbox/alipay/elsewhere", query=first.query), BASE_URL).status
        == 404
    )
    with pytest.raises(InvalidRequest):
        pages.page("paypal", first, BASE_URL)


def test_only_test_payments_can_be_completed_in_the_sandbox(service: PaymentService):
    payment = create(service, Channel.ALIPAY, "h5", "cny")

    with pytest.raises(InvalidRequest) as refused:
        service.sandbox.sandbox_payment(payment.model_copy(update={"mode": Mode.LIVE}))

    assert refused.value.code == "livemode_mismatch"


@pytest.mark.parametrize(
    "body",
    [
        urlencode({SIGNED_FIELD: "a=1", OUTCOME_FIELD: "refunded"}),
        urlencode({SIGNED_FIELD: "a=1", OUTCOME_FIELD: "succeeded", "amount": "1"}),
        urlencode({OUTCOME_FIELD: "succeeded"}),
        "",
    ],
)
def test_a_post_back_with_anything_but_a_decision_is_refused(body: str):
    with pytest.raises(PageRefused):
        read_arrival(_request("POST", "/sandbox/x/y", body=body.encode()))


def test_a_decision_carries_the_signed_request_and_the_outcome():
    body = urlencode({SIGNED_FIELD: "a=1&b=2", OUTCOME_FIELD: "failed"}).encode()

    decided = read_arrival(_request("POST", "/sandbox/x/y", body=body))

    assert (decided.signed, decided.outcome) == ("a=1&b=2", PaymentStatus.FAILED)
    assert read_arrival(_request("GET", "/x", query={"a": "1"})).outcome is None


@pytest.mark.parametrize(
    ("notify_url", "base"),
    [
        (
            "https://x.execute-api.us-east-1.amazonaws.com/dev/webhooks/alipay",
            "https://x.execute-api.us-east-1.amazonaws.com/dev",
        ),
        ("http://127.0.0.1:3000/webhooks/wechatpay/pay_1", "http://127.0.0.1:3000"),
        ("https://pay.example.com/hooks", "https://pay.example.com"),
    ],
)
def test_the_platform_base_url_keeps_the_stage_prefix(notify_url: str, base: str):
    assert platform_base_url(notify_url) == base
