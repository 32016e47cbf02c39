"""The built-in sandboxes' provider-side state, kept in the ledger table under its own keys and
expiring after 30 days. Never read by the ledger itself."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from paymux.ledger import codec
from paymux.ledger.schema import ENTITY_ATTRIBUTE, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_RETENTION_SECONDS = 30 * 86_400


class DynamoSandboxStore:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self.client = client

    def load(self, channel: str, key: str) -> dict[str, Any] | None:
        item = self.client.get_item(
            TableName=self.table_name, Key=codec.serialize(_key(channel, key)), ConsistentRead=True
        ).get("Item")
        return json.loads(str(codec.deserialize(item)["state"])) if item else None

    def save(self, channel: str, key: str, value: dict[str, Any]) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item=codec.serialize(
                {
                    **_key(channel, key),
                    ENTITY_ATTRIBUTE: "sandbox",
                    "state": json.dumps(value),
                    TTL_ATTRIBUTE: int(time.time()) + _RETENTION_SECONDS,
                }
            ),
        )


def _key(channel: str, key: str) -> dict[str, str]:
    return {PARTITION_KEY: f"SANDBOX#{channel}#{key}", SORT_KEY: "SANDBOX"}
