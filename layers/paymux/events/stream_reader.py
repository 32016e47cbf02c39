"""Reading the ledger table's stream the way Lambda's event source mapping does, for the local
platform and the tests: each poll returns the new records, shaped as Lambda delivers them."""

from __future__ import annotations

from typing import Any


class TableStreamReader:
    """Follows every shard of a table's latest stream from its start (TRIM_HORIZON)."""

    def __init__(self, dynamodb_client: Any, streams_client: Any, table_name: str) -> None:
        self.dynamodb = dynamodb_client
        self.streams = streams_client
        self.table_name = table_name
        self._iterators: dict[str, str] = {}
        self._stream_arn: str | None = None

    def poll(self, limit: int = 1000) -> list[dict[str, Any]]:
        """The records written since the last poll, oldest first, as Lambda stream records."""
        arn = self._arn()
        for shard in self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            if shard["ShardId"] not in self._iterators:
                self._iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
        records: list[dict[str, Any]] = []
        for shard_id, iterator in list(self._iterators.items()):
            response = self.streams.get_records(ShardIterator=iterator, Limit=limit)
            self._iterators[shard_id] = response["NextShardIterator"]
            records.extend({**record, "eventSourceARN": arn} for record in response.get("Records", []))
        return records

    def _arn(self) -> str:
        if self._stream_arn is None:
            table = self.dynamodb.describe_table(TableName=self.table_name)["Table"]
            self._stream_arn = str(table["LatestStreamArn"])
        return self._stream_arn


def lambda_stream_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The event Lambda invokes a stream consumer with."""
    return {"Records": records}
