"""Reading the ledger table's stream: which records are new events, and the event each holds."""

from __future__ import annotations

from typing import Any

from paymux.domain.models import Event
from paymux.ledger import codec
from paymux.ledger.schema import ENTITY_ATTRIBUTE, KEY_ATTRIBUTES, TTL_ATTRIBUTE


def is_new_event(record: dict[str, Any]) -> bool:
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    return record.get("eventName") == "INSERT" and image.get(ENTITY_ATTRIBUTE) == {"S": "event"}


def event_of_record(record: dict[str, Any]) -> Event:
    """The event a stream record's new image holds. Raises KeyError or pydantic.ValidationError for
    a record that is not a new event item."""
    values = codec.deserialize(record["dynamodb"]["NewImage"])
    hidden = {*KEY_ATTRIBUTES, ENTITY_ATTRIBUTE, TTL_ATTRIBUTE}
    return Event.model_validate({k: v for k, v in values.items() if k not in hidden})
