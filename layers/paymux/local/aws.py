"""An embedded AWS: moto's server in a thread on a loopback port, one request at a time.

moto's conditional writes are not atomic across threads (two racing conditional puts can both win),
so every request into moto holds one lock: the ledger's guarantees (a payment is paid once, refunds
never pass the amount) then hold locally as they do on DynamoDB.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from paymux.local.endpoint import aws_environment, local_client

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class SerializedWsgiApp:
    """A WSGI middleware that lets one request at a time through to the wrapped app, response
    body included."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        with self.lock:
            result = self.app(environ, start_response)
            try:
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


class EmbeddedAws:
    """moto's server on `host:port` (0 picks a free port) in a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, region: str = "us-east-1") -> None:
        self.host = host
        self.port = port
        self.region = region
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the embedded AWS is not started")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> str:
        """Bind and serve; returns the endpoint URL. Raises OSError if the port is taken."""
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per moto request
        app = SerializedWsgiApp(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-aws", daemon=True)
        self._thread.start()
        return self.endpoint_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def environment(self) -> dict[str, str]:
        """The environment that points boto3 in this process (and its handlers) at this AWS."""
        return aws_environment(self.endpoint_url, self.region)

    def client(self, service: str) -> Any:
        return local_client(service, self.endpoint_url, self.region)
