"""The sandbox shopper pages in a real browser: Chromium (Debian's, driven by Playwright) opens what a
scene's credential gives the shopper, presses Pay or Decline, and the sandbox's real signed
notification settles the payment through /webhooks/{channel}."""

from __future__ import annotations

import html
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.e2e.platform import ApiClient

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
RETURN_URL = "https://shop.example/return"
EXTRA: dict[str, dict[str, Any]] = {
    "wechatpay": {"client_ip": "203.0.113.7"},
}
if not CHROMIUM.exists():
    pytest.skip("Chromium is not installed: run `make browser-deps`", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Debian's Chromium with a fresh profile (Playwright's own browser download is not used)."""
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    tab = browser_context.new_page()
    try:
        yield tab
    finally:
        tab.close()


def create(api: ApiClient, channel: str, scene: str, *, currency: str = "cny") -> dict[str, Any]:
    order = f"shop-{channel}-{scene}-{uuid.uuid4().hex[:10]}"
    body = {
        "amount": 2_050, "currency": currency, "merchant_order_id": order, "subject": "Oolong <tea> & cups",
        "scene": scene, "return_url": RETURN_URL, **EXTRA.get(channel, {}),
    }  # fmt: skip
    response = api.post(f"/v1/channels/{channel}/payments", body, idempotency_key=order)
    assert response.status_code == 201, response.text
    return dict(response.json())


def open_redirect(page: Any, api: ApiClient, payment: dict[str, Any]) -> Any:
    return page.goto(payment["credential"]["url"])


def open_form_post(page: Any, api: ApiClient, payment: dict[str, Any]) -> Any:
    """As a merchant's checkout does: a page that posts the signed fields to the action at once."""
    credential = payment["credential"]
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in credential["fields"].items()
    )
    checkout = (
        f'<form id="pay" method="post" action="{html.escape(credential["action"])}">{inputs}</form>'
        "<script>document.getElementById('pay').submit()</script>"
    )
    with page.expect_navigation():
        page.set_content(checkout)
    return None


def open_card_page(page: Any, api: ApiClient, payment: dict[str, Any]) -> Any:
    """Where the sandbox's test card page stands in for Stripe.js."""
    query = urlencode({"client_secret": payment["credential"]["client_secret"]})
    return page.goto(f"{api.base_url}/sandbox/stripe/pay?{query}")


Opener = Callable[[Any, ApiClient, dict[str, Any]], Any]
SUCCESS_CASES: list[tuple[str, str, str, Opener]] = [
    ("alipay", "h5", "cny", open_redirect),
    ("alipay", "pc", "cny", open_redirect),
    ("unionpay", "web", "cny", open_form_post),
    ("wechatpay", "h5", "cny", open_redirect),
    ("stripe", "card", "usd", open_card_page),
]


@pytest.mark.parametrize(
    ("channel", "scene", "currency", "opener"),
    SUCCESS_CASES,
    ids=[f"{c}-{s}" for c, s, _, _ in SUCCESS_CASES],
)
def test_the_shopper_pays_on_the_sandbox_page(
    page: Any, api: ApiClient, channel: str, scene: str, currency: str, opener: Opener
):
    payment = create(api, channel, scene, currency=currency)

    opener(page, api, payment)
    expect = sync_api.expect
    expect(page.locator("dd.amount")).to_have_text(f"20.50 {currency.upper()}")
    expect(page.get_by_text("Oolong <tea> & cups")).to_be_visible()
    expect(page.get_by_text(payment["merchant_order_id"])).to_be_visible()
    page.get_by_role("button", name="Pay").click()

    expect(page.get_by_role("heading", name="Payment succeeded")).to_be_visible()
    expect(page.get_by_role("link", name="Return to the merchant")).to_have_attribute("href", RETURN_URL)
    assert api.get(f"/v1/payments/{payment['id']}").json()["status"] == "succeeded"


@pytest.mark.parametrize(
    ("channel", "scene", "currency", "opener", "expected"),
    [("alipay", "h5", "cny", open_redirect, "closed"), ("stripe", "card", "usd", open_card_page, "failed")],
    ids=["alipay-h5", "stripe-card"],
)
def test_the_shopper_declines_on_the_sandbox_page(
    page: Any, api: ApiClient, channel: str, scene: str, currency: str, opener: Opener, expected: str
):
    payment = create(api, channel, scene, currency=currency)

    opener(page, api, payment)
    page.get_by_role("button", name="Decline").click()

    heading = "Payment closed" if expected == "closed" else "Payment declined"
    sync_api.expect(page.get_by_role("heading", name=heading)).to_be_visible()
    assert api.get(f"/v1/payments/{payment['id']}").json()["status"] == expected


def test_a_tampered_signed_url_is_refused_and_changes_nothing(page: Any, api: ApiClient):
    payment = create(api, "alipay", "pc")
    url = urlsplit(payment["credential"]["url"])
    params = dict(parse_qsl(url.query))
    biz = json.loads(params["biz_content"])
    params["biz_content"] = json.dumps({**biz, "total_amount": "0.01"}, ensure_ascii=False)

    response = page.goto(url._replace(query=urlencode(params)).geturl())

    assert response.status == 400
    sync_api.expect(page.get_by_role("alert")).to_contain_text("isv.invalid-signature")
    assert page.get_by_role("button", name="Pay").count() == 0
    assert api.get(f"/v1/payments/{payment['id']}").json()["status"] == "requires_action"


def test_a_second_decision_on_a_settled_payment_is_refused(browser_context: Any, page: Any, api: ApiClient):
    payment = create(api, "wechatpay", "h5")
    second = browser_context.new_page()
    open_redirect(page, api, payment)
    open_redirect(second, api, payment)

    page.get_by_role("button", name="Pay").click()
    sync_api.expect(page.get_by_role("heading", name="Payment succeeded")).to_be_visible()
    second.get_by_role("button", name="Decline").click()

    sync_api.expect(second.get_by_role("alert")).to_contain_text("Refused")
    second.close()
    assert api.get(f"/v1/payments/{payment['id']}").json()["status"] == "succeeded"
