"""The OpenAPI 3 document, generated from the same models that validate requests.

`python -m paymux.api.openapi` prints it (`make openapi` writes docs/openapi.json; a test fails when
that file is stale)."""

from __future__ import annotations

import json
import sys
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from paymux.api.channel_function import build_channel_router
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
    return documentation.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        servers=[Server(url="/")],
        security_schemes={"secretKey": HTTPBearer(description="A secret key, sk_test_… or sk_live_…")},
        security=[{"secretKey": []}],
    )


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    routes = import_module(MERCHANT_API.module).router
    print(json.dumps(json.loads(openapi_document(routes)), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
