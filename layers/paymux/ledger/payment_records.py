"""Payments on the ledger table: created with their `merchant_order_id` claim, read, listed, and
moved between states."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from paymux.domain.errors import DuplicateMerchantOrderId, InvalidTransition
from paymux.domain.ids import IdPrefix, boundary_id
from paymux.domain.models import Event, MerchantScope, Payment
from paymux.domain.states import PaymentStatus, sources_of
from paymux.ledger import codec
from paymux.ledger._table import NOT_EXISTS, LedgerTable, check_scope, failed_conditions, item_key
from paymux.ledger.ports import Page, PaymentChanges, PaymentFilter
from paymux.ledger.schema import (
    ENTITY_ATTRIBUTE,
    GSI2_PARTITION_KEY,
    GSI2_SORT_KEY,
    Collections,
    Keys,
    WorkIndex,
)
from paymux.ledger.work_index_records import work_index_keys


class PaymentRecords(LedgerTable):
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
                work_index_keys(WorkIndex.pending_payments, payment.channel, payment.id, first_check)
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
                            "ConditionExpression": NOT_EXISTS,
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": payment_item,
                            "ConditionExpression": NOT_EXISTS,
                        }
                    },
                    self._put_event(event),
                ]
            )
        except ClientError as error:
            if failed_conditions(error)[:1] == [True]:
                raise DuplicateMerchantOrderId(
                    f"merchant_order_id {payment.merchant_order_id!r} was already used",
                    param="merchant_order_id",
                ) from None
            raise

    def get_payment(self, payment_id: str, scope: MerchantScope | None = None) -> Payment:
        payment = self._get(Keys.payment(payment_id), Payment, f"No such payment: {payment_id}")
        check_scope(payment.merchant_id, payment.mode, scope, f"No such payment: {payment_id}")
        return payment

    def find_payment_id_by_merchant_order_id(
        self, scope: MerchantScope, merchant_order_id: str
    ) -> str | None:
        key = Keys.merchant_order_id(scope.merchant_id, scope.mode, merchant_order_id)
        item = self.client.get_item(TableName=self.table_name, Key=item_key(key), ConsistentRead=True).get(
            "Item"
        )
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
            if failed_conditions(error)[:1] == [True]:
                raise InvalidTransition(f"Payment {payment.id} can no longer become {target}") from None
            raise
        return payment.model_copy(update={**values, "status": target, "version": payment.version + 1})
