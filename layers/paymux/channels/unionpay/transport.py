"""Where a signed request goes: UnionPay's gateway over HTTPS when `gateway_url` is set, otherwise
the built-in sandbox's gateway in-process. Either way the same form-encoded bytes are sent and the
same unencoded `k=v&k=v` answer comes back."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Protocol

from paymux.channels.base import SandboxStore
from paymux.channels.unionpay.credentials import UnionPayCredentials
from paymux.channels.unionpay.protocol import FILE_TRANSFER_PATH
from paymux.domain.errors import ChannelError

# (url, form body) → answer text. Raises ChannelError.
HttpPost = Callable[[str, bytes], str]

_TIMEOUT_SECONDS = 10


class GatewayClient(Protocol):
    def post(self, path: str, body: bytes) -> str:
        """POST a form-encoded request to `path`; the gateway's answer. Raises ChannelError."""
        ...


class SandboxGatewayClient:
    """The built-in sandbox, called in-process. The merchant's certificate is the one it registered
    with UnionPay; the sandbox checks requests against it as UnionPay checks against its records."""

    def __init__(self, store: SandboxStore, credentials: UnionPayCredentials) -> None:
        self.store = store
        self.credentials = credentials

    def post(self, path: str, body: bytes) -> str:
        from paymux.channels.unionpay.sandbox.gateway import Registration, SandboxGateway

        registered = Registration(self.credentials.mer_id, self.credentials.sign_cert)
        reply = SandboxGateway(self.store).handle(path, body, registered)
        if reply.status != 200:
            raise ChannelError(f"UnionPay sandbox answered HTTP {reply.status}")
        return reply.body


class HttpGatewayClient:
    """UnionPay's own gateway (or its test environment) over HTTPS."""

    def __init__(self, credentials: UnionPayCredentials, http_post: HttpPost | None = None) -> None:
        self.credentials = credentials
        self.http_post = http_post or urllib_post

    def post(self, path: str, body: bytes) -> str:
        base = self.credentials.gateway_url
        if path == FILE_TRANSFER_PATH:
            base = self.credentials.file_download_url
            if base is None:
                raise ChannelError("Set file_download_url in the UnionPay credentials to download statements")
        if base is None:
            raise ChannelError("UnionPay gateway_url is not set")
        return self.http_post(base.rstrip("/") + path, body)


def urllib_post(url: str, body: bytes) -> str:
    """POST a form over HTTPS; raises ChannelError on a transport failure or a non-200 answer."""
    if not url.startswith(("https://", "http://")):
        raise ChannelError("UnionPay gateway URL must be http(s)")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_SECONDS) as response:  # noqa: S310
            if response.status != 200:
                raise ChannelError(f"UnionPay answered HTTP {response.status}")
            return str(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        raise ChannelError(f"UnionPay answered HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise ChannelError(f"UnionPay could not be reached: {type(error).__name__}") from None


def gateway_client(
    store: SandboxStore, credentials: UnionPayCredentials, http_post: HttpPost | None = None
) -> GatewayClient:
    if credentials.uses_builtin_sandbox():
        return SandboxGatewayClient(store, credentials)
    return HttpGatewayClient(credentials, http_post)
