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

from paymux.api.channel_function import build_channel_router
from paymux.topology import MERCHANT_API, TOPOLOGY

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

TITLE = "paymux API"
VERSION = "1.0.0"
DESCRIPTION = (
    "One API for Alipay, WeChat Pay, UnionPay and card (Stripe) payments. Authenticate with "
    "`Authorization: Bearer sk_test_…` or `sk_live_…`. Money is an integer in the currency's minor unit."
)


def include_channel_routes(app: APIGatewayRestResolver) -> None:
    """Add every channel's routes so the merchant API's document describes the whole API (API
    Gateway sends those paths to the channel functions, never here)."""
    for function in TOPOLOGY.functions:
        if function.channel is not None:
            app.include_router(build_channel_router(function.channel))


@cache
def openapi_document(app: APIGatewayRestResolver) -> str:
    """The document of `app`, built once per process (its models load only when it is asked for)."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

    return app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        servers=[Server(url="/")],
        security_schemes={"secretKey": HTTPBearer(description="A secret key, sk_test_… or sk_live_…")},
        security=[{"secretKey": []}],
    )


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    app = import_module(MERCHANT_API.module).app
    print(json.dumps(json.loads(openapi_document(app)), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
