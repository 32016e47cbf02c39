"""Configuration as pydantic settings, composed from small mixins and validated at cold start.
The CDK stack sets the same environment variable names (`env_names()` lists them)."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class _Env(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAYMUX_", extra="ignore", frozen=True)


class TableEnv(_Env):
    table_name: str = Field(min_length=3, description="The ledger table")


class SecretsEnv(_Env):
    secrets_prefix: str = Field(
        default="paymux", description="Secrets Manager name prefix for channel credentials"
    )
    secrets_cache_seconds: int = Field(default=300, ge=0)


class ApiEnv(_Env):
    # Where providers reach /webhooks/{channel}; when unset, it is derived from the request's host.
    public_base_url: str | None = None
    idempotency_ttl_seconds: int = Field(default=86_400, ge=60)


class WebhookEnv(_Env):
    # Test-mode endpoints may be on loopback only where that is the merchant's own machine: the local
    # platform turns it on. Off by default, because loopback inside Lambda is its runtime API.
    webhook_test_loopback: bool = False


class ObservabilityEnv(_Env):
    log_level: str = "INFO"


class PlatformSettings(TableEnv, SecretsEnv, ApiEnv, WebhookEnv, ObservabilityEnv):
    """Everything a paymux function reads from its environment."""


@cache
def platform_settings() -> PlatformSettings:
    """Read and validate once per process (cold start); raises pydantic.ValidationError if missing."""
    return PlatformSettings()


def env_names() -> list[str]:
    return sorted(f"PAYMUX_{name.upper()}" for name in PlatformSettings.model_fields)
