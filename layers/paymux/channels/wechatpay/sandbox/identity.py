"""The sandbox's fixed, public test identity: its merchant and its WeChat Pay platform keys
(committed PEM files beside this module, read on first use)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from paymux.channels.wechatpay import signing
from paymux.channels.wechatpay.credentials import WechatPayCredentials

_HERE = Path(__file__).parent


def _read(name: str) -> str:
    return (_HERE / name).read_text(encoding="utf-8")


@cache
def _identity() -> dict[str, str]:
    values: dict[str, str] = json.loads(_read("identity.json"))
    return values


def platform_public_key_id() -> str:
    return _identity()["platform_public_key_id"]


@cache
def platform_private_key() -> rsa.RSAPrivateKey:
    return signing.load_private_key(_read("platform_private_key.pem"))


def platform_certificate_pem() -> str:
    return _read("platform_certificate.pem")


def platform_serial_for(credentials: WechatPayCredentials) -> str:
    """The serial the sandbox signs with: its public-key id in public-key mode, else its certificate's."""
    if credentials.uses_public_key:
        return platform_public_key_id()
    return signing.certificate_serial(signing.load_certificate(platform_certificate_pem()))


@cache
def sandbox_credentials() -> WechatPayCredentials:
    """The sandbox merchant's credentials (public-key mode), used in test mode when a merchant set none."""
    identity = _identity()
    return WechatPayCredentials(
        mchid=identity["mchid"],
        appid=identity["appid"],
        merchant_serial_no=identity["merchant_serial_no"],
        merchant_private_key=_read("merchant_private_key.pem"),
        apiv3_key=identity["apiv3_key"],
        platform_public_key=_read("platform_public_key.pem"),
        platform_public_key_id=identity["platform_public_key_id"],
    )
