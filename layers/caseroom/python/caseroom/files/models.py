"""The case files API contract (uploads, galleries, downloads). Generates openapi.json."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from caseroom.api_types import PatientText, StrictInt
from caseroom.cases.case_types import FileKind
from caseroom.files.records import FileStatus

# File names are shown back to people and put in Content-Disposition: no control characters,
# no path separators. They are PHI-ish: never logged, never echoed in errors.
FileName = Annotated[
    PatientText,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f/\\]+$"),
]
GalleryName = Annotated[
    PatientText,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=80, pattern=r"^[^\x00-\x1f\x7f]+$"),
]
GalleryId = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Sha256Hex = Annotated[str, StringConstraints(to_lower=True, pattern=r"^[0-9a-fA-F]{64}$")]
ContentType = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=127, pattern=r"^[\x21-\x7e ;=]+$")
]
PartNumber = Annotated[StrictInt, Field(ge=1, le=10_000)]
ETag = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r'^"?[0-9a-fA-F-]+"?$')]
MAX_DECLARED_BYTES = 5 * 1024**4  # S3's object limit; kind limits are far lower


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class View(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)


class UploadMode(StrEnum):
    POST = "post"
    MULTIPART = "multipart"


class RequestUpload(StrictModel):
    """Ask to upload one file. The bytes go straight to S3; this only reserves and signs."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fileName": "upper.stl",
                    "kind": "scan",
                    "sizeBytes": 18_234_884,
                    "contentType": "model/stl",
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                }
            ]
        }
    )

    file_name: FileName = Field(alias="fileName")
    kind: FileKind
    size_bytes: StrictInt = Field(alias="sizeBytes", ge=0, le=MAX_DECLARED_BYTES)
    content_type: ContentType = Field(alias="contentType")
    sha256: Sha256Hex = Field(description="SHA-256 of the whole file, hex")
    gallery_id: GalleryId = Field(default="initial-documentation", alias="galleryId")
    part_size_bytes: StrictInt | None = Field(
        default=None,
        alias="partSizeBytes",
        ge=1,
        le=5 * 1024**3,
        description="Multipart only: 5 MiB - 5 GiB, at most 10,000 parts. Default: the server's choice.",
    )


class PresignedPost(View):
    url: str
    fields: dict[str, str] = Field(description="Form fields to send before the file field, as given")


class MultipartPlan(View):
    part_size_bytes: int = Field(alias="partSizeBytes")
    part_count: int = Field(alias="partCount", description="Every part is partSizeBytes except the last")


class UploadTicket(View):
    file_id: str = Field(alias="fileId")
    status: FileStatus
    mode: UploadMode
    expires_at: str = Field(alias="expiresAt", description="A pending upload not finished by then expires")
    post: PresignedPost | None = None
    multipart: MultipartPlan | None = None


class ReceivedPart(View):
    part_number: int = Field(alias="partNumber")
    etag: str
    size_bytes: int = Field(alias="sizeBytes")


class UploadState(View):
    """Where an upload stands: resume by asking URLs for the parts not in receivedParts."""

    file_id: str = Field(alias="fileId")
    status: FileStatus
    mode: UploadMode
    expires_at: str = Field(alias="expiresAt")
    multipart: MultipartPlan | None = None
    received_parts: list[ReceivedPart] = Field(default_factory=list, alias="receivedParts")
    completed: bool = False


class PartChecksum(StrictModel):
    part_number: PartNumber = Field(alias="partNumber")
    sha256: Sha256Hex = Field(description="SHA-256 of this part's bytes, hex; S3 checks the part against it")


class PartUrlsRequest(StrictModel):
    parts: list[PartChecksum] = Field(min_length=1, max_length=100)


class PartUrl(View):
    part_number: int = Field(alias="partNumber")
    url: str
    headers: dict[str, str] = Field(description="Headers to send with the PUT (signed into the URL)")


class PartUrls(View):
    parts: list[PartUrl]
    expires_in_seconds: int = Field(alias="expiresInSeconds")


class CompletedPart(StrictModel):
    part_number: PartNumber = Field(alias="partNumber")
    etag: ETag
    sha256: Sha256Hex


class CompleteRequest(StrictModel):
    parts: list[CompletedPart] = Field(min_length=1, max_length=10_000)


class Uploader(View):
    user_id: str = Field(alias="userId")
    name: str


class FileView(View):
    file_id: str = Field(alias="fileId")
    case_id: str = Field(alias="caseId")
    gallery_id: str = Field(alias="galleryId")
    file_name: str = Field(alias="fileName")
    kind: FileKind
    size_bytes: int = Field(alias="sizeBytes")
    content_type: str = Field(alias="contentType")
    sha256: str
    status: FileStatus
    quarantine_reason: str | None = Field(default=None, alias="quarantineReason")
    uploaded_by: Uploader = Field(alias="uploadedBy")
    created_at: str = Field(alias="createdAt")
    available_at: str | None = Field(default=None, alias="availableAt")
    thumbnail_url: str | None = Field(
        default=None, alias="thumbnailUrl", description="Not generated yet: always null"
    )


class FilePage(View):
    items: list[FileView]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class GalleryView(View):
    gallery_id: str = Field(alias="galleryId")
    name: str
    fixed: bool = Field(description="true for the four galleries every case has")


class GalleryPage(View):
    items: list[GalleryView]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class CreateGallery(StrictModel):
    name: GalleryName


class UpdateFile(StrictModel):
    """Move to another gallery and/or rename. The stored bytes never change."""

    gallery_id: GalleryId | None = Field(default=None, alias="galleryId")
    file_name: FileName | None = Field(default=None, alias="fileName")


class FileDownload(View):
    url: str
    expires_in_seconds: int = Field(alias="expiresInSeconds")
    file_name: str = Field(alias="fileName")
