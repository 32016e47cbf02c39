"""The built-in sandbox's own test account, committed in `identity.json` (public test keys)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class SandboxIdentity:
    account: str
    secret_key: str
    publishable_key: str
    webhook_secret: str


@cache
def sandbox_identity() -> SandboxIdentity:
    """Read once per process; raises OSError or KeyError only if the package data is missing."""
    values = json.loads(files(__package__).joinpath("identity.json").read_text("utf-8"))
    return SandboxIdentity(
        account=values["account"],
        secret_key=values["secret_key"],
        publishable_key=values["publishable_key"],
        webhook_secret=values["webhook_secret"],
    )
