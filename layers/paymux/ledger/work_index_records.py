"""The due-time work index: payments and refunds waiting on the provider, for the status sync
to find when their next check is due."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from paymux.domain.models import Channel, Payment, Refund
from paymux.domain.states import PaymentStatus, RefundStatus
from paymux.ledger import codec
from paymux.ledger._table import LedgerTable, M, item_key, to_model
from paymux.ledger.schema import GSI2, GSI2_PARTITION_KEY, GSI2_SORT_KEY, Keys, WorkIndex


class WorkIndexRecords(LedgerTable):
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
            found.extend((item[GSI2_SORT_KEY]["S"], to_model(item, model)) for item in items[:limit])
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
        work_keys = work_index_keys(partition, channel, item_id, next_check)
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=item_key(keys),
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


def work_index_keys(
    partition: Callable[[str, int], str], channel: Channel, item_id: str, due: int
) -> dict[str, str]:
    """The work index keys of an item of `channel` next due at `due` (unix seconds)."""
    return {
        GSI2_PARTITION_KEY: partition(channel.value, WorkIndex.shard_of(item_id)),
        GSI2_SORT_KEY: WorkIndex.due_sort_key(due, item_id),
    }
