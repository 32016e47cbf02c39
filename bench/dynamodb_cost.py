"""What DynamoDB on-demand bills for a request, by AWS's documented rules. Pure functions on
low-level (`{"S": ...}`) items; nothing here talks to AWS.

Sources (Amazon DynamoDB Developer Guide):
- "Item sizes and formats" (CapacityUnitCalculations): an item's size is the sum of its attribute
  names and values; a number is 1 byte per two significant digits plus 1; binary is its raw bytes;
  null and boolean are 1 byte; a list or map is 3 bytes plus its elements, each element 1 byte more.
- "Read and write operations": writes round each item up to 1 KB, reads up to 4 KB; an update or a
  put over an existing item is billed on the larger of the before and after sizes, a delete on the
  deleted item; a failed conditional write still costs the existing item's size, or 1 unit when there
  is none; an eventually consistent read costs half; a read of a missing item costs 1 (0.5); a query
  costs the total size of the items it reads (before any filter), rounded up once. An empty query
  is charged the minimum, like a missing item: the guide states that rule for single items only.
- "Transactions: capacity management": two underlying reads or writes of every item in the
  transaction (prepare and commit), so 2 units per KB.
- "Global secondary indexes: provisioned throughput considerations": a write that puts an item into
  an index costs one index write, one that takes it out costs one, one that changes its index key
  costs two (delete and put), one that changes only projected attributes costs one, and an item in
  no index before or after costs nothing there. Index updates are applied after the transaction
  commits ("propagated to GSIs eventually"), so they are billed as standard writes, the transaction
  factor applying to the table's items alone.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
TRANSACTION_FACTOR = 2
EVENTUALLY_CONSISTENT_FACTOR = 0.5
_COLLECTION_OVERHEAD = 3
_ELEMENT_OVERHEAD = 1

Item = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Index:
    """A global secondary index: its name and key attributes (an item is in it only with both)."""

    name: str
    partition_key: str
    sort_key: str

    def key_of(self, item: Item | None) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
        if item is None or self.partition_key not in item or self.sort_key not in item:
            return None
        return (item[self.partition_key], item[self.sort_key])


def number_size(text: str) -> int:
    """Bytes of a number value: 1 per two significant digits (leading and trailing zeroes trimmed),
    plus 1. Raises ValueError for text that is not a number."""
    mantissa = text.strip().lstrip("+-").lower().partition("e")[0]
    if not mantissa or not mantissa.replace(".", "", 1).isdigit():
        raise ValueError(f"not a DynamoDB number: {text!r}")
    digits = mantissa.replace(".", "").strip("0")
    return math.ceil(max(len(digits), 1) / 2) + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value (without its name). Raises ValueError for an unknown type."""
    ((kind, content),) = value.items()
    if kind == "S":
        return len(str(content).encode())
    if kind == "N":
        return number_size(str(content))
    if kind == "B":
        return _binary_size(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in content)
    if kind == "NS":
        return sum(number_size(str(n)) for n in content)
    if kind == "BS":
        return sum(_binary_size(b) for b in content)
    if kind == "L":
        return _COLLECTION_OVERHEAD + sum(value_size(v) + _ELEMENT_OVERHEAD for v in content)
    if kind == "M":
        return _COLLECTION_OVERHEAD + sum(
            len(name.encode()) + value_size(v) + _ELEMENT_OVERHEAD for name, v in content.items()
        )
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Item | None) -> int:
    """Bytes of an item: the sum of its attribute names and values (0 for no item)."""
    if item is None:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size_bytes: int, *, transactional: bool = False) -> int:
    """Write request units for writing one item of `size_bytes`: 1 per KB rounded up (at least 1),
    doubled in a transaction."""
    units = max(1, math.ceil(size_bytes / WRITE_UNIT_BYTES))
    return units * (TRANSACTION_FACTOR if transactional else 1)


def read_units(size_bytes: int, *, consistent: bool, transactional: bool = False) -> float:
    """Read request units for one read of `size_bytes` (one item, or a query's items together):
    1 per 4 KB rounded up (at least 1, as for a missing item), half when eventually consistent,
    doubled in a transaction."""
    units = float(max(1, math.ceil(size_bytes / READ_UNIT_BYTES)))
    if transactional:
        return units * TRANSACTION_FACTOR
    return units if consistent else units * EVENTUALLY_CONSISTENT_FACTOR


def batch_read_units(sizes: Iterable[int], *, consistent: bool) -> float:
    """`BatchGetItem`: each item rounded up to 4 KB on its own, then added up."""
    return sum(read_units(size, consistent=consistent) for size in sizes)


@dataclass(frozen=True)
class ItemWrite:
    """One item written by a request: the stored item before and after it (None: absent)."""

    before: Item | None
    after: Item | None
    transactional: bool = False
    succeeded: bool = True


def table_write_units(write: ItemWrite) -> int:
    """Write request units the table bills for the item (a failed condition included)."""
    if not write.succeeded:
        # The item as it stands decides; an absent one costs one unit (before any transaction factor).
        return write_units(item_size(write.before), transactional=write.transactional)
    size = max(item_size(write.before), item_size(write.after))
    return write_units(size, transactional=write.transactional)


def index_write_units(write: ItemWrite, indexes: Sequence[Index]) -> dict[str, int]:
    """Write request units each index bills for the item's change (standard writes); an index the
    item is in neither before nor after is left out."""
    if not write.succeeded:
        return {}
    charged: dict[str, int] = {}
    for index in indexes:
        old, new = index.key_of(write.before), index.key_of(write.after)
        if old is None and new is None:
            continue
        if old is None:
            units = write_units(item_size(write.after))
        elif new is None:
            units = write_units(item_size(write.before))
        elif old != new:
            units = write_units(item_size(write.before)) + write_units(item_size(write.after))
        elif write.before != write.after:
            units = write_units(max(item_size(write.before), item_size(write.after)))
        else:
            continue  # the same entry written again: nothing to propagate
        charged[index.name] = units
    return charged


def _binary_size(content: Any) -> int:
    if isinstance(content, bytes | bytearray):
        return len(content)
    return len(base64.b64decode(str(content)))  # the wire format carries base64 text
