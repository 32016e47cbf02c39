"""Refunds on the ledger table, reserved against and settled into their payment."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from paymux.domain.errors import Conflict, InvalidRequest, InvalidTransition, RefundExceedsAmount
from paymux.domain.ids import IdPrefix
from paymux.domain.models import Event, MerchantScope, Payment, Refund
from paymux.domain.states import PaymentStatus, RefundStatus, refund_sources_of
from paymux.ledger import codec
from paymux.ledger._table import NOT_EXISTS, check_scope, failed_conditions, item_key
from paymux.ledger.payment_records import PaymentRecords
from paymux.ledger.ports import Page
from paymux.ledger.schema import (
    ENTITY_ATTRIBUTE,
    GSI2_PARTITION_KEY,
    GSI2_SORT_KEY,
    Collections,
    Keys,
    WorkIndex,
)
from paymux.ledger.work_index_records import work_index_keys


class RefundRecords(PaymentRecords):
    """Refund records build on payment records: each is reserved against its payment."""

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
                    "Key": item_key(Keys.payment(payment.id)),
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
                    "ConditionExpression": NOT_EXISTS,
                    # In the work index while pending, for the status sync to find: first due
                    # after the grace period.
                    "Item": self._item(
                        Keys.refund(refund.id),
                        "refund",
                        refund,
                        gsi=(Collections.refunds_of(payment.id), refund.id),
                    )
                    | codec.serialize(
                        work_index_keys(
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
                        "ConditionExpression": NOT_EXISTS,
                    }
                }
            )
        try:
            self._transact(items)
        except ClientError as error:
            failed = failed_conditions(error)
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
        check_scope(refund.merchant_id, refund.mode, scope, f"No such refund: {refund_id}")
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
                            "Key": item_key(Keys.payment(refund.payment_id)),
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
            if failed_conditions(error)[:1] == [True]:
                raise InvalidTransition(f"Refund {refund.id} can no longer become {target}") from None
            raise
        return refund.model_copy(update={**values, "status": target})
