"""A merchant's UnionPay credentials and the key material parsed from them (parsed once per PEM)."""

from __future__ import annotations

from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ConfigDict, Field, model_validator

from paymux.channels.base import ChannelCredentials


class UnionPayCredentials(ChannelCredentials):
    """`{mer_id, sign_key, sign_cert, unionpay_cert, unionpay_root_cert?, file_download_url?,
    notify_url?, gateway_url?}`; PEM strings inline. Validation errors never echo the input."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    mer_id: str = Field(pattern=r"^[0-9A-Za-z]{15}$", description="UnionPay merchant number (merId)")
    sign_key: str = Field(repr=False, description="The merchant's RSA private key (PEM)")
    sign_cert: str = Field(description="The merchant's signing certificate (PEM); its serial is certId")
    unionpay_cert: str = Field(
        description="UnionPay's signing certificate or the CA that issues it (acp_*_middle.cer), PEM"
    )
    unionpay_root_cert: str | None = Field(
        default=None, description="UnionPay's root CA (acp_*_root.cer), PEM; checks `unionpay_cert` too"
    )
    file_download_url: str | None = Field(
        default=None,
        description="The statement host (https://filedownload.95516.com) when gateway_url is set",
    )
    notify_url: str | None = Field(
        default=None, description="backUrl for refunds (the platform's /webhooks/unionpay URL)"
    )

    @model_validator(mode="after")
    def _key_material_parses(self) -> UnionPayCredentials:
        key = private_key(self.sign_key)
        try:
            merchant_cert = certificate(self.sign_cert)
        except ValueError:
            raise ValueError("sign_cert is not a PEM X.509 certificate") from None
        if key.public_key().public_numbers() != rsa_public_key(merchant_cert).public_numbers():
            raise ValueError("sign_cert does not belong to sign_key")
        for name in ("unionpay_cert", "unionpay_root_cert"):
            pem = getattr(self, name)
            if pem is not None:
                try:
                    certificate(pem)
                except ValueError:
                    raise ValueError(f"{name} is not a PEM X.509 certificate") from None
        return self

    @property
    def cert_id(self) -> str:
        """`certId`: the merchant certificate's serial number in decimal."""
        return str(certificate(self.sign_cert).serial_number)


@lru_cache(maxsize=64)
def private_key(pem: str) -> rsa.RSAPrivateKey:
    """Raises ValueError unless `pem` is an unencrypted RSA private key."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("sign_key is not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("sign_key is not an RSA key")
    return key


@lru_cache(maxsize=256)
def certificate(pem: str) -> x509.Certificate:
    """Raises ValueError unless `pem` is a PEM X.509 certificate."""
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise ValueError("not a PEM X.509 certificate") from None


def rsa_public_key(cert: x509.Certificate) -> rsa.RSAPublicKey:
    """Raises ValueError unless the certificate holds an RSA key."""
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("certificate key is not RSA")
    return key
