"""AWS DynamoDB Local as a child process on a free loopback port, for the integration and
concurrency tests (and any e2e test that wants a real engine rather than moto)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_INSTALL_DIR = REPO_ROOT / ".cache" / "dynamodb-local"
LAUNCHER = Path(__file__).with_name("DynamoDBLocalLoopback.java")
_START_TIMEOUT_SECONDS = 60.0


class DynamoDBLocalUnavailable(RuntimeError):
    """Java or the DynamoDB Local jar is missing, or the process did not come up."""


@dataclass
class DynamoDBLocal:
    """A running DynamoDB Local. `endpoint_url` is what boto3 clients take."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Terminate the process (kill it if it does not exit within 10 s)."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start(log_path: Path, install_dir: Path = DEFAULT_INSTALL_DIR) -> DynamoDBLocal:
    """Start DynamoDB Local in memory on a free 127.0.0.1 port and wait until it answers.

    Raises DynamoDBLocalUnavailable (with what to do) if Java or the jar is missing or it does not start.
    """
    java = shutil.which("java")
    if java is None:
        raise DynamoDBLocalUnavailable("`java` is not on PATH: DynamoDB Local needs Java 17")
    jar = install_dir / "DynamoDBLocal.jar"
    if not jar.is_file():
        raise DynamoDBLocalUnavailable(f"{jar} is missing: run `make dynamodb-local`")
    port = _free_port()
    command = [
        java, f"-Djava.library.path={install_dir / 'DynamoDBLocal_lib'}", "-cp", str(jar), str(LAUNCHER),
        "-inMemory", "-port", str(port),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=install_dir, stdout=log, stderr=subprocess.STDOUT)
    server = DynamoDBLocal(process=process, port=port, log_path=log_path)
    try:
        _wait_until_answering(server)
    except BaseException:
        server.stop()
        raise
    return server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_answering(server: DynamoDBLocal) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise DynamoDBLocalUnavailable(
                f"DynamoDB Local exited with {server.process.returncode}; its log:\n"
                + server.log_path.read_text(errors="replace")
            )
        if _answers(server.endpoint_url):
            return
        time.sleep(0.2)
    raise DynamoDBLocalUnavailable(f"DynamoDB Local did not answer within {_START_TIMEOUT_SECONDS:.0f} s")


def _answers(endpoint_url: str) -> bool:
    # Any HTTP answer (DynamoDB Local returns 400 to an unsigned GET) means the server is up.
    try:
        with urllib.request.urlopen(endpoint_url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
