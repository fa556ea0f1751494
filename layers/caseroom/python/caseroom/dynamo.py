"""Low-level DynamoDB helpers shared by the data-access modules: (de)serialization and
transactions (list pages and their cursors: caseroom.paging). Only data-access code imports this module."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from caseroom import aws
from caseroom.settings import get_settings


def dynamodb() -> Any:
    return aws.client("dynamodb")


def table_name() -> str:
    return get_settings().table_name


# --- (de)serialization ---------------------------------------------------------------------
# DynamoDB's typed JSON for the plain values CaseRoom stores. boto3 has the same converters
# (boto3.dynamodb.types), but importing them imports boto3 itself: see caseroom.aws.


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values -> DynamoDB attribute values; None attributes are left out."""
    return {key: to_attribute(value) for key, value in values.items() if value is not None}


def to_attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):  # before int: bool is an int
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, float):
        return {"N": repr(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, bytes):
        return {"B": value}
    if isinstance(value, Mapping):
        return {"M": {str(k): to_attribute(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute(v) for v in value]}
    if isinstance(value, set | frozenset) and all(isinstance(v, str) for v in value):
        return {"SS": sorted(value)}
    raise TypeError(f"cannot store a {type(value).__name__} in DynamoDB")


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values -> plain values (numbers as int when whole, else float)."""
    return {key: from_attribute(value) for key, value in item.items()}


def from_attribute(attribute: Mapping[str, Any]) -> Any:
    [(kind, value)] = attribute.items()
    match kind:
        case "S" | "B" | "BOOL":
            return value
        case "N":
            return _number(value)
        case "NULL":
            return None
        case "M":
            return {k: from_attribute(v) for k, v in value.items()}
        case "L":
            return [from_attribute(v) for v in value]
        case "SS" | "BS":
            return set(value)
        case "NS":
            return {_number(v) for v in value}
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def _number(text: str) -> int | float:
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else float(number)


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def query_all(request: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item of a Query (plain values), page after page: for bounded server-side reads that
    need the whole result. A list a client pages through uses caseroom.paging instead."""
    page = {"TableName": table_name(), **request}
    while True:
        response = dynamodb().query(**page)
        yield from (from_item(item) for item in response.get("Items", []))
        last = response.get("LastEvaluatedKey")
        if not last:
            return
        page["ExclusiveStartKey"] = last


class ConditionFailed(Exception):
    """A write's condition did not hold: a lost race, a stale version or a duplicate."""


@contextmanager
def _condition_failures() -> Iterator[None]:
    # Only the "condition did not hold" outcome becomes ConditionFailed; every other
    # DynamoDB error propagates unchanged to the one handler that maps errors to HTTP.
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {}).get("Code", "")
        reasons = exc.response.get("CancellationReasons") or []
        if error == "ConditionalCheckFailedException" or (
            error == "TransactionCanceledException"
            and any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)
        ):
            raise ConditionFailed() from exc
        raise


def transact(actions: list[dict[str, Any]]) -> None:
    """TransactWriteItems; raises ConditionFailed when any action's condition did not hold."""
    with _condition_failures():
        dynamodb().transact_write_items(TransactItems=actions)


def update(request: dict[str, Any]) -> None:
    """UpdateItem; raises ConditionFailed when its ConditionExpression did not hold."""
    with _condition_failures():
        dynamodb().update_item(**request)


def delete(request: dict[str, Any]) -> dict[str, Any]:
    """DeleteItem; raises ConditionFailed when its ConditionExpression did not hold."""
    with _condition_failures():
        return dict(dynamodb().delete_item(**request))


def put(request: dict[str, Any]) -> None:
    """PutItem; raises ConditionFailed when its ConditionExpression did not hold."""
    with _condition_failures():
        dynamodb().put_item(**request)
