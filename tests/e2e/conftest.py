"""One local platform for the e2e session: `paymux local --port <free>` as a real subprocess with its
own PAYMUX_HOME, stopped with SIGTERM at the end (which must exit 0 and remove the state file)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
import requests

from tests.e2e.platform import PAYMUX, REPO_ROOT, ApiClient, RunningPlatform, free_port

_START_TIMEOUT_SECONDS = 90
_STOP_TIMEOUT_SECONDS = 20
# Settings that would send the platform's or the CLI's boto3 calls to a real account.
_AMBIENT_AWS_SETTINGS = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN")


@pytest.fixture(scope="session")
def local_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    """The running platform; fails (with its logs) if it does not come up or does not stop cleanly."""
    home = tmp_path_factory.mktemp("paymux-home")
    logs = tmp_path_factory.mktemp("paymux-logs")
    environment = {name: value for name, value in os.environ.items() if name not in _AMBIENT_AWS_SETTINGS}
    environment["PAYMUX_HOME"] = str(home)
    port = free_port()
    platform = RunningPlatform(f"http://127.0.0.1:{port}", home, environment, logs)
    with (logs / "stdout.log").open("w") as stdout, (logs / "stderr.log").open("w") as stderr:
        process = subprocess.Popen(
            [str(PAYMUX), "local", "--port", str(port)],
            cwd=REPO_ROOT,
            env=environment,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        _wait_until_ready(process, platform)
        yield platform
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(
                f"paymux local did not stop within {_STOP_TIMEOUT_SECONDS}s of SIGTERM\n{platform.log_tail()}"
            )
    assert code == 0, f"paymux local exited {code} on SIGTERM\n{platform.log_tail()}"
    assert not platform.state_file.exists(), "paymux local left its state file behind"


def _wait_until_ready(process: subprocess.Popen[bytes], platform: RunningPlatform) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"paymux local exited with {process.returncode}\n{platform.log_tail()}")
        if platform.state_file.exists():
            try:
                requests.get(f"{platform.url}/", timeout=2)
                return
            except requests.ConnectionError:
                pass
        time.sleep(0.2)
    process.kill()
    pytest.fail(f"paymux local was not ready within {_START_TIMEOUT_SECONDS}s\n{platform.log_tail()}")


@pytest.fixture(scope="session")
def api(local_platform: RunningPlatform) -> Iterator[ApiClient]:
    with requests.Session() as session:
        yield ApiClient(local_platform.url, session)
