"""How a paymux event travels on the bus: `source="paymux"`, `detail-type=<event type>`, and a
detail that carries the event with its envelope (name, version, correlation id)."""

from __future__ import annotations

from typing import Any

from paymux.domain.models import Event
from paymux.topology import EVENT_SOURCE

ENVELOPE_VERSION = "1"


class MalformedBusEvent(ValueError):
    """A bus event that is not a paymux event of a known envelope version."""


def correlation_id(event: Event) -> str:
    """What ties an event to the others of the same payment: the payment's id (a refund's events
    carry it as `payment_id`), so a payment's whole story can be followed across functions."""
    obj = event.data.get("object") or {}
    return str(obj.get("payment_id") or obj.get("id") or event.id)


def bus_detail(event: Event, published_at: int) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type.value,
        "created": event.created,
        "livemode": event.mode.livemode,
        "mode": event.mode.value,
        "merchant_id": event.merchant_id,
        "channel": event.channel.value if event.channel else None,
        "data": event.data,
        "envelope": {
            "name": event.type.value,
            "version": ENVELOPE_VERSION,
            "correlation_id": correlation_id(event),
            "published_at": published_at,
        },
    }


def event_of_detail(detail: dict[str, Any]) -> Event:
    """The event a bus detail carries. Raises MalformedBusEvent."""
    envelope = detail.get("envelope") or {}
    if envelope.get("version") != ENVELOPE_VERSION:
        raise MalformedBusEvent(f"unknown envelope version {envelope.get('version')!r}")
    try:
        return Event.model_validate(
            {
                key: detail[key]
                for key in ("id", "merchant_id", "mode", "type", "created", "channel", "data")
                if key in detail
            }
        )
    except ValueError as error:
        raise MalformedBusEvent(f"not a paymux event: {error}") from None


def event_of_bus_event(bus_event: dict[str, Any]) -> Event:
    """The event inside an EventBridge event (as an SQS message from a rule carries it).
    Raises MalformedBusEvent."""
    if bus_event.get("source") != EVENT_SOURCE or not isinstance(bus_event.get("detail"), dict):
        raise MalformedBusEvent("not an event of source paymux")
    event = event_of_detail(bus_event["detail"])
    if bus_event.get("detail-type") != event.type.value:
        raise MalformedBusEvent("detail-type does not match the event's type")
    return event
