"""Export everything shared with a patient as one ZIP, built server-side into S3.

Why not streamed through the API: API Gateway answers within 29 s and 10 MB, and one CBCT may
be 8 GiB. So the API records an export (202) and asks for it on the bus; the passport_export
function (15 minutes) reads each shared file's verified version and writes a ZIP64 straight to
S3 with a multipart upload (parts of 16 MiB, nothing held whole in memory); the patient then
gets a presigned GET (minutes), minted after re-checking the connection. Exports are copies:
the item and the object expire after a day.

Key design: export  pk=CASE#<caseId>  sk=EXPORT#<exportId>  (status building|ready|failed)
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from typing import Any

from caseroom import aws, dynamo, stored
from caseroom.clock import Clock, iso
from caseroom.files import dal as files_dal
from caseroom.passport import dal
from caseroom.settings import get_settings

EXPORT_SOURCE = "caseroom.passport"
EXPORT_REQUESTED = "PassportExportRequested"
EXPORT_SECONDS_KEPT = 24 * 3600
PART_BYTES = 16 * 1024 * 1024
READ_CHUNK = 1024 * 1024
MAX_FILES = 10_000  # per gallery


@dataclass
class PassportExport:
    export_id: str
    case_id: str
    patient_email: str
    requested_at: str
    status: str  # building | ready | failed
    object_key: str
    file_count: int = 0
    size_bytes: int = 0
    ready_at: str | None = None
    version_id: str | None = None  # of the ZIP object (the bucket is versioned; reads are pinned)


def _key(case_id: str, export_id: str) -> dict[str, Any]:
    return dynamo.key(f"CASE#{case_id}", f"EXPORT#{export_id}")


def save(export: PassportExport, ttl: int) -> None:
    values: dict[str, Any] = {
        "pk": f"CASE#{export.case_id}",
        "sk": f"EXPORT#{export.export_id}",
        "kind": "passport-export",
    }
    values.update(stored.to_values(export))
    values["ttl"] = ttl
    dynamo.put({"TableName": dynamo.table_name(), "Item": dynamo.to_item(values)})


def get(case_id: str, export_id: str) -> PassportExport | None:
    item = (
        dynamo.dynamodb()
        .get_item(TableName=dynamo.table_name(), Key=_key(case_id, export_id), ConsistentRead=True)
        .get("Item")
    )
    return stored.from_values(PassportExport, dynamo.from_item(item)) if item else None


def request_build(export: PassportExport) -> None:
    response = aws.client("events").put_events(
        Entries=[
            {
                "Source": EXPORT_SOURCE,
                "DetailType": EXPORT_REQUESTED,
                "Detail": json.dumps({"caseId": export.case_id, "exportId": export.export_id}),
                "EventBusName": get_settings().event_bus_name,
            }
        ]
    )
    if response.get("FailedEntryCount"):
        raise RuntimeError("the export request could not be put on the bus")


class _MultipartWriter:
    """A write-only stream into an S3 multipart upload (zipfile writes ZIP64 to unseekable streams)."""

    def __init__(self, s3: Any, bucket: str, key: str) -> None:
        self._s3, self._bucket, self._key = s3, bucket, key
        self._upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType="application/zip")[
            "UploadId"
        ]
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self._buffer += data
        self.size += len(data)
        while len(self._buffer) >= PART_BYTES:
            self._send(bytes(self._buffer[:PART_BYTES]))
            del self._buffer[:PART_BYTES]
        return len(data)

    def flush(self) -> None:
        """zipfile flushes between entries; parts go out at PART_BYTES only."""

    def close(self) -> None:
        """The upload is completed by finish() (or abort()), not by zipfile."""

    def _send(self, data: bytes) -> None:
        number = len(self._parts) + 1
        etag = self._s3.upload_part(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=data
        )["ETag"]
        self._parts.append({"PartNumber": number, "ETag": etag})

    def finish(self) -> str | None:
        if self._buffer or not self._parts:
            self._send(bytes(self._buffer))
            self._buffer.clear()
        response = self._s3.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        version = response.get("VersionId")
        return str(version) if version else None

    def abort(self) -> None:
        self._s3.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)


def build(case_id: str, export_id: str, clock: Clock) -> str:
    """Builds the export if it is still building and the patient is still connected; returns its
    status. Idempotent: a repeated event finds it ready (or failed) and does nothing."""
    export = get(case_id, export_id)
    if export is None or export.status != "building":
        return export.status if export else "missing"
    connection = dal.get_connection(case_id)
    ttl = int(clock.now().timestamp()) + EXPORT_SECONDS_KEPT
    if connection is None or connection.patient_email != export.patient_email:
        export.status = "failed"
        save(export, ttl)
        return export.status
    s3 = aws.client("s3")
    bucket = get_settings().files_bucket
    writer = _MultipartWriter(s3, bucket, export.object_key)
    count = 0
    used: set[str] = set()
    try:
        with zipfile.ZipFile(writer, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for gallery_id in connection.shared_galleries:
                for file in files_dal.available_gallery_files(case_id, gallery_id, MAX_FILES):
                    if file.version_id is None:
                        continue
                    name = _unique(f"{gallery_id}/{file.file_name}", used)
                    body = s3.get_object(Bucket=bucket, Key=file.object_key, VersionId=file.version_id)[
                        "Body"
                    ]
                    with archive.open(zipfile.ZipInfo(name), "w", force_zip64=True) as entry:
                        while chunk := body.read(READ_CHUNK):
                            entry.write(chunk)
                    count += 1
    except BaseException:
        writer.abort()
        raise
    export.version_id = writer.finish()
    export.status, export.file_count, export.size_bytes = "ready", count, writer.size
    export.ready_at = iso(clock.now())
    save(export, ttl)
    return export.status


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 1
    while candidate in used:
        n += 1
        stem, dot, suffix = name.rpartition(".")
        candidate = f"{stem} ({n}).{suffix}" if dot else f"{name} ({n})"
    used.add(candidate)
    return candidate
