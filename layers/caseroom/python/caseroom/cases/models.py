"""The cases API contract. These models generate openapi.json (committed, drift-tested)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from caseroom.cases.case_types import CaseType, FileKind
from caseroom.cases.statuses import Attention, CaseStatus
from caseroom.cases.teeth import ToothNotation

# No control characters: names become sort keys (see cases/dal.py) and print on the Rx script.
PatientName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120, pattern=r"^[^\x00-\x1f\x7f]+$"),
]
RxDescription = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
ToothInput = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=3)]
# Versions count writes; the bound keeps absurd input a 422 instead of a DynamoDB error.
MAX_VERSION = 2**53
FileName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


class StrictModel(BaseModel):
    # Unknown fields are an error, not silently dropped: a typo must not lose a clinician's input.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class DeclaredAttachment(StrictModel):
    kind: FileKind
    file_name: FileName = Field(alias="fileName")


class CreateCaseRequest(StrictModel):
    patient_name: PatientName = Field(alias="patientName")
    rx_description: RxDescription = Field(alias="rxDescription")
    teeth: list[ToothInput] = Field(min_length=1, max_length=52)
    tooth_notation: ToothNotation = Field(default=ToothNotation.FDI, alias="toothNotation")
    case_type: CaseType = Field(alias="caseType")
    attachments: list[DeclaredAttachment] = Field(default_factory=list, max_length=50)


class ModifyCaseRequest(StrictModel):
    """A clinician's change to the Rx. Sends the case back to Processing and resets its due date."""

    version: int = Field(
        ge=1, le=MAX_VERSION, description="The version you read; a stale one gets 409 VERSION_CONFLICT."
    )
    rx_description: RxDescription | None = Field(default=None, alias="rxDescription")
    teeth: list[ToothInput] | None = Field(default=None, min_length=1, max_length=52)
    tooth_notation: ToothNotation = Field(default=ToothNotation.FDI, alias="toothNotation")


class SetStatusRequest(StrictModel):
    """Lab-side status change. Never touches Last Modified (that is the clinician's date)."""

    version: int = Field(ge=1, le=MAX_VERSION)
    status: CaseStatus


class VersionRequest(StrictModel):
    version: int = Field(ge=1, le=MAX_VERSION)


class RxScriptView(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    status: str = Field(description="pending until the PDF is generated, then ready")
    generated_at: str | None = Field(default=None, alias="generatedAt")


class CaseView(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    case_id: str = Field(alias="caseId")
    patient_name: str = Field(alias="patientName")
    rx_description: str = Field(alias="rxDescription")
    teeth: list[str] = Field(description="FDI (ISO 3950) tooth numbers")
    teeth_universal: list[str] = Field(alias="teethUniversal")
    case_type: CaseType = Field(alias="caseType")
    status: CaseStatus
    attention: Attention
    owner_id: str = Field(alias="ownerId")
    owner_name: str = Field(alias="ownerName")
    lab_id: str = Field(alias="labId")
    created_at: str = Field(alias="createdAt")
    last_modified: str = Field(alias="lastModified")
    due_date: str | None = Field(default=None, alias="dueDate")
    archived: bool
    version: int
    attachments: list[DeclaredAttachment]
    rx_script: RxScriptView = Field(alias="rxScript")


class CaseSummary(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    case_id: str = Field(alias="caseId")
    patient_name: str = Field(alias="patientName")
    case_type: CaseType = Field(alias="caseType")
    status: CaseStatus
    attention: Attention
    last_modified: str = Field(alias="lastModified")
    due_date: str | None = Field(default=None, alias="dueDate")
    archived: bool
    version: int


class CasePage(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    items: list[CaseSummary]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class DownloadLink(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    url: str
    expires_in_seconds: int = Field(alias="expiresInSeconds")
    file_name: str = Field(alias="fileName")
