"""Case documents in the files bucket: keys, storage and short-lived download links."""

from __future__ import annotations

from caseroom import aws
from caseroom.settings import get_settings


def rx_script_key(case_id: str, rx_version: int) -> str:
    # Server-generated and versioned by Rx content: regenerating never overwrites another version.
    return f"cases/{case_id}/documents/rx-script-v{rx_version}.pdf"


def store_pdf(key: str, body: bytes) -> None:
    aws.client("s3").put_object(
        Bucket=get_settings().files_bucket, Key=key, Body=body, ContentType="application/pdf"
    )


def download_url(key: str, file_name: str, expires_in: int) -> str:
    """A presigned GET minted per request after authorization; it lives minutes, not days."""
    url: str = aws.presigner("s3").generate_presigned_url(
        "get_object",
        Params={
            "Bucket": get_settings().files_bucket,
            "Key": key,
            "ResponseContentDisposition": f'attachment; filename="{file_name}"',
            "ResponseContentType": "application/pdf",
        },
        ExpiresIn=expires_in,
    )
    return url
