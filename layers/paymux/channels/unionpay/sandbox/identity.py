"""The built-in sandbox's fixed identities (public test keys committed beside this module)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from paymux.channels.unionpay.credentials import UnionPayCredentials, private_key
from paymux.channels.unionpay.signing import sign_with_key

SANDBOX_MER_ID = "777290000000001"


def _pem(name: str) -> str:
    return resources.files(__package__).joinpath(f"{name}.pem").read_text()


@cache
def sandbox_credentials() -> UnionPayCredentials:
    """The sandbox merchant: its key and certificate, trusting the sandbox's UnionPay CAs."""
    return UnionPayCredentials(
        mer_id=SANDBOX_MER_ID,
        sign_key=_pem("merchant_key"),
        sign_cert=_pem("merchant_cert"),
        unionpay_cert=_pem("middle_ca"),
        unionpay_root_cert=_pem("root_ca"),
    )


@cache
def gateway_cert_pem() -> str:
    return _pem("gateway_cert")


def sign_as_unionpay(fields: dict[str, str]) -> dict[str, str]:
    """`fields` signed by the sandbox gateway: signMethod, signPubKeyCert and signature added."""
    signed = {**fields, "signMethod": "01", "signPubKeyCert": gateway_cert_pem()}
    signed["signature"] = sign_with_key(signed, private_key(_pem("gateway_key")))
    return signed
