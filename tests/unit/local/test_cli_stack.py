"""`paymux ... --stack NAME`: the CLI finds a deployed stack's table, secrets prefix and API URL from
its CloudFormation outputs (moto plays CloudFormation, DynamoDB and Secrets Manager), and `keys`
rolls and revokes merchants' secret keys."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from paymux.cli import build_parser, main
from paymux.cli.deployment import resolve_deployment
from paymux.ledger.dynamodb import DynamoLedger
from paymux.ledger.schema import create_table_request
from paymux.services.merchants import MerchantService, hash_key
from paymux.stack_outputs import OutputKey

REGION = "eu-west-1"


def ledger_table_resource(table_name: str) -> dict[str, Any]:
    """The ledger table as a CloudFormation resource, from the one schema."""
    request = create_table_request(table_name)
    properties = {k: v for k, v in request.items() if k != "StreamSpecification"}
    return {"Type": "AWS::DynamoDB::Table", "Properties": properties}


def deploy(stage: str, region: str = REGION, outputs: dict[str, Any] | None = None) -> None:
    """A stack named `paymux-{stage}` owning a ledger table, with the outputs the CDK stack declares."""
    template = {
        "Resources": {"Ledger": ledger_table_resource(f"paymux-{stage}-Ledger")},
        "Outputs": {
            key: {"Value": value}
            for key, value in (
                outputs
                if outputs is not None
                else {
                    OutputKey.API_URL: f"https://{stage}.execute-api.{region}.amazonaws.com/{stage}/",
                    OutputKey.TABLE_NAME: {"Ref": "Ledger"},
                    OutputKey.EVENT_BUS_NAME: f"paymux-{stage}",
                    OutputKey.SECRETS_PREFIX: f"paymux/{stage}",
                    OutputKey.STAGE: stage,
                }
            ).items()
        },
    }
    cloudformation = boto3.client("cloudformation", region_name=region)
    cloudformation.create_stack(StackName=f"paymux-{stage}", TemplateBody=json.dumps(template))


def ledger(stage: str) -> DynamoLedger:
    return DynamoLedger(f"paymux-{stage}-Ledger", boto3.client("dynamodb", region_name=REGION))


def item_count(stage: str) -> int:
    client = boto3.client("dynamodb", region_name=REGION)
    return int(client.scan(TableName=f"paymux-{stage}-Ledger", Select="COUNT")["Count"])


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def no_local_platform(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PAYMUX_HOME", str(tmp_path))


@pytest.fixture
def aws(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A mocked AWS account holding two paymux stages (the CLI must pick the right one), in the
    engineer's region."""
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        deploy("prod")
        deploy("dev")
        yield


def test_stack_and_region_parse_before_or_after_the_command() -> None:
    parser = build_parser()

    before = parser.parse_args(["--stack", "paymux-prod", "--region", REGION, "merchants", "create", "Acme"])
    after = parser.parse_args(["keys", "roll", "mch_1", "--mode", "live", "--stack", "paymux-prod"])
    tail = parser.parse_args(["--region", REGION, "events", "tail", "--stack", "paymux-prod"])
    neither = parser.parse_args(["channels", "set", "mch_1", "alipay", "--mode", "test", "--config", "a"])

    assert (before.stack, before.region) == ("paymux-prod", REGION)
    assert (after.stack, after.region) == ("paymux-prod", None)
    assert (tail.stack, tail.region) == ("paymux-prod", REGION)
    assert (neither.stack, neither.region) == (None, None)


@pytest.mark.usefixtures("aws")
def test_a_stack_resolves_to_its_own_table_bus_secrets_prefix_and_api_url() -> None:
    deployment = resolve_deployment("paymux-prod", REGION)

    assert deployment.table_name == "paymux-prod-Ledger"
    assert deployment.event_bus_name == "paymux-prod"
    assert deployment.secrets_prefix == "paymux/prod"
    assert deployment.api_url == f"https://prod.execute-api.{REGION}.amazonaws.com/prod/"
    assert deployment.region == REGION
    assert deployment.client("dynamodb").meta.region_name == REGION


@pytest.mark.usefixtures("aws")
def test_merchants_create_with_a_stack_writes_into_that_stacks_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "--stack", "paymux-prod", "merchants", "create", "Acme Ltd")

    assert code == 0, err
    created = json.loads(out)
    assert ledger("prod").get_merchant(created["merchant_id"]).name == "Acme Ltd"
    scope = MerchantService(ledger("prod")).authenticate(created["live_secret_key"])
    assert (scope.merchant_id, scope.mode.value) == (created["merchant_id"], "live")
    assert item_count("dev") == 0


@pytest.mark.usefixtures("aws")
def test_channels_set_with_a_stack_stores_the_secret_under_its_prefix(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    merchant = MerchantService(ledger("prod")).create("Acme").merchant
    config = tmp_path / "stripe.json"
    config.write_text(json.dumps({"secret_key": "sk_live_51abc", "webhook_secret": "whsec_abc"}))

    code, out, err = run(
        capsys, "channels", "set", merchant.id, "stripe", "--mode", "live", "--config", str(config),
        "--stack", "paymux-prod", "--region", REGION,
    )  # fmt: skip

    assert code == 0, err
    name = f"paymux/prod/stripe/{merchant.id}/live"
    assert json.loads(out)["secret_name"] == name
    secrets = boto3.client("secretsmanager", region_name=REGION)
    assert (
        json.loads(secrets.get_secret_value(SecretId=name)["SecretString"])["secret_key"] == "sk_live_51abc"
    )
    assert "sk_live_51abc" not in out + err


@pytest.mark.usefixtures("aws")
def test_the_region_comes_from_the_flag_then_aws_region_then_the_profile(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    deploy("apac", region="ap-southeast-1")

    assert resolve_deployment("paymux-apac", "ap-southeast-1").region == "ap-southeast-1"
    monkeypatch.setenv("AWS_REGION", "ap-southeast-1")
    assert resolve_deployment("paymux-apac").region == "ap-southeast-1"

    config = tmp_path / "aws-config"
    config.write_text("[profile ops]\nregion = ap-southeast-1\n")
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "ops")
    assert resolve_deployment("paymux-apac").table_name == "paymux-apac-Ledger"


@pytest.mark.usefixtures("aws")
def test_a_stack_in_another_region_is_not_found_and_the_region_is_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(
        capsys, "merchants", "create", "Acme", "--stack", "paymux-prod", "--region", "us-west-2"
    )

    assert (code, out) == (1, "")
    assert "no stack named 'paymux-prod'" in err
    assert "us-west-2" in err
    assert "Traceback" not in err


@pytest.mark.usefixtures("aws")
def test_a_stack_without_paymux_outputs_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    deploy("other", outputs={OutputKey.API_URL: "https://x/", OutputKey.STAGE: "other"})

    code, _, err = run(capsys, "--stack", "paymux-other", "merchants", "create", "Acme")

    assert code == 1
    assert "no outputs ['EventBusName', 'SecretsPrefix', 'TableName']" in err
    assert "is it a paymux stack?" in err


def test_without_aws_credentials_the_cli_says_how_to_get_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    code, _, err = run(capsys, "--stack", "paymux-prod", "--region", REGION, "merchants", "create", "Acme")

    assert code == 1
    assert "no AWS credentials found" in err
    assert "AWS_PROFILE" in err
    assert "Traceback" not in err


def test_without_a_region_the_cli_asks_for_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))

    code, _, err = run(capsys, "--stack", "paymux-prod", "merchants", "create", "Acme")

    assert code == 1
    assert "which region is paymux-prod in? Pass --region, set AWS_REGION" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stack", "paymux-prod", "local"], "--stack does not apply"),
        (["--region", REGION, "merchants", "create", "Acme"], "--region goes with --stack NAME"),
    ],
)
def test_options_that_would_be_ignored_are_refused(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, *argv)

    assert code == 1
    assert message in err


@pytest.mark.usefixtures("aws")
def test_events_tail_with_a_stack_needs_the_merchants_own_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PAYMUX_API_KEY", raising=False)

    # The stack resolves (a missing one is an error, below), and no demo key stands in for the merchant's.
    code, _, err = run(capsys, "events", "tail", "--stack", "paymux-prod")
    assert code == 1
    assert "pass --key or set PAYMUX_API_KEY" in err

    code, _, err = run(
        capsys, "webhooks", "listen", "--forward-to", "http://localhost:4242", "--stack", "nope"
    )
    assert code == 1
    assert "no stack named 'nope'" in err

    code, _, err = run(
        capsys, "--stack", "paymux-prod", "events", "tail", "--api-url", "https://x/", "--key", "k"
    )
    assert code == 1
    assert "pass --stack or --api-url, not both" in err


@pytest.mark.usefixtures("aws")
def test_keys_roll_prints_a_new_key_that_works_beside_the_old_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    created = MerchantService(ledger("prod")).create("Acme")

    code, out, err = run(
        capsys, "--stack", "paymux-prod", "keys", "roll", created.merchant.id, "--mode", "live"
    )

    assert code == 0, err
    rolled = json.loads(out)
    assert rolled["secret_key"].startswith("sk_live_")
    assert rolled["key_hash"] == hash_key(rolled["secret_key"])
    service = MerchantService(ledger("prod"))
    assert service.authenticate(rolled["secret_key"]).merchant_id == created.merchant.id
    assert service.authenticate(created.live_secret_key).merchant_id == created.merchant.id


@pytest.mark.usefixtures("aws")
def test_keys_roll_for_an_unknown_merchant_fails(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--stack", "paymux-prod", "keys", "roll", "mch_missing", "--mode", "test")

    assert code == 1
    assert "No such merchant: mch_missing" in err
    assert item_count("prod") == 0


@pytest.mark.usefixtures("aws")
def test_keys_revoke_by_hash_stops_the_key_and_only_that_key(capsys: pytest.CaptureFixture[str]) -> None:
    created = MerchantService(ledger("prod")).create("Acme")
    old_hash = hash_key(created.live_secret_key)

    code, out, err = run(
        capsys, "--stack", "paymux-prod", "keys", "revoke", created.merchant.id, "--key-hash", old_hash
    )

    assert code == 0, err
    assert json.loads(out) == {
        "merchant_id": created.merchant.id,
        "mode": "live",
        "key_hash": old_hash,
        "revoked": True,
    }
    assert ledger("prod").find_api_key(old_hash) is None
    assert ledger("prod").find_api_key(hash_key(created.test_secret_key)) is not None
    code, _, err = run(
        capsys, "--stack", "paymux-prod", "keys", "revoke", created.merchant.id, "--key-hash", old_hash
    )
    assert code == 1
    assert f"has no key with hash {old_hash}" in err


@pytest.mark.usefixtures("aws")
def test_keys_revoke_reads_the_key_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    created = MerchantService(ledger("prod")).create("Acme")
    monkeypatch.setattr("sys.stdin", io.StringIO(created.test_secret_key + "\n"))

    code, out, err = run(
        capsys, "--stack", "paymux-prod", "keys", "revoke", created.merchant.id, "--key-stdin"
    )

    assert code == 0, err
    assert json.loads(out)["mode"] == "test"
    assert created.test_secret_key not in out + err
    assert ledger("prod").find_api_key(hash_key(created.test_secret_key)) is None


@pytest.mark.usefixtures("aws")
def test_a_key_of_another_merchant_is_not_revoked(capsys: pytest.CaptureFixture[str]) -> None:
    service = MerchantService(ledger("prod"))
    mine, theirs = service.create("Mine"), service.create("Theirs")
    their_hash = hash_key(theirs.live_secret_key)

    code, _, err = run(
        capsys, "--stack", "paymux-prod", "keys", "revoke", mine.merchant.id, "--key-hash", their_hash
    )

    assert code == 1
    assert f"Merchant {mine.merchant.id} has no key with hash" in err
    assert ledger("prod").find_api_key(their_hash) is not None


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["--key-hash", "ABC"], "", "64 lower-case hex digits"),
        (["--key-stdin"], "\n", "stdin holds no secret key"),
    ],
)
def test_keys_revoke_refuses_what_is_not_a_key_before_touching_aws(
    argv: list[str],
    stdin: str,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))

    code, _, err = run(capsys, "--stack", "paymux-prod", "keys", "revoke", "mch_1", *argv)

    assert code == 1
    assert message in err


def test_keys_without_a_stack_act_on_the_local_platform(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "keys", "roll", "mch_1", "--mode", "test")

    assert code == 1
    assert "no local paymux platform is running" in err
