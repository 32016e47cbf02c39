"""WeChat Pay API v3 cryptography on `cryptography`: SHA256withRSA (PKCS#1 v1.5, base64) over the
protocol's newline-terminated messages, the `Authorization` header, and AEAD_AES_256_GCM."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
AEAD_ALGORITHM = "AEAD_AES_256_GCM"

_AUTHORIZATION_FIELDS = ("mchid", "nonce_str", "signature", "timestamp", "serial_no")
_FIELD = re.compile(r'(\w+)="([^"]*)"')


class SigningKeyError(ValueError):
    """A PEM string is not the RSA key or certificate it should be."""


@lru_cache(maxsize=64)
def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    """Raises SigningKeyError if `pem` is not an RSA private key."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise SigningKeyError("not a PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SigningKeyError("not an RSA private key")
    return key


@lru_cache(maxsize=64)
def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """Raises SigningKeyError if `pem` is not an RSA public key."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        raise SigningKeyError("not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise SigningKeyError("not an RSA public key")
    return key


@lru_cache(maxsize=64)
def load_certificate(pem: str) -> x509.Certificate:
    """Raises SigningKeyError if `pem` is not an X.509 certificate."""
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise SigningKeyError("not a PEM certificate") from None


def certificate_serial(certificate: x509.Certificate) -> str:
    """The serial as WeChat Pay writes it in `Wechatpay-Serial`: upper-case hex."""
    return format(certificate.serial_number, "X")


def sign(private_key: rsa.RSAPrivateKey, message: str) -> str:
    signature = private_key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def verify(public_key: rsa.RSAPublicKey, message: str, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def lines(*parts: str) -> str:
    """The protocol's signed message: every part on its own line, each ending in `\\n`."""
    return "".join(f"{part}\n" for part in parts)


def new_nonce() -> str:
    return secrets.token_hex(16).upper()


@dataclass(frozen=True)
class Authorization:
    """The fields of a `WECHATPAY2-SHA256-RSA2048` Authorization header."""

    mchid: str
    nonce_str: str
    signature: str
    timestamp: str
    serial_no: str

    def header(self) -> str:
        fields = ",".join(f'{name}="{getattr(self, name)}"' for name in _AUTHORIZATION_FIELDS)
        return f"{SIGNATURE_TYPE} {fields}"

    @classmethod
    def parse(cls, header: str) -> Authorization | None:
        """None if `header` is not a well-formed WeChat Pay v3 Authorization header."""
        scheme, _, rest = header.strip().partition(" ")
        if scheme != SIGNATURE_TYPE:
            return None
        fields = dict(_FIELD.findall(rest))
        if not all(fields.get(name) for name in _AUTHORIZATION_FIELDS):
            return None
        return cls(**{name: fields[name] for name in _AUTHORIZATION_FIELDS})


def request_message(method: str, path_with_query: str, timestamp: str, nonce: str, body: str) -> str:
    return lines(method, path_with_query, timestamp, nonce, body)


def sign_request(
    *,
    mchid: str,
    serial_no: str,
    private_key: rsa.RSAPrivateKey,
    method: str,
    path_with_query: str,
    body: str,
    timestamp: int,
    nonce: str,
) -> Authorization:
    message = request_message(method, path_with_query, str(timestamp), nonce, body)
    return Authorization(mchid, nonce, sign(private_key, message), str(timestamp), serial_no)


def signed_response_headers(
    private_key: rsa.RSAPrivateKey, serial: str, body: str, timestamp: int
) -> dict[str, str]:
    """The `Wechatpay-*` headers WeChat Pay puts on its responses and notifications (lower case)."""
    nonce = new_nonce()
    return {
        "wechatpay-timestamp": str(timestamp),
        "wechatpay-nonce": nonce,
        "wechatpay-signature": sign(private_key, lines(str(timestamp), nonce, body)),
        "wechatpay-serial": serial,
        "wechatpay-signature-type": SIGNATURE_TYPE,
    }


def encrypt_resource(apiv3_key: str, nonce: str, associated_data: str, plaintext: str) -> str:
    sealed = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), plaintext.encode(), associated_data.encode())
    return base64.b64encode(sealed).decode()


def decrypt_resource(apiv3_key: str, nonce: str, associated_data: str, ciphertext: str) -> str | None:
    """The plaintext, or None if it does not decrypt (wrong key, tampered data or tag)."""
    try:
        sealed = base64.b64decode(ciphertext, validate=True)
        opened = AESGCM(apiv3_key.encode()).decrypt(nonce.encode(), sealed, associated_data.encode())
        return opened.decode()
    except (InvalidTag, binascii.Error, ValueError, UnicodeDecodeError):
        return None
