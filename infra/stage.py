"""What differs between the `dev` and `prod` stages, chosen with `-c stage=dev|prod`."""

from __future__ import annotations

from dataclasses import dataclass, replace

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Node

STAGE_CONTEXT = "stage"
ALARM_EMAIL_CONTEXT = "alarmEmail"
RESERVE_CONCURRENCY_CONTEXT = "reserveConcurrency"
# `-c paymux:bundle=false` synthesizes without building the layer and function assets (tests, CI).
BUNDLE_CONTEXT = "paymux:bundle"


@dataclass(frozen=True)
class StageConfig:
    name: str
    # Data that must outlive the stack (the ledger, logs) is retained and protected in production.
    protect_data: bool
    log_retention: logs.RetentionDays
    archive_days: int
    api_rate_limit: int
    api_burst_limit: int
    # Alarm thresholds: percentage of API requests answered 5xx, of invocations that failed.
    api_5xx_percent: float
    function_error_percent: float
    # Oldest message on a work queue before the backlog alarm fires.
    backlog_age_minutes: int
    waf: bool
    reserve_concurrency: bool = True
    alarm_email: str | None = None
    bundle: bool = True

    @property
    def removal_policy(self) -> RemovalPolicy:
        return RemovalPolicy.RETAIN if self.protect_data else RemovalPolicy.DESTROY

    @property
    def secrets_prefix(self) -> str:
        """Secrets Manager names under this prefix belong to this stage only."""
        return f"paymux/{self.name}"


STAGES: dict[str, StageConfig] = {
    "dev": StageConfig(
        name="dev",
        protect_data=False,
        log_retention=logs.RetentionDays.TWO_WEEKS,
        archive_days=7,
        api_rate_limit=50,
        api_burst_limit=100,
        api_5xx_percent=5.0,
        function_error_percent=10.0,
        backlog_age_minutes=60,
        waf=False,
    ),
    "prod": StageConfig(
        name="prod",
        protect_data=True,
        log_retention=logs.RetentionDays.THREE_MONTHS,
        archive_days=90,
        api_rate_limit=500,
        api_burst_limit=1000,
        api_5xx_percent=1.0,
        function_error_percent=2.0,
        backlog_age_minutes=15,
        waf=True,
    ),
}


def stage_from_context(node: Node) -> StageConfig:
    """The stage named by `-c stage=...` (default `dev`); raises ValueError for an unknown one."""
    name = str(node.try_get_context(STAGE_CONTEXT) or "dev")
    if name not in STAGES:
        raise ValueError(f"unknown stage {name!r}: use one of {sorted(STAGES)}")
    email = node.try_get_context(ALARM_EMAIL_CONTEXT)
    return replace(
        STAGES[name],
        alarm_email=str(email) if email else None,
        reserve_concurrency=_flag(node.try_get_context(RESERVE_CONCURRENCY_CONTEXT), default=True),
        bundle=_flag(node.try_get_context(BUNDLE_CONTEXT), default=True),
    )


def _flag(value: object, *, default: bool) -> bool:
    """A context flag: the CLI passes strings (`-c x=false`), tests pass booleans."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in {"false", "0", "no", "off"}
