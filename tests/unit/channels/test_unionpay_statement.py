"""The UnionPay statement file: fileContent packing and the ZM fixed-width layout."""

from __future__ import annotations

from datetime import date

import pytest

from paymux.channels.registry import load_adapter, load_sandbox
from paymux.channels.unionpay import protocol as p
from paymux.channels.unionpay.statement import (
    MER_CHARGE,
    MER_ID,
    ORDER_ID,
    QUERY_ID,
    TXN_AMT,
    TXN_TIME,
    TXN_TYPE,
    ZM_WIDTHS,
    format_zm_line,
    pack_file_content,
    parse_zm,
    unpack_file_content,
)
from paymux.domain.models import Channel
from tests.fakes import InMemorySandboxStore


def test_file_content_round_trips_through_zip_deflate_and_base64():
    files = {"INN261123ZM_777290000000001": b"line"}
    assert unpack_file_content(pack_file_content(files)) == files
    with pytest.raises(ValueError):
        unpack_file_content("bm90IGEgemlw")


def test_zm_lines_are_fixed_width_and_parse_back():
    line = format_zm_line(
        {
            TXN_TIME: "1123130102",
            TXN_AMT: "000000012345",
            QUERY_ID: "9" * 21,
            ORDER_ID: "pay01ABC",
            MER_CHARGE: "D000000000074",
            TXN_TYPE: "01",
            MER_ID: "777290000000001",
        }
    )

    (row,) = parse_zm(line + b"\r\n", date(2026, 11, 23))

    assert len(line) == sum(ZM_WIDTHS) + len(ZM_WIDTHS) - 1
    assert (row.txn_amt, row.fee, row.order_id, row.txn_type, row.query_id) == (
        12345,
        74,
        "pay01ABC",
        "01",
        "9" * 21,
    )
    assert row.occurred_at == p.parse_beijing_time("20261123130102")


def test_transmission_time_in_late_december_belongs_to_the_previous_year():
    line = format_zm_line({TXN_TIME: "1231235959", TXN_AMT: "000000000001"})
    (row,) = parse_zm(line, date(2027, 1, 1))
    assert row.occurred_at == p.parse_beijing_time("20261231235959")


def test_malformed_zm_lines_are_refused():
    with pytest.raises(ValueError):
        parse_zm(b"not a statement line", date(2026, 11, 23))
    with pytest.raises(ValueError):
        format_zm_line({ORDER_ID: "x" * 33})


def test_registry_loads_the_unionpay_adapter_and_sandbox():
    store = InMemorySandboxStore()
    assert load_adapter(Channel.UNIONPAY, store).channel is Channel.UNIONPAY
    assert load_sandbox(Channel.UNIONPAY, store).channel is Channel.UNIONPAY
