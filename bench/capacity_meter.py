"""Counts the DynamoDB calls and capacity units a block of application code spends.

Hooks the application's own boto3 client through botocore's event system:
  before-parameter-build  asks for ReturnConsumedCapacity=TOTAL (what moto reports) and, for
                          writes, reads the items about to change with a separate client
  after-call              counts the call and computes read/write units (bench/dynamo_cost.py)
                          from the items read and the items before/after each write
The snapshot reads go through another client, so they are neither counted nor hooked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench import dynamo_cost

_BENCH_CONTEXT_KEY = "caseroom_bench"
_WRITE_OPERATIONS = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


@dataclass
class OperationCost:
    """What one API operation cost in DynamoDB."""

    calls: Counter[str] = field(default_factory=Counter)
    read_units: float = 0.0
    table_write_units: int = 0
    index_write_units: int = 0
    moto_reported_units: float = 0.0
    items_read: int = 0
    moto_scanned_count: int = 0
    filtered_reads: int = 0  # Query/Scan calls with a FilterExpression (their cost is not the page's)

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": dict(sorted(self.calls.items())),
            "call_count": sum(self.calls.values()),
            "read_units": self.read_units,
            "table_write_units": self.table_write_units,
            "index_write_units": self.index_write_units,
            "write_units": self.table_write_units + self.index_write_units,
            "moto_reported_units": self.moto_reported_units,
            "items_read": self.items_read,
            "moto_scanned_count": self.moto_scanned_count,
            "filtered_reads": self.filtered_reads,
        }


@dataclass(frozen=True)
class _Write:
    table: str
    key: tuple[tuple[str, str], ...]  # (name, string value) pairs, hashable
    transactional: bool


class CapacityMeter:
    def __init__(
        self,
        client: Any,
        snapshot_client: Any,
        key_names: tuple[str, str],
        index_keys_by_table: Mapping[str, list[tuple[str, str]]],
    ) -> None:
        """client: the application's DynamoDB client; snapshot_client: another one, for reading
        items around writes; index_keys_by_table: (partition, sort) key names of each table's GSIs."""
        self._snapshot_client = snapshot_client
        self._key_names = key_names
        self._index_keys_by_table = dict(index_keys_by_table)
        self._current: OperationCost | None = None
        client.meta.events.register("before-parameter-build.dynamodb", self._before_parameter_build)
        client.meta.events.register("after-call.dynamodb", self._after_call)

    @contextmanager
    def measure(self) -> Iterator[OperationCost]:
        if self._current is not None:
            raise RuntimeError("measurements do not nest")
        self._current = cost = OperationCost()
        try:
            yield cost
        finally:
            self._current = None

    # -- botocore hooks --------------------------------------------------------------------

    def _before_parameter_build(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        if self._current is None:
            return
        if "ReturnConsumedCapacity" in model.input_shape.members and "ReturnConsumedCapacity" not in params:
            params["ReturnConsumedCapacity"] = "TOTAL"
        writes = self._writes_of(model.name, params)
        context[_BENCH_CONTEXT_KEY] = {
            "params": params,
            "writes": writes,
            "before": {write: self._snapshot(write) for write in writes},
        }

    def _after_call(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        cost, call = self._current, context.get(_BENCH_CONTEXT_KEY)
        if cost is None or call is None:
            return
        operation: str = model.name
        params: dict[str, Any] = call["params"]
        cost.calls[operation] += 1
        cost.moto_reported_units += _reported_units(parsed.get("ConsumedCapacity"))
        self._count_reads(cost, operation, params, parsed)
        for write in call["writes"]:
            old, new = call["before"][write], self._snapshot(write)
            cost.table_write_units += dynamo_cost.table_write_units(old, new, write.transactional)
            cost.index_write_units += dynamo_cost.index_write_units(
                old, new, self._index_keys_by_table.get(write.table, [])
            )

    # -- reads -----------------------------------------------------------------------------

    @staticmethod
    def _count_reads(
        cost: OperationCost, operation: str, params: dict[str, Any], parsed: dict[str, Any]
    ) -> None:
        if operation == "GetItem":
            item = parsed.get("Item")
            cost.items_read += 1 if item else 0
            cost.read_units += dynamo_cost.item_read_units(
                [dynamo_cost.item_size(item)], bool(params.get("ConsistentRead"))
            )
        elif operation == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                found = parsed.get("Responses", {}).get(table, [])
                missing = max(0, len(request["Keys"]) - len(found))
                sizes = [dynamo_cost.item_size(item) for item in found] + [0] * missing
                cost.items_read += len(found)
                cost.read_units += dynamo_cost.item_read_units(sizes, bool(request.get("ConsistentRead")))
        elif operation in {"Query", "Scan"}:
            items = parsed.get("Items", [])
            # GSI reads are always eventually consistent (ConsistentRead there is a ValidationException).
            consistent = bool(params.get("ConsistentRead")) and not params.get("IndexName")
            cost.items_read += len(items)
            cost.moto_scanned_count += int(parsed.get("ScannedCount", 0))
            if params.get("FilterExpression") or params.get("QueryFilter") or params.get("ScanFilter"):
                cost.filtered_reads += 1
            cost.read_units += dynamo_cost.query_read_units(
                [dynamo_cost.item_size(i) for i in items], consistent
            )

    # -- writes ----------------------------------------------------------------------------

    def _key_of(self, item_or_key: Mapping[str, Mapping[str, Any]]) -> tuple[tuple[str, str], ...]:
        return tuple((name, str(item_or_key[name]["S"])) for name in self._key_names)

    def _writes_of(self, operation: str, params: dict[str, Any]) -> list[_Write]:
        if operation not in _WRITE_OPERATIONS:
            return []
        if operation == "PutItem":
            return [_Write(params["TableName"], self._key_of(params["Item"]), transactional=False)]
        if operation in {"UpdateItem", "DeleteItem"}:
            return [_Write(params["TableName"], self._key_of(params["Key"]), transactional=False)]
        writes: list[_Write] = []
        if operation == "TransactWriteItems":
            for action in params["TransactItems"]:
                for kind, body in action.items():
                    if kind == "Put":
                        writes.append(
                            _Write(body["TableName"], self._key_of(body["Item"]), transactional=True)
                        )
                    elif kind in {"Update", "Delete"}:
                        writes.append(
                            _Write(body["TableName"], self._key_of(body["Key"]), transactional=True)
                        )
        else:  # BatchWriteItem
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    body = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
                    writes.append(_Write(table, self._key_of(body), transactional=False))
        return writes

    def _snapshot(self, write: _Write) -> dict[str, Any] | None:
        response = self._snapshot_client.get_item(
            TableName=write.table, Key={name: {"S": value} for name, value in write.key}, ConsistentRead=True
        )
        item: dict[str, Any] | None = response.get("Item")
        return item


def _reported_units(consumed: object) -> float:
    """Sums CapacityUnits from a ConsumedCapacity value (one dict, or a list for batch/transact)."""
    entries = consumed if isinstance(consumed, list) else [consumed] if isinstance(consumed, dict) else []
    return float(sum(float(entry.get("CapacityUnits", 0)) for entry in entries))
