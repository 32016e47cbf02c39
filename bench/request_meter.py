"""A meter on a boto3 DynamoDB client: botocore's `before-call` and `after-call` hooks see every
data-plane request; a second, unmetered client reads each written item before and after the request,
and `dynamodb_cost` turns what it saw into the request units on-demand would bill.

Every charge goes to the step running when it was made, except items of the rows `row_of` names
(idempotency records, the sandboxes' state), which are told apart by their partition key."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from bench.dynamodb_cost import (
    Index,
    Item,
    ItemWrite,
    index_write_units,
    item_size,
    read_units,
    table_write_units,
)

from paymux.ledger.schema import GLOBAL_SECONDARY_INDEXES, PARTITION_KEY, SORT_KEY

if TYPE_CHECKING:
    from botocore.model import OperationModel
    from mypy_boto3_dynamodb import DynamoDBClient

INDEXES = tuple(Index(name, pk, sk) for name, pk, sk in GLOBAL_SECONDARY_INDEXES)
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
READS = {"GetItem", "Query", "Scan", "TransactGetItems", "BatchGetItem"}
# What a re-run of a read leaves out: none of it changes what DynamoDB bills (it reads whole items,
# and filters after reading).
_BILLING_NEUTRAL = ("FilterExpression", "ProjectionExpression", "Select", "AttributesToGet")

RowOf = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Charge:
    row: str
    request: int  # the request's number in the run: a transaction's items share it
    operation: str
    target: str
    table_wru: int = 0
    index_wru: int = 0
    rru: float = 0.0

    @property
    def wru(self) -> int:
        return self.table_wru + self.index_wru


@dataclass(frozen=True)
class _Target:
    table: str
    key: dict[str, Any]
    action: str
    transactional: bool


class UnmeteredOperation(Exception):
    """A data-plane operation the meter has no rule for: its cost would go uncounted."""


class RequestMeter:
    def __init__(self, inspector: DynamoDBClient, row_of: RowOf) -> None:
        self.inspector = inspector
        self.row_of = row_of
        self.charges: list[Charge] = []
        self._step: str | None = None
        self._requests = 0

    def attach(self, client: DynamoDBClient) -> None:
        client.meta.events.register("before-call.dynamodb", self._before_call)
        client.meta.events.register("after-call.dynamodb", self._after_call)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Charge the requests made inside the block to `name`; requests outside any step are not
        counted (setup, and the sandbox playing the provider)."""
        self._step = name
        try:
            yield
        finally:
            self._step = None

    # -- hooks (a hook that returns a value would replace the response: these return None) ------

    def _before_call(
        self, model: OperationModel, params: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        if self._step is None or model.name not in WRITES | READS:
            if self._step is not None and model.name.endswith(("Item", "Items")):
                raise UnmeteredOperation(model.name)
            return
        request = json.loads(params.get("body") or b"{}")
        self._requests += 1
        context["meter"] = (self._step, self._requests, request, self._stored_items(model.name, request))

    def _after_call(
        self, model: OperationModel, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        metered = context.pop("meter", None)
        if metered is None:
            return
        step, number, request, before = metered
        made = len(self.charges)
        if model.name in WRITES:
            self._charge_writes(step, model.name, request, before, succeeded="Error" not in parsed)
        else:
            self._charge_reads(step, model.name, request, parsed)
        self.charges[made:] = [replace(charge, request=number) for charge in self.charges[made:]]

    # -- writes ----------------------------------------------------------------------------------

    def _stored_items(self, operation: str, request: dict[str, Any]) -> list[Item | None]:
        return [self._stored(t) for t in _write_targets(operation, request)] if operation in WRITES else []

    def _charge_writes(
        self, step: str, operation: str, request: dict[str, Any], before: list[Item | None], succeeded: bool
    ) -> None:
        for target, old in zip(_write_targets(operation, request), before, strict=True):
            new = old if target.action == "ConditionCheck" else self._stored(target)
            write = ItemWrite(old, new, transactional=target.transactional, succeeded=succeeded)
            pk = str(target.key[PARTITION_KEY]["S"])
            self.charges.append(
                Charge(
                    request=0,
                    row=self.row_of(pk) or step,
                    operation=f"{operation}:{target.action}" if target.transactional else operation,
                    target=f"{pk} {target.key[SORT_KEY]['S']}",
                    table_wru=table_write_units(write),
                    index_wru=sum(index_write_units(write, INDEXES).values()),
                )
            )

    def _stored(self, target: _Target) -> Item | None:
        response = self.inspector.get_item(TableName=target.table, Key=target.key, ConsistentRead=True)
        return response.get("Item")

    # -- reads -----------------------------------------------------------------------------------

    def _charge_reads(
        self, step: str, operation: str, request: dict[str, Any], parsed: dict[str, Any]
    ) -> None:
        if operation == "GetItem":
            self._charge_get(step, operation, request, parsed.get("Item"))
        elif operation in ("Query", "Scan"):
            self._charge_query(step, operation, request, parsed)
        elif operation == "TransactGetItems":
            for entry in request["TransactItems"]:
                get = entry["Get"]
                self._charge_get(step, operation, {**get, "Transactional": True}, self._full_item(get))
        else:  # BatchGetItem: each item on its own
            for table, keys in request["RequestItems"].items():
                for key in keys["Keys"]:
                    get = {"TableName": table, "Key": key, "ConsistentRead": keys.get("ConsistentRead")}
                    self._charge_get(step, operation, get, self._full_item(get))

    def _charge_get(self, step: str, operation: str, get: dict[str, Any], item: Item | None) -> None:
        if "ProjectionExpression" in get or "AttributesToGet" in get:
            item = self._full_item(get)
        pk = str(get["Key"][PARTITION_KEY]["S"])
        units = read_units(
            item_size(item),
            consistent=bool(get.get("ConsistentRead")),
            transactional=bool(get.get("Transactional")),
        )
        target = f"{pk} {get['Key'][SORT_KEY]['S']}" + ("" if item else " (missing)")
        self.charges.append(
            Charge(row=self.row_of(pk) or step, request=0, operation=operation, target=target, rru=units)
        )

    def _full_item(self, get: dict[str, Any]) -> Item | None:
        response = self.inspector.get_item(TableName=get["TableName"], Key=get["Key"], ConsistentRead=True)
        return response.get("Item")

    def _charge_query(
        self, step: str, operation: str, request: dict[str, Any], parsed: dict[str, Any]
    ) -> None:
        items: list[Item] = parsed.get("Items", [])
        if any(name in request for name in _BILLING_NEUTRAL):
            items = self._items_read(operation, request)
        index = request.get("IndexName", "table")
        values = request.get("ExpressionAttributeValues", {})
        partition = next((str(v["S"]) for k, v in values.items() if k in (":pk", ":p") and "S" in v), "")
        self.charges.append(
            Charge(
                row=step,
                request=0,
                operation=operation,
                target=f"{index} {partition} ({len(items)} items)",
                rru=read_units(
                    sum(item_size(i) for i in items), consistent=bool(request.get("ConsistentRead"))
                ),
            )
        )

    def _items_read(self, operation: str, request: dict[str, Any]) -> list[Item]:
        """The items the request read, whatever it returned: the same request without filter or
        projection, on the unmetered client."""
        rerun = {k: v for k, v in request.items() if k not in _BILLING_NEUTRAL}
        condition = str(rerun.get("KeyConditionExpression", ""))
        for placeholders in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
            kept = {k: v for k, v in rerun.get(placeholders, {}).items() if k in condition}
            if kept:
                rerun[placeholders] = kept
            else:
                rerun.pop(placeholders, None)
        call = self.inspector.query if operation == "Query" else self.inspector.scan
        return list(call(**rerun).get("Items", []))


def _write_targets(operation: str, request: dict[str, Any]) -> list[_Target]:
    if operation == "PutItem":
        return [_Target(request["TableName"], _key_of(request["Item"]), "Put", False)]
    if operation in ("UpdateItem", "DeleteItem"):
        return [_Target(request["TableName"], request["Key"], operation.removesuffix("Item"), False)]
    if operation == "TransactWriteItems":
        targets = []
        for entry in request["TransactItems"]:
            ((action, body),) = entry.items()
            key = _key_of(body["Item"]) if action == "Put" else body["Key"]
            targets.append(_Target(body["TableName"], key, action, True))
        return targets
    # BatchWriteItem
    return [
        _Target(table, _key_of(w["PutRequest"]["Item"]) if "PutRequest" in w else w["DeleteRequest"]["Key"],
                "Put" if "PutRequest" in w else "Delete", False)
        for table, writes in request["RequestItems"].items()
        for w in writes
    ]  # fmt: skip


def _key_of(item: dict[str, Any]) -> dict[str, Any]:
    return {PARTITION_KEY: item[PARTITION_KEY], SORT_KEY: item[SORT_KEY]}
