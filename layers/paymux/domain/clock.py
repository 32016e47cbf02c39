"""Time as an injectable function, so tests control it."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]


def system_clock() -> int:
    """Unix seconds."""
    return int(time.time())
