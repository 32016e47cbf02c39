"""The event bus port and its EventBridge adapter."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Protocol

from paymux.domain.models import Event
from paymux.events.envelope import bus_detail
from paymux.topology import EVENT_SOURCE

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient


class PublishFailed(Exception):
    """The bus did not take the event; the caller retries."""


class EventBus(Protocol):
    def publish(self, event: Event, published_at: int) -> None:
        """Put one event on the bus. Raises PublishFailed."""
        ...


class EventBridgeBus:
    def __init__(self, client: EventBridgeClient, bus_name: str) -> None:
        self.client = client
        self.bus_name = bus_name

    def publish(self, event: Event, published_at: int) -> None:
        response = self.client.put_events(
            Entries=[
                {
                    "EventBusName": self.bus_name,
                    "Source": EVENT_SOURCE,
                    "DetailType": event.type.value,
                    "Detail": json.dumps(bus_detail(event, published_at), separators=(",", ":")),
                    # Lets EventBridge's archive and replay find the event by its paymux id.
                    "Resources": [f"paymux:event/{event.id}"],
                }
            ]
        )
        if response.get("FailedEntryCount", 0):
            failure = response["Entries"][0]
            raise PublishFailed(f"{failure.get('ErrorCode')}: {failure.get('ErrorMessage')}")
