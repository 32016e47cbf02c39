"""Routing requests to functions from the topology's path templates."""

from __future__ import annotations

import json

import pytest

from paymux.local.router import (
    MethodNotAllowed,
    PathTemplate,
    RouteNotFound,
    Router,
    routing_error_response,
)
from paymux.topology import TOPOLOGY, FunctionSpec, Route

ALPHA = FunctionSpec(name="alpha", source="alpha", description="a")
BETA = FunctionSpec(name="beta", source="beta", description="b")


def test_every_topology_route_routes_to_its_function() -> None:
    router = Router.from_topology()

    for route, function in TOPOLOGY.routes():
        concrete = route.path.replace("{", "x_").replace("}", "")
        match = router.match(route.method, concrete)
        assert (match.function, match.route) == (function, route)


def test_path_parameters_are_extracted_and_decoded() -> None:
    match = Router.from_topology().match("POST", "/v1/payments/pay_%41B/refunds")

    assert match.function.name == "merchant-api"
    assert match.resource == "/v1/payments/{payment_id}/refunds"
    assert match.path_parameters == {"payment_id": "pay_AB"}


def test_channel_routes_go_to_the_channel_function() -> None:
    router = Router.from_topology()

    assert router.match("POST", "/v1/channels/alipay/payments").function.name == "channel-alipay"
    assert router.match("POST", "/webhooks/alipay").function.name == "channel-alipay"


@pytest.mark.parametrize(
    "path", ["/nope", "/v1/payments/pay_1/refunds/re_1", "/v1/payments/", "/v1/channels/paypal/payments", ""]
)
def test_unknown_paths_are_not_found(path: str) -> None:
    with pytest.raises(RouteNotFound):
        Router.from_topology().match("GET", path)


def test_a_known_path_with_another_method_is_not_allowed() -> None:
    with pytest.raises(MethodNotAllowed) as raised:
        Router.from_topology().match("PUT", "/v1/webhook_endpoints")

    assert raised.value.allowed == ("GET", "POST")


def test_a_literal_segment_beats_a_parameter() -> None:
    router = Router(
        [(Route("GET", "/v1/things/{thing_id}"), ALPHA), (Route("GET", "/v1/things/search"), BETA)]
    )

    assert router.match("GET", "/v1/things/search").function is BETA
    assert router.match("GET", "/v1/things/th_1").function is ALPHA


def test_a_greedy_parameter_takes_the_rest_of_the_path() -> None:
    template = PathTemplate("/static/{proxy+}")

    assert template.match("/static/css/site.css") == {"proxy": "css/site.css"}
    assert template.match("/static") is None
    assert PathTemplate("/v1/payments/{payment_id}").match("/v1/payments/pay_1/close") is None


def test_routing_errors_answer_in_the_contract_shape() -> None:
    with pytest.raises(MethodNotAllowed) as raised:
        Router.from_topology().match("DELETE", "/v1/payments")

    response = routing_error_response(raised.value, "req-1")

    assert response["statusCode"] == 405
    assert response["headers"] == {"Content-Type": "application/json", "Allow": "GET"}
    body = json.loads(str(response["body"]))
    assert body == {
        "error": {
            "type": "invalid_request_error",
            "code": "method_not_allowed",
            "message": "DELETE is not allowed on /v1/payments; use GET",
            "param": None,
            "request_id": "req-1",
        }
    }


def test_not_found_answers_404_with_its_code() -> None:
    with pytest.raises(RouteNotFound) as raised:
        Router.from_topology().match("GET", "/v2/payments")

    response = routing_error_response(raised.value, "req-2")
    assert response["statusCode"] == 404
    assert json.loads(str(response["body"]))["error"]["code"] == "route_not_found"
