"""Conversion between plain Python values and DynamoDB attribute values. Numbers come back as
`int`: the ledger stores no fractional numbers (money is in minor units)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise ValueError(f"The ledger stores no fractional numbers: {value}")
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_plain(v) for v in value]
    return value


def serialize(values: dict[str, Any]) -> dict[str, Any]:
    """A plain dict to a DynamoDB item, leaving out `None` (absent attributes read back as None)."""
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def serialize_value(value: Any) -> dict[str, Any]:
    return dict(_serializer.serialize(value))


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}
