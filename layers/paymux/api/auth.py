"""Merchant authentication: `Authorization: Bearer sk_test_…|sk_live_…`, looked up by hash.

A short in-process cache spares a table read per request on a warm function; a revoked key stops
working within `_CACHE_SECONDS`."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping

from paymux.domain.errors import AuthenticationFailed
from paymux.domain.models import MerchantScope

_CACHE_SECONDS = 60
_CACHE_LIMIT = 1024

Authenticator = Callable[[str], MerchantScope]


class CachedAuthenticator:
    def __init__(self, authenticate: Authenticator, clock: Callable[[], float] = time.monotonic) -> None:
        self._authenticate = authenticate
        self._clock = clock
        self._cache: dict[str, tuple[float, MerchantScope]] = {}

    def __call__(self, secret_key: str) -> MerchantScope:
        # Cached by hash so the process never keeps the keys themselves.
        digest = hashlib.sha256(secret_key.encode()).hexdigest()
        hit = self._cache.get(digest)
        now = self._clock()
        if hit and hit[0] > now:
            return hit[1]
        scope = self._authenticate(secret_key)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[digest] = (now + _CACHE_SECONDS, scope)
        return scope


def bearer_key(headers: Mapping[str, str] | None) -> str:
    """The secret key of an `Authorization: Bearer` header; raises AuthenticationFailed."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "authorization"), None)
    if not value:
        raise AuthenticationFailed("No API key provided: send `Authorization: Bearer <secret key>`")
    scheme, _, key = value.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise AuthenticationFailed("Use `Authorization: Bearer <secret key>`")
    return key.strip()
