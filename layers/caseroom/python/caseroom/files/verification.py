"""Verification of an uploaded object, on S3's Object Created event, and the expiry of pending
uploads, on their UploadExpired timer (set by files/expiry.py). Both run without a request: their
audit records name the system component, their events carry the uploader as actor and the file
id as subject.

A file becomes available only if S3 holds exactly what was declared: the size, a content that
is the declared kind by its magic bytes, the declared content type, and the checksum. Anything
else is quarantined with a reason and a FileQuarantined event; never silently accepted.

Checksum without reading the file (time independent of size):
  multipart  S3 keeps a COMPOSITE SHA-256 (of the parts' SHA-256s); each part URL signs the
             part's SHA-256, so S3 refuses a part whose bytes differ. The verifier compares S3's
             composite with the one computed at complete from the declared part checksums.
  POST       the policy pins x-amz-checksum-sha256, so S3 reports the whole-file SHA-256 and the
             verifier compares it with the declared one. When S3 reports none (moto ignores POST
             checksum fields) the verifier streams the object through SHA-256: bounded by the
             multipart threshold, since only uploads below it are POSTs.
"""

from __future__ import annotations

import re
from dataclasses import replace
from enum import StrEnum
from typing import Any

from caseroom import audit_store, ids
from caseroom.audit import system_record
from caseroom.clock import Clock, SystemClock, iso
from caseroom.errors import VersionConflict
from caseroom.events import EventType
from caseroom.files import dal, magic, storage
from caseroom.files.kinds import normalized_content_type, rules_for
from caseroom.files.records import CaseFile, FileStatus
from caseroom.observability import count, logger
from caseroom.settings import get_settings

COMPONENT = "file_verifier"
_COMPOSITE_SUFFIX = re.compile(r"-\d+$")


class QuarantineReason(StrEnum):
    SIZE_MISMATCH = "SIZE_MISMATCH"  # the object is not the declared size (over or under)
    TOO_LARGE_FOR_KIND = "TOO_LARGE_FOR_KIND"
    WRONG_FILE_TYPE = "WRONG_FILE_TYPE"  # magic bytes are not a format of the declared kind
    CONTENT_TYPE_MISMATCH = "CONTENT_TYPE_MISMATCH"  # stored Content-Type differs from the declared one
    CHECKSUM_MISMATCH = "CHECKSUM_MISMATCH"


class Outcome(StrEnum):
    AVAILABLE = "available"
    QUARANTINED = "quarantined"
    IGNORED = "ignored"
    DISCARDED = "discarded"  # stray bytes of an upload that is no longer pending


def parse_object_key(key: str) -> tuple[str, str] | None:
    """files/<caseId>/<fileId> -> (caseId, fileId); None for anything else."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "files" or not ids.CASE_ID_PATTERN.match(parts[1]):
        return None
    return parts[1], parts[2]


def check(file: CaseFile, version_id: str | None) -> QuarantineReason | None:
    """The first reason the stored object is not what was declared, or None. Cheap checks first."""
    facts = storage.head(file.object_key, version_id)
    if facts.size != file.size_bytes:
        return QuarantineReason.SIZE_MISMATCH
    rules = rules_for(file.kind)  # type: ignore[arg-type]
    if facts.size > rules.max_bytes:
        return QuarantineReason.TOO_LARGE_FOR_KIND
    if normalized_content_type(facts.content_type) != file.content_type:
        return QuarantineReason.CONTENT_TYPE_MISMATCH
    head = storage.read_prefix(file.object_key, version_id, min(magic.HEAD_BYTES, facts.size))
    if magic.detect(head, facts.size, rules.formats) is None:
        return QuarantineReason.WRONG_FILE_TYPE
    if not _checksum_matches(file, facts.checksum_sha256, version_id):
        return QuarantineReason.CHECKSUM_MISMATCH
    return None


def _checksum_matches(file: CaseFile, reported: str | None, version_id: str | None) -> bool:
    if file.mode == "multipart" and file.expected_composite and reported:
        return _COMPOSITE_SUFFIX.sub("", reported) == file.expected_composite
    if file.mode == "post" and reported and not _COMPOSITE_SUFFIX.search(reported):
        return reported == storage.hex_to_b64(file.sha256)
    # S3 reported no usable checksum: read the bytes (see the module docstring for when).
    logger.info("hashing the object: no S3 checksum reported", extra={"file_id": file.file_id})
    return storage.sha256_hex(file.object_key, version_id) == file.sha256


def verify_object_created(event: dict[str, Any], clock: Clock | None = None) -> Outcome:
    """Handles one S3 `Object Created` event. Idempotent: only a pending file moves, and the
    move is conditional on the version read, so a duplicate delivery changes nothing."""
    clock = clock or SystemClock()
    detail = event.get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    obj = detail.get("object") or {}
    key, version_id = obj.get("key"), obj.get("version-id")
    if bucket != get_settings().files_bucket or not isinstance(key, str):
        return Outcome.IGNORED
    located = parse_object_key(key)
    file = dal.get_file(*located) if located else None
    if file is None or file.object_key != key:
        logger.warning("object created for no known upload", extra={"event_id": event.get("id")})
        return Outcome.IGNORED
    if file.file_status is not FileStatus.PENDING:
        # A replayed POST or a late upload after abort/expiry: bytes no record points to are
        # removed (the verified version, if any, stays pinned and untouched).
        logger.info("object created for a file that is not pending", extra={"file_id": file.file_id})
        if version_id and version_id != file.version_id:
            storage.discard_version(key, version_id)
            return Outcome.DISCARDED
        return Outcome.IGNORED
    if file.mode == "multipart" and file.completed_at is None:
        return Outcome.IGNORED  # only CompleteMultipartUpload (through our API) creates the object

    reason = check(file, version_id)
    now = clock.now()
    correlation = str(event.get("id", ""))
    if reason is None:
        updated = replace(
            file,
            status=FileStatus.AVAILABLE.value,
            version_id=version_id,
            available_at=iso(now),
            version=file.version + 1,
        )
        event_type, action = EventType.FILE_ADDED, "file.verify"
    else:
        updated = replace(
            file,
            status=FileStatus.QUARANTINED.value,
            version_id=version_id,
            quarantine_reason=reason.value,
            version=file.version + 1,
        )
        event_type, action = EventType.FILE_QUARANTINED, "file.quarantine"
    try:
        dal.replace_file(
            updated,
            file.version,
            also=[
                dal.file_event_action(event_type, updated, correlation, now),
                audit_store.audit_put_action(
                    system_record(
                        COMPONENT, action, file.case_id, "file", file.file_id, iso(now), correlation
                    )
                ),
            ],
        )
    except VersionConflict:
        return Outcome.IGNORED  # another delivery (or an abort) got there first
    if reason is None:
        count("FilesAvailable")
        return Outcome.AVAILABLE
    count("FilesQuarantined")
    logger.warning("file quarantined", extra={"file_id": file.file_id, "reason": reason.value})
    return Outcome.QUARANTINED


def expire_upload(detail: dict[str, Any], timer_event_id: str, clock: Clock | None = None) -> bool:
    """The UploadExpired timer: a file still pending at its deadline expires, its multipart upload
    is aborted. At-least-once and possibly late: re-checks the state, a finished file is left alone."""
    clock = clock or SystemClock()
    case_id, file_id = detail.get("caseId"), detail.get("fileId")
    if not isinstance(case_id, str) or not isinstance(file_id, str):
        return False
    file = dal.get_file(case_id, file_id)
    now = clock.now()
    if file is None or file.file_status is not FileStatus.PENDING or file.expires_at > iso(now):
        return False
    if file.completed_at is not None:
        # The completion was claimed. If S3 completed it, the verifier decides (its event may
        # still be on the way). If the multipart upload is still open, the completion never
        # reached S3 and its claim was never released (the function died between the two
        # writes): without this the file would stay pending for good.
        if not file.upload_id or not storage.multipart_open(file.object_key, file.upload_id):
            return False
        logger.warning("completion claimed but never done: expiring", extra={"file_id": file_id})
    expired = replace(file, status=FileStatus.EXPIRED.value, version=file.version + 1)
    try:
        dal.replace_file(
            expired,
            file.version,
            also=[
                audit_store.audit_put_action(
                    system_record(
                        "upload_expiry",
                        "file.upload.expire",
                        case_id,
                        "file",
                        file_id,
                        iso(now),
                        timer_event_id,
                    )
                )
            ],
        )
    except VersionConflict:
        return False
    if file.upload_id:
        storage.abort_multipart(file.object_key, file.upload_id)
    count("UploadsExpired")
    return True
