"""Verifying what WeChat Pay signs (responses and notifications) with the platform key the merchant
configured: the WeChat Pay public key (serial `PUB_KEY_ID_...`) or a platform certificate (its serial).
Never fetches anything: an unknown serial is a failure, not a reason to download certificates."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric import rsa

from paymux.channels.wechatpay import signing
from paymux.channels.wechatpay.credentials import WechatPayCredentials


class SignatureRejected(Exception):
    """WeChat Pay's signature is missing, from an unknown key, or does not verify."""


def platform_key(credentials: WechatPayCredentials, serial: str, now: int) -> rsa.RSAPublicKey:
    """The configured platform key named by `serial`; raises SignatureRejected if none is, or if the
    matching certificate is not valid at `now`."""
    if credentials.platform_public_key and serial == credentials.platform_public_key_id:
        return signing.load_public_key(credentials.platform_public_key)
    for pem in credentials.platform_certificates:
        certificate = signing.load_certificate(pem)
        if signing.certificate_serial(certificate) != serial.upper():
            continue
        moment = datetime.fromtimestamp(now, UTC)
        if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
            raise SignatureRejected("the platform certificate is not valid now")
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise SignatureRejected("the platform certificate's key is not RSA")
        return key
    raise SignatureRejected("signed by a platform key the merchant did not configure")


def verify_signed(credentials: WechatPayCredentials, headers: dict[str, str], body: str, now: int) -> int:
    """Check the `Wechatpay-*` headers (lower-case names) over `body`; returns the signed timestamp.
    Raises SignatureRejected."""
    signature_type = headers.get("wechatpay-signature-type", signing.SIGNATURE_TYPE)
    if signature_type != signing.SIGNATURE_TYPE:
        raise SignatureRejected(f"unsupported signature type {signature_type[:40]!r}")
    try:
        timestamp, nonce = headers["wechatpay-timestamp"], headers["wechatpay-nonce"]
        signature, serial = headers["wechatpay-signature"], headers["wechatpay-serial"]
    except KeyError as missing:
        raise SignatureRejected(f"missing header {missing.args[0]}") from None
    if not timestamp.isdigit():
        raise SignatureRejected("the timestamp is not unix seconds")
    key = platform_key(credentials, serial, now)
    if not signing.verify(key, signing.lines(timestamp, nonce, body), signature):
        raise SignatureRejected("the signature does not verify")
    return int(timestamp)
