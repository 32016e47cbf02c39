"""When a failed webhook delivery is tried again: exponential backoff with jitter, retried until the
retry window (24 hours) has passed since the delivery's first attempt, then dead-lettered."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

RETRY_WINDOW_SECONDS = 24 * 3600


@dataclass(frozen=True)
class RetryPolicy:
    first_delay_seconds: int = 60
    max_delay_seconds: int = 6 * 3600
    window_seconds: int = RETRY_WINDOW_SECONDS
    # A number in [0, 1): the jitter's draw (injectable so tests are exact).
    jitter: Callable[[], float] = field(default=random.random)

    def next_attempt_at(self, attempts_made: int, window_start: int, now: int) -> int | None:
        """When to try again after `attempts_made` failed attempts, or None once the window has
        passed (dead-letter it). The delay doubles from `first_delay_seconds` up to
        `max_delay_seconds`, and is drawn from its upper half ("equal jitter")."""
        if now - window_start >= self.window_seconds:
            return None
        base = min(self.max_delay_seconds, self.first_delay_seconds * 2 ** max(attempts_made - 1, 0))
        delay = base / 2 + self.jitter() * base / 2
        return now + max(1, int(delay))

    def nominal_schedule(self) -> list[int]:
        """The delays (without jitter) of every retry within the window, for the documentation."""
        delays: list[int] = []
        elapsed, attempt = 0, 1
        while elapsed < self.window_seconds:
            delay = min(self.max_delay_seconds, self.first_delay_seconds * 2 ** (attempt - 1))
            delays.append(delay)
            elapsed += delay
            attempt += 1
        return delays
