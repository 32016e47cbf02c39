"""`paymux local [--port N]`: run the whole platform on this machine."""

from __future__ import annotations

import argparse
from typing import Any

from paymux.cli.deployment import CommandError


def run_local(args: argparse.Namespace) -> int:
    from paymux.local.platform import LocalConfig, LocalPlatform, PlatformStartError

    try:
        return LocalPlatform(LocalConfig(port=args.port)).serve()
    except PlatformStartError as error:
        raise CommandError(str(error)) from None


def add_local_command(commands: Any) -> None:
    """Add `local` to the `paymux` parser's subcommands."""
    local = commands.add_parser("local", help="run the whole platform locally (embedded AWS, no account)")
    local.add_argument("--port", type=int, default=3000, help="HTTP port on 127.0.0.1 (default 3000)")
    local.set_defaults(run=run_local)
