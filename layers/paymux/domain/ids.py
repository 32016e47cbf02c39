"""Object ids: a type prefix and a ULID, so ids sort by creation time."""

from __future__ import annotations

from enum import StrEnum

from ulid import ULID


class IdPrefix(StrEnum):
    PAYMENT = "pay"
    REFUND = "re"
    EVENT = "evt"
    WEBHOOK_ENDPOINT = "we"
    CHECKOUT_SESSION = "cs"
    MERCHANT = "mch"
    DELIVERY = "wd"


def new_id(prefix: IdPrefix) -> str:
    return f"{prefix}_{ULID()}"


# A ULID's time is 48 bits of milliseconds: the last second an id can name.
MAX_ID_SECONDS = (2**48 - 1) // 1000


def boundary_id(prefix: IdPrefix, unix_seconds: int, *, upper: bool) -> str:
    """The smallest (or largest) id of `prefix` that could be created in the given second; used to
    turn a `created` range into a key range."""
    millis = min(max(unix_seconds, 0) * 1000 + (999 if upper else 0), 2**48 - 1)
    fill = b"\xff" * 10 if upper else b"\x00" * 10
    return f"{prefix}_{ULID(millis.to_bytes(6, 'big') + fill)}"


def has_prefix(value: str, prefix: IdPrefix) -> bool:
    head, sep, tail = value.partition("_")
    return sep == "_" and head == prefix.value and len(tail) == 26
