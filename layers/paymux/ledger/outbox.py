"""The outbox's bookkeeping beside each event item: the publisher's "on the bus" marker and each
consumer's once-only claim. Small items with a TTL, in the event's own partition."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from paymux.ledger import codec
from paymux.ledger.schema import ENTITY_ATTRIBUTE, TTL_ATTRIBUTE, Keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# How long the markers outlive the event's publication: longer than any redelivery of it (SQS keeps
# a message at most 14 days; stream records live 24 hours).
RECORD_TTL_SECONDS = 15 * 86_400


class Claim(StrEnum):
    CLAIMED = "claimed"  # this caller handles the event now
    DONE = "done"  # handled already: skip it
    IN_PROGRESS = "in_progress"  # another worker holds a live lease: try again later


class OutboxRecords:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self.client = client

    def is_published(self, event_id: str) -> bool:
        key = codec.serialize(Keys.event_published(event_id))
        return "Item" in self.client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True)

    def mark_published(self, event_id: str, now: int) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item=codec.serialize(
                {
                    **Keys.event_published(event_id),
                    ENTITY_ATTRIBUTE: "event_published",
                    "published_at": now,
                    TTL_ATTRIBUTE: now + RECORD_TTL_SECONDS,
                }
            ),
        )

    def claim(self, consumer: str, event_id: str, now: int, lease_seconds: int) -> Claim:
        """Take the once-only claim of `consumer` on the event, or take over one whose holder's lease
        ran out (it crashed). A conditional put, so of concurrent callers one wins."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=codec.serialize(
                    {
                        **Keys.event_consumed(event_id, consumer),
                        ENTITY_ATTRIBUTE: "event_consumed",
                        "status": Claim.IN_PROGRESS.value,
                        "lease_until": now + lease_seconds,
                        TTL_ATTRIBUTE: now + RECORD_TTL_SECONDS,
                    }
                ),
                ConditionExpression="attribute_not_exists(pk) OR (#status = :busy AND lease_until < :now)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":busy": codec.serialize_value(Claim.IN_PROGRESS.value),
                    ":now": codec.serialize_value(now),
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return self._claim_state(consumer, event_id)
        return Claim.CLAIMED

    def complete(self, consumer: str, event_id: str, now: int) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item=codec.serialize(
                {
                    **Keys.event_consumed(event_id, consumer),
                    ENTITY_ATTRIBUTE: "event_consumed",
                    "status": Claim.DONE.value,
                    "done_at": now,
                    TTL_ATTRIBUTE: now + RECORD_TTL_SECONDS,
                }
            ),
        )

    def release(self, consumer: str, event_id: str) -> None:
        """Give a claim back after a failure, so the retry need not wait for the lease."""
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key=codec.serialize(Keys.event_consumed(event_id, consumer)),
                ConditionExpression="#status = :busy",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":busy": codec.serialize_value(Claim.IN_PROGRESS.value)},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def _claim_state(self, consumer: str, event_id: str) -> Claim:
        item = self.client.get_item(
            TableName=self.table_name,
            Key=codec.serialize(Keys.event_consumed(event_id, consumer)),
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return Claim.IN_PROGRESS  # released between our put and this read: retry soon
        return Claim(codec.deserialize(item)["status"])
