"""The rules of case files: who may upload, list, move, rename, delete and download, what an
upload may be, and how an upload moves from pending to available (or quarantined).

No boto3 here: records go through caseroom.files.dal, bytes through caseroom.files.storage.
Authorization is caseroom.access (the one access policy) on a consistent read of the case, and
of the file where the decision depends on who uploaded it.
"""

from __future__ import annotations

import math
import secrets
import urllib.parse
from dataclasses import dataclass, field, replace
from typing import Any

from caseroom import audit_store
from caseroom.access import Action, Gate, Resource, authorized_case, visible_case
from caseroom.audit import AuditRecord, Outcome, RequestMeta, user_record
from caseroom.auth import Principal
from caseroom.cases.records import Case
from caseroom.clock import Clock, SystemClock, iso
from caseroom.errors import (
    ContentTypeNotAllowed,
    EmptyFile,
    FileNotAvailable,
    FileNotFound,
    FileTooLarge,
    GalleryNotFound,
    InvalidPartSize,
    InvalidRequest,
    NotMultipartUpload,
    PartMismatch,
    PartOutOfRange,
    StorageUnavailable,
    UploadAlreadyCompleted,
    UploadNotPending,
    UploadPartsMissing,
    VersionConflict,
)
from caseroom.events import EventType
from caseroom.files import dal, storage
from caseroom.files.expiry import UPLOAD_EXPIRY
from caseroom.files.kinds import MiB, normalized_content_type, rules_for
from caseroom.files.models import (
    CompleteRequest,
    CreateGallery,
    FileDownload,
    FilePage,
    FileView,
    GalleryPage,
    GalleryView,
    MultipartPlan,
    PartUrl,
    PartUrls,
    PartUrlsRequest,
    PresignedPost,
    ReceivedPart,
    RequestUpload,
    UpdateFile,
    Uploader,
    UploadMode,
    UploadState,
    UploadTicket,
)
from caseroom.files.records import CaseFile, FileStatus, Gallery
from caseroom.observability import count
from caseroom.paging import PageRequest
from caseroom.settings import get_settings

# Every case has these; user-created galleries come after them.
FIXED_GALLERIES: dict[str, str] = {
    "initial-documentation": "Initial Documentation",
    "rx": "Rx",
    "smile-design": "Smile Design",
    "video-simulation": "Video Simulation",
}
POST_URL_SECONDS = 15 * 60
PART_URL_SECONDS = 60 * 60  # a part of a slow connection finishes well within this; resume signs anew
DOWNLOAD_LINK_SECONDS = 10 * 60  # <= 15 minutes
DELETED_RETENTION_SECONDS = 30 * 24 * 3600  # as long as the bucket keeps noncurrent versions
MIN_PART_BYTES = 5 * MiB  # S3's minimum for every part but the last
MAX_PART_BYTES = 5 * 1024 * MiB
MAX_PARTS = 10_000
DEFAULT_PART_BYTES = 16 * MiB


def object_key(case_id: str, file_id: str) -> str:
    """Random (the file id), under the case, never derived from the file name, never reused."""
    return f"files/{case_id}/{file_id}"


def new_file_id() -> str:
    return secrets.token_hex(16)  # 128 random bits


def new_gallery_id() -> str:
    return f"g-{secrets.token_hex(6)}"


def part_plan(size: int, requested: int | None) -> tuple[int, int]:
    """(part size, part count): the requested size if valid, else the default grown until the
    file fits in 10,000 parts (rounded up to a whole MiB)."""
    if requested is not None:
        part_size = requested
        if (
            part_size < MIN_PART_BYTES
            or part_size > MAX_PART_BYTES
            or math.ceil(size / part_size) > MAX_PARTS
        ):
            raise InvalidPartSize()
    else:
        part_size = max(DEFAULT_PART_BYTES, math.ceil(size / MAX_PARTS / MiB) * MiB)
    return part_size, math.ceil(size / part_size)


def content_disposition(file_name: str) -> str:
    """RFC 6266 with an RFC 5987 `filename*` carrying the exact UTF-8 name, and a plain ASCII
    `filename` fallback for clients that do not read `filename*`."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(file_name, safe='')}"


@dataclass
class FileService:
    clock: Clock = field(default_factory=SystemClock)

    # --- helpers -------------------------------------------------------------------------

    def _audit(
        self,
        who: Principal,
        meta: RequestMeta,
        action: str,
        case_id: str | None,
        object_type: str = "file",
        object_id: str | None = None,
        outcome: Outcome = Outcome.ALLOWED,
    ) -> AuditRecord:
        return user_record(
            who,
            meta,
            action,
            case_id=case_id,
            object_type=object_type,
            object_id=object_id or case_id or "-",
            at=iso(self.clock.now()),
            outcome=outcome,
        )

    def _visible_case(self, who: Principal, case_id: str, meta: RequestMeta, action: Action) -> Case:
        return authorized_case(who, case_id, meta, action, self.clock)

    def _visible_file(
        self, who: Principal, case_id: str, file_id: str, meta: RequestMeta, action: Action
    ) -> tuple[Case, CaseFile]:
        """The case and the file if `who` may perform `action` on that file: 404 for a case they
        cannot see or a file that is not in it, 403 when the table does not grant the action on
        this file (for example a pending upload somebody else started)."""
        gate = Gate(who, meta, self.clock)
        case = visible_case(gate, case_id, action)
        found = dal.get_file(case.case_id, file_id) if _plausible_file_id(file_id) else None
        if found is None:
            raise FileNotFound()
        kind = "upload" if found.file_status is FileStatus.PENDING else "file"
        gate.require(action, case, Resource(kind, found.file_id, found.uploader_id, found.gallery_id))
        return case, found

    def _gallery_exists(self, case_id: str, gallery_id: str) -> None:
        if gallery_id not in FIXED_GALLERIES and dal.get_gallery(case_id, gallery_id) is None:
            raise GalleryNotFound()

    def _save(
        self,
        who: Principal,
        meta: RequestMeta,
        updated: CaseFile,
        expected_version: int,
        action: str,
        ttl: int | None = None,
    ) -> None:
        dal.replace_file(
            updated,
            expected_version,
            also=[
                audit_store.audit_put_action(
                    self._audit(who, meta, action, updated.case_id, object_id=updated.file_id)
                )
            ],
            ttl=ttl,
        )

    # --- uploads -------------------------------------------------------------------------

    def request_upload(
        self, who: Principal, case_id: str, request: RequestUpload, meta: RequestMeta
    ) -> UploadTicket:
        case = self._visible_case(who, case_id, meta, Action.UPLOAD_REQUEST)
        self._gallery_exists(case.case_id, request.gallery_id)
        rules = rules_for(request.kind)
        if request.size_bytes == 0:
            raise EmptyFile()
        if request.size_bytes > rules.max_bytes:
            raise FileTooLarge()
        content_type = normalized_content_type(request.content_type)
        if content_type not in rules.content_types:
            raise ContentTypeNotAllowed()

        now = self.clock.now()
        file_id = new_file_id()
        key = object_key(case.case_id, file_id)
        multipart = request.size_bytes > get_settings().multipart_threshold_bytes
        file = CaseFile(
            file_id=file_id,
            case_id=case.case_id,
            gallery_id=request.gallery_id,
            file_name=request.file_name,
            kind=request.kind.value,
            size_bytes=request.size_bytes,
            content_type=content_type,
            sha256=request.sha256,
            object_key=key,
            mode=UploadMode.MULTIPART.value if multipart else UploadMode.POST.value,
            status=FileStatus.PENDING.value,
            uploader_id=who.user_id,
            uploader_name=who.name,
            created_at=iso(now),
            expires_at=iso(now + UPLOAD_EXPIRY),
        )
        post: PresignedPost | None = None
        plan: MultipartPlan | None = None
        if multipart:
            file.part_size_bytes, file.part_count = part_plan(request.size_bytes, request.part_size_bytes)
            file.upload_id = storage.create_multipart(key, content_type)
            plan = MultipartPlan(part_size_bytes=file.part_size_bytes, part_count=file.part_count)
        else:
            signed = storage.presigned_post(
                key, content_type, request.size_bytes, request.sha256, POST_URL_SECONDS
            )
            post = PresignedPost(url=signed["url"], fields=signed["fields"])
        # If this write fails, a multipart upload just created has no record pointing at it: the
        # bucket's AbortIncompleteMultipartUpload rule (1 day) removes it with its parts.
        dal.create_file(
            file,
            also=[
                audit_store.audit_put_action(
                    self._audit(who, meta, "file.upload.request", case.case_id, object_id=file_id)
                ),
                # The expiry timer is set from this event (files/expiry.py), so a pending
                # upload always gets one: no crash can leave the record without its timer.
                dal.file_event_action(EventType.FILE_UPLOAD_REQUESTED, file, meta.request_id, now),
            ],
        )
        count("UploadsRequested")
        return UploadTicket(
            file_id=file_id,
            status=FileStatus.PENDING,
            mode=UploadMode(file.mode),
            expires_at=file.expires_at,
            post=post,
            multipart=plan,
        )

    def _pending_multipart(self, file: CaseFile) -> None:
        if file.mode != UploadMode.MULTIPART.value or file.upload_id is None:
            raise NotMultipartUpload()
        if file.completed_at is not None:
            raise UploadAlreadyCompleted()
        if file.file_status is not FileStatus.PENDING or self._expired(file):
            raise UploadNotPending()

    def _expired(self, file: CaseFile) -> bool:
        # The expiry timer may not have fired yet: the deadline itself decides.
        return file.expires_at <= iso(self.clock.now())

    def upload_state(self, who: Principal, case_id: str, file_id: str, meta: RequestMeta) -> UploadState:
        _, file = self._visible_file(who, case_id, file_id, meta, Action.UPLOAD_READ)
        received: list[ReceivedPart] = []
        open_multipart = (
            file.mode == UploadMode.MULTIPART.value
            and file.upload_id is not None
            and file.completed_at is None
            and file.file_status is FileStatus.PENDING
            and not self._expired(file)
        )
        if open_multipart and file.upload_id is not None:
            received = [
                ReceivedPart(part_number=p.number, etag=p.etag, size_bytes=p.size)
                for p in storage.list_parts(file.object_key, file.upload_id)
            ]
        plan = (
            MultipartPlan(part_size_bytes=file.part_size_bytes, part_count=file.part_count)
            if file.part_size_bytes and file.part_count
            else None
        )
        return UploadState(
            file_id=file.file_id,
            status=FileStatus(file.status),
            mode=UploadMode(file.mode),
            expires_at=file.expires_at,
            multipart=plan,
            received_parts=received,
            completed=file.completed_at is not None,
        )

    def part_urls(
        self, who: Principal, case_id: str, file_id: str, request: PartUrlsRequest, meta: RequestMeta
    ) -> PartUrls:
        _, file = self._visible_file(who, case_id, file_id, meta, Action.UPLOAD_PARTS)
        self._pending_multipart(file)
        assert file.upload_id is not None and file.part_count is not None
        if any(p.part_number > file.part_count for p in request.parts):
            raise PartOutOfRange()
        urls = []
        for part in request.parts:
            url, checksum = storage.part_url(
                file.object_key, file.upload_id, part.part_number, part.sha256, PART_URL_SECONDS
            )
            urls.append(
                PartUrl(part_number=part.part_number, url=url, headers={"x-amz-checksum-sha256": checksum})
            )
        return PartUrls(parts=urls, expires_in_seconds=PART_URL_SECONDS)

    def complete_upload(
        self, who: Principal, case_id: str, file_id: str, request: CompleteRequest, meta: RequestMeta
    ) -> UploadState:
        _, file = self._visible_file(who, case_id, file_id, meta, Action.UPLOAD_COMPLETE)
        self._pending_multipart(file)
        assert file.upload_id is not None and file.part_count is not None and file.part_size_bytes is not None
        numbers = [p.part_number for p in request.parts]
        if any(n > file.part_count for n in numbers):
            raise PartOutOfRange()
        if len(set(numbers)) != len(numbers):
            raise InvalidRequest("A part number appears twice.")
        if set(numbers) != set(range(1, file.part_count + 1)):
            raise UploadPartsMissing()
        stored = {p.number: p for p in storage.list_parts(file.object_key, file.upload_id)}
        ordered = sorted(request.parts, key=lambda p: p.part_number)
        for part in ordered:
            found = stored.get(part.part_number)
            if found is None:
                raise UploadPartsMissing()
            expected_size = (
                file.part_size_bytes
                if part.part_number < file.part_count
                else file.size_bytes - file.part_size_bytes * (file.part_count - 1)
            )
            if found.etag != part.etag.strip('"') or found.size != expected_size:
                raise PartMismatch()
        # Claim the completion first (conditional on the version read): a second complete, even
        # a concurrent one, gets 409 and never reaches S3.
        completing = replace(
            file,
            completed_at=iso(self.clock.now()),
            expected_composite=storage.composite_sha256([p.sha256 for p in ordered]),
            version=file.version + 1,
        )
        try:
            self._save(who, meta, completing, file.version, "file.upload.complete")
        except VersionConflict as exc:
            raise UploadAlreadyCompleted() from exc
        try:
            storage.complete_multipart(
                file.object_key, file.upload_id, [(p.part_number, p.etag, p.sha256) for p in ordered]
            )
        except (PartMismatch, StorageUnavailable):
            # S3 refused the parts or did not answer: release the claim so the client can retry.
            reverted = replace(file, version=completing.version + 1)
            self._save(who, meta, reverted, completing.version, "file.upload.complete.failed")
            raise
        return UploadState(
            file_id=file.file_id,
            status=FileStatus.PENDING,
            mode=UploadMode.MULTIPART,
            expires_at=file.expires_at,
            multipart=MultipartPlan(part_size_bytes=file.part_size_bytes, part_count=file.part_count),
            completed=True,
        )

    def abort_upload(self, who: Principal, case_id: str, file_id: str, meta: RequestMeta) -> None:
        _, file = self._visible_file(who, case_id, file_id, meta, Action.UPLOAD_ABORT)
        if file.file_status is not FileStatus.PENDING:
            raise UploadNotPending()
        if file.completed_at is not None:
            raise UploadAlreadyCompleted()
        aborted = replace(file, status=FileStatus.ABORTED.value, version=file.version + 1)
        self._save(who, meta, aborted, file.version, "file.upload.abort")
        if file.upload_id:
            storage.abort_multipart(file.object_key, file.upload_id)

    # --- files and galleries -------------------------------------------------------------

    def get_file(self, who: Principal, case_id: str, file_id: str, meta: RequestMeta) -> FileView:
        case, file = self._visible_file(who, case_id, file_id, meta, Action.FILE_READ)
        if file.file_status is FileStatus.DELETED:
            raise FileNotFound()
        audit_store.append(self._audit(who, meta, "file.read", case.case_id, object_id=file.file_id))
        return _view(file)

    def list_files(
        self, who: Principal, case_id: str, gallery_id: str, limit: int, cursor: str | None, meta: RequestMeta
    ) -> FilePage:
        case = self._visible_case(who, case_id, meta, Action.FILE_LIST)
        self._gallery_exists(case.case_id, gallery_id)
        page = PageRequest(who, meta, limit, cursor, self.clock.now())
        files, next_cursor = dal.list_gallery_files(case.case_id, gallery_id, page)
        if files:
            # A page shows file names: one record per page naming every file it showed.
            audit_store.append(
                self._audit(
                    who, meta, "file.list", case.case_id, "file-list", ",".join(f.file_id for f in files)
                )
            )
        return FilePage(items=[_view(f) for f in files], next_cursor=next_cursor)

    def list_galleries(
        self, who: Principal, case_id: str, limit: int, cursor: str | None, meta: RequestMeta
    ) -> GalleryPage:
        case = self._visible_case(who, case_id, meta, Action.GALLERY_LIST)
        page = PageRequest(who, meta, limit, cursor, self.clock.now())
        custom, next_cursor = dal.list_galleries(case.case_id, page)
        fixed = (
            [GalleryView(gallery_id=gid, name=name, fixed=True) for gid, name in FIXED_GALLERIES.items()]
            if cursor is None
            else []
        )
        items = fixed + [GalleryView(gallery_id=g.gallery_id, name=g.name, fixed=False) for g in custom]
        return GalleryPage(items=items, next_cursor=next_cursor)

    def create_gallery(
        self, who: Principal, case_id: str, request: CreateGallery, meta: RequestMeta
    ) -> GalleryView:
        case = self._visible_case(who, case_id, meta, Action.GALLERY_CREATE)
        gallery = Gallery(
            case_id=case.case_id,
            gallery_id=new_gallery_id(),
            name=request.name,
            created_by=who.user_id,
            created_at=iso(self.clock.now()),
        )
        dal.create_gallery(
            gallery,
            also=[
                audit_store.audit_put_action(
                    self._audit(who, meta, "gallery.create", case.case_id, "gallery", gallery.gallery_id)
                )
            ],
        )
        return GalleryView(gallery_id=gallery.gallery_id, name=gallery.name, fixed=False)

    def update_file(
        self, who: Principal, case_id: str, file_id: str, request: UpdateFile, meta: RequestMeta
    ) -> FileView:
        case, file = self._visible_file(who, case_id, file_id, meta, Action.FILE_UPDATE)
        if file.file_status not in dal.LISTED_STATUSES:
            raise FileNotFound()
        if request.gallery_id is None and request.file_name is None:
            raise InvalidRequest("Nothing to change: send galleryId and/or fileName.")
        changes: dict[str, Any] = {}
        actions = []
        if request.gallery_id is not None and request.gallery_id != file.gallery_id:
            self._gallery_exists(case.case_id, request.gallery_id)
            changes["gallery_id"] = request.gallery_id
            actions.append("file.move")
        if request.file_name is not None and request.file_name != file.file_name:
            changes["file_name"] = request.file_name
            actions.append("file.rename")
        if not changes:
            return _view(file)
        updated = replace(file, **changes, version=file.version + 1)
        self._save(who, meta, updated, file.version, "+".join(actions))
        return _view(updated)

    def delete_file(self, who: Principal, case_id: str, file_id: str, meta: RequestMeta) -> None:
        """Soft delete: gone from galleries and downloads; the record and the object's versions
        stay for DELETED_RETENTION_SECONDS (then TTL and the bucket's lifecycle remove them)."""
        _, file = self._visible_file(who, case_id, file_id, meta, Action.FILE_DELETE)
        if file.file_status is FileStatus.DELETED:
            raise FileNotFound()
        now = self.clock.now()
        deleted = replace(
            file,
            status=FileStatus.DELETED.value,
            deleted_at=iso(now),
            deleted_by=who.user_id,
            version=file.version + 1,
        )
        self._save(
            who,
            meta,
            deleted,
            file.version,
            "file.delete",
            ttl=int(now.timestamp()) + DELETED_RETENTION_SECONDS,
        )
        if file.upload_id and file.completed_at is None:
            storage.abort_multipart(file.object_key, file.upload_id)
        else:
            storage.delete(file.object_key)

    def download(self, who: Principal, case_id: str, file_id: str, meta: RequestMeta) -> FileDownload:
        case, file = self._visible_file(who, case_id, file_id, meta, Action.FILE_DOWNLOAD)
        if file.file_status is FileStatus.DELETED:
            raise FileNotFound()
        if file.file_status is not FileStatus.AVAILABLE or file.version_id is None:
            raise FileNotAvailable()
        # Pinned to the verified version: nothing written to the key later is ever served.
        url = storage.download_url(
            file.object_key,
            file.version_id,
            content_disposition(file.file_name),
            file.content_type,
            DOWNLOAD_LINK_SECONDS,
        )
        audit_store.append(self._audit(who, meta, "file.download", case.case_id, object_id=file.file_id))
        count("FileDownloads")
        return FileDownload(url=url, expires_in_seconds=DOWNLOAD_LINK_SECONDS, file_name=file.file_name)


def _plausible_file_id(file_id: str) -> bool:
    return len(file_id) == 32 and all(c in "0123456789abcdef" for c in file_id)


def _view(file: CaseFile) -> FileView:
    return FileView(
        file_id=file.file_id,
        case_id=file.case_id,
        gallery_id=file.gallery_id,
        file_name=file.file_name,
        kind=file.kind,  # type: ignore[arg-type]
        size_bytes=file.size_bytes,
        content_type=file.content_type,
        sha256=file.sha256,
        status=FileStatus(file.status),
        quarantine_reason=file.quarantine_reason,
        uploaded_by=Uploader(user_id=file.uploader_id, name=file.uploader_name),
        created_at=file.created_at,
        available_at=file.available_at,
    )
