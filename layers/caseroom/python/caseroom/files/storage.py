"""The files bucket, for case files: presigned uploads, multipart bookkeeping, verification
reads and download links. The only files module that talks to S3."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from caseroom import aws
from caseroom.errors import PartMismatch, StorageUnavailable, UploadNotPending
from caseroom.settings import get_settings

READ_CHUNK_BYTES = 8 * 1024 * 1024
LIST_PARTS_PAGE = 1000  # S3's maximum per ListParts call


def _s3() -> Any:
    return aws.client("s3")


def _signer() -> Any:
    return aws.presigner("s3")


def _bucket() -> str:
    return get_settings().files_bucket


def hex_to_b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def composite_sha256(part_hex_digests: list[str]) -> str:
    """S3's COMPOSITE checksum of a multipart object: SHA-256 over the parts' raw SHA-256s."""
    joined = b"".join(bytes.fromhex(d) for d in part_hex_digests)
    return base64.b64encode(hashlib.sha256(joined).digest()).decode()


def presigned_post(
    key: str, content_type: str, size: int, sha256_hex: str, expires_in: int
) -> dict[str, Any]:
    """A POST whose policy pins the key, the content type, the exact size and the checksum.
    (moto ignores every condition: the verifier re-checks all of them.)"""
    checksum = hex_to_b64(sha256_hex)
    fields = {
        "Content-Type": content_type,
        "x-amz-checksum-algorithm": "SHA256",
        "x-amz-checksum-sha256": checksum,
    }
    conditions: list[Any] = [
        {"Content-Type": content_type},
        ["content-length-range", size, size],
        {"x-amz-checksum-algorithm": "SHA256"},
        {"x-amz-checksum-sha256": checksum},
    ]
    post: dict[str, Any] = _signer().generate_presigned_post(
        _bucket(), key, Fields=fields, Conditions=conditions, ExpiresIn=expires_in
    )
    return post


def create_multipart(key: str, content_type: str) -> str:
    response = _s3().create_multipart_upload(
        Bucket=_bucket(), Key=key, ContentType=content_type, ChecksumAlgorithm="SHA256"
    )
    return str(response["UploadId"])


def part_url(key: str, upload_id: str, part_number: int, sha256_hex: str, expires_in: int) -> tuple[str, str]:
    """A presigned UploadPart URL with the part's SHA-256 signed in: S3 refuses other bytes.
    Returns (url, checksum header value)."""
    checksum = hex_to_b64(sha256_hex)
    url: str = _signer().generate_presigned_url(
        "upload_part",
        Params={
            "Bucket": _bucket(),
            "Key": key,
            "UploadId": upload_id,
            "PartNumber": part_number,
            "ChecksumSHA256": checksum,
        },
        ExpiresIn=expires_in,
    )
    return url, checksum


@dataclass(frozen=True)
class StoredPart:
    number: int
    etag: str
    size: int


def list_parts(key: str, upload_id: str) -> list[StoredPart]:
    """Every part S3 holds for the upload (ListParts pages of 1,000: at most 10 calls)."""
    parts: list[StoredPart] = []
    marker = 0
    while True:
        response = _s3().list_parts(
            Bucket=_bucket(), Key=key, UploadId=upload_id, MaxParts=LIST_PARTS_PAGE, PartNumberMarker=marker
        )
        parts.extend(
            StoredPart(int(p["PartNumber"]), str(p["ETag"]).strip('"'), int(p["Size"]))
            for p in response.get("Parts", [])
        )
        if not response.get("IsTruncated"):
            return parts
        marker = int(response["NextPartNumberMarker"])


# What S3 answers when the parts named do not match the parts it holds.
_PARTS_REFUSED = frozenset(
    {"InvalidPart", "InvalidPartOrder", "BadDigest", "InvalidDigest", "EntityTooSmall"}
)


def complete_multipart(key: str, upload_id: str, parts: list[tuple[int, str, str]]) -> None:
    """parts: (number, etag, sha256 hex). S3 checks each checksum against the stored part.

    Raises PartMismatch when S3 refuses the parts, UploadNotPending when the upload is gone
    (aborted, or already completed), StorageUnavailable when S3 could not be reached or failed."""
    try:
        _s3().complete_multipart_upload(
            Bucket=_bucket(),
            Key=key,
            UploadId=upload_id,
            MultipartUpload={
                "Parts": [
                    {"PartNumber": n, "ETag": f'"{etag.strip(chr(34))}"', "ChecksumSHA256": hex_to_b64(sha)}
                    for n, etag, sha in parts
                ]
            },
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _PARTS_REFUSED:
            raise PartMismatch() from None
        if code == "NoSuchUpload":
            raise UploadNotPending() from None
        raise StorageUnavailable() from None
    except BotoCoreError:
        raise StorageUnavailable() from None


def multipart_open(key: str, upload_id: str) -> bool:
    """True while the multipart upload exists in S3: not completed, not aborted."""
    s3 = _s3()
    try:
        s3.list_parts(Bucket=_bucket(), Key=key, UploadId=upload_id, MaxParts=1)
    except s3.exceptions.NoSuchUpload:
        return False
    return True


def abort_multipart(key: str, upload_id: str) -> None:
    s3 = _s3()
    try:
        s3.abort_multipart_upload(Bucket=_bucket(), Key=key, UploadId=upload_id)
    except s3.exceptions.NoSuchUpload:
        return  # already aborted or completed: nothing left to clean


@dataclass(frozen=True)
class ObjectFacts:
    size: int
    content_type: str
    checksum_sha256: str | None  # base64; multipart: composite, maybe with a "-<parts>" suffix
    version_id: str | None


def head(key: str, version_id: str | None) -> ObjectFacts:
    params: dict[str, Any] = {"Bucket": _bucket(), "Key": key, "ChecksumMode": "ENABLED"}
    if version_id:
        params["VersionId"] = version_id
    response = _s3().head_object(**params)
    return ObjectFacts(
        size=int(response["ContentLength"]),
        content_type=str(response.get("ContentType", "")),
        checksum_sha256=response.get("ChecksumSHA256"),
        version_id=response.get("VersionId"),
    )


def read_prefix(key: str, version_id: str | None, length: int) -> bytes:
    params: dict[str, Any] = {"Bucket": _bucket(), "Key": key, "Range": f"bytes=0-{length - 1}"}
    if version_id:
        params["VersionId"] = version_id
    body = _s3().get_object(**params)["Body"]
    try:
        return bytes(body.read())
    finally:
        body.close()


def sha256_hex(key: str, version_id: str | None) -> str:
    """Streams the object through SHA-256 in 8 MiB chunks (memory stays flat; time grows with size)."""
    params: dict[str, Any] = {"Bucket": _bucket(), "Key": key}
    if version_id:
        params["VersionId"] = version_id
    body = _s3().get_object(**params)["Body"]
    digest = hashlib.sha256()
    try:
        for chunk in iter(lambda: body.read(READ_CHUNK_BYTES), b""):
            digest.update(chunk)
    finally:
        body.close()
    return digest.hexdigest()


def discard_version(key: str, version_id: str) -> None:
    """Deletes one object version for good: only for bytes no file record points to."""
    _s3().delete_object(Bucket=_bucket(), Key=key, VersionId=version_id)


def delete(key: str) -> None:
    """A delete marker: the versions stay recoverable until the bucket's noncurrent-version expiry."""
    _s3().delete_object(Bucket=_bucket(), Key=key)


def download_url(
    key: str, version_id: str, content_disposition: str, content_type: str, expires_in: int
) -> str:
    url: str = _signer().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": _bucket(),
            "Key": key,
            "VersionId": version_id,
            "ResponseContentDisposition": content_disposition,
            "ResponseContentType": content_type,
        },
        ExpiresIn=expires_in,
    )
    return url
