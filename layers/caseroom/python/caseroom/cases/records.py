"""The stored shape of a case (domain state), independent of the API views.

Plain dataclasses (see caseroom.stored): the API models validate input, records only carry it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    teeth: list[str]
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


@dataclass(frozen=True)
class RxScriptDocument:
    case_id: str
    status: str = "pending"  # pending | ready
    rx_version: int = 0
    object_key: str | None = None
    generated_at: str | None = None
