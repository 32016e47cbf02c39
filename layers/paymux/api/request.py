"""What the handlers read from an API Gateway event beyond validated bodies."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from paymux.channels.base import ProviderRequest
from paymux.domain.models import MerchantScope
from paymux.settings import platform_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent


def merchant_scope(app: BaseRouter) -> MerchantScope:
    """The authenticated merchant and mode of this request (set by the handler builder)."""
    scope = app.context.get("scope")
    if not isinstance(scope, MerchantScope):
        raise RuntimeError("merchant_scope() called on a route that is not authenticated")
    return scope


def public_base_url(app: BaseRouter) -> str:
    """The platform's own base URL as the caller reached it: where providers post notifications.
    `PAYMUX_PUBLIC_BASE_URL` wins (a custom domain); else the request's host and stage."""
    configured = platform_settings().public_base_url
    if configured:
        return configured.rstrip("/")
    event: APIGatewayProxyEvent = app.current_event  # type: ignore[assignment]
    proto = event.headers.get("x-forwarded-proto") or "https"  # Powertools headers are case-insensitive
    host = event.headers.get("host") or event.request_context.domain_name
    stage = event.request_context.stage
    # execute-api hosts carry the stage in the path; custom domains and the local platform do not.
    prefix = f"/{stage}" if host and host.endswith(".amazonaws.com") and stage and stage != "$default" else ""
    return f"{proto}://{host}{prefix}"


def provider_request(app: BaseRouter) -> ProviderRequest:
    """The raw provider request: exact body bytes (signatures cover them) and lower-case headers."""
    event: APIGatewayProxyEvent = app.current_event  # type: ignore[assignment]
    raw = event.body or ""
    body = base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8")
    return ProviderRequest(
        method=event.http_method,
        path=event.path,
        headers={k.lower(): v for k, v in (event.headers or {}).items()},
        body=body,
        query=dict(event.query_string_parameters or {}),
    )
