"""UnionPay 5.1.0 signatures (signMethod 01): sort the fields but `signature`, join `k=v` with `&`,
take the SHA-256 hex digest of that string, RSA-sign the hex digest (PKCS#1 v1.5, SHA-256) and
base64 it. Answers and notifications carry the signer's certificate (`signPubKeyCert`), which must
chain to the UnionPay certificate the merchant configured and name UnionPay."""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from paymux.channels.unionpay.credentials import UnionPayCredentials, certificate, private_key, rsa_public_key
from paymux.channels.unionpay.protocol import SIGN_METHOD_RSA

# The owner field (third `@` part of the CN) of UnionPay's signing certificates: production, test.
UNIONPAY_IDENTITIES = frozenset({"中国银联股份有限公司", "00040000:SIGN"})


class SignatureRejected(Exception):
    """A UnionPay signature or signing certificate did not verify. The message names the check
    that failed and never contains key material."""


def signing_string(fields: dict[str, str]) -> str:
    return "&".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "signature")


def _digest_hex(fields: dict[str, str]) -> bytes:
    return hashlib.sha256(signing_string(fields).encode()).hexdigest().encode()


def sign_with_key(fields: dict[str, str], key: rsa.RSAPrivateKey) -> str:
    """The `signature` value of `fields` (which must already hold certId or signPubKeyCert)."""
    raw = key.sign(_digest_hex(fields), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode()


def sign_request(fields: dict[str, str], credentials: UnionPayCredentials) -> dict[str, str]:
    """`fields` without blank values, plus signMethod, certId and signature (the merchant's key)."""
    signed = {key: value.strip() for key, value in fields.items() if value and value.strip()}
    signed["signMethod"] = SIGN_METHOD_RSA
    signed["certId"] = credentials.cert_id
    signed["signature"] = sign_with_key(signed, private_key(credentials.sign_key))
    return signed


def verify_with_key(fields: dict[str, str], key: rsa.RSAPublicKey) -> None:
    """Raises SignatureRejected unless `fields["signature"]` is the key's signature of `fields`."""
    try:
        raw = base64.b64decode(fields.get("signature", ""), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRejected("signature is not base64") from None
    try:
        key.verify(raw, _digest_hex(fields), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SignatureRejected("signature does not verify") from None


def verify_unionpay_signed(
    fields: dict[str, str], credentials: UnionPayCredentials, *, now: datetime | None = None
) -> None:
    """Check an answer or notification: signMethod 01, a `signPubKeyCert` that is valid now, names
    UnionPay and chains to the configured `unionpay_cert` (and its root), and its signature.
    Raises SignatureRejected."""
    if fields.get("signMethod") != SIGN_METHOD_RSA:
        raise SignatureRejected("signMethod is not 01")
    try:
        signer = certificate(fields.get("signPubKeyCert", "").replace("\r\n", "\n"))
    except ValueError:
        raise SignatureRejected("signPubKeyCert is not a certificate") from None
    check_signer_certificate(signer, credentials, now or datetime.now(UTC))
    try:
        key = rsa_public_key(signer)
    except ValueError:
        raise SignatureRejected("signPubKeyCert holds no RSA key") from None
    verify_with_key(fields, key)


def check_signer_certificate(
    signer: x509.Certificate, credentials: UnionPayCredentials, now: datetime
) -> None:
    """Raises SignatureRejected unless `signer` is trusted through the merchant's configuration."""
    if not signer.not_valid_before_utc <= now <= signer.not_valid_after_utc:
        raise SignatureRejected("signPubKeyCert is expired or not yet valid")
    if _owner(signer) not in UNIONPAY_IDENTITIES:
        raise SignatureRejected("signPubKeyCert does not name UnionPay")
    trusted = certificate(credentials.unionpay_cert)
    if signer != trusted:
        _check_issued_by(signer, trusted, "signPubKeyCert is not issued by unionpay_cert")
    if credentials.unionpay_root_cert is not None:
        root = certificate(credentials.unionpay_root_cert)
        if trusted != root:
            _check_issued_by(trusted, root, "unionpay_cert is not issued by unionpay_root_cert")


def _check_issued_by(cert: x509.Certificate, issuer: x509.Certificate, failure: str) -> None:
    if not _is_ca(issuer):
        raise SignatureRejected(failure)
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        raise SignatureRejected(failure) from None


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _owner(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    parts = str(names[0].value).split("@") if names else []
    return parts[2] if len(parts) > 2 else None
