"""The merchant API function: every channel-agnostic route. Thin: parse, call the core, respond."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from paymux.api.event_deliveries import EventWithDeliveriesOut, event_with_deliveries
from paymux.api.handler import build_lambda_handler
from paymux.api.openapi import openapi_document
from paymux.api.pages import Limit, StartingAfter, page_of
from paymux.api.request import merchant_scope, provider_request, public_base_url
from paymux.api.resolver import build_resolver
from paymux.api.schemas import (
    CompleteTestPaymentBody,
    CreatedWebhookEndpointOut,
    CreateRefundBody,
    CreateWebhookEndpointBody,
    EventList,
    PaymentList,
    PaymentOut,
    RefundList,
    RefundOut,
    WebhookEndpointList,
    WebhookEndpointOut,
)
from paymux.channels.http import send
from paymux.domain.ids import MAX_ID_SECONDS as MAX_TIMESTAMP
from paymux.domain.models import Channel
from paymux.domain.representation import event_object, payment_object, refund_object, webhook_endpoint_object
from paymux.domain.states import PaymentStatus
from paymux.ledger.ports import PaymentFilter
from paymux.runtime import event_service, notifier, payment_service, shopper_pages

router = Router()


@router.get("/v1/payments/<payment_id>", tags=["payments"])
def get_payment(payment_id: str) -> PaymentOut:
    return PaymentOut.model_validate(
        payment_object(payment_service().get_payment(merchant_scope(router), payment_id))
    )


@router.get("/v1/payments", tags=["payments"])
def list_payments(
    limit: Limit = 10,
    starting_after: StartingAfter = None,
    merchant_order_id: Annotated[str | None, Query()] = None,
    channel: Annotated[Channel | None, Query()] = None,
    status: Annotated[PaymentStatus | None, Query()] = None,
    created_gte: Annotated[int | None, Query(alias="created[gte]", ge=0, le=MAX_TIMESTAMP)] = None,
    created_lte: Annotated[int | None, Query(alias="created[lte]", ge=0, le=MAX_TIMESTAMP)] = None,
) -> PaymentList:
    filters = PaymentFilter(
        channel=channel.value if channel else None,
        status=status.value if status else None,
        created_gte=created_gte,
        created_lte=created_lte,
    )
    page = payment_service().list_payments(
        merchant_scope(router), filters, limit, starting_after, merchant_order_id
    )
    return PaymentList.model_validate(page_of(page, payment_object, "/v1/payments"))


@router.post("/v1/payments/<payment_id>/close", tags=["payments"])
def close_payment(payment_id: str) -> PaymentOut:
    return PaymentOut.model_validate(
        payment_object(payment_service().close_payment(merchant_scope(router), payment_id))
    )


@router.post("/v1/payments/<payment_id>/refunds", status_code=201, tags=["refunds"])
def create_refund(payment_id: str, body: Annotated[CreateRefundBody, Body()]) -> Response[RefundOut]:
    refund = payment_service().create_refund(merchant_scope(router), payment_id, body.to_command())
    return Response(201, "application/json", RefundOut.model_validate(refund_object(refund)))


@router.get("/v1/payments/<payment_id>/refunds", tags=["refunds"])
def list_refunds(payment_id: str, limit: Limit = 10, starting_after: StartingAfter = None) -> RefundList:
    page = payment_service().list_refunds(merchant_scope(router), payment_id, limit, starting_after)
    return RefundList.model_validate(page_of(page, refund_object, f"/v1/payments/{payment_id}/refunds"))


@router.get("/v1/refunds/<refund_id>", tags=["refunds"])
def get_refund(refund_id: str) -> RefundOut:
    return RefundOut.model_validate(
        refund_object(payment_service().get_refund(merchant_scope(router), refund_id))
    )


@router.get("/v1/events/<event_id>", tags=["events"])
def get_event(event_id: str) -> EventWithDeliveriesOut:
    scope = merchant_scope(router)
    event = event_service().get_event(scope, event_id)
    return event_with_deliveries(event, notifier().history(scope, event_id))


@router.post("/v1/events/<event_id>/redeliver", status_code=202, tags=["events"])
def redeliver_event(event_id: str) -> Response[EventWithDeliveriesOut]:
    scope = merchant_scope(router)
    event = event_service().get_event(scope, event_id)
    history = notifier().redeliver(scope, event_id)
    return Response(202, "application/json", event_with_deliveries(event, history))


@router.get("/v1/events", tags=["events"])
def list_events(
    limit: Limit = 10,
    starting_after: StartingAfter = None,
    type: Annotated[str | None, Query()] = None,
) -> EventList:
    page = event_service().list_events(merchant_scope(router), type, limit, starting_after)
    return EventList.model_validate(page_of(page, event_object, "/v1/events"))


@router.post("/v1/webhook_endpoints", status_code=201, tags=["webhook endpoints"])
def create_webhook_endpoint(
    body: Annotated[CreateWebhookEndpointBody, Body()],
) -> Response[CreatedWebhookEndpointOut]:
    endpoint = event_service().create_endpoint(
        merchant_scope(router), body.url, body.enabled_events, body.description
    )
    out = CreatedWebhookEndpointOut.model_validate(webhook_endpoint_object(endpoint, include_secret=True))
    return Response(201, "application/json", out)


@router.get("/v1/webhook_endpoints", tags=["webhook endpoints"])
def list_webhook_endpoints(limit: Limit = 10, starting_after: StartingAfter = None) -> WebhookEndpointList:
    page = event_service().list_endpoints(merchant_scope(router), limit, starting_after)
    return WebhookEndpointList.model_validate(page_of(page, webhook_endpoint_object, "/v1/webhook_endpoints"))


@router.delete("/v1/webhook_endpoints/<endpoint_id>", tags=["webhook endpoints"])
def delete_webhook_endpoint(endpoint_id: str) -> WebhookEndpointOut:
    endpoint = event_service().delete_endpoint(merchant_scope(router), endpoint_id)
    return WebhookEndpointOut.model_validate(webhook_endpoint_object(endpoint))


@router.post("/v1/test/payments/<payment_id>/complete", tags=["test mode"])
def complete_test_payment(payment_id: str, body: Annotated[CompleteTestPaymentBody, Body()]) -> PaymentOut:
    payment = payment_service().complete_test_payment(
        merchant_scope(router), payment_id, PaymentStatus(body.outcome), public_base_url(router), send
    )
    return PaymentOut.model_validate(payment_object(payment))


# `/sandbox/{channel}/{proxy+}`: the sandboxes' shopper pages (test mode), unauthenticated. HTML, so
# left out of the OpenAPI document; the resolver renders their errors as pages too.
@router.route("/sandbox/<channel>/.+", method=["GET", "POST"], include_in_schema=False)
def sandbox_shopper_page(channel: str) -> Response[str]:
    page = shopper_pages().page(channel, provider_request(router), public_base_url(router))
    return Response(page.status, page.content_type, page.body, headers=page.headers)


@router.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    return Response(200, "application/json", openapi_document(router))


app = build_resolver()
app.include_router(router)
lambda_handler = build_lambda_handler(app)
