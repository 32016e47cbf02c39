"""The cost model of bench/ledger_cost.py against the examples and rules in AWS's DynamoDB Developer
Guide ("Item sizes and formats", "Read and write operations", "Transactions: capacity management",
"Global secondary indexes: provisioned throughput considerations"), and the meter on a moto client."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from bench.dynamodb_cost import (
    Index,
    ItemWrite,
    batch_read_units,
    index_write_units,
    item_size,
    number_size,
    read_units,
    table_write_units,
    value_size,
    write_units,
)
from bench.request_meter import RequestMeter
from moto import mock_aws

from paymux.ledger.schema import create_table

KB = 1024
GSI = Index("gsi1", "gsi1pk", "gsi1sk")


def padded(size: int, **extra: dict[str, object]) -> dict[str, dict[str, object]]:
    """An item of exactly `size` bytes: keys plus a string attribute `p` that fills the rest."""
    item: dict[str, dict[str, object]] = {"pk": {"S": "A"}, "sk": {"S": "B"}, **extra}
    filler = size - item_size(item) - len("p")
    assert filler >= 0
    item["p"] = {"S": "x" * filler}
    assert item_size(item) == size
    return item


# -- item sizes ----------------------------------------------------------------------------------


def test_a_string_is_its_name_plus_its_utf8_bytes() -> None:
    assert item_size({"name": {"S": "Alice"}}) == 4 + 5
    assert item_size({"subject": {"S": "龙井茶"}}) == 7 + 9  # three CJK characters, 3 bytes each


@pytest.mark.parametrize(
    ("number", "size"),
    [
        ("7", 2),  # 1 significant digit: 1 byte + 1
        ("12", 2),  # 2 digits share a byte
        ("123", 3),
        ("123.45", 4),  # 5 significant digits: 3 bytes + 1
        ("1000", 2),  # trailing zeroes are trimmed
        ("0.0012", 2),  # leading zeroes too
        ("-12800", 3),  # the sign is not a digit
        ("1800000000", 2),
        ("12345678901234567890123456789012345678", 20),  # 38 digits, the most DynamoDB keeps
    ],
)
def test_a_number_is_one_byte_per_two_significant_digits_plus_one(number: str, size: int) -> None:
    assert number_size(number) == size
    assert item_size({"n": {"N": number}}) == 1 + size


def test_binary_counts_raw_bytes_not_base64_text() -> None:
    raw = bytes(range(30))
    assert value_size({"B": raw}) == 30
    assert value_size({"B": base64.b64encode(raw).decode()}) == 30  # as sent on the wire


def test_null_and_boolean_are_one_byte() -> None:
    assert item_size({"ok": {"BOOL": True}, "gone": {"NULL": True}}) == (2 + 1) + (4 + 1)


def test_lists_and_maps_cost_three_bytes_plus_one_per_element() -> None:
    assert value_size({"L": []}) == 3
    assert value_size({"M": {}}) == 3
    assert value_size({"L": [{"S": "a"}, {"S": "bc"}]}) == 3 + (1 + 1) + (2 + 1)
    # A map's elements carry their names, like attributes.
    assert value_size({"M": {"cart": {"S": "c1"}, "n": {"N": "5"}}}) == 3 + (4 + 2 + 1) + (1 + 2 + 1)
    nested = {"M": {"items": {"L": [{"M": {}}]}}}
    assert value_size(nested) == 3 + (5 + (3 + (3 + 1)) + 1)


def test_sets_are_the_sum_of_their_members() -> None:
    assert value_size({"SS": ["ab", "c"]}) == 3
    assert value_size({"NS": ["1", "12345"]}) == 2 + 4
    assert value_size({"BS": [b"\x00\x01", b"\x02"]}) == 3


def test_an_unknown_type_or_a_malformed_number_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown DynamoDB type"):
        value_size({"X": "?"})
    with pytest.raises(ValueError, match="not a DynamoDB number"):
        number_size("12a")


def test_no_item_has_no_size() -> None:
    assert item_size(None) == 0


# -- write units ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "units"),
    [(0, 1), (500, 1), (KB, 1), (KB + 1, 2), (int(1.6 * KB), 2), (3 * KB, 3), (int(3.5 * KB), 4)],
)
def test_writes_round_each_item_up_to_the_next_kilobyte(size: int, units: int) -> None:
    assert write_units(size) == units


def test_batch_write_of_500_bytes_and_3_5_kb_is_5_units() -> None:
    assert write_units(500) + write_units(int(3.5 * KB)) == 5


def test_a_transaction_of_three_500_byte_items_costs_six_units() -> None:
    assert sum(write_units(500, transactional=True) for _ in range(3)) == 6
    assert write_units(3 * KB, transactional=True) == 6  # the pricing page's 3 KB example


def test_an_update_is_billed_on_the_larger_of_before_and_after() -> None:
    small, large = padded(900), padded(1100)
    assert table_write_units(ItemWrite(small, large)) == 2
    assert table_write_units(ItemWrite(large, small)) == 2
    assert table_write_units(ItemWrite(small, small)) == 1


def test_a_put_over_an_item_counts_the_replaced_item_and_a_delete_the_deleted_one() -> None:
    assert table_write_units(ItemWrite(padded(2 * KB), padded(100))) == 2
    assert table_write_units(ItemWrite(padded(int(1.6 * KB)), None)) == 2


def test_a_failed_conditional_write_costs_the_existing_item_or_one_unit() -> None:
    assert table_write_units(ItemWrite(padded(KB), None, succeeded=False)) == 1
    assert table_write_units(ItemWrite(padded(2 * KB), None, succeeded=False)) == 2
    assert table_write_units(ItemWrite(None, None, succeeded=False)) == 1
    assert table_write_units(ItemWrite(None, None, transactional=True, succeeded=False)) == 2


# -- index writes ---------------------------------------------------------------------------------


def indexed(size: int, partition: str = "P", sort: str = "S") -> dict[str, dict[str, object]]:
    return padded(size, gsi1pk={"S": partition}, gsi1sk={"S": sort})


def test_a_new_item_with_the_index_keys_is_one_index_put() -> None:
    assert index_write_units(ItemWrite(None, indexed(200)), [GSI]) == {"gsi1": 1}


def test_an_item_without_both_index_keys_costs_the_index_nothing() -> None:
    half_keyed = padded(200, gsi1pk={"S": "P"})
    assert index_write_units(ItemWrite(None, half_keyed), [GSI]) == {}
    assert index_write_units(ItemWrite(padded(200), padded(300)), [GSI]) == {}


def test_changing_an_index_key_is_a_delete_and_a_put() -> None:
    assert index_write_units(ItemWrite(indexed(200, sort="a"), indexed(200, sort="b")), [GSI]) == {"gsi1": 2}


def test_removing_an_index_key_is_one_index_delete() -> None:
    assert index_write_units(ItemWrite(indexed(200), padded(150)), [GSI]) == {"gsi1": 1}


def test_changing_only_projected_attributes_is_one_index_write() -> None:
    before = indexed(200)
    after = {**before, "status": {"S": "succeeded"}}
    assert index_write_units(ItemWrite(before, after), [GSI]) == {"gsi1": 1}
    assert index_write_units(ItemWrite(before, dict(before)), [GSI]) == {}


def test_index_entries_over_a_kilobyte_cost_more_and_are_never_doubled_by_a_transaction() -> None:
    write = ItemWrite(None, indexed(int(1.5 * KB)), transactional=True)
    assert index_write_units(write, [GSI]) == {"gsi1": 2}
    assert table_write_units(write) == 4


def test_a_failed_write_changes_no_index() -> None:
    assert index_write_units(ItemWrite(None, None, succeeded=False), [GSI]) == {}


# -- read units -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "strong", "eventual"),
    [(int(3.5 * KB), 1, 0.5), (8 * KB, 2, 1), (10 * KB, 3, 1.5), (80 * KB, 20, 10)],
)
def test_reads_round_up_to_four_kilobytes_and_eventual_reads_cost_half(
    size: int, strong: float, eventual: float
) -> None:
    assert read_units(size, consistent=True) == strong
    assert read_units(size, consistent=False) == eventual


def test_a_transactional_read_of_8_kb_costs_four_units() -> None:
    assert read_units(8 * KB, consistent=True, transactional=True) == 4


def test_reading_a_missing_item_still_costs_one_unit_or_a_half() -> None:
    assert read_units(0, consistent=True) == 1
    assert read_units(0, consistent=False) == 0.5


def test_a_query_rounds_its_items_total_once() -> None:
    assert read_units(int(40.8 * KB), consistent=True) == 11  # 10 items of 40.8 KB -> 44 KB
    assert read_units(1500 * 64, consistent=True) == 24  # 1500 items of 64 bytes -> 96 KB


def test_a_batch_get_rounds_each_item_on_its_own() -> None:
    assert batch_read_units([int(1.5 * KB), int(6.5 * KB)], consistent=True) == 3  # 4 KB + 8 KB


# -- the meter on a client (moto) ------------------------------------------------------------------


@pytest.fixture
def metered(aws_credentials: None, aws_session: boto3.session.Session) -> Iterator[tuple[Any, RequestMeter]]:
    with mock_aws():
        inspector = aws_session.client("dynamodb")
        create_table(inspector, "bench-meter")
        client = aws_session.client("dynamodb")
        meter = RequestMeter(inspector, lambda pk: "idempotency" if pk.startswith("IDEMPOTENCY#") else None)
        meter.attach(client)
        yield client, meter


def test_the_meter_prices_what_a_client_writes_and_reads(metered: tuple[Any, RequestMeter]) -> None:
    client, meter = metered
    item = indexed(int(1.5 * KB)) | {"gsi2pk": {"S": "DUE"}, "gsi2sk": {"S": "1"}}
    with meter.step("put"):
        client.put_item(TableName="bench-meter", Item=item)
    with meter.step("settle"):
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "bench-meter",
                        "Key": {"pk": item["pk"], "sk": item["sk"]},
                        "UpdateExpression": "SET #s = :s REMOVE gsi2pk, gsi2sk",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":s": {"S": "done"}},
                    }
                }
            ]
        )
    with meter.step("read"):
        client.get_item(
            TableName="bench-meter", Key={"pk": {"S": "nope"}, "sk": {"S": "x"}}, ConsistentRead=True
        )
        client.query(
            TableName="bench-meter",
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            FilterExpression="#s = :other",  # filtered out, still read and billed
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":p": {"S": "P"}, ":other": {"S": "absent"}},
        )
    client.put_item(TableName="bench-meter", Item=padded(100))  # outside any step: not metered
    with meter.step("idem"):
        client.put_item(TableName="bench-meter", Item=padded(100) | {"pk": {"S": "IDEMPOTENCY#m"}})

    put, settle, missing, query, idem = meter.charges
    assert (put.row, put.table_wru, put.index_wru) == ("put", 2, 4)  # 1.5 KB into two indexes
    # Transactional on the table (2 x 2 KB), standard in the indexes: gsi1 updated, gsi2 deleted.
    assert (settle.operation, settle.table_wru, settle.index_wru) == ("TransactWriteItems:Update", 4, 4)
    assert (missing.rru, missing.target.endswith("(missing)")) == (1, True)
    assert (query.rru, query.target) == (0.5, "gsi1 P (1 items)")
    assert (idem.row, idem.wru) == ("idempotency", 1)
    assert [c.request for c in meter.charges] == [1, 2, 3, 4, 5]
