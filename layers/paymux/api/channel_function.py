"""The generic channel function: a channel's module is `channel_lambda_handler(Channel.X)`.

It serves the channel's payment creation and its provider's notifications, and consumes its SQS batch
of channel work (refunds, closes) and its scheduled status sync; everything channel-specific is in the
adapter the services load for it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from paymux.api.handler import LambdaHandler, build_lambda_handler
from paymux.api.request import merchant_scope, provider_request, public_base_url
from paymux.api.resolver import build_resolver
from paymux.api.schemas import CreatePaymentBody, PaymentOut
from paymux.domain.models import Channel
from paymux.domain.representation import payment_object
from paymux.runtime import payment_service

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def build_channel_router(channel: Channel) -> Router:
    router = Router()

    @router.post(
        f"/v1/channels/{channel.value}/payments",
        status_code=201,
        summary=f"Create a {channel} payment",
        tags=["payments"],
        operation_id=f"create_{channel.value}_payment",
    )
    def create_payment(body: Annotated[CreatePaymentBody, Body()]) -> Response[PaymentOut]:
        payment = payment_service().create_payment(
            merchant_scope(router), channel, body.to_command(), public_base_url(router)
        )
        return Response(
            status_code=201,
            content_type="application/json",
            body=PaymentOut.model_validate(payment_object(payment)),
        )

    @router.post(
        f"/webhooks/{channel.value}",
        summary=f"{channel} notifications (provider protocol)",
        tags=["webhooks"],
        operation_id=f"{channel.value}_notification",
    )
    def provider_notification() -> Response[Any]:
        answer = payment_service().handle_notification(channel, provider_request(router))
        return Response(
            status_code=answer.status,
            content_type=answer.content_type,
            body=answer.body,
            headers=answer.headers,
        )

    # Providers whose notifications name the object only inside an encrypted resource (WeChat Pay)
    # are given a notify URL ending in the payment or refund id; the adapter reads it from the path.
    @router.post(
        f"/webhooks/{channel.value}/<notify_target>",
        summary=f"{channel} notifications about one payment or refund (provider protocol)",
        tags=["webhooks"],
        operation_id=f"{channel.value}_object_notification",
    )
    def provider_object_notification(notify_target: str) -> Response[Any]:  # noqa: ARG001 - read by the adapter
        return provider_notification()

    return router


def channel_lambda_handler(channel: Channel) -> LambdaHandler:
    """One handler for every invocation of the channel's function, dispatched on the event's
    shape: an API Gateway request, an SQS batch of bus events, or a schedule."""
    app = build_resolver()
    app.include_router(build_channel_router(channel))
    api = build_lambda_handler(app)
    background: LambdaHandler | None = None

    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        nonlocal background
        if "httpMethod" in event and "requestContext" in event:
            return api(event, context)
        if background is None:
            # Imported on the first background event only: batch processing stays out of the cold
            # start of the API path, which shoppers wait on.
            from paymux.events.functions import channel_background_handler

            background = channel_background_handler(channel)
        return background(event, context)

    return lambda_handler
