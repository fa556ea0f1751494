"""Pending uploads expire a day after they were requested.

The pending file and its FileUploadRequested event are written in one transaction (files/logic.py);
the upload_expiry function sets a one-time timer (caseroom.scheduling) at the file's deadline when
that event arrives, and expires the file when the timer's UploadExpired arrives, unless the upload
finished meanwhile (files/verification.py). So the request path never calls the Scheduler, and no
crash between two writes can leave a pending upload without its timer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from caseroom import aws, scheduling
from caseroom.clock import Clock, SystemClock, iso
from caseroom.events import DomainEvent, EventType, MalformedEvent
from caseroom.files import dal
from caseroom.files.records import FileStatus

UPLOAD_EXPIRY = timedelta(hours=24)  # a closed laptop can resume the next morning
UPLOAD_EXPIRY_TIMER = "UploadExpired"


def expiry_timer_name(file_id: str) -> str:
    return f"upload-expiry-{file_id}"


def on_upload_requested(event: DomainEvent, clock: Clock | None = None) -> str:
    """Sets the pending file's expiry timer; returns what it did. At-least-once: a redelivered
    event re-creates the same timer, and a file no longer pending needs none."""
    if event.type is not EventType.FILE_UPLOAD_REQUESTED or not event.subject_id:
        raise MalformedEvent("not a FileUploadRequested event")
    clock = clock or SystemClock()
    file = dal.get_file(event.case_id, event.subject_id)
    if file is None:
        return "unknown-file"
    if file.file_status is not FileStatus.PENDING:
        return "not-pending"
    detail = {"caseId": file.case_id, "fileId": file.file_id}
    if file.expires_at <= iso(clock.now()):
        # The event came after the deadline (the bus was down, a replay): expire it now.
        from caseroom.files.verification import expire_upload  # not on the upload request's path

        return "expired" if expire_upload(detail, event.id, clock) else "not-pending"
    try:
        deadline = datetime.fromisoformat(file.expires_at)
        scheduling.schedule_event(expiry_timer_name(file.file_id), deadline, UPLOAD_EXPIRY_TIMER, detail)
    except aws.client("scheduler").exceptions.ConflictException:
        pass  # a duplicate of this event, delivered at the same moment, created the same timer
    return "scheduled"
