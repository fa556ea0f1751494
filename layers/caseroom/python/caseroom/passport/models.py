"""The Passport API contract: the clinician connects the case's patient and chooses what is
shared; the patient sees, downloads and asks who saw it. Generates openapi.json."""

from __future__ import annotations

from pydantic import Field

from caseroom.sharing.models import Email, SharedDownload, SharedFile, SharedGallery, StrictModel, View

__all__ = ["SharedDownload"]


class ConnectPatient(StrictModel):
    email: Email = Field(description="The patient's email address; their verified account address must match")


class PassportView(View):
    case_id: str = Field(alias="caseId")
    patient_email: str = Field(alias="patientEmail")
    connected_at: str = Field(alias="connectedAt")
    shared_galleries: list[str] = Field(alias="sharedGalleries")
    version: int


class ConnectedPassport(PassportView):
    now_shared_files: list[SharedFile] = Field(
        alias="nowSharedFiles",
        description="What connecting just shared: the files of Initial Documentation (shared automatically)",
    )


class PassportDisconnected(View):
    case_id: str = Field(alias="caseId")
    disconnected_at: str = Field(
        alias="disconnectedAt", description="From now on the patient sees nothing of this case"
    )


class PatientCaseSummary(View):
    case_id: str = Field(alias="caseId")
    clinic_name: str = Field(alias="clinicName")
    connected_at: str = Field(alias="connectedAt")
    shared_galleries: list[str] = Field(alias="sharedGalleries")


class PatientCasePage(View):
    items: list[PatientCaseSummary]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class PatientCaseView(View):
    """What the patient sees: the shared galleries and their files, nothing else of the case."""

    case_id: str = Field(alias="caseId")
    clinic_name: str = Field(alias="clinicName")
    galleries: list[SharedGallery]


class RecordAccess(View):
    at: str
    action: str
    who: str = Field(description="The person's name (staff) or 'Guest'")
    role: str
    object_id: str = Field(alias="objectId")


class RecordAccessPage(View):
    items: list[RecordAccess]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class ExportView(View):
    export_id: str = Field(alias="exportId")
    status: str = Field(description="building, ready or failed")
    requested_at: str = Field(alias="requestedAt")
    file_count: int = Field(alias="fileCount")
    size_bytes: int = Field(alias="sizeBytes")
    url: str | None = Field(default=None, description="When ready: a presigned GET of the ZIP, minutes long")
    expires_in_seconds: int | None = Field(default=None, alias="expiresInSeconds")
