"""Domain errors to HTTP, in one place, in the contract's shape:
`{"error": {"type", "code", "message", "param", "request_id"}}`."""

from __future__ import annotations

import json
from typing import Any

from paymux.domain.errors import (
    AuthenticationFailed,
    ChannelError,
    Conflict,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    InvalidRequest,
    NotFound,
    NotificationRejected,
    PaymuxError,
    RateLimited,
)

# First match wins: subclasses before their bases.
_STATUS: tuple[tuple[type[PaymuxError], int], ...] = (
    (AuthenticationFailed, 401),
    (NotFound, 404),
    (IdempotencyKeyReused, 422),
    (IdempotencyInFlight, 409),
    (Conflict, 409),
    (RateLimited, 429),
    (ChannelError, 502),
    (InvalidRequest, 400),
    (NotificationRejected, 400),
)


def status_for(error: PaymuxError) -> int:
    return next((status for kind, status in _STATUS if isinstance(error, kind)), 500)


def error_body(error: PaymuxError, request_id: str | None) -> dict[str, Any]:
    return {
        "error": {
            "type": error.type,
            "code": error.code,
            "message": error.message,
            "param": error.param,
            "request_id": request_id,
        }
    }


def proxy_error_response(error: PaymuxError, request_id: str | None) -> dict[str, Any]:
    """An API Gateway proxy response for an error raised before the resolver runs (auth)."""
    return {
        "statusCode": status_for(error),
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(error_body(error, request_id)),
        "isBase64Encoded": False,
    }
