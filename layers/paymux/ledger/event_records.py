"""Events (the outbox's items, written by the other records' transactions) and merchants' webhook
endpoints on the ledger table."""

from __future__ import annotations

from botocore.exceptions import ClientError

from paymux.domain.errors import NotFound
from paymux.domain.ids import IdPrefix
from paymux.domain.models import Event, MerchantScope, WebhookEndpoint
from paymux.ledger import codec
from paymux.ledger._table import NOT_EXISTS, LedgerTable, check_scope, item_key
from paymux.ledger.ports import Page
from paymux.ledger.schema import Collections, Keys


class EventRecords(LedgerTable):
    def get_event(self, event_id: str, scope: MerchantScope | None = None) -> Event:
        event = self._get(Keys.event(event_id), Event, f"No such event: {event_id}")
        check_scope(event.merchant_id, event.mode, scope, f"No such event: {event_id}")
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
            ConditionExpression=NOT_EXISTS,
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
        check_scope(endpoint.merchant_id, endpoint.mode, scope, message)
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
                Key=item_key(Keys.webhook_endpoint(endpoint_id)),
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
