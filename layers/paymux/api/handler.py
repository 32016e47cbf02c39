"""The one `lambda_handler` builder: cold-start configuration check, logger context with the
request id as correlation id, metrics, merchant authentication, then the resolver."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths

from paymux.api.auth import CachedAuthenticator, authorizer_scope, bearer_key
from paymux.api.errors import proxy_error_response
from paymux.domain.errors import AuthenticationFailed
from paymux.observability import logger, metrics
from paymux.runtime import merchant_service
from paymux.settings import platform_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.utilities.typing import LambdaContext

LambdaHandler = Callable[[dict[str, Any], "LambdaContext"], dict[str, Any]]
AUTHENTICATED_PREFIX = "/v1/"


def build_lambda_handler(app: APIGatewayRestResolver) -> LambdaHandler:
    authenticate = CachedAuthenticator(lambda key: merchant_service().authenticate(key))

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        platform_settings()  # fails the cold start loudly if the function is misconfigured
        scope = None
        if str(event.get("path", "")).startswith(AUTHENTICATED_PREFIX):
            try:
                scope = authorizer_scope(event) or authenticate(bearer_key(event.get("headers")))
            except AuthenticationFailed as error:
                return proxy_error_response(error, (event.get("requestContext") or {}).get("requestId"))
            logger.append_keys(merchant_id=scope.merchant_id, mode=scope.mode.value)
        app.append_context(scope=scope)
        return app.resolve(event, context)

    return lambda_handler
