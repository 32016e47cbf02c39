"""The whole platform on one machine: an embedded AWS (moto), the ledger table, the real function
handlers behind the API Gateway emulation, and a demo merchant. `paymux local` runs it."""

from __future__ import annotations

import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

import paymux
from paymux.ledger.dynamodb import DynamoLedger
from paymux.ledger.schema import create_table
from paymux.local.aws import EmbeddedAws
from paymux.local.events import LocalEventSpine
from paymux.local.gateway import ApiGateway
from paymux.local.router import Router
from paymux.local.state import LocalPlatformState, PlatformNotRunning, read_state, remove_state, state_path
from paymux.services.merchants import CreatedMerchant, MerchantService

DEMO_TEST_KEY = "sk_test_demo"
# Variables that would point boto3 at a real account instead of the embedded AWS.
_REAL_AWS_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


class PlatformStartError(Exception):
    """The platform cannot start (its port is taken, another one is running, code is missing)."""


@dataclass(frozen=True)
class LocalConfig:
    port: int = 3000
    host: str = "127.0.0.1"
    table_name: str = "paymux-local"
    secrets_prefix: str = "paymux-local"
    event_bus_name: str = "paymux-local"
    region: str = "us-east-1"
    demo_test_key: str = DEMO_TEST_KEY


class LocalPlatform:
    def __init__(
        self,
        config: LocalConfig | None = None,
        *,
        state_file: Path | None = None,
        functions_root: Path | None = None,
        out: IO[str] | None = None,
        log: IO[str] | None = None,
    ) -> None:
        self.config = config or LocalConfig()
        self.state_file = state_file or state_path()
        self.functions_root = functions_root or default_functions_root()
        self.out = out or sys.stdout
        self.log = log or sys.stderr
        self.aws = EmbeddedAws(self.config.host, region=self.config.region)
        self.gateway: ApiGateway | None = None
        self.demo: CreatedMerchant | None = None
        self.events: LocalEventSpine | None = None
        self._stop = threading.Event()

    def start(self) -> LocalPlatformState:
        """Start AWS, provision it, start the gateway, create the demo merchant, write the state file.
        Raises PlatformStartError."""
        self._refuse_if_running()
        if not (self.functions_root / "functions").is_dir():
            raise PlatformStartError(
                f"no functions/ folder in {self.functions_root}: run from a paymux checkout"
            )
        self.gateway = ApiGateway(
            Router.from_topology(), host=self.config.host, port=self.config.port, log=self.log
        )
        try:
            self.gateway.bind()
        except OSError as error:
            raise PlatformStartError(
                f"cannot listen on {self.config.host}:{self.config.port}: {error.strerror}"
            ) from None
        if str(self.functions_root) not in sys.path:
            sys.path.insert(0, str(self.functions_root))
        self.aws.start()
        self._set_environment()
        self._provision()
        self.demo = MerchantService(DynamoLedger(self.config.table_name, self.aws.client("dynamodb"))).create(
            "Demo merchant", test_secret_key=self.config.demo_test_key
        )
        self.gateway.start()
        self.events = LocalEventSpine(
            self.aws.client, self.config.table_name, self.config.event_bus_name, log=self.log
        )
        self.events.provision()
        self.events.start()
        state = LocalPlatformState(
            api_url=self.gateway.url,
            aws_endpoint=self.aws.endpoint_url,
            region=self.config.region,
            table_name=self.config.table_name,
            secrets_prefix=self.config.secrets_prefix,
            event_bus_name=self.config.event_bus_name,
            pid=os.getpid(),
        )
        state.write(self.state_file)
        return state

    def stop(self) -> None:
        """Close the servers and remove the state file. Safe to call twice."""
        if self.events is not None:
            self.events.stop()
            self.events = None
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None
        self.aws.stop()
        remove_state(self.state_file, os.getpid())

    def request_stop(self) -> None:
        self._stop.set()

    def serve(self) -> int:
        """Run until SIGINT or SIGTERM; returns the exit code. Raises PlatformStartError."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            state = self.start()
            self.out.write(self.banner(state))
            self.out.flush()
            while not self._stop.wait(0.5):
                continue
            self.out.write("\nStopping paymux local ...\n")
            self.out.flush()
            return 0
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def banner(self, state: LocalPlatformState) -> str:
        merchant = self.demo.merchant.id if self.demo else "-"
        api, key = state.api_url, self.config.demo_test_key
        body = (
            '{"amount": 100, "currency": "cny", "merchant_order_id": "order-1", '
            '"subject": "Demo order", "scene": "qr"}'
        )
        return (
            "paymux is running locally (embedded AWS, no account needed)\n\n"
            f"  API            {api}\n"
            f"  OpenAPI        {api}/openapi.json\n"
            f"  embedded AWS   {state.aws_endpoint}  (table {state.table_name})\n"
            f"  demo merchant  {merchant}  test key {key}\n\n"
            "List payments:\n"
            f"  curl -s {api}/v1/payments -H 'Authorization: Bearer {key}'\n\n"
            "Create an Alipay QR payment:\n"
            f"  curl -s -X POST {api}/v1/channels/alipay/payments -H 'Authorization: Bearer {key}' \\\n"
            "    -H 'Idempotency-Key: demo-1' -H 'Content-Type: application/json' \\\n"
            f"    -d '{body}'\n\n"
            "In another terminal, `paymux merchants create NAME` and `paymux channels set ...`\n"
            "act on this platform.\n"
            "Stop with Ctrl-C.\n"
        )

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self.request_stop()

    def _refuse_if_running(self) -> None:
        try:
            running = read_state(self.state_file)
        except PlatformNotRunning:
            return
        raise PlatformStartError(
            f"a local platform is already running at {running.api_url} (pid {running.pid}); "
            f"stop it first, or set PAYMUX_HOME to run another"
        )

    def _set_environment(self) -> None:
        for name in _REAL_AWS_VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(self.aws.environment())
        os.environ.update(
            {
                "PAYMUX_TABLE_NAME": self.config.table_name,
                # A merchant's webhook receiver on this machine is the point of the local platform.
                "PAYMUX_WEBHOOK_TEST_LOOPBACK": "true",
                "PAYMUX_SECRETS_PREFIX": self.config.secrets_prefix,
                "PAYMUX_EVENT_BUS_NAME": self.config.event_bus_name,
            }
        )

    def _provision(self) -> None:
        create_table(self.aws.client("dynamodb"), self.config.table_name)
        self.aws.client("events").create_event_bus(Name=self.config.event_bus_name)


def default_functions_root() -> Path:
    """The checkout holding `functions/`: the folder above `layers/`."""
    return Path(paymux.__file__).resolve().parents[2]
