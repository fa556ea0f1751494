"""The stored shape of a case (domain state), independent of the API views."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from caseroom.cases.case_types import CaseType
from caseroom.cases.models import DeclaredAttachment
from caseroom.cases.statuses import Attention, CaseStatus


class Case(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    case_id: str = Field(alias="caseId")
    owner_id: str = Field(alias="ownerId")
    owner_name: str = Field(alias="ownerName")
    owner_email: str = Field(alias="ownerEmail")
    lab_id: str = Field(alias="labId")
    patient_name: str = Field(alias="patientName")
    rx_description: str = Field(alias="rxDescription")
    teeth: list[str]
    case_type: CaseType = Field(alias="caseType")
    status: CaseStatus
    attention: Attention
    created_at: str = Field(alias="createdAt")
    last_modified: str = Field(alias="lastModified")  # the clinician's date: lab changes never move it
    updated_at: str = Field(alias="updatedAt")  # any change, lab or clinician
    due_date: str | None = Field(default=None, alias="dueDate")
    archived: bool = False
    version: int = 1
    rx_version: int = Field(default=1, alias="rxVersion")  # bumps when the Rx content changes
    attachments: list[DeclaredAttachment] = Field(default_factory=list)
    # Why the lab put the case On Hold or cancelled it (shown to the clinician).
    status_reason: str | None = Field(default=None, alias="statusReason")
    # Set when the lab marks the case Shipped; the notifications read these names.
    carrier: str | None = None
    tracking_number: str | None = Field(default=None, alias="trackingNumber")
    tracking_url: str | None = Field(default=None, alias="trackingUrl")
    # The planning session booked (or last booked) for this case.
    planning_session_id: str | None = Field(default=None, alias="planningSessionId")


class RxScriptDocument(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    case_id: str = Field(alias="caseId")
    status: str = "pending"  # pending | ready
    rx_version: int = Field(default=0, alias="rxVersion")
    object_key: str | None = Field(default=None, alias="objectKey")
    generated_at: str | None = Field(default=None, alias="generatedAt")


@dataclass(frozen=True)
class TimelineEntry:
    """One status change of a case: who moved it, when, why, from where to where.
    Stored with the case (pk CASE#<id>, sk TIMELINE#<entry_id>) in the change's transaction."""

    entry_id: str  # the zero-padded case version the change wrote: sorts in the order of changes
    case_id: str
    at: str
    from_status: str | None  # None for the status the case was created in
    to_status: str
    actor_id: str  # user id, or system:<component>
    actor_role: str  # clinician | lab | system
    actor_name: str
    reason: str | None = None
    event_id: str = ""  # the CaseStatusChanged event this entry announced


def evolve(case: Case, **changes: object) -> Case:
    """A copy of `case` with `changes` (field names): the one place that knows Case's model type."""
    return case.model_copy(update=changes)
