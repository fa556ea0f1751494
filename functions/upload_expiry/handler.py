"""Upload expiry function: the UploadExpired timer of a pending upload (see caseroom.scheduling)."""

from typing import Any

from caseroom.files.verification import expire_upload
from caseroom.observability import EVENTBRIDGE_CORRELATION, lambda_entrypoint


def _handle(event: dict[str, Any], context: object) -> dict[str, Any]:
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    return {"expired": expire_upload(detail or {}, str(event.get("id", "")))}


lambda_handler = lambda_entrypoint(_handle, correlation_id_path=EVENTBRIDGE_CORRELATION)
