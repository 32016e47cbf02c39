"""Channel adapters and sandboxes by name, imported lazily so a function loads only its own
channel's code (and the merchant API loads a sandbox only when a test payment is completed)."""

from __future__ import annotations

from importlib import import_module
from typing import cast

from paymux.channels.base import ChannelAdapter, ChannelSandbox, SandboxStore
from paymux.domain.errors import InvalidRequest
from paymux.domain.models import Channel

# Each channel package exposes `build_adapter(sandbox_store)` and `build_sandbox(sandbox_store)`.
_PACKAGES: dict[Channel, str] = {
    Channel.ALIPAY: "paymux.channels.alipay",
    Channel.WECHATPAY: "paymux.channels.wechatpay",
    Channel.UNIONPAY: "paymux.channels.unionpay",
    Channel.STRIPE: "paymux.channels.stripe",
}


def parse_channel(name: str) -> Channel:
    """Raises InvalidRequest (a 400/404-worthy error) for a channel paymux does not have."""
    try:
        return Channel(name)
    except ValueError:
        raise InvalidRequest(f"Unknown channel: {name!r}", param="channel", code="unknown_channel") from None


def _package(channel: Channel) -> object:
    try:
        return import_module(_PACKAGES[channel])
    except ModuleNotFoundError:
        raise InvalidRequest(
            f"Channel {channel} is not available on this platform yet",
            param="channel",
            code="channel_unavailable",
        ) from None


def load_adapter(channel: Channel, sandbox_store: SandboxStore) -> ChannelAdapter:
    return cast(ChannelAdapter, _package(channel).build_adapter(sandbox_store))  # type: ignore[attr-defined]


def load_sandbox(channel: Channel, sandbox_store: SandboxStore) -> ChannelSandbox:
    return cast(ChannelSandbox, _package(channel).build_sandbox(sandbox_store))  # type: ignore[attr-defined]
