"""Stripe credentials: key shapes, the test/live mode check, `api_base` as `gateway_url`, and amounts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from paymux.channels.stripe.amounts import from_stripe_amount, to_stripe_amount
from paymux.channels.stripe.credentials import STRIPE_API_BASE, StripeCredentials
from paymux.domain.errors import ChannelError
from paymux.domain.money import Money

TEST_KEY = "sk_test_51Abcdefghijklmnopqrstuvwx"
LIVE_KEY = "sk_live_51Abcdefghijklmnopqrstuvwx"
SECRET = "whsec_abcdefghijklmnop"


def test_test_key_without_api_base_uses_the_builtin_sandbox() -> None:
    creds = StripeCredentials.model_validate({"secret_key": TEST_KEY, "webhook_secret": SECRET})
    assert creds.uses_builtin_sandbox()
    assert creds.livemode is False


def test_live_key_always_reaches_stripe() -> None:
    creds = StripeCredentials.model_validate({"secret_key": LIVE_KEY, "webhook_secret": SECRET})
    assert creds.api_base == STRIPE_API_BASE
    assert not creds.uses_builtin_sandbox()


def test_api_base_is_an_alias_of_gateway_url() -> None:
    creds = StripeCredentials.model_validate(
        {"secret_key": TEST_KEY, "webhook_secret": SECRET, "api_base": "https://api.stripe.com"}
    )
    assert creds.gateway_url == "https://api.stripe.com"
    assert creds.api_base == creds.gateway_url


def test_api_base_and_gateway_url_must_agree() -> None:
    with pytest.raises(ValidationError, match="same setting"):
        StripeCredentials.model_validate(
            {
                "secret_key": TEST_KEY,
                "webhook_secret": SECRET,
                "api_base": "https://a",
                "gateway_url": "https://b",
            }
        )


@pytest.mark.parametrize(("mode", "key"), [("test", LIVE_KEY), ("live", TEST_KEY)])
def test_a_key_of_the_other_mode_is_refused(mode: str, key: str) -> None:
    with pytest.raises(ValidationError, match=f"{mode} mode needs"):
        StripeCredentials.model_validate(
            {"secret_key": key, "webhook_secret": SECRET}, context={"mode": mode}
        )


@pytest.mark.parametrize(("mode", "key"), [("test", TEST_KEY), ("live", LIVE_KEY), ("test", "rk_test_abc")])
def test_a_key_of_its_mode_is_accepted(mode: str, key: str) -> None:
    creds = StripeCredentials.model_validate(
        {"secret_key": key, "webhook_secret": SECRET}, context={"mode": mode}
    )
    assert creds.livemode is (mode == "live")


@pytest.mark.parametrize(
    "values",
    [
        {"secret_key": "pk_test_abc", "webhook_secret": SECRET},
        {"secret_key": TEST_KEY, "webhook_secret": "not-a-whsec"},
        {"secret_key": TEST_KEY, "webhook_secret": SECRET, "publishable_key": "sk_test_x"},
        {"secret_key": TEST_KEY, "webhook_secret": SECRET, "publishable_key": "pk_live_x"},
        {"secret_key": TEST_KEY, "webhook_secret": SECRET, "unexpected": 1},
    ],
)
def test_malformed_credentials_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        StripeCredentials.model_validate(values)


def test_repr_never_shows_secrets() -> None:
    text = repr(StripeCredentials.model_validate({"secret_key": TEST_KEY, "webhook_secret": SECRET}))
    assert TEST_KEY not in text
    assert SECRET not in text
    assert TEST_KEY not in str(
        StripeCredentials.model_validate({"secret_key": TEST_KEY, "webhook_secret": SECRET}).model_dump()
    )


@pytest.mark.parametrize(
    ("money", "stripe_amount"),
    [
        (Money(1234, "usd"), 1234),
        (Money(500, "jpy"), 500),
        (Money(5, "isk"), 500),
        (Money(1230, "kwd"), 1230),
    ],
)
def test_amounts_convert_exactly_both_ways(money: Money, stripe_amount: int) -> None:
    assert to_stripe_amount(money) == stripe_amount
    assert from_stripe_amount(stripe_amount, money.currency.upper()) == money


def test_a_fractional_krona_from_stripe_is_refused() -> None:
    with pytest.raises(ChannelError):
        from_stripe_amount(550, "isk")
