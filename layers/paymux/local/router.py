"""Routes requests to functions the way API Gateway does, from the topology's path templates.

A template segment `{name}` matches one non-empty path segment and `{name+}` the rest of the path.
When several templates match, the most specific one wins (a literal segment beats a parameter).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from paymux.domain.errors import InvalidRequest, NotFound, PaymuxError
from paymux.topology import TOPOLOGY, FunctionSpec, Route, Topology


class RoutingError(Exception):
    """No function serves the request. `status` and `error` say how API Gateway answers it."""

    status: int

    def __init__(self, error: PaymuxError, allowed: tuple[str, ...] = ()) -> None:
        super().__init__(error.message)
        self.error = error
        self.allowed = allowed


class RouteNotFound(RoutingError):
    status = 404


class MethodNotAllowed(RoutingError):
    status = 405


@dataclass(frozen=True)
class PathTemplate:
    """An API Gateway resource path such as `/v1/payments/{payment_id}`."""

    template: str

    @property
    def segments(self) -> tuple[str, ...]:
        return split_path(self.template)

    def match(self, path: str) -> dict[str, str] | None:
        """The URL-decoded path parameters if `path` matches, else None."""
        raw_segments = split_path(path)
        parameters: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            name = _parameter_name(segment)
            if name is not None and name.endswith("+"):
                rest = raw_segments[index:]
                if not rest:
                    return None
                parameters[name[:-1]] = unquote("/".join(rest))
                return parameters
            if index >= len(raw_segments):
                return None
            value = unquote(raw_segments[index])
            if name is None and value != segment:
                return None
            if name is not None:
                if not value:
                    return None
                parameters[name] = value
        return parameters if len(raw_segments) == len(self.segments) else None

    def specificity(self) -> tuple[int, ...]:
        """Orders matching templates: literal segments first, then single, then greedy parameters."""
        return tuple(_segment_rank(segment) for segment in self.segments)


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    function: FunctionSpec
    path_parameters: dict[str, str]

    @property
    def resource(self) -> str:
        return self.route.path


class Router:
    """Matches (method, path) against a set of routes."""

    def __init__(self, routes: Iterable[tuple[Route, FunctionSpec]]) -> None:
        self._routes = [(PathTemplate(route.path), route, function) for route, function in routes]

    @classmethod
    def from_topology(cls, topology: Topology = TOPOLOGY) -> Router:
        return cls(topology.routes())

    def match(self, method: str, path: str) -> RouteMatch:
        """The route serving the request. Raises RouteNotFound when no template matches the path and
        MethodNotAllowed when templates match but none for this method."""
        candidates: list[tuple[tuple[int, ...], RouteMatch]] = []
        for template, route, function in self._routes:
            parameters = template.match(path)
            if parameters is not None:
                candidates.append((template.specificity(), RouteMatch(route, function, parameters)))
        if not candidates:
            raise RouteNotFound(
                NotFound(f"Unrecognized request URL ({method} {path})", code="route_not_found")
            )
        for_method = [candidate for candidate in candidates if candidate[1].route.method == method.upper()]
        if not for_method:
            allowed = tuple(sorted({candidate[1].route.method for candidate in candidates}))
            raise MethodNotAllowed(
                InvalidRequest(
                    f"{method} is not allowed on {path}; use {', '.join(allowed)}", code="method_not_allowed"
                ),
                allowed,
            )
        return max(for_method, key=lambda candidate: candidate[0])[1]

    def find_resource(self, method: str, path: str) -> RouteMatch | None:
        """Like `match`, but None where no route serves the request."""
        try:
            return self.match(method, path)
        except RoutingError:
            return None


def routing_error_response(error: RoutingError, request_id: str) -> dict[str, object]:
    """A Lambda proxy response carrying the contract's error JSON."""
    headers = {"Content-Type": "application/json"}
    if error.allowed:
        headers["Allow"] = ", ".join(error.allowed)
    body = {
        "error": {
            "type": error.error.type,
            "code": error.error.code,
            "message": error.error.message,
            "param": error.error.param,
            "request_id": request_id,
        }
    }
    return {
        "statusCode": error.status,
        "headers": headers,
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def split_path(path: str) -> tuple[str, ...]:
    """`/v1/payments/x` → ("v1", "payments", "x"); a trailing slash is a distinct, empty segment."""
    return tuple(path.split("?", 1)[0].split("/")[1:]) if path not in ("", "/") else ()


def _parameter_name(segment: str) -> str | None:
    return segment[1:-1] if segment.startswith("{") and segment.endswith("}") else None


def _segment_rank(segment: str) -> int:
    name = _parameter_name(segment)
    if name is None:
        return 2
    return 0 if name.endswith("+") else 1
