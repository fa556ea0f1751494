"""The stored shape of a case file and of a user-created gallery.

Dataclasses, not pydantic: the verifier reads them on its cold start.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FileStatus(StrEnum):
    PENDING = "pending"  # reserved; bytes not (all) in S3 yet, or not verified yet
    AVAILABLE = "available"  # verified: downloadable
    QUARANTINED = "quarantined"  # failed verification: never downloadable, reason recorded
    EXPIRED = "expired"  # never completed in time; cleaned up
    ABORTED = "aborted"  # the uploader gave up
    DELETED = "deleted"  # soft-deleted; the record and the bytes are kept for the retention


@dataclass
class CaseFile:
    file_id: str
    case_id: str
    gallery_id: str
    file_name: str
    kind: str
    size_bytes: int
    content_type: str
    sha256: str  # hex, as declared
    object_key: str
    mode: str  # post | multipart
    status: str
    uploader_id: str
    uploader_name: str
    created_at: str
    expires_at: str  # pending uploads expire then
    version: int = 1
    upload_id: str | None = None  # S3 multipart upload id
    part_size_bytes: int | None = None
    part_count: int | None = None
    completed_at: str | None = None
    # Multipart: S3's composite SHA-256 (of the part checksums) the parts must add up to.
    expected_composite: str | None = None
    version_id: str | None = None  # the S3 object version that was verified
    quarantine_reason: str | None = None
    available_at: str | None = None
    deleted_at: str | None = None
    deleted_by: str | None = None

    @property
    def file_status(self) -> FileStatus:
        return FileStatus(self.status)


@dataclass
class Gallery:
    case_id: str
    gallery_id: str
    name: str
    created_by: str
    created_at: str
