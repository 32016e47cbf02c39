"""Logging and metrics shared by every function. Powertools' Logger and Metrics read only their
own POWERTOOLS_* variables and open nothing at import."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics

# Read-only requests publish no metric but the cold start; Powertools warns on each such flush.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

logger = Logger(service="paymux")
metrics = Metrics(namespace="paymux", service="paymux")


def security_event(kind: str, **fields: object) -> None:
    """Log a refused notification or similar; callers pass ids and reasons, never secrets."""
    logger.warning("security_event", extra={"security_event": kind, **fields})
