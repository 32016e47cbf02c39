"""A merchant's Alipay app: its app id, the app's private key (signs requests) and Alipay's public
key (verifies responses and notifications). Public-key mode; certificate mode is not supported."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ConfigDict, Field, SecretStr, field_validator

from paymux.channels.alipay.signing import load_private_key, load_public_key
from paymux.channels.base import ChannelCredentials


class AlipayCredentials(ChannelCredentials):
    """`{app_id, app_private_key, alipay_public_key, gateway_url?}`; keys as PEM or bare base64.

    Validation errors never echo the input (a key must not reach a log)."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    app_id: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$")
    app_private_key: SecretStr
    alipay_public_key: str

    @field_validator("app_private_key")
    @classmethod
    def _private_key_loads(cls, value: SecretStr) -> SecretStr:
        load_private_key(value.get_secret_value())
        return value

    @field_validator("alipay_public_key")
    @classmethod
    def _public_key_loads(cls, value: str) -> str:
        load_public_key(value)
        return value

    def private_key(self) -> rsa.RSAPrivateKey:
        return load_private_key(self.app_private_key.get_secret_value())

    def app_public_key(self) -> rsa.RSAPublicKey:
        """The app's public key, derived from its private key (what the merchant uploads to Alipay)."""
        return self.private_key().public_key()

    def platform_key(self) -> rsa.RSAPublicKey:
        return load_public_key(self.alipay_public_key)
