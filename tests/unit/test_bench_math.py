"""The benchmark harness's own arithmetic: percentiles, DynamoDB item sizes and capacity units,
and the -X importtime parser. Fast; no AWS, no subprocesses."""

from __future__ import annotations

from typing import Any

import pytest

from bench import dynamo_cost
from bench.cold_start import import_self_times, imports_beyond
from bench.stats import median, percentile, ratio


def test_percentile_is_nearest_rank() -> None:
    samples = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(samples, 0.50) == 50.0
    assert percentile(samples, 0.99) == 99.0
    assert percentile(samples, 1.0) == 100.0
    assert percentile([7.0], 0.99) == 7.0
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(1.0, 0.0) is None
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_item_size_counts_names_and_values() -> None:
    item: dict[str, dict[str, Any]] = {
        "pk": {"S": "CASE#1"},  # 2 + 6
        "n": {"N": "12345"},  # 1 + (3 + 1)
        "flag": {"BOOL": True},  # 4 + 1
        "teeth": {"L": [{"S": "11"}, {"S": "21"}]},  # 5 + (3 + 2 * (1 + 2))
        "m": {"M": {"a": {"S": "xy"}}},  # 1 + (3 + 1 + 1 + 2)
    }
    assert dynamo_cost.item_size(item) == 8 + 5 + 5 + 14 + 8
    assert dynamo_cost.value_size({"N": "100"}) == 2  # one significant digit
    assert dynamo_cost.value_size({"S": "é"}) == 2  # UTF-8 bytes, not characters
    assert dynamo_cost.item_size(None) == 0


def test_read_units_follow_the_4kb_rules() -> None:
    # Each item of a GetItem/BatchGetItem is rounded up on its own; a missing item costs a unit.
    assert dynamo_cost.item_read_units([100, 5000, 0], consistent=True) == 1 + 2 + 1
    assert dynamo_cost.item_read_units([100], consistent=False) == 0.5
    # A Query page is rounded up once over its total.
    assert dynamo_cost.query_read_units([1000] * 25, consistent=False) == 7 * 0.5
    assert dynamo_cost.query_read_units([], consistent=False) == 0.5


def test_write_units_count_transactions_and_index_moves() -> None:
    old = {"pk": {"S": "a"}, "sk": {"S": "b"}, "g": {"S": "OWNER#1#ACTIVE"}, "s": {"S": "1"}}
    moved = {**old, "g": {"S": "OWNER#1#ARCHIVED"}}
    indexes = [("g", "s"), ("missing", "s")]
    assert dynamo_cost.table_write_units(None, old, transactional=False) == 1
    assert dynamo_cost.table_write_units(old, moved, transactional=True) == 2
    assert dynamo_cost.index_write_units(None, old, indexes) == 1  # enters one index
    assert dynamo_cost.index_write_units(old, old, indexes) == 1  # stays: one update
    assert dynamo_cost.index_write_units(old, moved, indexes) == 2  # key moves: delete + put
    assert dynamo_cost.index_write_units(old, None, indexes) == 1  # leaves


def test_imports_beyond_the_floor_are_grouped_by_package() -> None:
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:      1500 |       1500 |     botocore.compat",
            "import time:       500 |       2000 |   botocore",
            "import time:      3000 |       3000 | pydantic",
            "import time:      2000 |       2000 |   aws_lambda_powertools.event_handler.api_gateway",
            "import time:      1000 |       1000 |   aws_lambda_powertools.event_handler",
            "some other line",
        ]
    )
    times = import_self_times(stderr)
    assert times["botocore.compat"] == 1.5
    floor_modules = {"botocore", "botocore.compat"}
    assert imports_beyond(floor_modules, times) == {
        "aws_lambda_powertools.event_handler": 3.0,
        "pydantic": 3.0,
    }
