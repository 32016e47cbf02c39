"""Logging and metrics shared by every function. Powertools' Logger and Metrics read only their
own POWERTOOLS_* variables and open nothing at import."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

# Read-only requests publish no metric but the cold start; Powertools warns on each such flush.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

METRICS_NAMESPACE = "paymux"
METRICS_SERVICE = "paymux"

logger = Logger(service="paymux")
metrics = Metrics(namespace=METRICS_NAMESPACE, service=METRICS_SERVICE)


def security_event(kind: str, **fields: object) -> None:
    """Log a refused notification or similar; callers pass ids and reasons, never secrets."""
    logger.warning("security_event", extra={"security_event": kind, **fields})


# Money moved at a provider for a payment the ledger had already closed or failed: an operator must
# refund it there (the stack alarms on this metric).
LEDGER_CONFLICT_METRIC = "ChannelLedgerConflicts"


def ledger_conflict(**fields: object) -> None:
    """Log and count a provider state the ledger refused; callers pass ids and statuses only."""
    logger.error("channel state conflicts with the ledger", extra=fields)
    metrics.add_metric(name=LEDGER_CONFLICT_METRIC, unit=MetricUnit.Count, value=1)
