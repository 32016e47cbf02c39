"""The built-in sandbox's fixed key material, committed beside this module: Alipay's platform key
pair (signs responses and notifications) and the sandbox merchant app's key pair. Public test
identities, never used for real money."""

from __future__ import annotations

from functools import cache
from importlib import resources

from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from paymux.channels.alipay.credentials import AlipayCredentials
from paymux.channels.alipay.signing import load_private_key, load_public_key

# Alipay sandbox app ids start with 9021000; the seller id (pid) is a 2088... user id.
SANDBOX_APP_ID = "9021000140600001"
SANDBOX_SELLER_ID = "2088721000140601"


def _read(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="ascii")


@cache
def platform_private_key() -> rsa.RSAPrivateKey:
    return load_private_key(_read("alipay_platform_private_key.pem"))


@cache
def platform_public_key_pem() -> str:
    """What a merchant's test credentials must carry as `alipay_public_key` for the built-in sandbox."""
    return _read("alipay_platform_public_key.pem")


@cache
def sandbox_app_public_key() -> rsa.RSAPublicKey:
    return load_public_key(_read("app_public_key.pem"))


@cache
def sandbox_credentials() -> AlipayCredentials:
    return AlipayCredentials(
        app_id=SANDBOX_APP_ID,
        app_private_key=SecretStr(_read("app_private_key.pem")),
        alipay_public_key=platform_public_key_pem(),
    )
