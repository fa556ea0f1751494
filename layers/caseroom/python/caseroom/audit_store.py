"""Data access for the audit trail: insert-only puts and a paginated, newest-first read."""

from __future__ import annotations

from typing import Any

from caseroom import dynamo, stored
from caseroom.audit import AuditRecord, audit_partition, audit_sort_key

_NEVER_OVERWRITE = "attribute_not_exists(pk)"


def audit_put_action(record: AuditRecord) -> dict[str, Any]:
    """A TransactWriteItems action, for writes whose audit record must commit with them."""
    values = {"pk": audit_partition(record), "sk": audit_sort_key(record), "kind": "audit"}
    values.update(stored.to_values(record))
    return {
        "Put": {
            "TableName": dynamo.table_name(),
            "Item": dynamo.to_item(values),
            "ConditionExpression": _NEVER_OVERWRITE,
        }
    }


def append(record: AuditRecord) -> None:
    dynamo.put(audit_put_action(record)["Put"])


def list_for_case(case_id: str, limit: int, cursor: str | None) -> tuple[list[AuditRecord], str | None]:
    partition = f"AUDIT#CASE#{case_id}"
    fingerprint = dynamo.query_fingerprint("audit", case_id)
    request: dict[str, Any] = {
        "TableName": dynamo.table_name(),
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": partition}},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if cursor:
        request["ExclusiveStartKey"] = dynamo.decode_cursor(
            cursor, fingerprint, ("pk", "sk"), {"pk": partition}
        )
    response = dynamo.dynamodb().query(**request)
    records = [stored.from_values(AuditRecord, dynamo.from_item(item)) for item in response.get("Items", [])]
    return records, dynamo.encode_cursor(response.get("LastEvaluatedKey"), fingerprint)
