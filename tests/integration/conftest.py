"""The ledger on two engines with the same test code: moto, and AWS DynamoDB Local (marked
`dynamodb_local`). Each test gets a fresh table built from `paymux.ledger.schema`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from paymux.ledger.dynamodb import DynamoLedger
from paymux.ledger.sandbox_store import DynamoSandboxStore
from paymux.ledger.schema import create_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Enough connections for the concurrency tests' 20 threads to share one client.
_CLIENT_CONFIG = Config(max_pool_connections=32)


@dataclass(frozen=True)
class Backend:
    """A DynamoDB engine and a fresh ledger table on it."""

    name: str
    client: DynamoDBClient
    table_name: str


@pytest.fixture(
    params=[pytest.param("moto"), pytest.param("dynamodb_local", marks=pytest.mark.dynamodb_local)]
)
def backend(
    request: pytest.FixtureRequest, aws_credentials: None, aws_session: boto3.session.Session
) -> Iterator[Backend]:
    """A client and a fresh table (unique name) on moto or on DynamoDB Local. The client is made from
    the session's fake credentials; `aws_credentials` fakes the environment for anything else."""
    table_name = f"paymux-test-{uuid.uuid4().hex[:12]}"
    if request.param == "moto":
        with mock_aws():
            client = aws_session.client("dynamodb", config=_CLIENT_CONFIG)
            create_table(client, table_name)
            yield Backend("moto", client, table_name)
        return
    endpoint_url = request.getfixturevalue("dynamodb_local_endpoint")
    client = aws_session.client("dynamodb", endpoint_url=endpoint_url, config=_CLIENT_CONFIG)
    create_table(client, table_name)
    yield Backend("dynamodb_local", client, table_name)
    client.delete_table(TableName=table_name)


@pytest.fixture
def ledger(backend: Backend) -> DynamoLedger:
    return DynamoLedger(backend.table_name, backend.client)


@pytest.fixture
def sandbox_store(backend: Backend) -> DynamoSandboxStore:
    return DynamoSandboxStore(backend.table_name, backend.client)
