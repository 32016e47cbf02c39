"""What e2e tests drive: the running local platform (its CLI, state and logs) and an HTTP client."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
PAYMUX = Path(sys.executable).with_name("paymux")
DEMO_KEY = "sk_test_demo"


@dataclass(frozen=True)
class RunningPlatform:
    url: str
    home: Path
    environment: dict[str, str]
    logs: Path

    @property
    def state_file(self) -> Path:
        return self.home / "local.json"

    def state(self) -> dict[str, Any]:
        return dict(json.loads(self.state_file.read_text()))

    def cli(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """`paymux ARGUMENTS` against this platform (found through PAYMUX_HOME, not told its port)."""
        return subprocess.run(
            [str(PAYMUX), *arguments],
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(
            f"--- {path.name} ---\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            for path in sorted(self.logs.glob("*.log"))
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class ApiClient:
    """HTTP against the platform: `api.get("/v1/payments", key="sk_test_...")`."""

    base_url: str
    session: requests.Session

    def request(
        self,
        method: str,
        path: str,
        *,
        key: str | None = DEMO_KEY,
        idempotency_key: str | None = None,
        json_body: Any = None,
    ) -> requests.Response:
        headers = {}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return self.session.request(method, self.base_url + path, headers=headers, json=json_body, timeout=30)

    def get(self, path: str, *, key: str | None = DEMO_KEY) -> requests.Response:
        return self.request("GET", path, key=key)

    def post(
        self, path: str, json_body: Any, *, idempotency_key: str, key: str | None = DEMO_KEY
    ) -> requests.Response:
        return self.request("POST", path, key=key, idempotency_key=idempotency_key, json_body=json_body)
