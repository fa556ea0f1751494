"""The cases API contract. These models generate openapi.json (committed, drift-tested)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from caseroom.api_types import PatientText, StrictInt
from caseroom.cases.case_types import CaseType, FileKind
from caseroom.cases.statuses import Attention, CaseStatus
from caseroom.cases.teeth import ToothNotation

# Patient data is PatientText (no controls, bidi overrides or invisible edges): names become
# sort keys (see cases/dal.py) and print on the Rx script.
PatientName = Annotated[
    PatientText,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120, pattern=r"^[^\x00-\x1f\x7f]+$"),
]
RxDescription = Annotated[
    PatientText, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)
]
ToothInput = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=3)]
# Versions count writes; the bound keeps absurd input a 422 instead of a DynamoDB error.
MAX_VERSION = 2**53
FileName = Annotated[PatientText, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Reason = Annotated[
    PatientText,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=500, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]+$"
    ),
]
Carrier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
TrackingNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=64, pattern=r"^[A-Za-z0-9 -]+$")
]
HttpsUrl = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2048, pattern=r"^https://[^\s/$.?#][^\s]*$")
]


LabId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]


class StrictModel(BaseModel):
    # Unknown fields are an error, not silently dropped: a typo must not lose a clinician's input.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class DeclaredAttachment(StrictModel):
    kind: FileKind
    file_name: FileName = Field(alias="fileName")


class CreateCaseRequest(StrictModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "patientName": "Maria Garcia",
                    "rxDescription": "Zirconia crown, shade A2",
                    "teeth": ["8", "9"],
                    "toothNotation": "UNIVERSAL",
                    "caseType": "crown",
                    "attachments": [{"kind": "scan", "fileName": "upper.stl"}],
                }
            ]
        }
    )
    patient_name: PatientName = Field(alias="patientName")
    rx_description: RxDescription = Field(alias="rxDescription")
    teeth: list[ToothInput] = Field(min_length=1, max_length=52)
    tooth_notation: ToothNotation = Field(default=ToothNotation.FDI, alias="toothNotation")
    case_type: CaseType = Field(alias="caseType")
    attachments: list[DeclaredAttachment] = Field(default_factory=list, max_length=50)
    lab_id: LabId | None = Field(
        default=None,
        alias="labId",
        description="The lab that makes the case, one of GET /labs; default: your default lab",
    )


class ModifyCaseRequest(StrictModel):
    """A clinician's change to the Rx. Sends the case back to Processing and resets its due date."""

    version: StrictInt = Field(
        ge=1, le=MAX_VERSION, description="The version you read; a stale one gets 409 VERSION_CONFLICT."
    )
    rx_description: RxDescription | None = Field(default=None, alias="rxDescription")
    teeth: list[ToothInput] | None = Field(default=None, min_length=1, max_length=52)
    tooth_notation: ToothNotation = Field(default=ToothNotation.FDI, alias="toothNotation")


class SetStatusRequest(StrictModel):
    """Lab-side status change along the declared transitions (see README "Case statuses").
    Never touches Last Modified (that is the clinician's date)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "On Hold", "version": 3, "reason": "Margin unclear on the scan; please rescan"},
                {
                    "status": "Shipped",
                    "version": 7,
                    "carrier": "UPS",
                    "trackingNumber": "1Z999AA10123456784",
                    "trackingUrl": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
                },
            ]
        }
    )

    version: StrictInt = Field(ge=1, le=MAX_VERSION)
    status: CaseStatus
    reason: Reason | None = Field(default=None, description="Required for On Hold; shown on the timeline")
    carrier: Carrier | None = Field(default=None, description="Required for Shipped")
    tracking_number: TrackingNumber | None = Field(
        default=None, alias="trackingNumber", description="Required for Shipped"
    )
    tracking_url: HttpsUrl | None = Field(
        default=None, alias="trackingUrl", description="Required for Shipped"
    )


class VersionRequest(StrictModel):
    version: StrictInt = Field(ge=1, le=MAX_VERSION)


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
    clinic_id: str | None = Field(default=None, alias="clinicId")
    created_at: str = Field(alias="createdAt")
    last_modified: str = Field(alias="lastModified")
    due_date: str | None = Field(
        default=None, alias="dueDate", description="A day of the lab's calendar, in the lab's time zone"
    )
    archived: bool
    version: int
    attachments: list[DeclaredAttachment]
    rx_script: RxScriptView = Field(alias="rxScript")
    status_reason: str | None = Field(default=None, alias="statusReason")
    carrier: str | None = None
    tracking_number: str | None = Field(default=None, alias="trackingNumber")
    tracking_url: str | None = Field(default=None, alias="trackingUrl")
    planning_session_id: str | None = Field(default=None, alias="planningSessionId")


class CaseSummary(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    case_id: str = Field(alias="caseId")
    patient_name: str = Field(alias="patientName")
    case_type: CaseType = Field(alias="caseType")
    lab_id: str = Field(alias="labId", description="The lab the case was sent to")
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


class TimelineActor(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    user_id: str = Field(alias="userId", description="User id, or system:<component> for CaseRoom itself")
    role: str = Field(description="clinician | lab | system")
    name: str


class TimelineEntryView(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    entry_id: str = Field(alias="entryId")
    at: str
    from_status: CaseStatus | None = Field(
        default=None, alias="from", description="None for the status the case was created in"
    )
    to_status: CaseStatus = Field(alias="to")
    by: TimelineActor
    reason: str | None = None
    kind: str = Field(default="status", description="status, or team for a Team-Up change (from = to)")
    team_change: str | None = Field(
        default=None,
        alias="teamChange",
        description="invited | cancelled | declined | joined | removed | left | owner (kind team)",
    )
    member_name: str | None = Field(default=None, alias="memberName", description="Name, or invited address")
    member_role: str | None = Field(default=None, alias="memberRole", description="Professional role")


class TimelinePage(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    items: list[TimelineEntryView]
    next_cursor: str | None = Field(default=None, alias="nextCursor")
