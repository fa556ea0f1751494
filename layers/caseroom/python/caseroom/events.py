"""CaseRoom's domain events: one envelope, written to the outbox in the same transaction
as the state change; the stream relay (an EventBridge Pipe in the cloud) publishes them.

Events are thin on purpose: ids and types, never patient data. Consumers read the case.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class EventType(StrEnum):
    CASE_CREATED = "CaseCreated"
    CASE_RX_MODIFIED = "CaseRxModified"
    CASE_STATUS_CHANGED = "CaseStatusChanged"
    CASE_ARCHIVED = "CaseArchived"
    CASE_UNARCHIVED = "CaseUnarchived"


EVENT_SCHEMA_VERSION = "1"
OUTBOX_RETENTION_SECONDS = 2 * 24 * 3600  # the stream keeps records 24 h; the item outlives it


class DomainEvent(BaseModel):
    """The detail of every CaseRoom event on the bus (detail-type = type)."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, defer_build=True)

    id: str = Field(description="Unique event id; consumers de-duplicate on it")
    type: EventType
    version: str = Field(default=EVENT_SCHEMA_VERSION)
    time: str = Field(description="When the change happened (UTC, ISO 8601)")
    case_id: str = Field(alias="caseId")
    actor: str = Field(description="User id (Cognito sub) or 'system'")
    correlation_id: str = Field(alias="correlationId", description="The API request that caused it")


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
        "ttl": expires_at_epoch,
    }
