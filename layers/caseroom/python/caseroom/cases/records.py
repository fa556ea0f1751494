"""The stored shape of a case (domain state), independent of the API views.

Plain dataclasses (see caseroom.stored): the API models validate input, records only carry it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from caseroom.cases.case_types import CaseType, FileKind
from caseroom.cases.statuses import Attention, CaseStatus


@dataclass(frozen=True)
class Attachment:
    """A file the clinician declared at creation, to be uploaded later."""

    kind: FileKind
    file_name: str


@dataclass(frozen=True)
class Case:
    case_id: str
    owner_id: str
    owner_name: str
    owner_email: str
    lab_id: str
    patient_name: str
    rx_description: str
    teeth: list[str]  # FDI, always
    case_type: CaseType
    status: CaseStatus
    attention: Attention
    created_at: str
    last_modified: str  # the clinician's date: lab changes never move it
    updated_at: str  # any change, lab or clinician
    due_date: str | None = None
    archived: bool = False
    version: int = 1
    rx_version: int = 1  # bumps when the Rx content changes
    attachments: list[Attachment] = field(default_factory=list)
    # Why the lab put the case On Hold or cancelled it (shown to the clinician).
    status_reason: str | None = None
    # Set when the lab marks the case Shipped; the notifications read these names.
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    # The planning session booked (or last booked) for this case.
    planning_session_id: str | None = None
    # The clinician's clinic when the case was opened (its address and zone go on the Rx script).
    clinic_id: str | None = None
    # The notation the clinician wrote the teeth in (FDI | UNIVERSAL): documents print it.
    tooth_notation: str = "FDI"


@dataclass(frozen=True)
class RxScriptDocument:
    case_id: str
    status: str = "pending"  # pending | ready
    rx_version: int = 0
    object_key: str | None = None
    generated_at: str | None = None


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
    # Team-Up changes are timeline entries too (kind "team"): the status stays where it was
    # (from = to), team_change names what happened and to whom.
    kind: str = "status"  # status | team
    team_change: str | None = None  # invited | cancelled | declined | joined | removed | left | owner
    member_name: str | None = None  # the member's name, or the invited address
    member_role: str | None = None  # their professional role


def evolve(case: Case, **changes: object) -> Case:
    """A copy of `case` with `changes` (field names)."""
    return replace(case, **changes)  # type: ignore[arg-type]
