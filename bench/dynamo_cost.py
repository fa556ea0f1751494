"""DynamoDB item sizes and capacity units, computed from the documented on-demand rules.

moto answers ReturnConsumedCapacity with a constant per call (0.5 per GetItem, 1.0 per Query or
PutItem, whatever the item size or page; nothing for TransactWriteItems), so the harness computes
what DynamoDB would charge from the items actually read and written:

  read   4 KB units; strongly consistent = 1 RRU per unit, eventually consistent = 0.5.
         GetItem / BatchGetItem round each item up (a missing item still costs one unit);
         Query rounds the page's total size up once. GSI reads are always eventually consistent.
  write  1 KB units, rounded up per item; an overwrite costs the larger of the old and new item.
         TransactWriteItems costs 2x on the table. Each GSI the item is in costs its own write:
         a put when the item enters the index, a delete when it leaves, both when its index key
         changes, one update (larger size) when the key stays; GSI writes are counted at the
         standard 1x rate.
  size   attribute name bytes + value bytes (S: UTF-8 length, N: ~1 byte per 2 significant digits
         + 1, B: length, BOOL/NULL: 1, L/M: 3 + 1 per element + the elements (M also counts keys),
         sets: their elements). Index entries are counted as the projected item (ALL projection);
         the 100-byte per-entry index overhead is storage, not throughput, and is left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024
EVENTUAL_READ_FACTOR = 0.5
TRANSACTION_WRITE_FACTOR = 2

Item = Mapping[str, Mapping[str, Any]]  # the low-level client's attribute-value format


def _number_size(text: str) -> int:
    mantissa = text.strip().lstrip("+-").lower().split("e")[0].replace(".", "")
    significant_digits = mantissa.strip("0") or "0"  # DynamoDB stores 100 as 1e2: one digit
    return math.ceil(len(significant_digits) / 2) + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes DynamoDB counts for one attribute value (without its name)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        return _number_size(str(data))
    if kind == "B":
        return len(data)
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in data)
    if kind == "NS":
        return sum(_number_size(str(n)) for n in data)
    if kind == "BS":
        return sum(len(b) for b in data)
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in data)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(element) for name, element in data.items())
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def item_size(item: Item | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def _units(size: int, unit_bytes: int) -> int:
    # Even an empty or missing item is charged one unit.
    return max(1, math.ceil(size / unit_bytes))


def item_read_units(sizes: Iterable[int], consistent: bool) -> float:
    """GetItem / BatchGetItem: each item rounded up on its own (size 0 = not found)."""
    factor = 1.0 if consistent else EVENTUAL_READ_FACTOR
    return sum(_units(size, READ_UNIT_BYTES) for size in sizes) * factor


def query_read_units(sizes: Sequence[int], consistent: bool) -> float:
    """Query / Scan: the total size of the items read, rounded up once."""
    factor = 1.0 if consistent else EVENTUAL_READ_FACTOR
    return _units(sum(sizes), READ_UNIT_BYTES) * factor


def table_write_units(old: Item | None, new: Item | None, transactional: bool) -> int:
    """Base-table write units of one item write (put, update or delete)."""
    units = _units(max(item_size(old), item_size(new)), WRITE_UNIT_BYTES)
    return units * (TRANSACTION_WRITE_FACTOR if transactional else 1)


def index_write_units(old: Item | None, new: Item | None, index_keys: Iterable[tuple[str, str]]) -> int:
    """Write units one item write costs across the GSIs, given each index's (partition, sort) key names."""
    total = 0
    for partition, sort in index_keys:
        in_old = old is not None and partition in old and sort in old
        in_new = new is not None and partition in new and sort in new
        if old is not None and new is not None and in_old and in_new:
            same_key = old[partition] == new[partition] and old[sort] == new[sort]
            if same_key:
                total += _units(max(item_size(old), item_size(new)), WRITE_UNIT_BYTES)
            else:  # the entry moves: delete the old one, put the new one
                total += _units(item_size(old), WRITE_UNIT_BYTES) + _units(item_size(new), WRITE_UNIT_BYTES)
        elif in_new:
            total += _units(item_size(new), WRITE_UNIT_BYTES)
        elif in_old:
            total += _units(item_size(old), WRITE_UNIT_BYTES)
    return total
