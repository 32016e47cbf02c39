"""Fixtures every kind of test may share: fake AWS credentials and AWS DynamoDB Local."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from tests.tools import dynamodb_local

FAKE_REGION = "us-east-1"
_FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": FAKE_REGION,
    "AWS_REGION": FAKE_REGION,
}
# Settings that would send a test's boto3 calls somewhere else than the test chose.
_AMBIENT_AWS_SETTINGS = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB")


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region for this test, so nothing can reach a real AWS account."""
    for name in _AMBIENT_AWS_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    for name, value in _FAKE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def aws_session() -> boto3.session.Session:
    """A boto3 session on the fake credentials and region, shared by the whole test session so that
    each test's clients reuse its loaded service models (a new client then costs milliseconds)."""
    return boto3.session.Session(
        aws_access_key_id=_FAKE_AWS_ENVIRONMENT["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=_FAKE_AWS_ENVIRONMENT["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=_FAKE_AWS_ENVIRONMENT["AWS_SESSION_TOKEN"],
        region_name=FAKE_REGION,
    )


@pytest.fixture(scope="session")
def dynamodb_local_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One AWS DynamoDB Local (in memory, 127.0.0.1, a free port) for the whole session; its URL.

    Fails the tests that need it, saying what to install, if Java or the jar is missing.
    """
    log_path = tmp_path_factory.mktemp("dynamodb-local") / "server.log"
    try:
        server = dynamodb_local.start(log_path)
    except dynamodb_local.DynamoDBLocalUnavailable as error:
        pytest.fail(f"AWS DynamoDB Local is unavailable: {error}", pytrace=False)
    try:
        yield server.endpoint_url
    finally:
        server.stop()
