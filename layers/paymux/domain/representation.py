"""The contract's JSON shape of each domain object: what the API returns and what events carry.
One mapping, used by both, so a webhook's `data.object` is exactly what `GET` returns."""

from __future__ import annotations

from typing import Any

from paymux.domain.models import Event, Payment, Refund, WebhookEndpoint


def payment_object(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "object": "payment",
        "channel": payment.channel.value,
        "scene": payment.scene,
        "amount": payment.amount,
        "currency": payment.currency,
        "amount_refunded": payment.amount_refunded,
        "status": payment.status.value,
        "merchant_order_id": payment.merchant_order_id,
        "subject": payment.subject,
        "description": payment.description,
        "credential": dict(payment.credential),
        "channel_transaction_id": payment.channel_transaction_id,
        "failure_code": payment.failure_code,
        "failure_message": payment.failure_message,
        "metadata": dict(payment.metadata),
        "livemode": payment.mode.livemode,
        "created": payment.created,
        "updated": payment.updated,
        "paid_at": payment.paid_at,
        "expires_at": payment.expires_at,
    }


def refund_object(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "object": "refund",
        "payment_id": refund.payment_id,
        "amount": refund.amount,
        "currency": refund.currency,
        "status": refund.status.value,
        "reason": refund.reason,
        "merchant_refund_id": refund.merchant_refund_id,
        "channel_refund_id": refund.channel_refund_id,
        "failure_code": refund.failure_code,
        "failure_message": refund.failure_message,
        "livemode": refund.mode.livemode,
        "created": refund.created,
    }


def event_object(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "object": "event",
        "type": event.type.value,
        "created": event.created,
        "livemode": event.mode.livemode,
        "data": event.data,
    }


def webhook_endpoint_object(endpoint: WebhookEndpoint, *, include_secret: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "url": endpoint.url,
        "enabled_events": list(endpoint.enabled_events),
        "description": endpoint.description,
        "status": endpoint.status,
        "livemode": endpoint.mode.livemode,
        "created": endpoint.created,
    }
    if include_secret:
        body["secret"] = endpoint.secret
    return body
