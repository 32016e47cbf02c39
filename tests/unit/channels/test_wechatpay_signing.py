"""WeChat Pay v3 signing primitives and credentials: round trips and refusals."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from paymux.channels.wechatpay import signing
from paymux.channels.wechatpay.credentials import WechatPayCredentials
from paymux.channels.wechatpay.sandbox import identity
from paymux.channels.wechatpay.verification import SignatureRejected, verify_signed
from tests.unit.channels.wechatpay_fixtures import NOW


def test_authorization_header_round_trips_and_verifies_with_the_merchant_public_key():
    creds = identity.sandbox_credentials()
    key = signing.load_private_key(creds.merchant_private_key)
    auth = signing.sign_request(
        mchid=creds.mchid,
        serial_no=creds.merchant_serial_no,
        private_key=key,
        method="POST",
        path_with_query="/v3/pay/transactions/native",
        body='{"a":1}',
        timestamp=NOW,
        nonce="N0NCE",
    )
    header = auth.header()
    assert header.startswith('WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="N0NCE",signature="')
    parsed = signing.Authorization.parse(header)
    assert parsed == auth
    message = f'POST\n/v3/pay/transactions/native\n{NOW}\nN0NCE\n{{"a":1}}\n'
    assert signing.verify(key.public_key(), message, parsed.signature)
    assert not signing.verify(key.public_key(), message.replace('"a":1', '"a":2'), parsed.signature)


@pytest.mark.parametrize("header", ["", "Bearer x", 'WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n"'])
def test_malformed_authorization_headers_parse_to_none(header):
    assert signing.Authorization.parse(header) is None


def test_aead_resource_round_trips_and_refuses_tampering_and_wrong_keys():
    key = "k" * 32
    sealed = signing.encrypt_resource(key, "abcdefghijkl", "transaction", '{"x":1}')
    assert signing.decrypt_resource(key, "abcdefghijkl", "transaction", sealed) == '{"x":1}'
    assert signing.decrypt_resource("j" * 32, "abcdefghijkl", "transaction", sealed) is None
    assert signing.decrypt_resource(key, "abcdefghijkl", "refund", sealed) is None
    flipped = sealed[:-4] + ("AAAA" if sealed[-4:] != "AAAA" else "BBBB")
    assert signing.decrypt_resource(key, "abcdefghijkl", "transaction", flipped) is None
    assert signing.decrypt_resource(key, "abcdefghijkl", "transaction", "not base64!") is None


def _signed(creds: WechatPayCredentials, body: str, serial: str) -> dict[str, str]:
    return signing.signed_response_headers(identity.platform_private_key(), serial, body, NOW)


def test_response_signature_verifies_with_public_key_or_platform_certificate():
    public_key_mode = identity.sandbox_credentials()
    headers = _signed(public_key_mode, "{}", public_key_mode.platform_public_key_id or "")
    assert verify_signed(public_key_mode, headers, "{}", NOW) == NOW
    with pytest.raises(SignatureRejected):
        verify_signed(public_key_mode, headers, "{ }", NOW)

    certificate_mode = public_key_mode.model_copy(update={
        "platform_public_key": None, "platform_public_key_id": None,
        "platform_certificates": (identity.platform_certificate_pem(),),
    })  # fmt: skip
    serial = identity.platform_serial_for(certificate_mode)
    assert serial != public_key_mode.platform_public_key_id
    assert verify_signed(certificate_mode, _signed(certificate_mode, "{}", serial), "{}", NOW) == NOW
    with pytest.raises(SignatureRejected, match="did not configure"):
        verify_signed(certificate_mode, headers, "{}", NOW)  # signed under the public-key id
    with pytest.raises(SignatureRejected, match="not valid now"):
        verify_signed(
            certificate_mode, _signed(certificate_mode, "{}", serial), "{}", 4_102_444_800 + 86_400 * 365 * 20
        )


def test_response_signature_refuses_missing_headers_and_other_signature_types():
    creds = identity.sandbox_credentials()
    headers = _signed(creds, "{}", creds.platform_public_key_id or "")
    with pytest.raises(SignatureRejected, match="missing"):
        verify_signed(creds, {k: v for k, v in headers.items() if k != "wechatpay-nonce"}, "{}", NOW)
    with pytest.raises(SignatureRejected, match="unsupported"):
        verify_signed(creds, {**headers, "wechatpay-signature-type": "WECHATPAY2-SM2-WITH-SM3"}, "{}", NOW)


def test_credentials_need_a_platform_key_and_a_32_byte_apiv3_key():
    base = identity.sandbox_credentials().model_dump()
    with pytest.raises(ValidationError, match="go together"):
        WechatPayCredentials(**{**base, "platform_public_key_id": None})
    with pytest.raises(ValidationError, match="platform_certificates"):
        WechatPayCredentials(**{**base, "platform_public_key": None, "platform_public_key_id": None})
    with pytest.raises(ValidationError):
        WechatPayCredentials(**{**base, "apiv3_key": "short"})
    with pytest.raises(ValidationError):
        WechatPayCredentials(**{**base, "unknown": 1})


def test_credentials_never_show_secrets_in_repr():
    shown = repr(identity.sandbox_credentials())
    assert "PRIVATE KEY" not in shown
    assert identity.sandbox_credentials().apiv3_key not in shown
