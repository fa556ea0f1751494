"""Data access for cases. The only cases module that talks to DynamoDB.

Key design (single table, see README "Data model"):
  case            pk=CASE#<id>        sk=CASE
  Rx script doc   pk=CASE#<id>        sk=DOC#RX_SCRIPT
  status timeline pk=CASE#<id>        sk=TIMELINE#<case version>    (one per status change)
  audit records   pk=AUDIT#CASE#<id>  sk=<time>#<request>#<rand>   (caseroom.audit_store)
  outbox events   pk=OUTBOX#<event>   sk=OUTBOX                     (caseroom.events)
Access patterns:
  get a case (authorization)        consistent GetItem / BatchGetItem on the base table
  list my cases sorted by column X  Query GSI byOwner-X, pk ownerList=OWNER#<user>#ACTIVE|ARCHIVED
  lab queue by attention            Query GSI byLab-attention, pk labList=LAB#<lab>
  a case's status timeline          Query pk=CASE#<id>, sk begins_with TIMELINE#, oldest first
Each list is one Query with Limit = page size, so its cost is the page, not the table.
"""

from __future__ import annotations

from typing import Any

from caseroom import dynamo, paging, stored
from caseroom.cases.records import Case, RxScriptDocument, TimelineEntry
from caseroom.cases.sorting import SortColumn, SortOrder
from caseroom.cases.statuses import ATTENTION_RANK, STATUS_ORDER
from caseroom.errors import VersionConflict
from caseroom.table_schema import CASE_SORT_INDEXES, LAB_QUEUE_INDEX, GlobalIndex

CASE_SK = "CASE"
RX_SCRIPT_SK = "DOC#RX_SCRIPT"
TIMELINE_PREFIX = "TIMELINE#"
NO_DUE_DATE = "9999-12-31"  # sorts cases without a due date after every dated one


def case_pk(case_id: str) -> str:
    return f"CASE#{case_id}"


def owner_list(owner_id: str, archived: bool) -> str:
    return f"OWNER#{owner_id}#{'ARCHIVED' if archived else 'ACTIVE'}"


def lab_list(lab_id: str) -> str:
    return f"LAB#{lab_id}"


def _sort_keys(case: Case) -> dict[str, str]:
    status_order = f"{STATUS_ORDER[case.status]:02d}"
    attention = ATTENTION_RANK[case.attention]
    return {
        # Most urgent colour first; inside a colour, lifecycle order, then the case that has
        # waited longest since the clinician touched it.
        "sort_attention": f"{attention}#{status_order}#{case.last_modified}#{case.case_id}",
        "sort_caseId": case.case_id,
        # \x01 sorts below every printable character, so "Li" comes before "Li Wei".
        "sort_patient": f"{case.patient_name.casefold()[:80]}\x01{case.case_id}",
        "sort_status": f"{status_order}#{case.case_id}",
        "sort_lastModified": f"{case.last_modified}#{case.case_id}",
        "sort_dueDate": f"{case.due_date or NO_DUE_DATE}#{case.case_id}",
    }


def _case_values(case: Case) -> dict[str, Any]:
    values: dict[str, Any] = {"pk": case_pk(case.case_id), "sk": CASE_SK, "kind": "case"}
    values.update(stored.to_values(case))
    values["ownerList"] = owner_list(case.owner_id, case.archived)
    values["labList"] = lab_list(case.lab_id)
    values.update(_sort_keys(case))
    return values


def _case_from(values: dict[str, Any]) -> Case:
    return stored.from_values(Case, values)


def case_index_columns(case: Case) -> dict[str, str]:
    """The sort columns of a case's list indexes (Team-Up copies them onto member items)."""
    return _sort_keys(case)


def case_from_values(values: dict[str, Any]) -> Case:
    return _case_from(values)


def get_case(case_id: str) -> Case | None:
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(), Key=dynamo.key(case_pk(case_id), CASE_SK), ConsistentRead=True
    )
    item = response.get("Item")
    return _case_from(dynamo.from_item(item)) if item else None


def get_case_and_rx_script(case_id: str) -> tuple[Case | None, RxScriptDocument | None]:
    """One consistent round trip for the case and its Rx script document."""
    table = dynamo.table_name()
    request = {
        table: {
            "Keys": [dynamo.key(case_pk(case_id), CASE_SK), dynamo.key(case_pk(case_id), RX_SCRIPT_SK)],
            "ConsistentRead": True,
        }
    }
    items: list[dict[str, Any]] = []
    for _attempt in range(5):
        response = dynamo.dynamodb().batch_get_item(RequestItems=request)
        items.extend(response.get("Responses", {}).get(table, []))
        request = response.get("UnprocessedKeys") or {}
        if not request:
            break
    case: Case | None = None
    rx: RxScriptDocument | None = None
    for item in items:
        values = dynamo.from_item(item)
        if values["sk"] == CASE_SK:
            case = _case_from(values)
        else:
            rx = stored.from_values(RxScriptDocument, values)
    return case, rx


def _rx_values(doc: RxScriptDocument) -> dict[str, Any]:
    values: dict[str, Any] = {"pk": case_pk(doc.case_id), "sk": RX_SCRIPT_SK, "kind": "document"}
    values.update(stored.to_values(doc))
    return values


def create_case(case: Case, rx_script: RxScriptDocument, also: list[dict[str, Any]]) -> None:
    """Case, its pending Rx document, and the caller's outbox/audit puts: all or nothing."""
    table = dynamo.table_name()
    dynamo.transact(
        [
            {
                "Put": {
                    "TableName": table,
                    "Item": dynamo.to_item(_case_values(case)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": table, "Item": dynamo.to_item(_rx_values(rx_script))}},
            *also,
        ]
    )


def replace_case_action(case: Case, expected_version: int) -> dict[str, Any]:
    """A TransactWriteItems action writing `case` only if the stored version is still `expected_version`."""
    return {
        "Put": {
            "TableName": dynamo.table_name(),
            "Item": dynamo.to_item(_case_values(case)),
            "ConditionExpression": "attribute_exists(pk) AND version = :expected",
            "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
        }
    }


def replace_case(case: Case, expected_version: int, also: list[dict[str, Any]]) -> None:
    """Writes `case` only if the stored version is still `expected_version` (optimistic lock);
    any failed condition of the transaction (the case's or one in `also`) is VersionConflict."""
    try:
        dynamo.transact([replace_case_action(case, expected_version), *also])
    except dynamo.ConditionFailed as exc:
        raise VersionConflict() from exc


def save_rx_script(doc: RxScriptDocument, also: list[dict[str, Any]]) -> bool:
    """Stores a generated script, with the caller's audit put, unless a newer Rx version's
    script is already there (events arrive unordered). Returns False when the write was
    stale and skipped (nothing is written then, the audit record included)."""
    try:
        dynamo.transact(
            [
                {
                    "Put": {
                        "TableName": dynamo.table_name(),
                        "Item": dynamo.to_item(_rx_values(doc)),
                        "ConditionExpression": "attribute_not_exists(pk) OR rxVersion <= :version",
                        "ExpressionAttributeValues": {":version": {"N": str(doc.rx_version)}},
                    }
                },
                *also,
            ]
        )
    except dynamo.ConditionFailed:
        return False
    return True


def _case_page(
    index: GlobalIndex, partition: str, forward: bool, listing: paging.Listing, page: paging.PageRequest
) -> tuple[list[Case], str | None]:
    query: dict[str, Any] = {
        "IndexName": index.name,
        "KeyConditionExpression": "#p = :p",
        "ExpressionAttributeNames": {"#p": index.partition_key},
        "ExpressionAttributeValues": {":p": {"S": partition}},
        "ScanIndexForward": forward,
    }
    items, next_cursor = paging.query_page(query, listing, page)
    return [_case_from(values) for values in items], next_cursor


def list_owner_cases(
    owner_id: str, archived: bool, sort: SortColumn, order: SortOrder, page: paging.PageRequest
) -> tuple[list[Case], str | None]:
    """The cursor keeps the index keys the last case had when the page was read (sealed: the
    patient ordering's key holds the name), so a case that changes status, due date or
    last-modified between two pages never makes the next page skip the others."""
    index = CASE_SORT_INDEXES[sort.value]
    partition = owner_list(owner_id, archived)
    listing = paging.Listing(
        "owner-cases",
        paging.index_key(index),
        pinned={index.partition_key: partition},
        filters={"archived": str(archived).lower(), "sort": sort.value, "order": order.value},
    )
    return _case_page(index, partition, order is SortOrder.ASC, listing, page)


def list_lab_queue(lab_id: str, page: paging.PageRequest) -> tuple[list[Case], str | None]:
    index = LAB_QUEUE_INDEX
    partition = lab_list(lab_id)
    listing = paging.Listing("lab-queue", paging.index_key(index), pinned={index.partition_key: partition})
    return _case_page(index, partition, True, listing, page)


# --- status timeline ----------------------------------------------------------------------------


def timeline_put_action(entry: TimelineEntry) -> dict[str, Any]:
    """A TransactWriteItems action: the entry commits with the status change it records."""
    values: dict[str, Any] = {
        "pk": case_pk(entry.case_id),
        "sk": TIMELINE_PREFIX + entry.entry_id,
        "kind": "timeline",
    }
    values.update(stored.to_values(entry))
    return {
        "Put": {
            "TableName": dynamo.table_name(),
            "Item": dynamo.to_item(values),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def _timeline_from(values: dict[str, Any]) -> TimelineEntry:
    return stored.from_values(TimelineEntry, values)


def get_timeline_entry(case_id: str, entry_id: str) -> TimelineEntry | None:
    """The entry a CaseStatusChanged event names in its subjectId (consumers read from/to here)."""
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(),
        Key=dynamo.key(case_pk(case_id), TIMELINE_PREFIX + entry_id),
        ConsistentRead=True,
    )
    item = response.get("Item")
    return _timeline_from(dynamo.from_item(item)) if item else None


def list_timeline(case_id: str, page: paging.PageRequest) -> tuple[list[TimelineEntry], str | None]:
    partition = case_pk(case_id)
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": TIMELINE_PREFIX}},
        "ScanIndexForward": True,
        "ConsistentRead": True,
    }
    listing = paging.Listing("timeline", paging.TABLE_KEY, pinned={"pk": partition})
    items, next_cursor = paging.query_page(query, listing, page)
    return [_timeline_from(values) for values in items], next_cursor
