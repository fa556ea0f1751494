"""Data access for the Passport. The only passport module that talks to DynamoDB.

Key design (single table):
  connection     pk=CASE#<caseId>                sk=PASSPORT           (one patient per case)
  patient index  pk=PATIENT#<sha256 of email>    sk=CASE#<caseId>      -> caseId, connectedAt
Access patterns: a patient's relationship is a consistent GetItem of the connection (the email it
names must be the caller's verified one); a patient's cases are one consistent Query of their
index partition (the address is hashed: no email in a key), each re-checked on the connection.
Both items are written, and removed (the clinic disconnects the patient), in one transaction.
"""

from __future__ import annotations

import hashlib
from typing import Any

from caseroom import dynamo, paging, stored
from caseroom.errors import PatientAlreadyConnected, PatientNotConnected, VersionConflict
from caseroom.passport.records import PatientConnection


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _patient_pk(email: str) -> str:
    return "PATIENT#" + hashlib.sha256(normalize_email(email).encode()).hexdigest()


def _key(case_id: str) -> dict[str, Any]:
    return dynamo.key(f"CASE#{case_id}", "PASSPORT")


def _values(connection: PatientConnection) -> dict[str, Any]:
    return {
        "pk": f"CASE#{connection.case_id}",
        "sk": "PASSPORT",
        "kind": "passport",
        **stored.to_values(connection),
    }


def get_connection(case_id: str) -> PatientConnection | None:
    item = (
        dynamo.dynamodb()
        .get_item(TableName=dynamo.table_name(), Key=_key(case_id), ConsistentRead=True)
        .get("Item")
    )
    return stored.from_values(PatientConnection, dynamo.from_item(item)) if item else None


def connect(connection: PatientConnection, also: list[dict[str, Any]]) -> None:
    index = {
        "pk": _patient_pk(connection.patient_email),
        "sk": f"CASE#{connection.case_id}",
        "kind": "passport-index",
        "caseId": connection.case_id,
        "connectedAt": connection.connected_at,
    }
    try:
        dynamo.transact(
            [
                {
                    "Put": {
                        "TableName": dynamo.table_name(),
                        "Item": dynamo.to_item(values),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
                for values in (_values(connection), index)
            ]
            + also
        )
    except dynamo.ConditionFailed as exc:
        raise PatientAlreadyConnected() from exc


def replace_action(connection: PatientConnection, expected_version: int) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": dynamo.table_name(),
            "Item": dynamo.to_item(_values(connection)),
            "ConditionExpression": "attribute_exists(pk) AND version = :v",
            "ExpressionAttributeValues": {":v": {"N": str(expected_version)}},
        }
    }


def replace(connection: PatientConnection, expected_version: int, also: list[dict[str, Any]]) -> None:
    action = replace_action(connection, expected_version)
    try:
        dynamo.transact([action, *also])
    except dynamo.ConditionFailed as exc:
        raise VersionConflict("The sharing changed meanwhile; reload and try again.") from exc


def disconnect(connection: PatientConnection, also: list[dict[str, Any]]) -> None:
    """Deletes the connection (as read: same version) and the patient's index entry, together."""
    table = dynamo.table_name()
    try:
        dynamo.transact(
            [
                {
                    "Delete": {
                        "TableName": table,
                        "Key": _key(connection.case_id),
                        "ConditionExpression": "version = :v",
                        "ExpressionAttributeValues": {":v": {"N": str(connection.version)}},
                    }
                },
                {
                    "Delete": {
                        "TableName": table,
                        "Key": dynamo.key(
                            _patient_pk(connection.patient_email), f"CASE#{connection.case_id}"
                        ),
                    }
                },
                *also,
            ]
        )
    except dynamo.ConditionFailed as exc:
        if get_connection(connection.case_id) is None:
            raise PatientNotConnected() from exc
        raise VersionConflict("The sharing changed meanwhile; reload and try again.") from exc


def list_patient_cases(email: str, page: paging.PageRequest) -> tuple[list[str], str | None]:
    partition = _patient_pk(email)
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": partition}},
        "ConsistentRead": True,
    }
    listing = paging.Listing("passport-cases", paging.TABLE_KEY, pinned={"pk": partition})
    items, next_cursor = paging.query_page(query, listing, page)
    return [str(values["caseId"]) for values in items], next_cursor
