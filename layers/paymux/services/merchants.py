"""Merchants and their secret keys. Keys are shown once at creation and stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from paymux.domain.clock import Clock, system_clock
from paymux.domain.errors import AuthenticationFailed
from paymux.domain.ids import IdPrefix, new_id
from paymux.domain.models import ApiKey, Merchant, MerchantScope, Mode
from paymux.ledger.ports import Ledger

_KEY_PREFIX = {Mode.TEST: "sk_test_", Mode.LIVE: "sk_live_"}


def hash_key(secret_key: str) -> str:
    """SHA-256 of a secret key. Keys carry 256 bits of randomness, so a plain hash cannot be reversed
    by guessing; a lookup by hash needs no per-key salt."""
    return hashlib.sha256(secret_key.encode()).hexdigest()


def mode_of(secret_key: str) -> Mode | None:
    for mode, prefix in _KEY_PREFIX.items():
        if secret_key.startswith(prefix):
            return mode
    return None


@dataclass(frozen=True)
class CreatedMerchant:
    merchant: Merchant
    test_secret_key: str
    live_secret_key: str


class MerchantService:
    def __init__(self, ledger: Ledger, clock: Clock = system_clock) -> None:
        self.ledger = ledger
        self.clock = clock

    def create(self, name: str, *, test_secret_key: str | None = None) -> CreatedMerchant:
        """Create a merchant with a test and a live key. `test_secret_key` fixes the test key (the
        local platform's demo merchant uses `sk_test_demo`)."""
        merchant = Merchant(id=new_id(IdPrefix.MERCHANT), name=name, created=self.clock())
        self.ledger.put_merchant(merchant)
        test_key = test_secret_key or self._new_key(Mode.TEST)
        if mode_of(test_key) is not Mode.TEST:
            raise ValueError("a test key starts with sk_test_")
        keys = {Mode.TEST: test_key, Mode.LIVE: self._new_key(Mode.LIVE)}
        for mode, key in keys.items():
            self.ledger.put_api_key(
                ApiKey(key_hash=hash_key(key), merchant_id=merchant.id, mode=mode, created=self.clock())
            )
        return CreatedMerchant(merchant, keys[Mode.TEST], keys[Mode.LIVE])

    def roll_key(self, merchant_id: str, mode: Mode) -> str:
        """Issue an extra key for a merchant and mode (rotation: revoke the old one after)."""
        self.ledger.get_merchant(merchant_id)
        key = self._new_key(mode)
        self.ledger.put_api_key(
            ApiKey(key_hash=hash_key(key), merchant_id=merchant_id, mode=mode, created=self.clock())
        )
        return key

    def authenticate(self, secret_key: str) -> MerchantScope:
        """The merchant and mode a secret key belongs to; raises AuthenticationFailed."""
        if mode_of(secret_key) is None:
            raise AuthenticationFailed(
                "Invalid API key: use `Authorization: Bearer sk_test_…` or `sk_live_…`"
            )
        found = self.ledger.find_api_key(hash_key(secret_key))
        if found is None:
            raise AuthenticationFailed("Invalid API key provided")
        return MerchantScope(merchant_id=found.merchant_id, mode=found.mode)

    @staticmethod
    def _new_key(mode: Mode) -> str:
        return _KEY_PREFIX[mode] + secrets.token_urlsafe(32)
