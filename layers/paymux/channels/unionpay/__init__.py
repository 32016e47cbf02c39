"""UnionPay online payments (银联全渠道 5.1.0): the adapter and the built-in sandbox. Importing this
package is light; the adapter and sandbox modules load on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paymux.channels.base import ChannelAdapter, ChannelSandbox, SandboxStore


def build_adapter(sandbox_store: SandboxStore) -> ChannelAdapter:
    from paymux.channels.unionpay.adapter import UnionPayAdapter

    return UnionPayAdapter(sandbox_store)


def build_sandbox(sandbox_store: SandboxStore) -> ChannelSandbox:
    from paymux.channels.unionpay.sandbox import UnionPaySandbox

    return UnionPaySandbox(sandbox_store)
