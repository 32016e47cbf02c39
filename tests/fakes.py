"""Small in-memory stand-ins for the ports, for fast unit tests."""

from __future__ import annotations

import copy
from typing import Any


class InMemorySandboxStore:
    """`paymux.channels.base.SandboxStore` in a dict."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def load(self, channel: str, key: str) -> dict[str, Any] | None:
        value = self.items.get((channel, key))
        return copy.deepcopy(value) if value is not None else None

    def save(self, channel: str, key: str, value: dict[str, Any]) -> None:
        self.items[(channel, key)] = copy.deepcopy(value)
