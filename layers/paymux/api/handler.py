"""The one `lambda_handler` builder: cold-start configuration check, logger context with the
request id as correlation id, metrics, merchant authentication, then the resolver."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths

from paymux.api.auth import CachedAuthenticator, bearer_key
from paymux.api.errors import proxy_error_response
from paymux.domain.errors import AuthenticationFailed, InvalidRequest
from paymux.observability import logger, metrics
from paymux.runtime import merchant_service
from paymux.settings import platform_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.utilities.typing import LambdaContext

LambdaHandler = Callable[[dict[str, Any], "LambdaContext"], dict[str, Any]]
AUTHENTICATED_PREFIX = "/v1/"
JSON_MEDIA_TYPE = "application/json"


def build_lambda_handler(app: APIGatewayRestResolver) -> LambdaHandler:
    authenticate = CachedAuthenticator(lambda key: merchant_service().authenticate(key))

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        platform_settings()  # fails the cold start loudly if the function is misconfigured
        scope = None
        if str(event.get("path", "")).startswith(AUTHENTICATED_PREFIX):
            request_id = (event.get("requestContext") or {}).get("requestId")
            try:
                scope = authenticate(bearer_key(event.get("headers")))
            except AuthenticationFailed as error:
                return proxy_error_response(error, request_id)
            refused = _unreadable_body(event)
            if refused is not None:
                # Refused here: the resolver's validation would fail to parse it with a bare 500.
                return proxy_error_response(refused, request_id)
            logger.append_keys(merchant_id=scope.merchant_id, mode=scope.mode.value)
        app.append_context(scope=scope)
        return app.resolve(event, context)

    return lambda_handler


def _unreadable_body(event: dict[str, Any]) -> InvalidRequest | None:
    """Why a /v1 request body cannot be read as JSON text, or None. Every body under /v1 is JSON:
    another media type (by the resolver's own test: a missing or `application/json...` Content-Type
    parses as JSON) or bytes that are not UTF-8 are refused."""
    body = event.get("body")
    if not body:
        return None
    headers = event.get("headers") or {}
    content_type = next((str(value) for name, value in headers.items() if name.lower() == "content-type"), "")
    if content_type.strip() and not content_type.strip().startswith(JSON_MEDIA_TYPE):
        return InvalidRequest(
            f"The request body must be JSON (Content-Type: {JSON_MEDIA_TYPE})",
            code="content_type_unsupported",
        )
    if event.get("isBase64Encoded"):
        try:
            base64.b64decode(str(body), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return InvalidRequest(
                "The request body is not valid JSON: it is not UTF-8 text", code="body_invalid"
            )
    return None
