"""Signed WeChat Pay API v3 calls: the same request bytes and headers go to the built-in sandbox
in-process (when `gateway_url` is None) or over HTTP to `gateway_url`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

from paymux.channels import http
from paymux.channels.base import ProviderRequest, ProviderResponse
from paymux.channels.wechatpay import signing
from paymux.channels.wechatpay.credentials import WechatPayCredentials
from paymux.domain.clock import Clock
from paymux.domain.errors import ChannelError

Sender = Callable[[str, ProviderRequest], ProviderResponse]


class InProcessGateway(Protocol):
    """The built-in sandbox's side of the API, called with the exact request WeChat Pay would get."""

    def handle(self, credentials: WechatPayCredentials, request: ProviderRequest) -> ProviderResponse: ...


class WechatPayTransport:
    def __init__(
        self, sandbox_gateway: Callable[[], InProcessGateway], clock: Clock, send: Sender = http.send
    ) -> None:
        self._sandbox_gateway = sandbox_gateway
        self._clock = clock
        self._send = send

    def call(
        self, credentials: WechatPayCredentials, method: str, target: str, body: str = ""
    ) -> ProviderResponse:
        """Sign and send; `target` is a path with query, or an absolute URL WeChat Pay handed out
        (a bill's `download_url`). Raises ChannelError if the merchant key is unusable or the
        gateway cannot be reached."""
        url = urlsplit(target)
        path_with_query = url.path + (f"?{url.query}" if url.query else "")
        request = ProviderRequest(
            method,
            url.path,
            self._headers(credentials, method, path_with_query, body),
            body.encode(),
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
        )
        if credentials.gateway_url is None:
            return self._sandbox_gateway().handle(credentials, request)
        absolute = target if url.scheme else credentials.gateway_url.rstrip("/") + path_with_query
        return self._send(absolute, request)

    def _headers(
        self, credentials: WechatPayCredentials, method: str, path_with_query: str, body: str
    ) -> dict[str, str]:
        try:
            key = signing.load_private_key(credentials.merchant_private_key)
        except signing.SigningKeyError:
            raise ChannelError("The WeChat Pay merchant_private_key is not an RSA private key") from None
        authorization = signing.sign_request(
            mchid=credentials.mchid,
            serial_no=credentials.merchant_serial_no,
            private_key=key,
            method=method,
            path_with_query=path_with_query,
            body=body,
            timestamp=self._clock(),
            nonce=signing.new_nonce(),
        )
        headers = {
            "authorization": authorization.header(),
            "accept": "application/json",
            "content-type": "application/json",
            "user-agent": "paymux-wechatpay",
        }
        if credentials.platform_public_key_id:
            # Public-key mode: asks WeChat Pay to sign its answer with the public key of this id.
            headers["wechatpay-serial"] = credentials.platform_public_key_id
        return headers
