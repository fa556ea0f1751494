"""Upload expiry function: the timer of a pending upload (see caseroom/files/expiry.py).

FileUploadRequested -> the pending file's one-time expiry timer is set
UploadExpired timer -> the file expires unless its upload finished meanwhile
"""

from typing import Any

from caseroom.events import DomainEvent, MalformedEvent
from caseroom.files.expiry import UPLOAD_EXPIRY_TIMER, on_upload_requested
from caseroom.files.verification import expire_upload
from caseroom.observability import EVENTBRIDGE_CORRELATION, lambda_entrypoint
from caseroom.scheduling import SCHEDULER_SOURCE


def _handle(event: dict[str, Any], context: object) -> dict[str, Any]:
    if event.get("source") == SCHEDULER_SOURCE:
        if event.get("detail-type") != UPLOAD_EXPIRY_TIMER:
            raise MalformedEvent("unknown timer")
        detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
        return {"expired": expire_upload(detail or {}, str(event.get("id", "")))}
    domain_event = DomainEvent.from_detail(event.get("detail"))
    return {"eventId": domain_event.id, "timer": on_upload_requested(domain_event)}


lambda_handler = lambda_entrypoint(_handle, correlation_id_path=EVENTBRIDGE_CORRELATION)
