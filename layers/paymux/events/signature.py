"""The `Paymux-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
The key is the endpoint's whole `whsec_...` secret, as UTF-8 bytes."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Paymux-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureMismatch(Exception):
    """The header is malformed, too old, or signed with another secret or body."""


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, now: int, tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS
) -> None:
    """Check a delivery the way a merchant should. Raises SignatureMismatch."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise SignatureMismatch("no timestamp") from None
    if abs(now - timestamp) > tolerance_seconds:
        raise SignatureMismatch("timestamp outside the tolerance")
    expected = _digest(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
        raise SignatureMismatch("no v1 signature matches")


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
