"""Stripe's form encoding, decoded: `metadata[k]=v`, `payment_method_types[0]=card`, `expand[]=x` and
`created[gte]=1` become nested dicts and lists, as Stripe's API reads them."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


class FormError(ValueError):
    """The body or query string is not Stripe's form encoding."""


def decode_form(encoded: str) -> dict[str, Any]:
    """Decode `a[b]=1&c[0]=x&c[1]=y` into `{"a": {"b": "1"}, "c": ["x", "y"]}`. Raises FormError."""
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(encoded, keep_blank_values=True, strict_parsing=False):
        match = _KEY.match(raw_key)
        if match is None:
            raise FormError(f"Invalid parameter name: {raw_key!r}")
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        _assign(root, parts, value)
    return {key: _lists(value) for key, value in root.items()}


def _assign(node: dict[str, Any], parts: list[str], value: str) -> None:
    head, rest = parts[0], parts[1:]
    if not rest:
        node[head] = value
        return
    child = node.setdefault(head, {})
    if not isinstance(child, dict):
        raise FormError(f"Parameter {head!r} is both a value and a hash")
    if rest[0] == "":  # `expand[]=a&expand[]=b`: append in order
        rest = [str(len(child)), *rest[1:]]
    _assign(child, rest, value)


def _lists(value: Any) -> Any:
    """Hashes whose keys are all 0..n-1 are lists (Stripe's indexed arrays)."""
    if not isinstance(value, dict):
        return value
    items = {key: _lists(child) for key, child in value.items()}
    if items and all(key.isdigit() for key in items):
        indexes = sorted(int(key) for key in items)
        if indexes == list(range(len(indexes))):
            return [items[str(index)] for index in indexes]
    return items
