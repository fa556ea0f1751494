"""Data access for case files and galleries. The only files module that talks to DynamoDB.

Key design (single table):
  file            pk=CASE#<caseId>  sk=FILE#<fileId>
  user gallery    pk=CASE#<caseId>  sk=GALLERY#<galleryId>   (the four fixed ones are not stored)
Access patterns:
  a file (authorization, state changes)   consistent GetItem; writes conditional on `version`
  files of a gallery, newest first        Query GSI byGallery-created, pk galleryList=
                                          GALLERY#<caseId>#<galleryId>, sk sort_created=<createdAt>#<fileId>,
                                          Limit = page size. Sparse: deleted/expired/aborted files
                                          carry no galleryList, so they leave the listing.
  user galleries of a case                Query pk=CASE#<caseId>, sk begins_with GALLERY#, Limit = page
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from caseroom import dynamo, ids, paging, stored
from caseroom.clock import iso
from caseroom.errors import VersionConflict
from caseroom.events import OUTBOX_RETENTION_SECONDS, DomainEvent, EventType, outbox_attributes
from caseroom.files.records import CaseFile, FileStatus, Gallery
from caseroom.outbox import outbox_put_action
from caseroom.table_schema import GALLERY_FILES_INDEX

LISTED_STATUSES = {FileStatus.PENDING, FileStatus.AVAILABLE, FileStatus.QUARANTINED}


def case_pk(case_id: str) -> str:
    return f"CASE#{case_id}"


def file_sk(file_id: str) -> str:
    return f"FILE#{file_id}"


def gallery_sk(gallery_id: str) -> str:
    return f"GALLERY#{gallery_id}"


def gallery_list(case_id: str, gallery_id: str) -> str:
    return f"GALLERY#{case_id}#{gallery_id}"


def _file_values(file: CaseFile, ttl: int | None) -> dict[str, Any]:
    values: dict[str, Any] = {"pk": case_pk(file.case_id), "sk": file_sk(file.file_id), "kind": "file"}
    values.update(stored.to_values(file))
    if file.file_status in LISTED_STATUSES:
        values["galleryList"] = gallery_list(file.case_id, file.gallery_id)
        values["sort_created"] = f"{file.created_at}#{file.file_id}"
    if ttl is not None:
        values["ttl"] = ttl
    return values


def _file_from(values: dict[str, Any]) -> CaseFile:
    return stored.from_values(CaseFile, values)


def get_file(case_id: str, file_id: str) -> CaseFile | None:
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(), Key=dynamo.key(case_pk(case_id), file_sk(file_id)), ConsistentRead=True
    )
    item = response.get("Item")
    return _file_from(dynamo.from_item(item)) if item else None


def create_file(file: CaseFile, also: list[dict[str, Any]]) -> None:
    dynamo.transact(
        [
            {
                "Put": {
                    "TableName": dynamo.table_name(),
                    "Item": dynamo.to_item(_file_values(file, None)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            *also,
        ]
    )


def replace_file(
    file: CaseFile, expected_version: int, also: list[dict[str, Any]], ttl: int | None = None
) -> None:
    """Writes `file` only if the stored version is still `expected_version`; raises VersionConflict."""
    action = {
        "Put": {
            "TableName": dynamo.table_name(),
            "Item": dynamo.to_item(_file_values(file, ttl)),
            "ConditionExpression": "attribute_exists(pk) AND version = :expected",
            "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
        }
    }
    try:
        dynamo.transact([action, *also])
    except dynamo.ConditionFailed as exc:
        raise VersionConflict("The file changed meanwhile; reload it and try again.") from exc


def list_gallery_files(
    case_id: str, gallery_id: str, page: paging.PageRequest
) -> tuple[list[CaseFile], str | None]:
    index = GALLERY_FILES_INDEX
    partition = gallery_list(case_id, gallery_id)
    query: dict[str, Any] = {
        "IndexName": index.name,
        "KeyConditionExpression": "#p = :p",
        "ExpressionAttributeNames": {"#p": index.partition_key},
        "ExpressionAttributeValues": {":p": {"S": partition}},
        "ScanIndexForward": False,  # newest first
    }
    pinned = {index.partition_key: partition}
    listing = paging.Listing("gallery-files", paging.index_key(index), pinned=pinned)
    items, next_cursor = paging.query_page(query, listing, page)
    return [_file_from(values) for values in items], next_cursor


def available_gallery_files(case_id: str, gallery_id: str, at_most: int) -> list[CaseFile]:
    """Server-side read of a gallery's available files, newest first, at most `at_most` (what a
    patient or guest is shown; the Passport export reads them all). No cursor leaves the server."""
    index = GALLERY_FILES_INDEX
    request = {
        "IndexName": index.name,
        "KeyConditionExpression": "#p = :p",
        "ExpressionAttributeNames": {"#p": index.partition_key},
        "ExpressionAttributeValues": {":p": {"S": gallery_list(case_id, gallery_id)}},
        "ScanIndexForward": False,
    }
    found: list[CaseFile] = []
    for values in dynamo.query_all(request):
        file = _file_from(values)
        if file.file_status is FileStatus.AVAILABLE:
            found.append(file)
            if len(found) >= at_most:
                break
    return found


def all_galleries(case_id: str) -> list[Gallery]:
    """Every user gallery of a case (server-side: a whole-case share link lists them)."""
    request = {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": case_pk(case_id)}, ":prefix": {"S": "GALLERY#"}},
        "ConsistentRead": True,
    }
    return [_gallery_from(values) for values in dynamo.query_all(request)]


def get_gallery(case_id: str, gallery_id: str) -> Gallery | None:
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(),
        Key=dynamo.key(case_pk(case_id), gallery_sk(gallery_id)),
        ConsistentRead=True,
    )
    item = response.get("Item")
    return _gallery_from(dynamo.from_item(item)) if item else None


def _gallery_from(values: dict[str, Any]) -> Gallery:
    return stored.from_values(Gallery, values)


def create_gallery(gallery: Gallery, also: list[dict[str, Any]]) -> None:
    values = {
        "pk": case_pk(gallery.case_id),
        "sk": gallery_sk(gallery.gallery_id),
        "kind": "gallery",
        "caseId": gallery.case_id,
        "galleryId": gallery.gallery_id,
        "name": gallery.name,
        "createdBy": gallery.created_by,
        "createdAt": gallery.created_at,
    }
    dynamo.transact(
        [
            {
                "Put": {
                    "TableName": dynamo.table_name(),
                    "Item": dynamo.to_item(values),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            *also,
        ]
    )


def list_galleries(case_id: str, page: paging.PageRequest) -> tuple[list[Gallery], str | None]:
    partition = case_pk(case_id)
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": "GALLERY#"}},
        "ConsistentRead": True,
    }
    listing = paging.Listing("galleries", paging.TABLE_KEY, pinned={"pk": partition})
    items, next_cursor = paging.query_page(query, listing, page)
    return [_gallery_from(values) for values in items], next_cursor


def file_event_action(kind: EventType, file: CaseFile, correlation_id: str, now: datetime) -> dict[str, Any]:
    """The outbox put of a file's event, for the transaction that makes the change: the uploader
    is the actor and the file the subject."""
    event = DomainEvent(
        id=ids.new_event_id(),
        type=kind,
        time=iso(now),
        case_id=file.case_id,
        actor=file.uploader_id,
        correlation_id=correlation_id,
        subject_id=file.file_id,
    )
    return outbox_put_action(outbox_attributes(event, int(now.timestamp()) + OUTBOX_RETENTION_SECONDS))
