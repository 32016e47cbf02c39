"""`Idempotency-Key` on every POST under /v1 (required), with Powertools idempotency on the shared
table.

The key is scoped to the merchant and mode; the request's method, path and body are its payload,
so the same key and body replay the first response (`Idempotent-Replayed: true`), the same key
with another request is a 422, and a request still in flight under the key is a 409. Responses of
5xx are not stored, so a retry after a failure runs again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from paymux.api.request import merchant_scope
from paymux.domain.errors import IdempotencyInFlight, IdempotencyKeyReused, InvalidRequest
from paymux.ledger.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE, Keys
from paymux.runtime import dynamodb_client
from paymux.settings import platform_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

NextMiddleware = Callable[["ApiGatewayResolver"], Response[Any]]
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_MAX_KEY_LENGTH = 255


class _NotStored(Exception):
    """Carries a 5xx response out of the idempotent call so Powertools deletes the record."""

    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__("response not stored")
        self.response = response


def idempotency_middleware(app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response[Any]:
    event = app.current_event
    key = event.headers.get(HEADER)  # Powertools headers are case-insensitive
    if event.http_method != "POST" or not event.path.startswith("/v1/"):
        return next_middleware(app)
    if key is None:
        # Required, not optional: a client retrying a refund after a timeout without a key would
        # otherwise refund twice.
        raise InvalidRequest(
            f"Every POST under /v1 needs an {HEADER} header (any unique string, e.g. a UUID)",
            param=HEADER,
            code="parameter_missing",
        )
    if not 0 < len(key) <= _MAX_KEY_LENGTH:
        raise InvalidRequest(f"{HEADER} must be 1 to {_MAX_KEY_LENGTH} characters", param=HEADER)
    scope = merchant_scope(app)

    def run(request: dict[str, Any]) -> dict[str, Any]:  # noqa: ARG001 - Powertools hashes it
        stored = _serialize(next_middleware(app), app)
        if stored["status"] >= 500:
            raise _NotStored(stored)
        return stored

    settings = platform_settings()
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="fingerprint",
        expires_after_seconds=settings.idempotency_ttl_seconds,
        hash_function="sha256",
        response_hook=_mark_replayed,
    )
    if app.lambda_context is not None:
        # Before the call, so an in-flight record expires with this invocation if it dies.
        config.register_lambda_context(app.lambda_context)
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.table_name,
        key_attr=PARTITION_KEY,
        sort_key_attr=SORT_KEY,
        static_pk_value=Keys.idempotency_partition(scope.merchant_id, scope.mode),
        expiry_attr=TTL_ATTRIBUTE,
        boto3_client=dynamodb_client(),
    )
    body = event.body or ""
    fingerprint = hashlib.sha256(f"{event.http_method} {event.path}\n{body}".encode()).hexdigest()
    idempotent = idempotent_function(
        run, data_keyword_argument="request", persistence_store=persistence, config=config, key_prefix="v1"
    )
    try:
        stored = idempotent(request={"key": key, "fingerprint": fingerprint})
    except _NotStored as not_stored:
        stored = not_stored.response
    except IdempotencyValidationError:
        raise IdempotencyKeyReused(
            f"This {HEADER} was already used with another request; use a new key", param=HEADER
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise IdempotencyInFlight(
            f"A request with this {HEADER} is still in progress; retry later", param=HEADER
        ) from None
    return _deserialize(stored)


def _serialize(response: Response[Any], app: ApiGatewayResolver) -> dict[str, Any]:
    body = response.body if isinstance(response.body, str | None) else app._serializer(response.body)
    headers = {k: v for k, v in response.headers.items() if isinstance(v, str)}
    return {
        "status": response.status_code,
        "body": body,
        "content_type": response.content_type,
        "headers": headers,
    }


def _deserialize(stored: dict[str, Any]) -> Response[Any]:
    headers = dict(stored.get("headers") or {})
    if stored.get("replayed"):
        headers[REPLAYED_HEADER] = "true"
    return Response(
        status_code=int(stored["status"]),
        content_type=stored.get("content_type"),
        body=stored.get("body"),
        headers=headers,
    )


def _mark_replayed(response: Any, idempotent_data: DataRecord) -> Any:  # noqa: ARG001
    return {**response, "replayed": True} if isinstance(response, dict) else response
