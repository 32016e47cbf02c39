"""The Stripe card channel. Imported by the channel registry; the adapter (and with it the `stripe`
SDK) and the sandbox load only when built."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paymux.channels.base import ChannelAdapter, ChannelSandbox, SandboxStore


def build_adapter(sandbox_store: SandboxStore) -> ChannelAdapter:
    from paymux.channels.stripe.adapter import StripeAdapter

    return StripeAdapter(sandbox_store)


def build_sandbox(sandbox_store: SandboxStore) -> ChannelSandbox:
    """The sandbox's notifier; it needs no `stripe` SDK (the merchant API function loads it)."""
    from paymux.channels.stripe.sandbox.notifier import StripeSandbox

    return StripeSandbox(sandbox_store, lambda: int(time.time()))
