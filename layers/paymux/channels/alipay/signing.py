"""Alipay RSA2: RSA-SHA256 PKCS#1 v1.5 over the `&`-joined, sorted `k=v` of the parameters, and over
the raw JSON text of a gateway response. Keys come as PEM or as the bare base64 Alipay's console gives.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# What a request signature leaves out, and what a notification signature leaves out.
REQUEST_UNSIGNED = frozenset({"sign"})
NOTIFICATION_UNSIGNED = frozenset({"sign", "sign_type"})


class KeyFormatError(ValueError):
    """A key is neither an RSA PEM nor base64 DER. The message never contains the key."""


@lru_cache(maxsize=64)
def load_private_key(text: str) -> rsa.RSAPrivateKey:
    """Raises KeyFormatError."""
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_private_key(text.strip().encode(), password=None)
        else:
            key = serialization.load_der_private_key(_bare_base64(text), password=None)
    except (ValueError, TypeError):
        raise KeyFormatError("not an RSA private key in PEM or base64 DER (PKCS#8 or PKCS#1)") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFormatError("not an RSA private key")
    return key


@lru_cache(maxsize=64)
def load_public_key(text: str) -> rsa.RSAPublicKey:
    """Raises KeyFormatError."""
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_public_key(text.strip().encode())
        else:
            key = serialization.load_der_public_key(_bare_base64(text))
    except (ValueError, TypeError):
        raise KeyFormatError("not an RSA public key in PEM or base64 DER") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyFormatError("not an RSA public key")
    return key


def public_pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _bare_base64(text: str) -> bytes:
    try:
        return base64.b64decode(re.sub(r"\s+", "", text), validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None


def signing_string(params: Mapping[str, str], unsigned: Iterable[str] = REQUEST_UNSIGNED) -> str:
    """Sorted `k=v` of the non-empty parameters, joined with `&`, values not URL-encoded."""
    left_out = frozenset(unsigned)
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in left_out and v != "")


def sign_text(text: str, key: rsa.RSAPrivateKey) -> str:
    return base64.b64encode(key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())).decode()


def verify_text(text: str, signature: str, key: rsa.RSAPublicKey) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def sign_params(params: Mapping[str, str], key: rsa.RSAPrivateKey) -> str:
    return sign_text(signing_string(params), key)


def verify_params(
    params: Mapping[str, str], key: rsa.RSAPublicKey, unsigned: Iterable[str] = REQUEST_UNSIGNED
) -> bool:
    signature = params.get("sign", "")
    return bool(signature) and verify_text(signing_string(params, unsigned), signature, key)


def dump_json(value: object) -> str:
    """Compact JSON as Alipay writes `biz_content` and responses (UTF-8, no escapes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def signed_response(key_name: str, content: Mapping[str, object], key: rsa.RSAPrivateKey) -> str:
    """A gateway response body: `{"<method>_response": {...}, "sign": "..."}`, signed over the
    exact text of the `{...}`."""
    text = dump_json(content)
    return f'{{"{key_name}":{text},"sign":"{sign_text(text, key)}"}}'


def response_content(raw: str, key_name: str) -> str | None:
    """The exact raw text of the top-level `key_name` value, as signed; None if absent.
    Raises ValueError if `raw` is not a JSON object."""
    document = json.loads(raw)
    if not isinstance(document, dict):
        raise ValueError("response is not a JSON object")
    if key_name not in document:
        return None
    decoder = json.JSONDecoder()
    for match in re.finditer(rf'"{re.escape(key_name)}"\s*:\s*', raw):
        try:
            value, end = decoder.raw_decode(raw, match.end())
        except json.JSONDecodeError:
            continue
        if value == document[key_name]:
            return raw[match.end() : end]
    raise ValueError(f"cannot locate {key_name} in the response")
