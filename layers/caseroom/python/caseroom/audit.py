"""The audit trail: who touched which patient data, when, from where (HIPAA 164.312(b)).

One mechanism for every feature: logic builds an AuditRecord; writes put it in the same
DynamoDB transaction as the change (the change and its record cannot part), reads append
it on their own. Records are insert-only (conditional put on a fresh key); no API route
updates or deletes them, and no function's IAM grant is needed beyond the table's.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a type only: event functions import this module on their cold start
    from caseroom.auth import Principal


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


@dataclass(frozen=True)
class RequestMeta:
    """Where a request came from; carried from the HTTP adapter down to the audit record."""

    request_id: str
    source_ip: str
    correlation_id: str = ""
    user_agent: str = ""  # the client, as it says; shown in a share link's access log


SYSTEM_REQUEST = RequestMeta(request_id="system", source_ip="internal")


@dataclass(frozen=True)
class AuditRecord:
    """Stored as item values by caseroom.stored (camelCase attributes)."""

    actor_id: str
    actor_role: str
    action: str  # e.g. case.read, case.create, case.status.set, rx_script.download
    case_id: str | None
    object_type: str
    object_id: str
    at: str
    source_ip: str
    request_id: str
    outcome: Outcome = Outcome.ALLOWED
    actor_name: str | None = None  # shown to a patient asking who saw their records


def user_record(
    who: Principal,
    meta: RequestMeta,
    action: str,
    *,
    case_id: str | None,
    object_type: str,
    object_id: str,
    at: str,
    outcome: Outcome = Outcome.ALLOWED,
) -> AuditRecord:
    """What a signed-in user did (or tried to do) through the API."""
    return AuditRecord(
        actor_id=who.user_id,
        actor_role=who.role.value,
        action=action,
        case_id=case_id,
        object_type=object_type,
        object_id=object_id,
        at=at,
        source_ip=meta.source_ip,
        request_id=meta.request_id,
        outcome=outcome,
        actor_name=who.name,
    )


def system_record(
    component: str, action: str, case_id: str, object_type: str, object_id: str, at: str, event_id: str
) -> AuditRecord:
    """What an event-driven function did to patient data; the event id is its request id."""
    return AuditRecord(
        actor_id=f"system:{component}",
        actor_role="system",
        action=action,
        case_id=case_id,
        object_type=object_type,
        object_id=object_id,
        at=at,
        source_ip=SYSTEM_REQUEST.source_ip,
        request_id=event_id,
    )


def audit_partition(record: AuditRecord) -> str:
    # Records about a case live with the case (the owner lists them); anything else, such
    # as a list read or a denied probe of a case the actor may not see, lives with the actor.
    if record.case_id and record.outcome is Outcome.ALLOWED:
        return f"AUDIT#CASE#{record.case_id}"
    return f"AUDIT#ACTOR#{record.actor_id}"


def audit_sort_key(record: AuditRecord) -> str:
    # Time first for ordering; request id and a random suffix make every key fresh.
    return f"{record.at}#{record.request_id}#{secrets.token_hex(4)}"
