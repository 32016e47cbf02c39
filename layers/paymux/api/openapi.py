"""The OpenAPI 3 document, generated from the same models that validate requests.

`python -m paymux.api.openapi` prints it (`make openapi` writes docs/openapi.json; a test fails when
that file is stale)."""

from __future__ import annotations

import json
import sys
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from paymux.api.channel_function import build_channel_router
from paymux.api.schemas import ErrorOut
from paymux.topology import MERCHANT_API, TOPOLOGY

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import Router

TITLE = "paymux API"
VERSION = "1.0.0"
DESCRIPTION = (
    "One API for Alipay, WeChat Pay, UnionPay and card (Stripe) payments. Authenticate with "
    "`Authorization: Bearer sk_test_…` or `sk_live_…`. Money is an integer in the currency's minor unit."
)


@cache
def openapi_document(merchant_routes: Router) -> str:
    """The document of the whole API: the merchant API's routes and every channel function's,
    gathered on a resolver that only documents (it serves nothing). Built once per process; its
    models load only when it is asked for."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

    documentation = APIGatewayRestResolver(enable_validation=True)
    # Including a router makes it delegate its requests to the including resolver: the live merchant
    # routes must keep answering through their own app, so their resolver is put back.
    serving = merchant_routes.api_resolver
    try:
        documentation.include_router(merchant_routes)
    finally:
        merchant_routes.api_resolver = serving
    for function in TOPOLOGY.functions:
        if function.channel is not None:
            documentation.include_router(build_channel_router(function.channel))
    document = json.loads(
        documentation.get_openapi_json_schema(
            title=TITLE,
            version=VERSION,
            description=DESCRIPTION,
            servers=[Server(url="/")],
            security_schemes={"secretKey": HTTPBearer(description="A secret key, sk_test_… or sk_live_…")},
            security=[{"secretKey": []}],
        )
    )
    return json.dumps(with_contract_errors(document))


# The error answers every /v1 operation may give, in the contract's shape (Powertools documents only
# its own 422 validation error, which paymux answers as a 400 instead).
CONTRACT_ERRORS: dict[str, str] = {
    "400": "Bad input: a parameter is missing, unknown or invalid",
    "401": "No valid secret key",
    "404": "No such object for this merchant and mode, or no such route",
    "409": "Conflicts with the object's state, or a request with this Idempotency-Key is in flight",
    "422": "This Idempotency-Key was used with another request",
    "429": "Too many requests",
    "500": "An internal error (logged; never a stack trace)",
    "502": "The channel failed or refused",
}


def with_contract_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Declare the contract's error responses (`ErrorOut`) on every /v1 operation."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorOut"] = error_schema
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for path, operations in document.get("paths", {}).items():
        if path.startswith("/webhooks/"):
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                responses["200"] = {"description": "Accepted, answered in the provider's own protocol"}
                responses["204"] = {"description": "Accepted (WeChat Pay), no body"}
                responses["400"] = {
                    "description": "Refused: verification or matching failed, changed nothing"
                }
                responses["404"] = {"description": "No such route (a target that is not an object id)"}
            continue
        if not path.startswith("/v1/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status, description in CONTRACT_ERRORS.items():
                responses.setdefault(status, {"description": description, "content": content})
    return document


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    routes = import_module(MERCHANT_API.module).router
    print(json.dumps(json.loads(openapi_document(routes)), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
