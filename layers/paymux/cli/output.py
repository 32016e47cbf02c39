"""How commands answer: a result as JSON on stdout, a failure as one line on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(value: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


def fail(message: str) -> int:
    """Report `message` and return the exit status of a failed command."""
    sys.stderr.write(f"paymux: error: {message}\n")
    return 1
