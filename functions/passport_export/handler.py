"""Passport export function: PassportExportRequested -> the patient's ZIP, written to S3."""

from typing import Any

from caseroom.clock import SystemClock
from caseroom.events import MalformedEvent
from caseroom.observability import EVENTBRIDGE_CORRELATION, lambda_entrypoint
from caseroom.passport.export import EXPORT_REQUESTED, EXPORT_SOURCE, build

_clock = SystemClock()


def _handle(event: dict[str, Any], context: object) -> dict[str, Any]:
    if event.get("source") != EXPORT_SOURCE or event.get("detail-type") != EXPORT_REQUESTED:
        raise MalformedEvent("not an export request")
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    case_id, export_id = str((detail or {}).get("caseId", "")), str((detail or {}).get("exportId", ""))
    return {"status": build(case_id, export_id, _clock)}


lambda_handler = lambda_entrypoint(_handle, correlation_id_path=EVENTBRIDGE_CORRELATION)
