"""A merchant's Stripe credentials: the account's secret key and the webhook endpoint's signing secret.

`api_base` is Stripe's own name for where the API lives and is accepted as an alias of the inherited
`gateway_url`. Without either, a test key talks to paymux's built-in sandbox in-process; a live key
always talks to Stripe (`https://api.stripe.com`), never to a sandbox.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import SecretStr, ValidationInfo, field_validator, model_validator

from paymux.channels.base import ChannelCredentials

STRIPE_API_BASE = "https://api.stripe.com"

# Secret (`sk_`) and restricted (`rk_`) keys both authenticate server-side calls.
_TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")
_LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")


def key_livemode(secret_key: str) -> bool:
    """True for a live key, False for a test key; raises ValueError for anything else (a publishable
    key, a webhook secret, a typo)."""
    if secret_key.startswith(_LIVE_KEY_PREFIXES):
        return True
    if secret_key.startswith(_TEST_KEY_PREFIXES):
        return False
    raise ValueError(
        "secret_key must be a Stripe secret key (sk_test_..., sk_live_..., rk_test_... or rk_live_...)"
    )


def masked(secret_key: str) -> str:
    """The key as Stripe shows it in its own error messages: prefix and last four characters."""
    prefix = secret_key[: secret_key.find("_", 3) + 1]
    return f"{prefix}****{secret_key[-4:]}"


class StripeCredentials(ChannelCredentials):
    """`{secret_key, webhook_secret, publishable_key?, api_base?}`.

    Validate with `context={"mode": "test" | "live"}` to refuse a key of the other mode; the model
    raises pydantic.ValidationError (a ValueError) for a malformed key or a mode mismatch.
    """

    # A live key always reaches Stripe itself (see `gateway`), never the built-in sandbox.
    live_needs_gateway_url: ClassVar[bool] = False

    secret_key: SecretStr
    webhook_secret: SecretStr
    publishable_key: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _api_base_is_gateway_url(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        values = dict(values)
        api_base = values.pop("api_base", None)
        gateway_url = values.get("gateway_url")
        if gateway_url is not None and api_base is not None and gateway_url != api_base:
            raise ValueError("api_base and gateway_url are the same setting; give one, or both equal")
        values["gateway_url"] = gateway_url if gateway_url is not None else api_base
        if values["gateway_url"] is None and str(values.get("secret_key", "")).startswith(_LIVE_KEY_PREFIXES):
            values["gateway_url"] = STRIPE_API_BASE  # a live key is never sent to the built-in sandbox
        return values

    @field_validator("secret_key")
    @classmethod
    def _secret_key_matches_mode(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        livemode = key_livemode(value.get_secret_value())
        mode = (info.context or {}).get("mode")
        if mode is not None and livemode != (str(mode) == "live"):
            wanted = "sk_live_" if str(mode) == "live" else "sk_test_"
            raise ValueError(f"{mode} mode needs a Stripe {wanted} key")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("whsec_"):
            raise ValueError("webhook_secret must be a Stripe endpoint signing secret (whsec_...)")
        return value

    @field_validator("publishable_key")
    @classmethod
    def _publishable_key_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("pk_test_", "pk_live_")):
            raise ValueError("publishable_key must be a Stripe publishable key (pk_test_... or pk_live_...)")
        return value

    @model_validator(mode="after")
    def _keys_of_one_mode(self) -> StripeCredentials:
        if self.publishable_key is not None and self.publishable_key.startswith("pk_live_") != self.livemode:
            raise ValueError("publishable_key and secret_key belong to different modes")
        return self

    @property
    def livemode(self) -> bool:
        return key_livemode(self.secret_key.get_secret_value())

    @property
    def api_base(self) -> str | None:
        return self.gateway_url
