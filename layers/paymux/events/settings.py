"""Settings only the event functions read (the publisher needs the bus; no other function does)."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from paymux.settings import TableEnv


class BusEnv(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAYMUX_", extra="ignore", frozen=True)

    event_bus_name: str = Field(min_length=1, description="The EventBridge bus events are published to")


class PublisherSettings(TableEnv, BusEnv):
    """What the outbox publisher reads from its environment."""


@cache
def publisher_settings() -> PublisherSettings:
    """Read once per process; raises pydantic.ValidationError if PAYMUX_EVENT_BUS_NAME is missing."""
    return PublisherSettings()
