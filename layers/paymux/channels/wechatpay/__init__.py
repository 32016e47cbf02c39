"""WeChat Pay API v3: the channel adapter and its built-in sandbox. Imports stay lazy so that loading
the package costs nothing until a function builds one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paymux.domain.clock import Clock, system_clock

if TYPE_CHECKING:
    from paymux.channels.base import SandboxStore
    from paymux.channels.wechatpay.adapter import WechatPayAdapter
    from paymux.channels.wechatpay.sandbox.notifier import WechatPaySandbox


def build_adapter(sandbox_store: SandboxStore, clock: Clock = system_clock) -> WechatPayAdapter:
    """The adapter; it reaches the built-in sandbox (kept in `sandbox_store`) in-process whenever a
    merchant's credentials have no gateway_url."""
    from paymux.channels.wechatpay.adapter import WechatPayAdapter
    from paymux.channels.wechatpay.transport import InProcessGateway, WechatPayTransport

    def sandbox_gateway() -> InProcessGateway:
        from paymux.channels.wechatpay.sandbox.gateway import SandboxGateway

        return SandboxGateway(sandbox_store, clock)

    return WechatPayAdapter(WechatPayTransport(sandbox_gateway, clock), clock)


def build_sandbox(sandbox_store: SandboxStore, clock: Clock = system_clock) -> WechatPaySandbox:
    from paymux.channels.wechatpay.sandbox.notifier import WechatPaySandbox

    return WechatPaySandbox(sandbox_store, clock)
