"""The contract's JSON of webhook deliveries (shown on `GET /v1/events/{id}`) and its models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from paymux.api.schemas import EventOut
from paymux.domain.deliveries import Delivery, DeliveryAttempt
from paymux.domain.models import Event
from paymux.domain.representation import event_object


class DeliveryAttemptOut(BaseModel):
    number: int
    at: int
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    id: str
    object: Literal["webhook_delivery"]
    endpoint_id: str
    url: str
    status: str
    attempt_count: int
    next_attempt_at: int | None
    last_status_code: int | None
    last_error: str | None
    created: int
    updated: int
    attempts: list[DeliveryAttemptOut]


class EventWithDeliveriesOut(EventOut):
    deliveries: list[DeliveryOut]


def delivery_object(delivery: Delivery, attempts: list[DeliveryAttempt]) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "object": "webhook_delivery",
        "endpoint_id": delivery.endpoint_id,
        "url": delivery.url,
        "status": delivery.status.value,
        "attempt_count": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "created": delivery.created,
        "updated": delivery.updated,
        "attempts": [
            {
                "number": a.number,
                "at": a.at,
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in attempts
        ],
    }


def event_with_deliveries(
    event: Event, history: list[tuple[Delivery, list[DeliveryAttempt]]]
) -> EventWithDeliveriesOut:
    return EventWithDeliveriesOut.model_validate(
        {**event_object(event), "deliveries": [delivery_object(d, a) for d, a in history]}
    )
