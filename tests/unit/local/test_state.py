"""The local platform's state file: how the CLI finds a running platform."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from paymux.local.state import LocalPlatformState, PlatformNotRunning, read_state, remove_state, state_path


def state(pid: int) -> LocalPlatformState:
    return LocalPlatformState(
        api_url="http://127.0.0.1:3000",
        aws_endpoint="http://127.0.0.1:5000",
        region="us-east-1",
        table_name="paymux-local",
        secrets_prefix="paymux-local",
        event_bus_name="paymux-local",
        pid=pid,
    )


def finished_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_state_file_lives_in_paymux_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PAYMUX_HOME", str(tmp_path))

    assert state_path() == tmp_path / "local.json"


def test_a_written_state_reads_back_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "home" / "local.json"
    state(os.getpid()).write(path)

    assert read_state(path) == state(os.getpid())
    assert path.stat().st_mode & 0o077 == 0


def test_no_state_file_means_not_running(tmp_path: Path) -> None:
    with pytest.raises(PlatformNotRunning, match="no local paymux platform is running"):
        read_state(tmp_path / "local.json")


def test_a_state_file_of_a_dead_process_means_not_running(tmp_path: Path) -> None:
    path = tmp_path / "local.json"
    state(finished_pid()).write(path)

    with pytest.raises(PlatformNotRunning, match="no longer running"):
        read_state(path)


def test_a_corrupt_state_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "local.json"
    path.write_text('{"api_url": 1}')

    with pytest.raises(PlatformNotRunning, match="not a paymux state file"):
        read_state(path)


def test_only_the_owner_removes_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "local.json"
    state(os.getpid()).write(path)

    remove_state(path, os.getpid() + 1)
    assert path.exists()
    remove_state(path, os.getpid())
    assert not path.exists()
    remove_state(path, os.getpid())
