"""Webhook deliveries and their attempts in the ledger table, beside their event (`EVT#<id>`).

A delivery item carries its latest attempt, so recording an attempt is one conditional write on the
delivery's `version`; the attempt it replaces is archived first as an item of its own (immutable, so
writing it twice is harmless). A pending delivery sits in the work index under its due time, a
dead-lettered one under the dead-letter partition; one delivered at its first attempt never enters
the index."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from paymux.domain.deliveries import Delivery, DeliveryAttempt, DeliveryStatus
from paymux.ledger import codec
from paymux.ledger.schema import (
    ENTITY_ATTRIBUTE,
    GSI2,
    GSI2_PARTITION_KEY,
    GSI2_SORT_KEY,
    KEY_ATTRIBUTES,
    PARTITION_KEY,
    SORT_KEY,
    Keys,
    WorkIndex,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_DELIVERY = "webhook_delivery"
_ATTEMPT = "webhook_attempt"


class DeliveryLedger:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self.client = client

    def create(self, delivery: Delivery) -> bool:
        """Write a new delivery (with its first attempt, if made); False if the event already has
        one for that endpoint."""
        return self._put_delivery(delivery, "attribute_not_exists(pk)", {})

    def get(self, event_id: str, endpoint_id: str) -> Delivery | None:
        item = self.client.get_item(
            TableName=self.table_name,
            Key=codec.serialize(Keys.webhook_delivery(event_id, endpoint_id)),
            ConsistentRead=True,
        ).get("Item")
        return _delivery(item) if item else None

    def replace(self, current: Delivery, changed: Delivery) -> bool:
        """Store `changed` (whose version must be `current`'s plus one) if `current` is still what is
        stored; False if another worker changed it first. When `changed` carries a newer attempt,
        `current`'s is archived first."""
        if changed.version != current.version + 1:
            raise ValueError("a changed delivery must carry the next version")
        superseded = current.last_attempt
        if superseded is not None and changed.last_attempt != superseded:
            self._archive(current, superseded)
        return self._put_delivery(changed, "#v = :v", {":v": codec.serialize_value(current.version)})

    def list_for_event(self, event_id: str) -> list[tuple[Delivery, list[DeliveryAttempt]]]:
        """The event's deliveries, each with its attempts in order: the archived ones and the latest,
        which a crash may have left in both places."""
        deliveries: dict[str, Delivery] = {}
        attempts: dict[str, dict[int, DeliveryAttempt]] = {}
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#sk": SORT_KEY},
            "ExpressionAttributeValues": {
                ":pk": codec.serialize_value(Keys.event(event_id)[PARTITION_KEY]),
                ":prefix": codec.serialize_value("DELIVERY#"),
            },
            "ConsistentRead": True,
        }
        while True:
            response = self.client.query(**request)
            for item in response.get("Items", []):
                if item[ENTITY_ATTRIBUTE]["S"] == _DELIVERY:
                    delivery = _delivery(item)
                    deliveries[delivery.id] = delivery
                    if delivery.last_attempt is not None:
                        attempts.setdefault(delivery.id, {})[delivery.last_attempt.number] = (
                            delivery.last_attempt
                        )
                else:
                    attempt = DeliveryAttempt.model_validate(_plain(item))
                    attempts.setdefault(attempt.delivery_id, {}).setdefault(attempt.number, attempt)
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        ordered = sorted(deliveries.values(), key=lambda d: d.id)
        return [(d, [a for _, a in sorted(attempts.get(d.id, {}).items())]) for d in ordered]

    def due(self, now: int, limit: int) -> list[Delivery]:
        """Pending deliveries whose next attempt is due at `now`, earliest first (from the
        eventually consistent index: callers act through `replace`, which re-checks)."""
        found: list[Delivery] = []
        for shard in range(WorkIndex.SHARDS):
            response = self.client.query(
                TableName=self.table_name,
                IndexName=GSI2,
                KeyConditionExpression="#pk = :pk AND #sk < :due",
                ExpressionAttributeNames={"#pk": GSI2_PARTITION_KEY, "#sk": GSI2_SORT_KEY},
                ExpressionAttributeValues={
                    ":pk": codec.serialize_value(WorkIndex.due_deliveries(shard)),
                    ":due": codec.serialize_value(WorkIndex.due_bound(now)),
                },
                Limit=limit,
            )
            found.extend(_delivery(item) for item in response.get("Items", []))
        return sorted(found, key=lambda d: (d.next_attempt_at or 0, d.id))[:limit]

    def dead_letters(self, limit: int) -> list[Delivery]:
        """The most recently dead-lettered deliveries, newest first."""
        response = self.client.query(
            TableName=self.table_name,
            IndexName=GSI2,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": GSI2_PARTITION_KEY},
            ExpressionAttributeValues={":pk": codec.serialize_value(WorkIndex.DEAD_DELIVERIES)},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_delivery(item) for item in response.get("Items", [])]

    def _put_delivery(self, delivery: Delivery, condition: str, values: dict[str, Any]) -> bool:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": self._delivery_item(delivery),
            "ConditionExpression": condition,
        }
        if values:
            request["ExpressionAttributeNames"] = {"#v": "version"}
            request["ExpressionAttributeValues"] = values
        try:
            self.client.put_item(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _archive(self, delivery: Delivery, attempt: DeliveryAttempt) -> None:
        keys = Keys.webhook_attempt(delivery.event_id, delivery.endpoint_id, attempt.number)
        values = {**attempt.model_dump(mode="json"), **keys, ENTITY_ATTRIBUTE: _ATTEMPT}
        self.client.put_item(TableName=self.table_name, Item=codec.serialize(values))

    def _delivery_item(self, delivery: Delivery) -> dict[str, Any]:
        values: dict[str, Any] = {
            **delivery.model_dump(mode="json", exclude={"last_attempt"}),
            "last_attempt": _attempt_values(delivery.last_attempt),
            **Keys.webhook_delivery(delivery.event_id, delivery.endpoint_id),
            ENTITY_ATTRIBUTE: _DELIVERY,
        }
        if delivery.status is DeliveryStatus.PENDING and delivery.next_attempt_at is not None:
            shard = WorkIndex.shard_of(delivery.id)
            values[GSI2_PARTITION_KEY] = WorkIndex.due_deliveries(shard)
            values[GSI2_SORT_KEY] = WorkIndex.due_sort_key(delivery.next_attempt_at, delivery.id)
        elif delivery.status is DeliveryStatus.DEAD_LETTERED:
            values[GSI2_PARTITION_KEY] = WorkIndex.DEAD_DELIVERIES
            values[GSI2_SORT_KEY] = WorkIndex.due_sort_key(delivery.updated, delivery.id)
        return codec.serialize(values)


def _attempt_values(attempt: DeliveryAttempt | None) -> dict[str, Any] | None:
    return attempt.model_dump(mode="json", exclude_none=True) if attempt else None


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in codec.deserialize(item).items() if k not in {*KEY_ATTRIBUTES, ENTITY_ATTRIBUTE}}


def _delivery(item: dict[str, Any]) -> Delivery:
    return Delivery.model_validate(_plain(item))
