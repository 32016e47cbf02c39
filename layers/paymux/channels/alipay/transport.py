"""How a signed request reaches a gateway: over HTTP to Alipay's own gateway (or its sandbox) when
the credentials name a `gateway_url`, otherwise in-process into the built-in sandbox's gateway, with
the very same form body."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Protocol

from paymux.domain.errors import ChannelError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from paymux.channels.alipay.sandbox.gateway import AlipaySandboxGateway

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded;charset=utf-8"
MAX_BILL_BYTES = 50 * 1024 * 1024


class GatewayTransport(Protocol):
    def call(self, form: str) -> str:
        """POST the signed form; returns the raw response text. Raises ChannelError."""
        ...

    def download(self, url: str) -> bytes:
        """GET a bill download URL. Raises ChannelError."""
        ...


class HttpTransport:
    def __init__(self, gateway_url: str, timeout_seconds: float = 10.0) -> None:
        if not gateway_url.startswith(("https://", "http://")):
            raise ChannelError("The Alipay gateway_url must be an http(s) URL")
        self.gateway_url = gateway_url
        self.timeout_seconds = timeout_seconds

    def call(self, form: str) -> str:
        request = urllib.request.Request(  # noqa: S310  (scheme checked above)
            self.gateway_url, data=form.encode("utf-8"), method="POST",
            headers={"Content-Type": FORM_CONTENT_TYPE, "Accept": "application/json"},
        )  # fmt: skip
        return self._read(request, limit=1024 * 1024).decode("utf-8")

    def download(self, url: str) -> bytes:
        if not url.startswith("https://"):
            raise ChannelError("Alipay returned a bill URL that is not https")
        return self._read(urllib.request.Request(url, method="GET"), limit=MAX_BILL_BYTES)  # noqa: S310

    def _read(self, request: urllib.request.Request, *, limit: int) -> bytes:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:  # noqa: S310
                body: bytes = response.read(limit + 1)
        except urllib.error.HTTPError as error:
            raise ChannelError(f"The Alipay gateway answered HTTP {error.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise ChannelError(f"The Alipay gateway is unreachable ({type(error).__name__})") from None
        if len(body) > limit:
            raise ChannelError("The Alipay gateway answered with an oversized body")
        return body


class InProcessTransport:
    """Calls the built-in sandbox's gateway. `app_public_key` is the merchant app's public key,
    derived from its private key, which the sandbox uses to verify a non-sandbox app's requests."""

    def __init__(self, gateway: AlipaySandboxGateway, app_public_key: rsa.RSAPublicKey) -> None:
        self.gateway = gateway
        self.app_public_key = app_public_key

    def call(self, form: str) -> str:
        return self.gateway.handle(form, app_public_key=self.app_public_key)

    def download(self, url: str) -> bytes:
        from paymux.channels.alipay.sandbox.trades import Rejected

        try:
            return self.gateway.download(url)
        except Rejected as refused:
            raise ChannelError(f"The Alipay sandbox has no bill at that URL ({refused.sub_code})") from None
