"""The running local platform's state file (`$PAYMUX_HOME/local.json`, default `~/.paymux`): how
the CLI finds the platform without being told its port. Written when the platform is ready, removed
when it stops."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

STATE_FILE_NAME = "local.json"


class PlatformNotRunning(Exception):
    """No local platform is running (no state file, or its process is gone)."""


@dataclass(frozen=True)
class LocalPlatformState:
    api_url: str
    aws_endpoint: str
    region: str
    table_name: str
    secrets_prefix: str
    event_bus_name: str
    pid: int

    def write(self, path: Path) -> None:
        """Write atomically, readable by the owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2) + "\n")
        temporary.chmod(0o600)
        temporary.replace(path)


def paymux_home() -> Path:
    return Path(os.environ.get("PAYMUX_HOME") or Path.home() / ".paymux")


def state_path() -> Path:
    return paymux_home() / STATE_FILE_NAME


def read_state(path: Path | None = None) -> LocalPlatformState:
    """The running platform's state. Raises PlatformNotRunning when there is no state file, it is
    unreadable, or the process it names is gone."""
    path = path or state_path()
    try:
        state = LocalPlatformState(**json.loads(path.read_text()))
    except FileNotFoundError:
        raise PlatformNotRunning(f"no local paymux platform is running (no {path})") from None
    except (ValueError, TypeError) as error:
        raise PlatformNotRunning(f"{path} is not a paymux state file ({error})") from None
    if not process_alive(state.pid):
        raise PlatformNotRunning(
            f"the local platform recorded in {path} (pid {state.pid}) is no longer running"
        )
    return state


def remove_state(path: Path, pid: int) -> None:
    """Remove the state file if it still belongs to process `pid`."""
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (FileNotFoundError, ValueError):
        return


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
