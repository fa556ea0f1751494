"""The stored shape of a case (domain state), independent of the API views."""

from __future__ import annotations

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


class RxScriptDocument(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    case_id: str = Field(alias="caseId")
    status: str = "pending"  # pending | ready
    rx_version: int = Field(default=0, alias="rxVersion")
    object_key: str | None = Field(default=None, alias="objectKey")
    generated_at: str | None = Field(default=None, alias="generatedAt")
