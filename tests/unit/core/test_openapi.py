"""The OpenAPI document is generated offline from the request models, and docs/openapi.json is current."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def generated() -> dict:  # type: ignore[type-arg]
    out = subprocess.run(
        [sys.executable, "-m", "paymux.api.openapi"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT / 'layers'}", "PATH": ""},
    )
    return json.loads(out.stdout)


def test_the_document_needs_no_environment_and_describes_every_route():
    document = generated()
    paths = document["paths"]
    assert {"/v1/payments", "/v1/payments/{payment_id}/refunds", "/v1/channels/alipay/payments"} <= set(paths)
    create = paths["/v1/channels/alipay/payments"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    assert create["$ref"].endswith("CreatePaymentBody")
    assert document["components"]["schemas"]["CreatePaymentBody"]["properties"]["amount"]["type"] == "integer"


def test_docs_openapi_json_is_current():
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert committed == generated(), "docs/openapi.json is stale: run `make openapi`"


def test_documenting_the_merchant_routes_leaves_them_serving_through_their_own_app():
    from functions.merchant_api.app import app, router

    from paymux.api.openapi import openapi_document

    assert "/v1/channels/alipay/payments" in json.loads(openapi_document(router))["paths"]
    assert router.api_resolver is app
    assert not any("/v1/channels/" in str(route.rule) for route in app._static_routes + app._dynamic_routes)
