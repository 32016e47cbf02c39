"""The Alipay channel: the open platform protocol (RSA2) for the `qr`, `h5`, `pc` and `app` scenes,
and a built-in sandbox that plays Alipay's side. Imports stay inside the builders so that loading
the package costs nothing until a function needs it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paymux.channels.alipay.adapter import AlipayAdapter
    from paymux.channels.alipay.sandbox.notifier import AlipaySandbox
    from paymux.channels.base import SandboxStore


def build_adapter(sandbox_store: SandboxStore) -> AlipayAdapter:
    from paymux.channels.alipay.adapter import AlipayAdapter

    return AlipayAdapter(sandbox_store)


def build_sandbox(sandbox_store: SandboxStore) -> AlipaySandbox:
    from paymux.channels.alipay.sandbox.notifier import AlipaySandbox

    return AlipaySandbox(sandbox_store)
