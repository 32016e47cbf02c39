"""How the adapter's `StripeClient` reaches Stripe: over HTTP to `api_base`, or, for the built-in
sandbox, through an in-process `stripe` HTTP client that hands the SDK's exact request (method, URL,
headers, form body) to the sandbox's API and returns its answer."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import stripe

from paymux.channels.stripe.credentials import StripeCredentials
from paymux.channels.stripe.sandbox.api import StripeSandboxApi

# Where the SDK believes the built-in sandbox lives; never resolved, the in-process client answers.
SANDBOX_API_BASE = "https://stripe-sandbox.paymux.invalid"
# Lambda answers API Gateway within 29 s: connect and read timeouts leave room for one retry.
_HTTP_TIMEOUT = (3.05, 12)


class SandboxHTTPClient(stripe.HTTPClient):
    """A `stripe.HTTPClient` whose network is a function call into the sandbox's API."""

    name = "paymux-sandbox"

    def __init__(self, api: StripeSandboxApi) -> None:
        super().__init__()
        self.api = api

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        answer = self.api.handle(method, url, headers or {}, post_data)
        return answer.body, answer.status, answer.headers

    def request_stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        answer = self.api.handle(method, url, headers or {}, post_data)
        return io.BytesIO(answer.body.encode("utf-8")), answer.status, answer.headers

    def close(self) -> None:
        """Nothing to release: no connections are opened."""


def stripe_client(
    credentials: StripeCredentials, sandbox_api: StripeSandboxApi | None
) -> stripe.StripeClient:
    """A client for `credentials`: in-process to `sandbox_api` when the credentials name no api_base
    (test keys only; live keys always carry Stripe's api_base), otherwise over HTTP."""
    if credentials.gateway_url is None:
        if sandbox_api is None:
            raise ValueError("credentials without api_base need the built-in sandbox")
        return stripe.StripeClient(
            credentials.secret_key.get_secret_value(),
            base_addresses={"api": SANDBOX_API_BASE},
            http_client=SandboxHTTPClient(sandbox_api),
            max_network_retries=0,
        )
    return stripe.StripeClient(
        credentials.secret_key.get_secret_value(),
        base_addresses={"api": credentials.gateway_url.rstrip("/")},
        http_client=stripe.RequestsClient(timeout=_HTTP_TIMEOUT),
        max_network_retries=1,
    )
