"""Generate the UnionPay sandbox's public test identities once (run by hand, then commit the files):
a root CA and an intermediate CA standing in for UnionPay's, the sandbox gateway's signing key and
certificate (issued by the intermediate), and the sandbox merchant's key and certificate.

    .venv/bin/python tests/tools/generate_unionpay_sandbox_certs.py layers/paymux/channels/unionpay/sandbox
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

NOT_BEFORE = datetime(2024, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2124, 1, 1, tzinfo=UTC)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "paymux sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _certificate(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool,
    serial: int,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def main(folder: Path) -> None:
    root_key, middle_key, gateway_key, merchant_key = _key(), _key(), _key(), _key()
    root = _certificate("paymux sandbox UnionPay root CA", root_key, None, root_key, ca=True, serial=1)
    middle = _certificate("paymux sandbox UnionPay middle CA", middle_key, root, root_key, ca=True, serial=2)
    gateway = _certificate(
        "041@Zpaymux-sandbox@00040000:SIGN@00000001",
        gateway_key,
        middle,
        middle_key,
        ca=False,
        serial=69_026_276_696,
    )
    merchant = _certificate(
        "041@Zpaymux-sandbox@777290000000001@00000002",
        merchant_key,
        root,
        root_key,
        ca=False,
        serial=68_759_585_097,
    )
    pem = serialization.Encoding.PEM
    for name, cert in {
        "root_ca": root,
        "middle_ca": middle,
        "gateway_cert": gateway,
        "merchant_cert": merchant,
    }.items():
        (folder / f"{name}.pem").write_bytes(cert.public_bytes(pem))
    for name, key in {"gateway_key": gateway_key, "merchant_key": merchant_key}.items():
        (folder / f"{name}.pem").write_bytes(
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
