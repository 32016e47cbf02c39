"""The API Gateway REST proxy event builder and the Lambda context."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from paymux.local.apigw import lambda_context, response_body, response_headers, rest_event


def test_a_get_with_multi_value_query_and_headers() -> None:
    event = rest_event(
        "get",
        "/v1/payments?status=succeeded&channel=alipay",
        query=[("channel", "wechatpay"), ("limit", "5")],
        headers=[("Authorization", "Bearer sk_test_x"), ("X-Tag", "a"), ("X-Tag", "b")],
    )

    assert event["httpMethod"] == "GET"
    assert event["path"] == "/v1/payments"
    assert event["resource"] == "/v1/payments"
    assert event["queryStringParameters"] == {"status": "succeeded", "channel": "wechatpay", "limit": "5"}
    assert event["multiValueQueryStringParameters"] == {
        "status": ["succeeded"],
        "channel": ["alipay", "wechatpay"],
        "limit": ["5"],
    }
    assert event["headers"]["X-Tag"] == "b"
    assert event["multiValueHeaders"]["X-Tag"] == ["a", "b"]
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    assert event["pathParameters"] is None


def test_path_parameters_and_resource_come_from_the_topology_template() -> None:
    event = rest_event("POST", "/v1/payments/pay_123/refunds", json_body={"amount": 50})

    assert event["resource"] == "/v1/payments/{payment_id}/refunds"
    assert event["requestContext"]["resourcePath"] == "/v1/payments/{payment_id}/refunds"
    assert event["pathParameters"] == {"payment_id": "pay_123"}
    assert json.loads(event["body"]) == {"amount": 50}
    assert event["headers"]["Content-Type"] == "application/json"


def test_an_explicit_resource_gives_decoded_path_parameters() -> None:
    event = rest_event("GET", "/files/a%20b/c", resource="/files/{name}/{part}")

    assert event["pathParameters"] == {"name": "a b", "part": "c"}
    assert event["path"] == "/files/a b/c"


def test_a_path_outside_the_resource_is_refused() -> None:
    with pytest.raises(ValueError, match="does not match"):
        rest_event("GET", "/v1/refunds", resource="/v1/payments/{payment_id}")


def test_utf8_bodies_stay_text_and_other_bytes_are_base64() -> None:
    text = rest_event("POST", "/webhooks/alipay", body="subject=订单".encode())
    binary = rest_event("POST", "/webhooks/alipay", body=b"\xff\x00\xfe")

    assert text["body"] == "subject=订单"
    assert text["isBase64Encoded"] is False
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\xff\x00\xfe"


def test_body_and_json_body_are_exclusive() -> None:
    with pytest.raises(ValueError, match="either"):
        rest_event("POST", "/v1/webhook_endpoints", body="{}", json_body={})


def test_request_context_is_what_api_gateway_sends() -> None:
    event = rest_event(
        "POST",
        "/webhooks/alipay",
        headers={"User-Agent": "alipay"},
        source_ip="10.1.2.3",
        domain_name="api.test",
    )

    context = event["requestContext"]
    assert uuid.UUID(context["requestId"])
    assert context["stage"] == "local"
    assert context["domainName"] == "api.test"
    assert context["identity"]["sourceIp"] == "10.1.2.3"
    assert context["identity"]["userAgent"] == "alipay"
    assert context["httpMethod"] == "POST"
    assert context["path"] == "/webhooks/alipay"
    assert rest_event("GET", "/openapi.json")["requestContext"]["requestId"] != context["requestId"]


def test_powertools_reads_the_event() -> None:
    event = APIGatewayProxyEvent(
        rest_event("GET", "/v1/events/evt_1?limit=3", headers={"Authorization": "Bearer k"}, request_id="r-1")
    )

    assert event.path == "/v1/events/evt_1"
    assert event.path_parameters == {"event_id": "evt_1"}
    assert event.get_query_string_value("limit") == "3"
    assert event.headers.get("authorization") == "Bearer k"
    assert event.request_context.request_id == "r-1"


def test_lambda_context_counts_down_from_the_timeout() -> None:
    context = lambda_context("merchant-api", memory_mb=256, timeout_seconds=10)

    assert context.function_name == "merchant-api"
    assert context.memory_limit_in_mb == 256
    assert context.invoked_function_arn.endswith(":function:merchant-api")
    assert 9_000 < context.get_remaining_time_in_millis() <= 10_000
    assert uuid.UUID(context.aws_request_id)


def test_proxy_responses_decode_and_multi_value_headers_win() -> None:
    response = {
        "statusCode": 200,
        "headers": {"Content-Type": "text/plain", "Set-Cookie": "x=1"},
        "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]},
        "body": base64.b64encode(b"\x89PNG").decode(),
        "isBase64Encoded": True,
    }

    assert response_body(response) == b"\x89PNG"
    assert response_headers(response) == [
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
        ("Content-Type", "text/plain"),
    ]
    assert response_body({"statusCode": 204}) == b""
