"""RSA2 signing, key formats, response extraction and the credentials model."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr, ValidationError

from paymux.channels.alipay.credentials import AlipayCredentials
from paymux.channels.alipay.sandbox.identity import (
    platform_private_key,
    platform_public_key_pem,
    sandbox_credentials,
)
from paymux.channels.alipay.signing import (
    NOTIFICATION_UNSIGNED,
    KeyFormatError,
    load_private_key,
    load_public_key,
    response_content,
    sign_params,
    signed_response,
    signing_string,
    verify_params,
    verify_text,
)


def test_signing_string_sorts_skips_empty_values_and_the_signature() -> None:
    params = {
        "method": "alipay.trade.query",
        "app_id": "1",
        "sign": "x",
        "notify_url": "",
        "biz_content": "{}",
    }

    assert signing_string(params) == "app_id=1&biz_content={}&method=alipay.trade.query"


def test_notification_signing_string_also_leaves_out_sign_type() -> None:
    params = {"b": "2", "a": "1", "sign_type": "RSA2", "sign": "x"}

    assert signing_string(params, NOTIFICATION_UNSIGNED) == "a=1&b=2"


def test_a_signature_verifies_only_for_the_same_parameters_and_key() -> None:
    key = sandbox_credentials().private_key()
    params = {"app_id": "9021000140600001", "subject": "测试 & =", "total_amount": "0.01"}
    signed = {**params, "sign": sign_params(params, key)}

    assert verify_params(signed, key.public_key())
    assert not verify_params({**signed, "total_amount": "0.02"}, key.public_key())
    assert not verify_params(signed, platform_private_key().public_key())
    assert not verify_params({**signed, "sign": "not base64!"}, key.public_key())
    assert not verify_params(params, key.public_key())


def _bare(der: bytes) -> str:
    return base64.b64encode(der).decode()


def test_keys_load_from_pem_and_from_the_consoles_bare_base64() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pkcs8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())  # fmt: skip
    pkcs1_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()).decode()  # fmt: skip
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)  # fmt: skip
    wrapped = "\n".join(_bare(pkcs8)[i : i + 64] for i in range(0, len(_bare(pkcs8)), 64))

    for text in (_bare(pkcs8), wrapped, pkcs1_pem):
        assert load_private_key(text).private_numbers() == key.private_numbers()
    assert load_public_key(_bare(spki)).public_numbers() == key.public_key().public_numbers()


@pytest.mark.parametrize(
    "text", ["", "not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"]
)
def test_a_broken_key_is_refused_without_echoing_it(text: str) -> None:
    with pytest.raises(KeyFormatError) as raised:
        load_private_key(text)
    assert text not in str(raised.value) or not text


def test_credentials_refuse_a_bad_key_without_echoing_any_key_material() -> None:
    secret_looking = "MIIEsecretMaterial" * 4
    with pytest.raises(ValidationError) as raised:
        AlipayCredentials(app_id="2021000000000001", app_private_key=SecretStr(secret_looking),
                          alipay_public_key=platform_public_key_pem())  # fmt: skip
    assert secret_looking not in str(raised.value)
    assert "MIIB" not in str(raised.value)


def test_credentials_never_show_the_private_key() -> None:
    creds = sandbox_credentials()

    assert "PRIVATE" not in repr(creds)
    assert creds.app_public_key().public_numbers() == creds.private_key().public_key().public_numbers()


def test_response_content_is_the_exact_signed_text_even_with_braces_in_strings() -> None:
    key = platform_private_key()
    content = {"code": "10000", "msg": "Success", "subject": 'a "}{" b', "nested": {"x": "}"}}
    raw = signed_response("alipay_trade_query_response", content, key)
    text = response_content(raw, "alipay_trade_query_response")

    assert text is not None
    assert json.loads(text) == content
    assert verify_text(text, json.loads(raw)["sign"], key.public_key())
    assert response_content(raw, "error_response") is None


def test_response_content_keeps_alipays_own_spacing_and_field_order() -> None:
    raw = '{"alipay_trade_close_response" :  {"msg": "Success","code":"10000"} , "sign":"abc"}'

    assert response_content(raw, "alipay_trade_close_response") == '{"msg": "Success","code":"10000"}'


def test_response_content_refuses_what_is_not_a_json_object() -> None:
    with pytest.raises(ValueError):
        response_content("[1, 2]", "x_response")
