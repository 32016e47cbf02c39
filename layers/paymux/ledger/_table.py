"""Plumbing shared by the ledger's records: the item codec, conditional and transactional writes
(with conflict retries), scoped reads and paged listing on the collection index."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast

from botocore.exceptions import ClientError
from pydantic import BaseModel

from paymux.domain.errors import NotFound
from paymux.domain.models import Event, MerchantScope
from paymux.ledger import codec
from paymux.ledger.ports import Page
from paymux.ledger.schema import (
    ENTITY_ATTRIBUTE,
    GSI1,
    GSI1_PARTITION_KEY,
    GSI1_SORT_KEY,
    KEY_ATTRIBUTES,
    TTL_ATTRIBUTE,
    Collections,
    Keys,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

M = TypeVar("M", bound=BaseModel)

NOT_EXISTS = "attribute_not_exists(pk)"
_CONFLICT_RETRIES = 4
_QUERY_PAGE = 100


class LedgerTable:
    """The table and client every part of the ledger writes through, with the item codec and the
    transaction, read and listing helpers they share."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self.client = client

    def _item(
        self, keys: dict[str, str], entity: str, model: BaseModel, gsi: tuple[str, str] | None = None
    ) -> dict[str, Any]:
        values: dict[str, Any] = {**model.model_dump(mode="json"), **keys, ENTITY_ATTRIBUTE: entity}
        if gsi:
            values[GSI1_PARTITION_KEY], values[GSI1_SORT_KEY] = gsi
        return codec.serialize(values)

    def _transact(self, items: list[dict[str, Any]]) -> None:
        """Run a transaction, retrying (with jitter) only when DynamoDB cancelled it for a conflict
        with another transaction on the same items: the conditions decide who wins, not the timing."""
        for attempt in range(_CONFLICT_RETRIES + 1):
            try:
                self.client.transact_write_items(TransactItems=cast("list[TransactWriteItemTypeDef]", items))
                return
            except ClientError as error:
                if attempt == _CONFLICT_RETRIES or not _only_conflicts(error):
                    raise
                time.sleep(random.uniform(0, 0.05 * 2**attempt))

    def _status_update(
        self,
        keys: dict[str, str],
        values: dict[str, Any],
        sources: list[Any],
        *,
        bump_version: bool = False,
        remove: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """A transaction item that sets `values` (and removes the `remove` attributes) only if the
        item's status is one of `sources`."""
        names = {f"#a{i}": name for i, name in enumerate(values)} | {"#status": "status"}
        attr_values = {f":a{i}": codec.serialize_value(v) for i, v in enumerate(values.values())}
        attr_values |= {f":s{i}": codec.serialize_value(s.value) for i, s in enumerate(sources)}
        update = "SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(values)))
        if bump_version:
            names["#v"] = "version"
            attr_values[":one"] = codec.serialize_value(1)
            update += ", #v = #v + :one"
        if remove:
            names |= {f"#r{i}": name for i, name in enumerate(remove)}
            update += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": item_key(keys),
                "UpdateExpression": update,
                "ConditionExpression": f"#status IN ({', '.join(f':s{i}' for i in range(len(sources)))})",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": attr_values,
            }
        }

    def _put_event(self, event: Event) -> dict[str, Any]:
        item = self._item(
            Keys.event(event.id),
            "event",
            event,
            gsi=(Collections.events(event.merchant_id, event.mode), event.id),
        )
        return {"Put": {"TableName": self.table_name, "Item": item, "ConditionExpression": NOT_EXISTS}}

    def _get(self, keys: dict[str, str], model: type[M], missing: str) -> M:
        item = self.client.get_item(TableName=self.table_name, Key=item_key(keys), ConsistentRead=True).get(
            "Item"
        )
        if not item:
            raise NotFound(missing)
        return to_model(item, model)

    def _list(
        self,
        collection: str,
        model: type[M],
        limit: int,
        starting_after: str | None,
        *,
        lower: str,
        upper: str,
        equals: dict[str, str] | None = None,
    ) -> Page[M]:
        # The partition is the caller's own collection, so a forged cursor can only move within it.
        if starting_after is not None:
            upper = min(upper, starting_after)
        if upper < lower:
            # A cursor before the range (or a forged one): nothing to list, and DynamoDB refuses a
            # BETWEEN whose bounds are reversed.
            return Page(data=[], has_more=False)
        found: list[M] = []
        for item in self._query_desc(collection, lower, upper, equals or {}):
            if starting_after is not None and item[GSI1_SORT_KEY]["S"] == starting_after:
                continue
            found.append(to_model(item, model))
            if len(found) > limit:
                break
        return Page(data=found[:limit], has_more=len(found) > limit)

    def _query_desc(
        self, collection: str, lower: str, upper: str, equals: dict[str, str]
    ) -> Iterator[dict[str, Any]]:
        names = {"#pk": GSI1_PARTITION_KEY, "#sk": GSI1_SORT_KEY}
        values = {
            ":pk": codec.serialize_value(collection),
            ":lo": codec.serialize_value(lower),
            ":hi": codec.serialize_value(upper),
        }
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": GSI1,
            "ScanIndexForward": False,
            "Limit": _QUERY_PAGE,
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :lo AND :hi",
        }
        if equals:
            names |= {f"#f{i}": name for i, name in enumerate(equals)}
            values |= {f":f{i}": codec.serialize_value(v) for i, v in enumerate(equals.values())}
            request["FilterExpression"] = " AND ".join(f"#f{i} = :f{i}" for i in range(len(equals)))
        request["ExpressionAttributeNames"] = names
        request["ExpressionAttributeValues"] = values
        while True:
            response = self.client.query(**request)
            yield from response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def item_key(keys: dict[str, str]) -> dict[str, Any]:
    return codec.serialize(keys)


_STORAGE_ATTRIBUTES = {*KEY_ATTRIBUTES, ENTITY_ATTRIBUTE, TTL_ATTRIBUTE}


def to_model(item: dict[str, Any], model: type[M]) -> M:
    values = codec.deserialize(item)
    return model.model_validate({k: v for k, v in values.items() if k not in _STORAGE_ATTRIBUTES})


def check_scope(merchant_id: str, mode: str, scope: MerchantScope | None, missing: str) -> None:
    # Another merchant's object, or this merchant's in the other mode, is a 404: its existence is not
    # revealed.
    if scope is not None and (merchant_id != scope.merchant_id or mode != scope.mode):
        raise NotFound(missing)


def _only_conflicts(error: ClientError) -> bool:
    """A cancelled transaction none of whose conditions failed, but which collided with another."""
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return False
    codes = {reason.get("Code") for reason in error.response.get("CancellationReasons", [])}
    return "TransactionConflict" in codes and codes <= {"TransactionConflict", "None", None}


def failed_conditions(error: ClientError) -> list[bool]:
    """For a cancelled transaction, which of its items failed their condition (in order)."""
    code = error.response["Error"]["Code"]
    if code == "ConditionalCheckFailedException":
        return [True]
    if code != "TransactionCanceledException":
        return []
    reasons: list[dict[str, Any]] = error.response.get("CancellationReasons", [])  # type: ignore[assignment]
    if not reasons:
        # Some emulators put the reasons only in the message: "[ConditionalCheckFailed, None]".
        message = error.response["Error"].get("Message", "")
        inside = message[message.find("[") + 1 : message.rfind("]")]
        return [part.strip() == "ConditionalCheckFailed" for part in inside.split(",")]
    return [reason.get("Code") == "ConditionalCheckFailed" for reason in reasons]
