"""UnionPay 5.1.0 signatures, signer certificate checks, the wire encodings and the credentials."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from pydantic import ValidationError

from paymux.channels.unionpay import protocol as p
from paymux.channels.unionpay.credentials import UnionPayCredentials, certificate, private_key
from paymux.channels.unionpay.sandbox.identity import gateway_cert_pem, sandbox_credentials, sign_as_unionpay
from paymux.channels.unionpay.signing import (
    SignatureRejected,
    sign_request,
    sign_with_key,
    signing_string,
    verify_unionpay_signed,
    verify_with_key,
)
from paymux.domain.errors import InvalidRequest
from tests.unit.channels.unionpay_fixtures import UNIONPAY_TEST_CN, attacker_chain, issue

ANSWER = {
    "version": "5.1.0",
    "encoding": "UTF-8",
    "merId": "777290000000001",
    "respCode": "00",
    "txnAmt": "1",
}


def test_signing_string_sorts_fields_and_leaves_out_the_signature():
    assert signing_string({"b": "2", "a": "1", "signature": "x", "c": ""}) == "a=1&b=2&c="


def test_signature_is_rsa_sha256_over_the_sha256_hex_digest_of_the_signing_string():
    creds = sandbox_credentials()
    signed = sign_request({"txnAmt": "100", "merId": creds.mer_id, "orderId": "pay01ABC"}, creds)
    digest_hex = hashlib.sha256(signing_string(signed).encode()).hexdigest().encode()

    certificate(creds.sign_cert).public_key().verify(  # type: ignore[call-arg]
        base64.b64decode(signed["signature"]), digest_hex, padding.PKCS1v15(), hashes.SHA256()
    )
    assert signed["certId"] == str(certificate(creds.sign_cert).serial_number)
    assert signed["signMethod"] == "01"


def test_sign_request_drops_blank_fields_before_signing():
    signed = sign_request({"txnAmt": "100", "frontUrl": "", "payTimeout": "  "}, sandbox_credentials())
    assert "frontUrl" not in signed
    assert "payTimeout" not in signed


def test_a_changed_field_breaks_the_signature():
    creds = sandbox_credentials()
    signed = sign_request({"txnAmt": "100", "orderId": "pay01ABC"}, creds)
    public_key = private_key(creds.sign_key).public_key()
    verify_with_key(signed, public_key)

    with pytest.raises(SignatureRejected):
        verify_with_key({**signed, "txnAmt": "1"}, public_key)
    with pytest.raises(SignatureRejected):
        verify_with_key({**signed, "extra": "x"}, public_key)
    with pytest.raises(SignatureRejected, match="base64"):
        verify_with_key({**signed, "signature": "***"}, public_key)


def test_unionpay_signed_answer_verifies_against_the_configured_chain():
    verify_unionpay_signed(sign_as_unionpay(ANSWER), sandbox_credentials())


def test_tampered_unionpay_answer_is_rejected():
    with pytest.raises(SignatureRejected, match="does not verify"):
        verify_unionpay_signed({**sign_as_unionpay(ANSWER), "respCode": "01"}, sandbox_credentials())


def test_signer_certificate_from_another_ca_is_rejected_even_when_self_consistent():
    _, signer = attacker_chain()
    forged = {**ANSWER, "signMethod": "01", "signPubKeyCert": signer.cert_pem}
    forged["signature"] = sign_with_key(forged, signer.key)

    with pytest.raises(SignatureRejected, match="not issued by unionpay_cert"):
        verify_unionpay_signed(forged, sandbox_credentials())


def test_signer_certificate_must_name_unionpay():
    ca = issue("test UnionPay CA", ca=True)
    signer = issue("041@Ztest@some merchant@00000001", issuer=ca)
    creds = sandbox_credentials().model_copy(
        update={"unionpay_cert": ca.cert_pem, "unionpay_root_cert": None}
    )
    fields = {**ANSWER, "signMethod": "01", "signPubKeyCert": signer.cert_pem}
    fields["signature"] = sign_with_key(fields, signer.key)

    with pytest.raises(SignatureRejected, match="does not name UnionPay"):
        verify_unionpay_signed(fields, creds)


def test_signer_issued_by_the_configured_ca_and_naming_unionpay_is_accepted():
    ca = issue("test UnionPay CA", ca=True)
    signer = issue(UNIONPAY_TEST_CN, issuer=ca)
    creds = sandbox_credentials().model_copy(
        update={"unionpay_cert": ca.cert_pem, "unionpay_root_cert": None}
    )
    fields = {**ANSWER, "signMethod": "01", "signPubKeyCert": signer.cert_pem}
    fields["signature"] = sign_with_key(fields, signer.key)

    verify_unionpay_signed(fields, creds)


def test_configured_signing_certificate_itself_is_trusted():
    creds = sandbox_credentials().model_copy(
        update={"unionpay_cert": gateway_cert_pem(), "unionpay_root_cert": None}
    )
    verify_unionpay_signed(sign_as_unionpay(ANSWER), creds)


def test_intermediate_not_issued_by_the_configured_root_is_rejected():
    attacker_ca, _ = attacker_chain()
    creds = sandbox_credentials().model_copy(update={"unionpay_root_cert": attacker_ca.cert_pem})

    with pytest.raises(SignatureRejected, match="not issued by unionpay_root_cert"):
        verify_unionpay_signed(sign_as_unionpay(ANSWER), creds)


def test_expired_signer_certificate_is_rejected():
    later = datetime.now(UTC) + timedelta(days=365 * 200)
    with pytest.raises(SignatureRejected, match="expired"):
        verify_unionpay_signed(sign_as_unionpay(ANSWER), sandbox_credentials(), now=later)


def test_other_sign_methods_and_missing_certificates_are_rejected():
    signed = sign_as_unionpay(ANSWER)
    with pytest.raises(SignatureRejected, match="signMethod"):
        verify_unionpay_signed({**signed, "signMethod": "11"}, sandbox_credentials())
    with pytest.raises(SignatureRejected, match="not a certificate"):
        verify_unionpay_signed({**signed, "signPubKeyCert": "garbage"}, sandbox_credentials())


def test_order_ids_map_reversibly_without_underscores():
    payment_id, refund_id = "pay_01JH0M2Z3K4N5P6Q7R8S9T0VWX", "re_01JH0M2Z3K4N5P6Q7R8S9T0VWX"
    assert p.to_order_id(payment_id) == "pay01JH0M2Z3K4N5P6Q7R8S9T0VWX"
    assert p.from_order_id(p.to_order_id(payment_id)) == payment_id
    assert p.from_order_id(p.to_order_id(refund_id)) == refund_id
    assert p.from_order_id("20240101123456") is None
    assert 8 <= len(p.to_order_id(payment_id)) <= 40


def test_txn_time_is_the_ids_creation_second_in_beijing():
    payment_id = "pay_01JH0M2Z3K4N5P6Q7R8S9T0VWX"
    millis = int.from_bytes(base32_crockford_decode(payment_id[4:14]), "big")
    expected = datetime.fromtimestamp(millis // 1000, UTC) + timedelta(hours=8)
    assert p.txn_time_of(payment_id) == expected.strftime("%Y%m%d%H%M%S")


def base32_crockford_decode(text: str) -> bytes:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    value = 0
    for char in text:
        value = value * 32 + alphabet.index(char)
    return value.to_bytes(7, "big")


def test_trace_time_takes_the_year_of_the_order_and_rolls_over_new_year():
    assert p.parse_trace_time("0102030405", "20251231235959") == p.parse_beijing_time("20260102030405")
    assert p.parse_trace_time("0615120000", "20260615115900") == p.parse_beijing_time("20260615120000")


def test_answers_parse_like_the_unionpay_sdk():
    text = "respCode=00&reserved={a=1&b=2}&list=[x&y]&signPubKeyCert=-----BEGIN==\nAB+/=&empty="
    assert p.parse_answer(text) == {
        "respCode": "00",
        "reserved": "{a=1&b=2}",
        "list": "[x&y]",
        "signPubKeyCert": "-----BEGIN==\nAB+/=",
        "empty": "",
    }
    with pytest.raises(ValueError):
        p.parse_answer("<html>error</html>")


def test_forms_refuse_repeated_fields():
    assert p.parse_form(b"a=1&b=%2B") == {"a": "1", "b": "+"}
    with pytest.raises(ValueError):
        p.parse_form(b"a=1&a=2")


def test_credentials_refuse_a_certificate_of_another_key_without_echoing_secrets():
    creds = sandbox_credentials()
    other = issue("other merchant")
    with pytest.raises(ValidationError) as error:
        UnionPayCredentials(**(creds.model_dump() | {"sign_cert": other.cert_pem}))
    assert "does not belong" in str(error.value)
    assert "PRIVATE KEY" not in str(error.value)
    assert "PRIVATE KEY" not in repr(creds)


def test_credentials_refuse_bad_pem_and_merchant_numbers():
    values = sandbox_credentials().model_dump()
    for bad in ({"unionpay_cert": "nope"}, {"sign_key": "nope"}, {"mer_id": "77729"}, {"unknown": "x"}):
        with pytest.raises(ValidationError):
            UnionPayCredentials(**(values | bad))


def test_currencies_map_to_iso_numeric_codes():
    assert p.currency_code("cny") == "156"
    with pytest.raises(InvalidRequest, match="does not take"):
        p.currency_code("eur")
