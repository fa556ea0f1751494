"""Data access for the audit trail: insert-only puts and a paginated, newest-first read."""

from __future__ import annotations

from typing import Any

from caseroom import dynamo, paging, stored
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


def list_for_case(case_id: str, page: paging.PageRequest) -> tuple[list[AuditRecord], str | None]:
    partition = f"AUDIT#CASE#{case_id}"
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": partition}},
        "ScanIndexForward": False,
    }
    listing = paging.Listing("case-audit", paging.TABLE_KEY, pinned={"pk": partition})
    items, next_cursor = paging.query_page(query, listing, page)
    return [stored.from_values(AuditRecord, values) for values in items], next_cursor
