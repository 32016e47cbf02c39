"""Fuzz fixtures: the e2e session's local platform (`paymux local` on a free port) for the HTTP
fuzzing; the in-process notification fuzzing needs none of it."""

from __future__ import annotations

from tests.e2e.conftest import local_platform

__all__ = ["local_platform"]
