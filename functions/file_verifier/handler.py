"""File verifier function: S3 Object Created (default bus) -> the upload is available or quarantined."""

from typing import Any

from caseroom.files.verification import verify_object_created
from caseroom.observability import EVENTBRIDGE_CORRELATION, lambda_entrypoint


def _handle(event: dict[str, Any], context: object) -> dict[str, Any]:
    if event.get("detail-type") != "Object Created":  # e.g. "Object Tags Added" after a presigned PUT
        return {"outcome": "ignored"}
    return {"outcome": verify_object_created(event).value}


lambda_handler = lambda_entrypoint(_handle, correlation_id_path=EVENTBRIDGE_CORRELATION)
