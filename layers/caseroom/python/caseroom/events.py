"""CaseRoom's domain events: one envelope, written to the outbox in the same transaction
as the state change; the stream relay (an EventBridge Pipe in the cloud) publishes them.

Events are thin on purpose: ids and types, never patient data. Consumers read the case.

The envelope is a plain dataclass, not a pydantic model: every event consumer parses it
on its cold start, and pydantic's import alone costs ~40 ms there. The JSON Schema that
clinics subscribe from is built from ENVELOPE_FIELDS (caseroom.event_catalog).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    CASE_CREATED = "CaseCreated"
    CASE_RX_MODIFIED = "CaseRxModified"
    CASE_STATUS_CHANGED = "CaseStatusChanged"
    CASE_ARCHIVED = "CaseArchived"
    CASE_UNARCHIVED = "CaseUnarchived"
    CASE_SHIPPED = "CaseShipped"
    FILE_UPLOAD_REQUESTED = "FileUploadRequested"  # a pending upload exists; its expiry timer follows
    FILE_ADDED = "FileAdded"
    FILE_QUARANTINED = "FileQuarantined"
    PLANNING_SCHEDULED = "PlanningScheduled"
    PLANNING_CANCELLED = "PlanningCancelled"
    PLANNING_HELD = "PlanningHeld"
    PLANNING_MISSED = "PlanningMissed"
    # Team-Up: subjectId is the invitation id (invited, cancelled, declined) or the member's user
    # id (joined, removed, left, ownership transferred to them)
    CASE_MEMBER_INVITED = "CaseMemberInvited"
    CASE_INVITATION_CANCELLED = "CaseInvitationCancelled"
    CASE_MEMBER_DECLINED = "CaseMemberDeclined"
    CASE_MEMBER_JOINED = "CaseMemberJoined"
    CASE_MEMBER_REMOVED = "CaseMemberRemoved"
    CASE_MEMBER_LEFT = "CaseMemberLeft"
    CASE_OWNERSHIP_TRANSFERRED = "CaseOwnershipTransferred"
    # The room (chat): subjectId is "<room>:<messageId>" (no text: consumers read the message)
    CHAT_MESSAGE_POSTED = "ChatMessagePosted"


EVENT_SCHEMA_VERSION = "1"
OUTBOX_RETENTION_SECONDS = 2 * 24 * 3600  # the stream keeps records 24 h; the item outlives it


class MalformedEvent(ValueError):
    """An event detail that is not a CaseRoom envelope (wrong source, hand-made test event)."""


@dataclass(frozen=True)
class EnvelopeField:
    attribute: str  # dataclass attribute
    json_name: str  # name in the event detail and in the outbox item (prefixed there)
    description: str


ENVELOPE_FIELDS: tuple[EnvelopeField, ...] = (
    EnvelopeField("id", "id", "Unique event id; consumers de-duplicate on it"),
    EnvelopeField("type", "type", "Also the EventBridge detail-type"),
    EnvelopeField("version", "version", "Schema version of this event type"),
    EnvelopeField("time", "time", "When the change happened (UTC, ISO 8601)"),
    EnvelopeField("case_id", "caseId", "The case the change belongs to"),
    EnvelopeField("actor", "actor", "User id (Cognito sub), or system:<component> for automatic changes"),
    EnvelopeField("correlation_id", "correlationId", "The API request (or event) that caused it"),
    EnvelopeField(
        "subject_id", "subjectId", "The object inside the case the event is about (file, session), or ''"
    ),
)


@dataclass(frozen=True)
class DomainEvent:
    """The detail of every CaseRoom event on the bus (detail-type = type)."""

    id: str
    type: EventType
    time: str
    case_id: str
    actor: str
    correlation_id: str
    subject_id: str = ""
    version: str = EVENT_SCHEMA_VERSION

    @classmethod
    def from_detail(cls, detail: Any) -> DomainEvent:
        if not isinstance(detail, dict):
            raise MalformedEvent("detail is not an object")
        values: dict[str, Any] = {}
        for field in ENVELOPE_FIELDS:
            value = detail.get(field.json_name, "" if field.attribute == "subject_id" else None)
            if not isinstance(value, str):
                raise MalformedEvent(f"{field.json_name} missing or not a string")
            values[field.attribute] = value
        try:
            values["type"] = EventType(values["type"])
        except ValueError as error:
            raise MalformedEvent("unknown event type") from error
        return cls(**values)

    def to_detail(self) -> dict[str, str]:
        return {f.json_name: str(getattr(self, f.attribute)) for f in ENVELOPE_FIELDS}


def is_system_actor(actor: str) -> bool:
    """True for changes CaseRoom made by itself (an event consumer or a timer), not a person."""
    return actor == "system" or actor.startswith("system:")


def outbox_attributes(event: DomainEvent, expires_at_epoch: int) -> dict[str, object]:
    """Plain attributes of the outbox item; infra.manifest.OUTBOX_RELAY reads these names."""
    return {
        "pk": f"OUTBOX#{event.id}",
        "sk": "OUTBOX",
        "kind": "outbox",
        "eventId": event.id,
        "eventType": event.type.value,
        "eventVersion": event.version,
        "eventTime": event.time,
        "caseId": event.case_id,
        "actor": event.actor,
        "correlationId": event.correlation_id,
        "subjectId": event.subject_id,
        "ttl": expires_at_epoch,
    }
