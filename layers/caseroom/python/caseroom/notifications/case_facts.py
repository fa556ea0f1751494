"""The few case fields a notice needs, read straight from the case item.

Notification and webhook functions are event consumers whose cold start counts: they read
the stored item into this plain dataclass instead of loading the cases package's models.
The attribute names are the case record's stored names (caseroom.cases.records.Case aliases);
shipping fields are written by the workflow (carrier, trackingNumber, trackingUrl).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from caseroom import dynamo

CASE_SK = "CASE"


@dataclass(frozen=True)
class CaseFacts:
    case_id: str
    owner_id: str
    owner_email: str
    owner_name: str
    lab_id: str
    status: str
    case_type: str
    teeth: tuple[str, ...]
    version: int
    due_date: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> CaseFacts:
        return cls(
            case_id=str(values["caseId"]),
            owner_id=str(values["ownerId"]),
            owner_email=str(values.get("ownerEmail", "")),
            owner_name=str(values.get("ownerName", "")),
            lab_id=str(values.get("labId", "")),
            status=str(values.get("status", "")),
            case_type=str(values.get("caseType", "")),
            teeth=tuple(str(t) for t in values.get("teeth", [])),
            version=int(values.get("version", 1)),
            due_date=_optional(values.get("dueDate")),
            carrier=_optional(values.get("carrier")),
            tracking_number=_optional(values.get("trackingNumber")),
            tracking_url=_optional(values.get("trackingUrl")),
        )


def _optional(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def get_case_facts(case_id: str) -> CaseFacts | None:
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(), Key=dynamo.key(f"CASE#{case_id}", CASE_SK), ConsistentRead=True
    )
    item = response.get("Item")
    return CaseFacts.from_values(dynamo.from_item(item)) if item else None
