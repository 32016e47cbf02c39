"""Merchants and their API keys on the ledger table."""

from __future__ import annotations

from botocore.exceptions import ClientError

from paymux.domain.errors import NotFound
from paymux.domain.models import ApiKey, Merchant
from paymux.ledger import codec
from paymux.ledger._table import NOT_EXISTS, LedgerTable, item_key, to_model
from paymux.ledger.schema import Keys


class MerchantRecords(LedgerTable):
    def put_merchant(self, merchant: Merchant) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item=self._item(Keys.merchant(merchant.id), "merchant", merchant),
            ConditionExpression=NOT_EXISTS,
        )

    def get_merchant(self, merchant_id: str) -> Merchant:
        return self._get(Keys.merchant(merchant_id), Merchant, f"No such merchant: {merchant_id}")

    def put_api_key(self, key: ApiKey) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item=self._item(Keys.api_key(key.key_hash), "api_key", key),
            ConditionExpression=NOT_EXISTS,
        )

    def find_api_key(self, key_hash: str) -> ApiKey | None:
        item = self.client.get_item(TableName=self.table_name, Key=item_key(Keys.api_key(key_hash))).get(
            "Item"
        )
        return to_model(item, ApiKey) if item else None

    def delete_api_key(self, key_hash: str, merchant_id: str) -> ApiKey:
        """Revoke a merchant's key: its next request fails. Returns the key as it was stored.

        Raises NotFound when no key has that hash, or it belongs to another merchant (left in place).
        """
        try:
            old = self.client.delete_item(
                TableName=self.table_name,
                Key=item_key(Keys.api_key(key_hash)),
                ConditionExpression="#m = :m",
                ExpressionAttributeNames={"#m": "merchant_id"},
                ExpressionAttributeValues={":m": codec.serialize_value(merchant_id)},
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise NotFound(f"Merchant {merchant_id} has no key with hash {key_hash}") from None
            raise
        return to_model(old["Attributes"], ApiKey)
