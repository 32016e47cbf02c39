"""Where a webhook may go. Live endpoints must be https and every address their host resolves to must
be public; test mode also allows loopback, so a merchant can test against a local server. Checked at
registration and again at each delivery (DNS answers change), and the delivery then connects to the
very addresses that were checked."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from paymux.domain.errors import InvalidRequest
from paymux.domain.models import Mode

# host, port → the IP addresses (as text) the host resolves to. Raises OSError when it does not.
Resolver = Callable[[str, int], list[str]]


class EndpointNotAllowed(InvalidRequest):
    code = "url_not_allowed"


@dataclass(frozen=True)
class DeliveryTarget:
    scheme: str
    host: str
    port: int
    path: str  # with the query string
    addresses: tuple[str, ...]


def system_resolver(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def resolve_target(url: str, mode: Mode, resolver: Resolver, *, test_loopback: bool = True) -> DeliveryTarget:
    """Parse, resolve and check a webhook URL for `mode`; `test_loopback` lets test mode use loopback.
    Raises EndpointNotAllowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise EndpointNotAllowed("url must be an absolute http(s) URL", param="url")
    if mode is Mode.LIVE and parts.scheme != "https":
        raise EndpointNotAllowed("Live webhook endpoints must use https", param="url")
    if parts.username or parts.password:
        raise EndpointNotAllowed("url must not carry credentials", param="url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise EndpointNotAllowed("url has an invalid port", param="url") from None
    try:
        addresses = _literal(parts.hostname) or tuple(resolver(parts.hostname, port))
    except OSError:
        raise EndpointNotAllowed(f"{parts.hostname} does not resolve", param="url") from None
    if not addresses:
        raise EndpointNotAllowed(f"{parts.hostname} does not resolve", param="url")
    for address in addresses:
        if not address_allowed(address, mode, test_loopback=test_loopback):
            raise EndpointNotAllowed(
                "Webhook endpoints must not resolve to private, loopback or link-local addresses"
                + (" (test mode allows loopback)" if mode is Mode.TEST and test_loopback else ""),
                param="url",
            )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return DeliveryTarget(parts.scheme, parts.hostname, port, path, addresses)


def _literal(host: str) -> tuple[str, ...]:
    try:
        return (str(ipaddress.ip_address(host)),)
    except ValueError:
        return ()


def address_allowed(address: str, mode: Mode, *, test_loopback: bool = True) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_global and not ip.is_multicast:
        return True
    return test_loopback and mode is Mode.TEST and ip.is_loopback
