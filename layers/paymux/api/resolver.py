"""The one resolver setup every function uses: validation, the contract's errors, idempotency."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from paymux.api.errors import error_body, status_for
from paymux.api.idempotency import idempotency_middleware
from paymux.channels.sandbox_page import SHOPPER_PAGE_PREFIX, refusal_page
from paymux.domain.errors import InvalidRequest, NotFound, PaymuxError
from paymux.observability import logger


def build_resolver() -> APIGatewayRestResolver:
    """A REST resolver that validates requests with the API models and maps every error to the
    contract's shape: domain errors by type, bad input to 400, anything unexpected to a 500 with
    no stack trace (the trace goes to the log)."""
    app = APIGatewayRestResolver(enable_validation=True)
    app.use([idempotency_middleware])

    def respond(error: PaymuxError) -> Response[Any]:
        request_id = app.current_event.request_context.request_id
        if app.current_event.path.startswith(SHOPPER_PAGE_PREFIX):
            page = refusal_page(status_for(error), "paymux sandbox", error.message)
            return Response(page.status, page.content_type, page.body, headers=page.headers)
        return Response(
            status_code=status_for(error), content_type="application/json", body=error_body(error, request_id)
        )

    @app.exception_handler(PaymuxError)
    def domain_error(error: PaymuxError) -> Response[Any]:
        return respond(error)

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[Any]:
        return respond(_validation_error(error))

    @app.not_found
    def not_found(_: Exception) -> Response[Any]:
        event = app.current_event
        return respond(NotFound(f"No route for {event.http_method} {event.path}", code="route_not_found"))

    @app.exception_handler(Exception)
    def unexpected(_error: Exception) -> Response[Any]:
        logger.exception("unhandled error")
        return respond(PaymuxError("An internal error occurred; it has been logged"))

    return app


def _validation_error(error: RequestValidationError) -> InvalidRequest:
    first = (error.errors() or [{}])[0]
    location = [
        str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header", "[key]")
    ]
    param = ".".join(location) or None
    if first.get("type") == "json_invalid":
        return InvalidRequest("The request body is not valid JSON", code="body_invalid")
    if first.get("type") == "extra_forbidden":
        return InvalidRequest(f"Unknown parameter: {param}", param=param, code="parameter_unknown")
    if first.get("type") == "missing":
        return InvalidRequest(f"Missing required parameter: {param}", param=param, code="parameter_missing")
    message = str(first.get("msg", "Invalid request"))
    return InvalidRequest(f"{param}: {message}" if param else message, param=param)
