"""Posting a webhook: to the addresses that were checked (never re-resolved, so a DNS answer that
changes between check and connect cannot redirect it), TLS verified against the URL's host name,
redirects not followed, a 10 s timeout."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Protocol

from paymux.events.addresses import DeliveryTarget

DELIVERY_TIMEOUT_SECONDS = 10.0
_MAX_RESPONSE_BYTES = 4096


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    error: str | None
    duration_ms: int


class WebhookTransport(Protocol):
    def post(self, target: DeliveryTarget, body: bytes, headers: dict[str, str]) -> PostResult: ...


class HttpWebhookTransport:
    def __init__(self, timeout_seconds: float = DELIVERY_TIMEOUT_SECONDS) -> None:
        self.timeout_seconds = timeout_seconds
        self._tls = ssl.create_default_context()

    def post(self, target: DeliveryTarget, body: bytes, headers: dict[str, str]) -> PostResult:
        """POST once to the first address that connects. Never raises: the failure is the result."""
        started = time.monotonic()
        error = "no address"
        for address in target.addresses:
            connection = self._connection(target, address)
            try:
                connection.request("POST", target.path, body=body, headers=headers)
                response = connection.getresponse()
                response.read(_MAX_RESPONSE_BYTES)
                return PostResult(response.status, None, _since(started))
            except TimeoutError:
                return PostResult(None, "timeout", _since(started))
            except ssl.SSLError as failure:
                return PostResult(None, f"tls_error: {failure.reason}", _since(started))
            except (OSError, http.client.HTTPException) as failure:
                error = f"connection_error: {type(failure).__name__}"
            finally:
                connection.close()
        return PostResult(None, error, _since(started))

    def _connection(self, target: DeliveryTarget, address: str) -> http.client.HTTPConnection:
        if target.scheme == "https":
            return _PinnedHttpsConnection(target.host, address, target.port, self.timeout_seconds, self._tls)
        return _PinnedHttpConnection(target.host, address, target.port, self.timeout_seconds)


class _PinnedHttpConnection(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHttpsConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls_context = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls_context.wrap_socket(raw, server_hostname=self.host)


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
