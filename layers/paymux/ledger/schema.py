"""The one table schema. CDK, the local platform and the test fixtures all build the table from
here, so they cannot drift. The item layout is documented in docs/ledger.md."""

from __future__ import annotations

import hashlib
from typing import Any

PARTITION_KEY = "pk"
SORT_KEY = "sk"
GSI1 = "gsi1"
GSI1_PARTITION_KEY = "gsi1pk"
GSI1_SORT_KEY = "gsi1sk"
# The work index: sparse, it holds only items waiting for background work (payments still requiring
# action, webhook deliveries due for another attempt, dead-lettered deliveries). See `WorkIndex`.
GSI2 = "gsi2"
GSI2_PARTITION_KEY = "gsi2pk"
GSI2_SORT_KEY = "gsi2sk"
TTL_ATTRIBUTE = "expiration"
# Every item says what it is, so stream consumers (the outbox publisher) can filter on it.
ENTITY_ATTRIBUTE = "entity"
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"

KEY_ATTRIBUTES: tuple[str, ...] = (
    PARTITION_KEY,
    SORT_KEY,
    GSI1_PARTITION_KEY,
    GSI1_SORT_KEY,
    GSI2_PARTITION_KEY,
    GSI2_SORT_KEY,
)
# (index name, partition key, sort key) of every global secondary index, projecting all attributes.
GLOBAL_SECONDARY_INDEXES: tuple[tuple[str, str, str], ...] = (
    (GSI1, GSI1_PARTITION_KEY, GSI1_SORT_KEY),
    (GSI2, GSI2_PARTITION_KEY, GSI2_SORT_KEY),
)


def create_table_request(table_name: str) -> dict[str, Any]:
    """The `CreateTable` request for the ledger table (on-demand, stream on)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in KEY_ATTRIBUTES],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "KeySchema": [
                    {"AttributeName": partition_key, "KeyType": "HASH"},
                    {"AttributeName": sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for name, partition_key, sort_key in GLOBAL_SECONDARY_INDEXES
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE},
    }


def create_table(client: Any, table_name: str) -> None:
    """Create the ledger table and turn on TTL; a no-op if it exists already."""
    try:
        client.create_table(**create_table_request(table_name))
    except client.exceptions.ResourceInUseException:
        return
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )


class Keys:
    """Key builders for every item type. The only place that knows how keys are spelled."""

    @staticmethod
    def merchant(merchant_id: str) -> dict[str, str]:
        return {PARTITION_KEY: f"MCH#{merchant_id}", SORT_KEY: "MERCHANT"}

    @staticmethod
    def api_key(key_hash: str) -> dict[str, str]:
        return {PARTITION_KEY: f"KEY#{key_hash}", SORT_KEY: "KEY"}

    @staticmethod
    def payment(payment_id: str) -> dict[str, str]:
        return {PARTITION_KEY: f"PAY#{payment_id}", SORT_KEY: "PAYMENT"}

    @staticmethod
    def merchant_order_id(merchant_id: str, mode: str, merchant_order_id: str) -> dict[str, str]:
        return {PARTITION_KEY: f"MOID#{merchant_id}#{mode}#{merchant_order_id}", SORT_KEY: "MOID"}

    @staticmethod
    def refund(refund_id: str) -> dict[str, str]:
        return {PARTITION_KEY: f"RE#{refund_id}", SORT_KEY: "REFUND"}

    @staticmethod
    def merchant_refund_id(merchant_id: str, mode: str, merchant_refund_id: str) -> dict[str, str]:
        return {PARTITION_KEY: f"MRID#{merchant_id}#{mode}#{merchant_refund_id}", SORT_KEY: "MRID"}

    @staticmethod
    def event(event_id: str) -> dict[str, str]:
        return {PARTITION_KEY: f"EVT#{event_id}", SORT_KEY: "EVENT"}

    @staticmethod
    def webhook_endpoint(endpoint_id: str) -> dict[str, str]:
        return {PARTITION_KEY: f"WE#{endpoint_id}", SORT_KEY: "ENDPOINT"}

    @staticmethod
    def event_published(event_id: str) -> dict[str, str]:
        """The outbox publisher's marker: the event is on the bus."""
        return {PARTITION_KEY: f"EVT#{event_id}", SORT_KEY: "PUBLISHED"}

    @staticmethod
    def event_consumed(event_id: str, consumer: str) -> dict[str, str]:
        """A consumer's claim on (then record of) handling the event once."""
        return {PARTITION_KEY: f"EVT#{event_id}", SORT_KEY: f"CONSUMER#{consumer}"}

    @staticmethod
    def webhook_delivery(event_id: str, endpoint_id: str) -> dict[str, str]:
        return {PARTITION_KEY: f"EVT#{event_id}", SORT_KEY: f"DELIVERY#{endpoint_id}"}

    @staticmethod
    def webhook_attempt(event_id: str, endpoint_id: str, number: int) -> dict[str, str]:
        return {PARTITION_KEY: f"EVT#{event_id}", SORT_KEY: f"DELIVERY#{endpoint_id}#ATTEMPT#{number:04d}"}

    @staticmethod
    def idempotency_partition(merchant_id: str, mode: str) -> str:
        return f"IDEMPOTENCY#{merchant_id}#{mode}"


class Collections:
    """GSI1 partitions: the lists a merchant reads, newest first by ULID."""

    @staticmethod
    def payments(merchant_id: str, mode: str) -> str:
        return f"MCH#{merchant_id}#{mode}#PAYMENTS"

    @staticmethod
    def events(merchant_id: str, mode: str) -> str:
        return f"MCH#{merchant_id}#{mode}#EVENTS"

    @staticmethod
    def webhook_endpoints(merchant_id: str, mode: str) -> str:
        return f"MCH#{merchant_id}#{mode}#WEBHOOK_ENDPOINTS"

    @staticmethod
    def refunds_of(payment_id: str) -> str:
        return f"PAY#{payment_id}#REFUNDS"


class WorkIndex:
    """GSI2 partitions: what background jobs look for. Each kind is spread over `SHARDS`
    partitions (by a hash of the item's id) so no single index partition runs hot. Pending payments
    and refunds, like webhook deliveries, sort by when they are next due: a query for `sk` below
    `due_bound(now)` finds what is due, earliest first, and work that must wait longer is moved later
    (see `due_sort_key`) instead of staying at the head."""

    SHARDS = 4
    # A pending payment's or refund's first check, after its creation: its notification usually
    # arrives within this grace period, so the status sync does not ask the provider before.
    FIRST_CHECK_AFTER_SECONDS = 5 * 60

    @staticmethod
    def shard_of(item_id: str) -> int:
        return int(hashlib.sha256(item_id.encode()).hexdigest()[:8], 16) % WorkIndex.SHARDS

    @staticmethod
    def due_sort_key(due: int, item_id: str) -> str:
        """`<due unix seconds, 12 digits>#<id>`: sorts by due time, then by id."""
        return f"{max(due, 0):012d}#{item_id}"

    @staticmethod
    def due_bound(now: int) -> str:
        """Every `due_sort_key` due at or before `now` sorts below this, every later one above."""
        return f"{max(now + 1, 0):012d}"

    @staticmethod
    def pending_payments(channel: str, shard: int) -> str:
        """Payments of `channel` still requiring action; sort key: `due_sort_key(next check, id)`."""
        return f"PENDING#{channel}#{shard}"

    @staticmethod
    def pending_refunds(channel: str, shard: int) -> str:
        """Refunds of `channel` still pending at the provider; sort key: `due_sort_key(next check, id)`."""
        return f"PENDING_REFUNDS#{channel}#{shard}"

    @staticmethod
    def due_deliveries(shard: int) -> str:
        """Webhook deliveries waiting for an attempt; sort key: `<due unix seconds, 12 digits>#<id>`."""
        return f"DUE#WEBHOOK_DELIVERIES#{shard}"

    DEAD_DELIVERIES = "DEAD#WEBHOOK_DELIVERIES"
