"""Channel credentials in Secrets Manager (moto): missing is None, anything else is an error."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from moto import mock_aws

from paymux.channels.credentials import SecretsCredentialStore


@pytest.fixture
def store(aws_credentials: None, aws_session: boto3.session.Session) -> Iterator[SecretsCredentialStore]:
    with mock_aws():
        yield SecretsCredentialStore(aws_session.client("secretsmanager"), "paymux/test", cache_seconds=0)


def test_credentials_round_trip_and_missing_ones_are_none(store: SecretsCredentialStore) -> None:
    assert store.load("alipay", "mch_1", "test") is None
    name = store.save("alipay", "mch_1", "test", {"app_id": "2021"})
    assert name == "paymux/test/alipay/mch_1/test"
    assert store.load("alipay", "mch_1", "test") == {"app_id": "2021"}
    store.save("alipay", "mch_1", "test", {"app_id": "2022"})
    assert store.load("alipay", "mch_1", "test") == {"app_id": "2022"}
    assert store.load("alipay", "mch_1", "live") is None


def test_other_failures_are_not_mistaken_for_missing_credentials(store: SecretsCredentialStore) -> None:
    store.client.create_secret(Name="paymux/test/alipay/mch_2/test", SecretString="{}")
    store.client.delete_secret(SecretId="paymux/test/alipay/mch_2/test")  # scheduled: reads now fail
    with pytest.raises(GetParameterError):
        store.load("alipay", "mch_2", "test")
