"""The API Gateway emulation's request path (`ApiGateway.invoke`), without a socket."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest

from paymux.local.gateway import ApiGateway, GatewayRequest, LambdaHandler
from paymux.local.router import Router
from paymux.topology import FunctionSpec, Route

ECHO = FunctionSpec(name="echo", source="echo", description="echo", memory_mb=256, timeout_seconds=7)
ROUTES = [(Route("POST", "/v1/echo/{thing_id}"), ECHO), (Route("GET", "/v1/echo"), ECHO)]


class StubHandlers:
    """Hands out one handler for every function and records what it was called with."""

    def __init__(self, handler: LambdaHandler) -> None:
        self._handler = handler
        self.calls: list[tuple[dict[str, Any], Any]] = []

    def handler(self, function: FunctionSpec) -> LambdaHandler:
        def record(event: dict[str, Any], context: Any) -> dict[str, Any]:
            self.calls.append((event, context))
            return self._handler(event, context)

        return record


def gateway(handler: LambdaHandler, log: io.StringIO | None = None) -> tuple[ApiGateway, StubHandlers]:
    handlers = StubHandlers(handler)
    return ApiGateway(Router(ROUTES), handlers, port=3456, log=log or io.StringIO()), handlers


def request(
    method: str, target: str, headers: list[tuple[str, str]] | None = None, body: bytes = b""
) -> GatewayRequest:
    return GatewayRequest(method, target, headers or [("Host", "127.0.0.1:3456")], body, "127.0.0.9")


def ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}


def test_the_handler_gets_the_proxy_event_and_its_function_context() -> None:
    api, handlers = gateway(ok)

    response = api.invoke(request("POST", "/v1/echo/th_1?x=1&x=2", body=b"\xff\xfe"))

    assert response.status == 200
    assert response.function == "echo"
    (event, context) = handlers.calls[0]
    assert event["resource"] == "/v1/echo/{thing_id}"
    assert event["pathParameters"] == {"thing_id": "th_1"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe"
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.9"
    assert event["requestContext"]["domainName"] == "127.0.0.1"
    assert (context.function_name, context.memory_limit_in_mb) == ("echo", 256)
    assert dict(response.headers)["x-amzn-RequestId"] == event["requestContext"]["requestId"]


def test_forwarded_headers_are_set_as_api_gateway_does() -> None:
    api, handlers = gateway(ok)

    api.invoke(request("GET", "/v1/echo", [("X-Forwarded-Proto", "https"), ("X-Forwarded-For", "1.2.3.4")]))

    headers = handlers.calls[0][0]["headers"]
    assert headers["Host"] == "127.0.0.1:3456"
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["X-Forwarded-Port"] == "3456"
    assert headers["X-Forwarded-For"] == "1.2.3.4, 127.0.0.9"


def test_an_empty_body_is_null() -> None:
    api, handlers = gateway(ok)

    api.invoke(request("GET", "/v1/echo"))

    assert handlers.calls[0][0]["body"] is None


def test_unknown_routes_never_reach_a_handler() -> None:
    api, handlers = gateway(ok)

    missing = api.invoke(request("GET", "/v1/other"))
    wrong_method = api.invoke(request("DELETE", "/v1/echo"))

    assert (missing.status, wrong_method.status) == (404, 405)
    assert dict(wrong_method.headers)["Allow"] == "GET"
    assert json.loads(missing.body)["error"]["request_id"] == dict(missing.headers)["x-amzn-RequestId"]
    assert handlers.calls == []


def test_binary_responses_and_repeated_headers_are_written_as_sent() -> None:
    def png(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {
            "statusCode": 201,
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "headers": {"Content-Type": "image/png", "Content-Length": "999"},
            "body": base64.b64encode(b"\x89PNG").decode(),
            "isBase64Encoded": True,
        }

    response = gateway(png)[0].invoke(request("GET", "/v1/echo"))

    assert response.status == 201
    assert response.body == b"\x89PNG"
    assert [value for name, value in response.headers if name == "Set-Cookie"] == ["a=1", "b=2"]
    assert "Content-Length" not in dict(response.headers)


def crash(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise RuntimeError("boom: the secret is hunter2")


def malformed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"body": "no status"}


@pytest.mark.parametrize(("handler", "message"), [(crash, "Internal server error"), (malformed, "Malformed")])
def test_handler_failures_are_a_502_in_the_contract_shape(handler: LambdaHandler, message: str) -> None:
    log = io.StringIO()
    api, _ = gateway(handler, log)

    response = api.invoke(request("GET", "/v1/echo"))

    assert response.status == 502
    error = json.loads(response.body)["error"]
    assert error["type"] == "api_error"
    assert message in error["message"]
    assert "hunter2" not in response.body.decode()
    if handler is crash:
        assert "RuntimeError" in log.getvalue()
