"""Event pattern matching (the subset paymux's patterns use: exact values, nested fields), so the
local platform filters the table's stream exactly as Lambda's event filter does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """True if every field of `pattern` matches `event`: a list lists the allowed values, a mapping
    matches the nested object. Raises ValueError for a pattern form this matcher does not know."""
    for name, expected in pattern.items():
        if name not in event:
            return False
        actual = event[name]
        if isinstance(expected, Mapping):
            if not isinstance(actual, Mapping) or not matches(expected, actual):
                return False
        elif isinstance(expected, list):
            if any(isinstance(option, Mapping) for option in expected):
                raise ValueError(f"content filters are not supported locally: {name}")
            if actual not in expected:
                return False
        else:
            raise ValueError(f"a pattern field is a list or an object, not {expected!r}")
    return True
