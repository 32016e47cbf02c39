"""The ledger on one DynamoDB table. State changes are conditional writes, each committed in one
transaction with the event that announces it (the outbox), so the guarantees hold under any
concurrency: a payment never moves backwards, is never paid twice, is never refunded past its amount.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast

from botocore.exceptions import ClientError
from pydantic import BaseModel

from paymux.domain.errors import (
    Conflict,
    DuplicateMerchantOrderId,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    RefundExceedsAmount,
)
from paymux.domain.ids import IdPrefix, boundary_id
from paymux.domain.models import (
    ApiKey,
    Channel,
    Event,
    Merchant,
    MerchantScope,
    Payment,
    Refund,
    WebhookEndpoint,
)
from paymux.domain.states import PaymentStatus, RefundStatus, refund_sources_of, sources_of
from paymux.ledger import codec
from paymux.ledger.ports import Page, PaymentChanges, PaymentFilter
from paymux.ledger.schema import (
    ENTITY_ATTRIBUTE,
    GSI1,
    GSI1_PARTITION_KEY,
    GSI1_SORT_KEY,
    GSI2,
    GSI2_PARTITION_KEY,
    GSI2_SORT_KEY,
    KEY_ATTRIBUTES,
    TTL_ATTRIBUTE,
    Collections,
    Keys,
    WorkIndex,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

M = TypeVar("M", bound=BaseModel)

_NOT_EXISTS = "attribute_not_exists(pk)"
_CONFLICT_RETRIES = 4
_QUERY_PAGE = 100


class DynamoLedger:
    """The `Ledger` port on DynamoDB. Takes its client; builds nothing from the environment."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self.client = client

    # -- merchants and keys ------------------------------------------------------------------

    def put_merchant(self, merchant: Merchant) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item=self._item(Keys.merchant(merchant.id), "merchant", merchant),
            ConditionExpression=_NOT_EXISTS,
        )

    def get_merchant(self, merchant_id: str) -> Merchant:
        return self._get(Keys.merchant(merchant_id), Merchant, f"No such merchant: {merchant_id}")

    def put_api_key(self, key: ApiKey) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item=self._item(Keys.api_key(key.key_hash), "api_key", key),
            ConditionExpression=_NOT_EXISTS,
        )

    def find_api_key(self, key_hash: str) -> ApiKey | None:
        item = self.client.get_item(TableName=self.table_name, Key=_key(Keys.api_key(key_hash))).get("Item")
        return _model(item, ApiKey) if item else None

    def delete_api_key(self, key_hash: str, merchant_id: str) -> ApiKey:
        """Revoke a merchant's key: its next request fails. Returns the key as it was stored.

        Raises NotFound when no key has that hash, or it belongs to another merchant (left in place).
        """
        try:
            old = self.client.delete_item(
                TableName=self.table_name,
                Key=_key(Keys.api_key(key_hash)),
                ConditionExpression="#m = :m",
                ExpressionAttributeNames={"#m": "merchant_id"},
                ExpressionAttributeValues={":m": codec.serialize_value(merchant_id)},
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise NotFound(f"Merchant {merchant_id} has no key with hash {key_hash}") from None
            raise
        return _model(old["Attributes"], ApiKey)

    # -- payments ----------------------------------------------------------------------------

    def create_payment(self, payment: Payment, event: Event) -> None:
        """Write a new payment, its `merchant_order_id` claim and its event in one transaction.

        Raises DuplicateMerchantOrderId if the merchant already used that order id in this mode.
        """
        payment_item = self._item(
            Keys.payment(payment.id),
            "payment",
            payment,
            gsi=(Collections.payments(payment.merchant_id, payment.mode), payment.id),
        )
        if payment.status is PaymentStatus.REQUIRES_ACTION:
            # In the work index until it leaves `requires_action`, for the status sync to find: first
            # due after the grace period, or at its expiry if that comes sooner.
            first_check = payment.created + WorkIndex.FIRST_CHECK_AFTER_SECONDS
            if payment.expires_at is not None:
                first_check = min(first_check, payment.expires_at)
            payment_item |= codec.serialize(
                _work_keys(WorkIndex.pending_payments, payment.channel, payment.id, first_check)
            )
        claim = codec.serialize(
            {
                **Keys.merchant_order_id(payment.merchant_id, payment.mode, payment.merchant_order_id),
                ENTITY_ATTRIBUTE: "merchant_order_id",
                "payment_id": payment.id,
            }
        )
        try:
            self._transact(
                [
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": claim,
                            "ConditionExpression": _NOT_EXISTS,
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": payment_item,
                            "ConditionExpression": _NOT_EXISTS,
                        }
                    },
                    self._put_event(event),
                ]
            )
        except ClientError as error:
            if _failed_conditions(error)[:1] == [True]:
                raise DuplicateMerchantOrderId(
                    f"merchant_order_id {payment.merchant_order_id!r} was already used",
                    param="merchant_order_id",
                ) from None
            raise

    def get_payment(self, payment_id: str, scope: MerchantScope | None = None) -> Payment:
        payment = self._get(Keys.payment(payment_id), Payment, f"No such payment: {payment_id}")
        _check_scope(payment.merchant_id, payment.mode, scope, f"No such payment: {payment_id}")
        return payment

    def find_payment_id_by_merchant_order_id(
        self, scope: MerchantScope, merchant_order_id: str
    ) -> str | None:
        key = Keys.merchant_order_id(scope.merchant_id, scope.mode, merchant_order_id)
        item = self.client.get_item(TableName=self.table_name, Key=_key(key), ConsistentRead=True).get("Item")
        return str(codec.deserialize(item)["payment_id"]) if item else None

    def list_payments(
        self, scope: MerchantScope, filters: PaymentFilter, limit: int, starting_after: str | None
    ) -> Page[Payment]:
        lower = (
            boundary_id(IdPrefix.PAYMENT, filters.created_gte, upper=False) if filters.created_gte else None
        )
        upper = (
            boundary_id(IdPrefix.PAYMENT, filters.created_lte, upper=True) if filters.created_lte else None
        )
        conditions = {"channel": filters.channel, "status": filters.status}
        return self._list(
            Collections.payments(scope.merchant_id, scope.mode),
            Payment,
            limit,
            starting_after,
            lower=lower or f"{IdPrefix.PAYMENT}_",
            upper=upper or f"{IdPrefix.PAYMENT}_~",
            equals={k: v for k, v in conditions.items() if v is not None},
        )

    def transition_payment(
        self, payment: Payment, target: PaymentStatus, changes: PaymentChanges, event: Event
    ) -> Payment:
        """Move a payment to `target` and write its event, both or neither.

        Raises InvalidTransition if the stored payment is no longer in a state that may move to
        `target` (another writer won), so a payment is paid at most once.
        """
        values: dict[str, Any] = {
            "status": target.value,
            "updated": changes.updated,
            "channel_transaction_id": changes.channel_transaction_id,
            "paid_at": changes.paid_at,
            "failure_code": changes.failure_code,
            "failure_message": changes.failure_message,
            **changes.extra,
        }
        values = {k: v for k, v in values.items() if v is not None}
        update = self._status_update(
            Keys.payment(payment.id),
            values,
            sources_of(target),
            bump_version=True,
            remove=(GSI2_PARTITION_KEY, GSI2_SORT_KEY),
        )
        try:
            self._transact(
                [
                    update,
                    self._put_event(event),
                ]
            )
        except ClientError as error:
            if _failed_conditions(error)[:1] == [True]:
                raise InvalidTransition(f"Payment {payment.id} can no longer become {target}") from None
            raise
        return payment.model_copy(update={**values, "status": target, "version": payment.version + 1})

    def list_due_payments(self, channel: Channel, now: int, limit: int) -> list[Payment]:
        """Up to `limit` payments of `channel` (every merchant and mode) still `requires_action` whose
        next check is due at `now` (unix seconds), earliest due first. Read from the work index, so a
        payment that just moved on may still appear: callers re-check its status."""
        return self._list_due(WorkIndex.pending_payments, Payment, channel, now, limit)

    def list_due_refunds(self, channel: Channel, now: int, limit: int) -> list[Refund]:
        """Like `list_due_payments`, for refunds of `channel` still pending at the provider."""
        return self._list_due(WorkIndex.pending_refunds, Refund, channel, now, limit)

    def reschedule_payment_check(self, payment: Payment, next_check: int) -> bool:
        """Move a payment's next check to `next_check` (unix seconds) in the work index, only while
        it is still `requires_action` and in the index: False, writing nothing, if it moved on, so a
        payment that left the index is never put back."""
        return self._reschedule(
            Keys.payment(payment.id),
            WorkIndex.pending_payments,
            payment.channel,
            payment.id,
            PaymentStatus.REQUIRES_ACTION.value,
            next_check,
        )

    def reschedule_refund_check(self, refund: Refund, next_check: int) -> bool:
        """Like `reschedule_payment_check`, for a refund still `pending`."""
        return self._reschedule(
            Keys.refund(refund.id),
            WorkIndex.pending_refunds,
            refund.channel,
            refund.id,
            RefundStatus.PENDING.value,
            next_check,
        )

    def _list_due(
        self,
        partition: Callable[[str, int], str],
        model: type[M],
        channel: Channel,
        now: int,
        limit: int,
    ) -> list[M]:
        # Each shard's due items come in due order, so the first `limit` of each, merged, are the
        # first `limit` of all.
        found: list[tuple[str, M]] = []
        for shard in range(WorkIndex.SHARDS):
            request: dict[str, Any] = {
                "TableName": self.table_name,
                "IndexName": GSI2,
                "KeyConditionExpression": "#pk = :pk AND #sk < :due",
                "ExpressionAttributeNames": {"#pk": GSI2_PARTITION_KEY, "#sk": GSI2_SORT_KEY},
                "ExpressionAttributeValues": {
                    ":pk": codec.serialize_value(partition(channel.value, shard)),
                    ":due": codec.serialize_value(WorkIndex.due_bound(now)),
                },
                "Limit": limit,
            }
            items: list[dict[str, Any]] = []
            while len(items) < limit:
                response = self.client.query(**request)
                items.extend(response.get("Items", []))
                if "LastEvaluatedKey" not in response:
                    break
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
                request["Limit"] = limit - len(items)
            found.extend((item[GSI2_SORT_KEY]["S"], _model(item, model)) for item in items[:limit])
        return [found_model for _, found_model in sorted(found, key=lambda pair: pair[0])][:limit]

    def _reschedule(
        self,
        keys: dict[str, str],
        partition: Callable[[str, int], str],
        channel: Channel,
        item_id: str,
        waiting_status: str,
        next_check: int,
    ) -> bool:
        work_keys = _work_keys(partition, channel, item_id, next_check)
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=_key(keys),
                UpdateExpression="SET #sk = :sk",
                # The transition that ends the wait removes the index keys and changes the status in
                # one write: either failing here means the item moved on.
                ConditionExpression="#status = :waiting AND #pk = :pk",
                ExpressionAttributeNames={
                    "#status": "status",
                    "#pk": GSI2_PARTITION_KEY,
                    "#sk": GSI2_SORT_KEY,
                },
                ExpressionAttributeValues={
                    ":waiting": codec.serialize_value(waiting_status),
                    ":pk": codec.serialize_value(work_keys[GSI2_PARTITION_KEY]),
                    ":sk": codec.serialize_value(work_keys[GSI2_SORT_KEY]),
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # -- refunds -----------------------------------------------------------------------------

    def create_refund(self, payment: Payment, refund: Refund, event: Event) -> None:
        """Reserve the refund against the payment, write it and its event, all or nothing.

        Raises RefundExceedsAmount if the reserved refunds would pass the paid amount,
        InvalidTransition if the payment is not succeeded, Conflict if `merchant_refund_id` is taken,
        InvalidRequest if the amount is not positive (a negative one would release reserved amount).
        """
        if refund.amount <= 0:
            raise InvalidRequest("A refund amount must be a positive integer", param="amount")
        limit = payment.amount - refund.amount
        if limit < 0:
            raise RefundExceedsAmount("The refund is larger than the payment", param="amount")
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": _key(Keys.payment(payment.id)),
                    "UpdateExpression": "ADD #reserved :amount SET #updated = :updated",
                    "ConditionExpression": "#status = :succeeded AND #reserved <= :limit",
                    "ExpressionAttributeNames": {
                        "#reserved": "amount_refund_reserved",
                        "#status": "status",
                        "#updated": "updated",
                    },
                    "ExpressionAttributeValues": {
                        ":amount": codec.serialize_value(refund.amount),
                        ":updated": codec.serialize_value(refund.created),
                        ":succeeded": codec.serialize_value(PaymentStatus.SUCCEEDED.value),
                        ":limit": codec.serialize_value(limit),
                    },
                }
            },
            {
                "Put": {
                    "TableName": self.table_name,
                    "ConditionExpression": _NOT_EXISTS,
                    # In the work index while pending, for the status sync to find: first due
                    # after the grace period.
                    "Item": self._item(
                        Keys.refund(refund.id),
                        "refund",
                        refund,
                        gsi=(Collections.refunds_of(payment.id), refund.id),
                    )
                    | codec.serialize(
                        _work_keys(
                            WorkIndex.pending_refunds,
                            refund.channel,
                            refund.id,
                            refund.created + WorkIndex.FIRST_CHECK_AFTER_SECONDS,
                        )
                    ),
                }
            },
            self._put_event(event),
        ]
        if refund.merchant_refund_id:
            claim = {
                **Keys.merchant_refund_id(refund.merchant_id, refund.mode, refund.merchant_refund_id),
                ENTITY_ATTRIBUTE: "merchant_refund_id",
                "refund_id": refund.id,
            }
            items.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": codec.serialize(claim),
                        "ConditionExpression": _NOT_EXISTS,
                    }
                }
            )
        try:
            self._transact(items)
        except ClientError as error:
            failed = _failed_conditions(error)
            if not any(failed):
                raise
            if failed[0]:
                current = self.get_payment(payment.id)
                if current.status is not PaymentStatus.SUCCEEDED:
                    raise InvalidTransition(
                        f"Payment {payment.id} is {current.status}; only a succeeded payment can be refunded"
                    ) from None
                raise RefundExceedsAmount(
                    f"Refunds would exceed the payment: {current.amount_refund_reserved} of "
                    f"{current.amount} is already refunded or pending",
                    param="amount",
                ) from None
            raise Conflict(
                f"merchant_refund_id {refund.merchant_refund_id!r} was already used",
                param="merchant_refund_id",
                code="duplicate_merchant_refund_id",
            ) from None

    def get_refund(self, refund_id: str, scope: MerchantScope | None = None) -> Refund:
        refund = self._get(Keys.refund(refund_id), Refund, f"No such refund: {refund_id}")
        _check_scope(refund.merchant_id, refund.mode, scope, f"No such refund: {refund_id}")
        return refund

    def list_refunds(self, payment_id: str, limit: int, starting_after: str | None) -> Page[Refund]:
        return self._list(
            Collections.refunds_of(payment_id),
            Refund,
            limit,
            starting_after,
            lower=f"{IdPrefix.REFUND}_",
            upper=f"{IdPrefix.REFUND}_~",
        )

    def transition_refund(
        self,
        refund: Refund,
        target: RefundStatus,
        updated: int,
        event: Event,
        channel_refund_id: str | None = None,
        failure_code: str | None = None,
        failure_message: str | None = None,
    ) -> Refund:
        """Settle a pending refund: a success counts it in `amount_refunded`, a failure releases its
        reservation. Raises InvalidTransition if the refund was settled already."""
        values = {
            k: v
            for k, v in {
                "status": target.value,
                "updated": updated,
                "channel_refund_id": channel_refund_id,
                "failure_code": failure_code,
                "failure_message": failure_message,
            }.items()
            if v is not None
        }
        payment_attribute, delta = (
            ("amount_refunded", refund.amount)
            if target is RefundStatus.SUCCEEDED
            else ("amount_refund_reserved", -refund.amount)
        )
        try:
            self._transact(
                [
                    self._status_update(
                        Keys.refund(refund.id),
                        values,
                        refund_sources_of(target),
                        remove=(GSI2_PARTITION_KEY, GSI2_SORT_KEY),
                    ),
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": _key(Keys.payment(refund.payment_id)),
                            "UpdateExpression": "ADD #attr :delta SET #updated = :updated",
                            "ExpressionAttributeNames": {"#attr": payment_attribute, "#updated": "updated"},
                            "ExpressionAttributeValues": {
                                ":delta": codec.serialize_value(delta),
                                ":updated": codec.serialize_value(updated),
                            },
                        }
                    },
                    self._put_event(event),
                ]
            )
        except ClientError as error:
            if _failed_conditions(error)[:1] == [True]:
                raise InvalidTransition(f"Refund {refund.id} can no longer become {target}") from None
            raise
        return refund.model_copy(update={**values, "status": target})

    # -- events ------------------------------------------------------------------------------

    def get_event(self, event_id: str, scope: MerchantScope | None = None) -> Event:
        event = self._get(Keys.event(event_id), Event, f"No such event: {event_id}")
        _check_scope(event.merchant_id, event.mode, scope, f"No such event: {event_id}")
        return event

    def list_events(
        self, scope: MerchantScope, event_type: str | None, limit: int, starting_after: str | None
    ) -> Page[Event]:
        return self._list(
            Collections.events(scope.merchant_id, scope.mode),
            Event,
            limit,
            starting_after,
            lower=f"{IdPrefix.EVENT}_",
            upper=f"{IdPrefix.EVENT}_~",
            equals={"type": event_type} if event_type else {},
        )

    # -- webhook endpoints -------------------------------------------------------------------

    def put_webhook_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self.client.put_item(
            TableName=self.table_name,
            ConditionExpression=_NOT_EXISTS,
            Item=self._item(
                Keys.webhook_endpoint(endpoint.id),
                "webhook_endpoint",
                endpoint,
                gsi=(Collections.webhook_endpoints(endpoint.merchant_id, endpoint.mode), endpoint.id),
            ),
        )

    def get_webhook_endpoint(self, endpoint_id: str, scope: MerchantScope) -> WebhookEndpoint:
        message = f"No such webhook endpoint: {endpoint_id}"
        endpoint = self._get(Keys.webhook_endpoint(endpoint_id), WebhookEndpoint, message)
        _check_scope(endpoint.merchant_id, endpoint.mode, scope, message)
        return endpoint

    def list_webhook_endpoints(
        self, scope: MerchantScope, limit: int, starting_after: str | None
    ) -> Page[WebhookEndpoint]:
        return self._list(
            Collections.webhook_endpoints(scope.merchant_id, scope.mode),
            WebhookEndpoint,
            limit,
            starting_after,
            lower=f"{IdPrefix.WEBHOOK_ENDPOINT}_",
            upper=f"{IdPrefix.WEBHOOK_ENDPOINT}_~",
        )

    def delete_webhook_endpoint(self, endpoint_id: str, scope: MerchantScope) -> None:
        """Delete an endpoint of this merchant and mode; raises NotFound for anyone else's."""
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key=_key(Keys.webhook_endpoint(endpoint_id)),
                ConditionExpression="#m = :m AND #mode = :mode",
                ExpressionAttributeNames={"#m": "merchant_id", "#mode": "mode"},
                ExpressionAttributeValues={
                    ":m": codec.serialize_value(scope.merchant_id),
                    ":mode": codec.serialize_value(scope.mode.value),
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise NotFound(f"No such webhook endpoint: {endpoint_id}") from None
            raise

    # -- plumbing ----------------------------------------------------------------------------

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
                "Key": _key(keys),
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
        return {"Put": {"TableName": self.table_name, "Item": item, "ConditionExpression": _NOT_EXISTS}}

    def _get(self, keys: dict[str, str], model: type[M], missing: str) -> M:
        item = self.client.get_item(TableName=self.table_name, Key=_key(keys), ConsistentRead=True).get(
            "Item"
        )
        if not item:
            raise NotFound(missing)
        return _model(item, model)

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
            found.append(_model(item, model))
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


def _work_keys(
    partition: Callable[[str, int], str], channel: Channel, item_id: str, due: int
) -> dict[str, str]:
    """The work index keys of an item of `channel` next due at `due` (unix seconds)."""
    return {
        GSI2_PARTITION_KEY: partition(channel.value, WorkIndex.shard_of(item_id)),
        GSI2_SORT_KEY: WorkIndex.due_sort_key(due, item_id),
    }


def _key(keys: dict[str, str]) -> dict[str, Any]:
    return codec.serialize(keys)


_STORAGE_ATTRIBUTES = {*KEY_ATTRIBUTES, ENTITY_ATTRIBUTE, TTL_ATTRIBUTE}


def _model(item: dict[str, Any], model: type[M]) -> M:
    values = codec.deserialize(item)
    return model.model_validate({k: v for k, v in values.items() if k not in _STORAGE_ATTRIBUTES})


def _check_scope(merchant_id: str, mode: str, scope: MerchantScope | None, missing: str) -> None:
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


def _failed_conditions(error: ClientError) -> list[bool]:
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
