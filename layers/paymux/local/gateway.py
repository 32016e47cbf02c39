"""The API Gateway emulation: an HTTP server that turns each request into a REST proxy event, calls
the route's function handler in-process and writes its proxy response back.

The server is threaded: a handler may call back into it (the test-complete route posts the sandbox's
signed notification to `/webhooks/{channel}` on this same server).
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any, Protocol, cast

from paymux.local.apigw import lambda_context, response_body, response_headers, rest_event
from paymux.local.router import Router, RoutingError, routing_error_response
from paymux.topology import FunctionSpec

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"}


class HandlerSource(Protocol):
    def handler(self, function: FunctionSpec) -> LambdaHandler: ...


class FunctionLoader:
    """Imports each function's module on its first request and keeps its `lambda_handler`."""

    def __init__(self) -> None:
        self._handlers: dict[str, LambdaHandler] = {}
        self._lock = threading.Lock()

    def handler(self, function: FunctionSpec) -> LambdaHandler:
        """Raises ImportError or AttributeError when the module or its handler is missing."""
        with self._lock:
            if function.module not in self._handlers:
                module = importlib.import_module(function.module)
                self._handlers[function.module] = cast(LambdaHandler, module.lambda_handler)
            return self._handlers[function.module]


@dataclass(frozen=True)
class GatewayRequest:
    method: str
    target: str  # path and query string, as sent
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    function: str | None = None


class ApiGateway:
    """Serves `router`'s routes on http://host:port (port 0 picks a free one). `bind` claims the port,
    `start` serves; `invoke` is the whole request path without the socket."""

    def __init__(
        self,
        router: Router,
        loader: HandlerSource | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        log: IO[str] | None = None,
    ) -> None:
        self.router = router
        self.loader = loader or FunctionLoader()
        self.log = log or sys.stderr
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def bind(self) -> None:
        """Claim the port without serving yet. Raises OSError when it is taken."""
        self._bound_server()

    def start(self) -> None:
        """Serve in a daemon thread (binding first if needed). Raises OSError when the port is taken."""
        server = self._bound_server()
        self._thread = threading.Thread(target=server.serve_forever, name="api-gateway", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
                self._thread.join(timeout=5)
            self._server.server_close()
        self._server = None
        self._thread = None

    def _bound_server(self) -> _Server:
        if self._server is None:
            self._server = _Server((self.host, self.port), _RequestHandler)
            self._server.gateway = self
            self.port = int(self._server.server_address[1])
        return self._server

    def invoke(self, request: GatewayRequest) -> GatewayResponse:
        """Route, build the proxy event, call the handler and translate its response. Never raises:
        routing errors answer 404/405 and handler failures 502, in the contract's error shape."""
        request_id = str(uuid.uuid4())
        method = request.method.upper()
        path = request.target.split("?", 1)[0]
        try:
            match = self.router.match(method, path)
        except RoutingError as error:
            return _translate(routing_error_response(error, request_id), request_id)
        headers = self._forwarded_headers(request)
        host = next((value for name, value in headers if name.lower() == "host"), "localhost")
        event = rest_event(
            method,
            request.target,
            headers=headers,
            body=request.body or None,
            resource=match.resource,
            source_ip=request.source_ip,
            domain_name=host.split(":", 1)[0],
            request_id=request_id,
        )
        function = match.function
        context = lambda_context(
            function.name, memory_mb=function.memory_mb, timeout_seconds=function.timeout_seconds
        )
        try:
            result = self.loader.handler(function)(event, context)
            response = _translate(result, request_id)
        except Exception:
            self.log.write(f"[{function.name}] handler failed:\n{traceback.format_exc()}")
            response = _translate(_bad_gateway(request_id, "Internal server error"), request_id)
        return GatewayResponse(response.status, response.headers, response.body, function.name)

    def _forwarded_headers(self, request: GatewayRequest) -> list[tuple[str, str]]:
        """The client's headers plus what API Gateway adds, so a handler can derive the public URL."""
        replaced = {"x-forwarded-proto", "x-forwarded-port", "x-forwarded-for"}
        headers = [(name, value) for name, value in request.headers if name.lower() not in replaced]
        if not any(name.lower() == "host" for name, _ in headers):
            headers.append(("Host", f"{self.host}:{self.port}"))
        forwarded_for = [value for name, value in request.headers if name.lower() == "x-forwarded-for"]
        headers += [
            ("X-Forwarded-For", ", ".join([*forwarded_for, request.source_ip])),
            ("X-Forwarded-Port", str(self.port)),
            ("X-Forwarded-Proto", "http"),
        ]
        return headers


def _translate(result: object, request_id: str) -> GatewayResponse:
    """A Lambda proxy response as HTTP; a malformed one is a 502, as API Gateway answers."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return _translate(_bad_gateway(request_id, "Malformed Lambda proxy response"), request_id)
    headers = [(name, value) for name, value in response_headers(result) if name.lower() not in _HOP_BY_HOP]
    headers.append(("x-amzn-RequestId", request_id))
    return GatewayResponse(int(result["statusCode"]), headers, response_body(result))


def _bad_gateway(request_id: str, message: str) -> dict[str, Any]:
    error = {
        "type": "api_error",
        "code": "internal_error",
        "message": message,
        "param": None,
        "request_id": request_id,
    }
    return {
        "statusCode": 502,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"error": error}),
        "isBase64Encoded": False,
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    gateway: ApiGateway


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "paymux-local"

    def _serve(self) -> None:
        started = time.perf_counter()
        request = GatewayRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=self._read_body(),
            source_ip=self.client_address[0],
        )
        response = self.server.gateway.invoke(request)
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.server.gateway.log.write(
            f'{request.source_ip} "{self.command} {self.path}" {response.status} {elapsed_ms:.0f}ms '
            f"{response.function or '-'}\n"
        )
        self.server.gateway.log.flush()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    continue
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """`_serve` writes one line per request; http.server's own line is dropped (errors still log)."""

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve  # noqa: N815 - http.server
