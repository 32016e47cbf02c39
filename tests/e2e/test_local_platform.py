"""The local platform over real HTTP, the `paymux` CLI against it, and the README's walkthrough."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from paymux.local.endpoint import local_client
from tests.e2e.platform import PAYMUX, REPO_ROOT, ApiClient, RunningPlatform

pytestmark = pytest.mark.e2e

ALIPAY_AVAILABLE = importlib.util.find_spec("paymux.channels.alipay") is not None
needs_alipay = pytest.mark.skipif(not ALIPAY_AVAILABLE, reason="paymux.channels.alipay is not written yet")
ALIPAY_FUNCTION = REPO_ROOT / "functions" / "channel_alipay" / "app.py"
needs_alipay_function = pytest.mark.skipif(
    not (ALIPAY_AVAILABLE and ALIPAY_FUNCTION.exists()),
    reason="functions/channel_alipay/app.py is not written yet",
)
ERROR_FIELDS = {"type", "code", "message", "param", "request_id"}


def new_merchant(platform: RunningPlatform, name: str = "Acme") -> dict[str, str]:
    result = platform.cli("merchants", "create", name)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def rsa_pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_the_openapi_document_is_served(api: ApiClient) -> None:
    response = api.get("/openapi.json", key=None)

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "/v1/payments" in document["paths"]


def test_an_unknown_route_is_a_404_in_the_contract_shape(api: ApiClient) -> None:
    response = api.get("/v1/nothing-here")

    assert response.status_code == 404
    error = response.json()["error"]
    assert set(error) == ERROR_FIELDS
    assert error["type"] == "invalid_request_error"
    assert error["request_id"] == response.headers["x-amzn-RequestId"]


@pytest.mark.parametrize("key", [None, "sk_test_wrong", "not-a-key"])
def test_payments_need_a_valid_secret_key(api: ApiClient, key: str | None) -> None:
    response = api.get("/v1/payments", key=key)

    assert response.status_code == 401
    error = response.json()["error"]
    assert set(error) == ERROR_FIELDS
    assert error["type"] == "authentication_error"


def test_merchants_create_prints_keys_that_work(local_platform: RunningPlatform, api: ApiClient) -> None:
    merchant = new_merchant(local_platform, "Acme Tea")

    assert merchant["merchant_id"].startswith("mch_")
    assert merchant["name"] == "Acme Tea"
    assert merchant["test_secret_key"].startswith("sk_test_")
    assert merchant["live_secret_key"].startswith("sk_live_")
    for key in (merchant["test_secret_key"], merchant["live_secret_key"]):
        response = api.get("/v1/payments", key=key)
        assert response.status_code == 200, response.text
        assert response.json()["object"] == "list"
        assert response.json()["data"] == []


@needs_alipay
def test_channels_set_stores_a_validated_config(local_platform: RunningPlatform, tmp_path: Path) -> None:
    merchant = new_merchant(local_platform)
    private_pem, _ = rsa_pem_pair()
    _, alipay_public_pem = rsa_pem_pair()
    values = {
        "app_id": "2021000000000001",
        "app_private_key": private_pem,
        "alipay_public_key": alipay_public_pem,
    }
    config = tmp_path / "alipay.json"
    config.write_text(json.dumps(values))

    result = local_platform.cli(
        "channels", "set", merchant["merchant_id"], "alipay", "--mode", "test", "--config", str(config)
    )

    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    state = local_platform.state()
    assert printed["secret_name"] == f"{state['secrets_prefix']}/alipay/{merchant['merchant_id']}/test"
    assert "PRIVATE KEY" not in result.stdout + result.stderr
    secrets = local_client("secretsmanager", state["aws_endpoint"], state["region"])
    stored = json.loads(secrets.get_secret_value(SecretId=printed["secret_name"])["SecretString"])
    assert stored == values


@needs_alipay
def test_channels_set_refuses_an_invalid_config_without_echoing_it(
    local_platform: RunningPlatform, tmp_path: Path
) -> None:
    merchant = new_merchant(local_platform)
    config = tmp_path / "alipay.json"
    config.write_text(json.dumps({"app_id": "2021000000000001", "app_private_key": "not-a-key-S3CRET"}))

    result = local_platform.cli(
        "channels", "set", merchant["merchant_id"], "alipay", "--mode", "live", "--config", str(config)
    )

    assert result.returncode == 1
    assert "alipay_public_key" in result.stderr
    assert "app_private_key" in result.stderr
    assert "S3CRET" not in result.stdout + result.stderr


def test_channels_set_names_an_unknown_merchant(local_platform: RunningPlatform, tmp_path: Path) -> None:
    config = tmp_path / "alipay.json"
    config.write_text("{}")

    result = local_platform.cli(
        "channels", "set", "mch_missing", "alipay", "--mode", "test", "--config", str(config)
    )

    assert result.returncode == 1
    assert "mch_missing" in result.stderr


@needs_alipay_function
def test_the_readme_walkthrough(api: ApiClient) -> None:
    # given a QR payment created with the demo key
    order_id = f"order-{uuid.uuid4().hex[:12]}"
    body = {"amount": 1999, "currency": "cny", "merchant_order_id": order_id, "subject": "Tea", "scene": "qr"}
    created = api.post("/v1/channels/alipay/payments", body, idempotency_key=order_id)
    assert created.status_code == 201, created.text
    payment = created.json()
    assert payment["id"].startswith("pay_")
    assert (payment["status"], payment["amount"], payment["livemode"]) == ("requires_action", 1999, False)
    assert payment["credential"]["qr_code"]

    # the same request under the same key replays the first response
    replayed = api.post("/v1/channels/alipay/payments", body, idempotency_key=order_id)
    assert replayed.status_code == 201
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert replayed.json()["id"] == payment["id"]

    # when the sandbox sends Alipay's signed notification through /webhooks/alipay
    completed = api.post(
        f"/v1/test/payments/{payment['id']}/complete",
        {"outcome": "succeeded"},
        idempotency_key=f"c-{order_id}",
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "succeeded"

    # then the payment has succeeded and both events are listed
    fetched = api.get(f"/v1/payments/{payment['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["status"] == "succeeded"
    assert fetched.json()["channel_transaction_id"]
    assert fetched.json()["paid_at"]
    events = api.get("/v1/events?limit=100")
    assert events.status_code == 200, events.text
    types = [
        event["type"] for event in events.json()["data"] if event["data"]["object"]["id"] == payment["id"]
    ]
    assert sorted(types) == ["payment.created", "payment.succeeded"]


def test_a_second_platform_on_the_same_home_is_refused(local_platform: RunningPlatform) -> None:
    port = local_platform.url.rsplit(":", 1)[1]
    result = local_platform.cli("local", "--port", str(int(port) + 1))

    assert result.returncode == 1
    assert f"already running at {local_platform.url}" in result.stderr
    assert local_platform.state_file.exists()


def test_a_taken_port_is_reported(local_platform: RunningPlatform, tmp_path: Path) -> None:
    port = local_platform.url.rsplit(":", 1)[1]
    environment = {**local_platform.environment, "PAYMUX_HOME": str(tmp_path)}

    result = subprocess.run(
        [str(PAYMUX), "local", "--port", port],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert not (tmp_path / "local.json").exists()
