"""The planning API contract (openapi.json is generated from these models)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from caseroom.api_types import BoundedDateTime, StrictInt
from caseroom.cases.models import MAX_VERSION, HttpsUrl, Reason, StrictModel
from caseroom.cases.statuses import Attention, CaseStatus

BlockId = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z-]+$")]
TimezoneName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]

MIN_BLOCK_MINUTES = 15
MAX_BLOCK_MINUTES = 240


class PublishBlockRequest(StrictModel):
    """A free block the lab offers. `start` is the local wall time in `timezone`, by default the
    lab's own zone (an offset, if given, is honoured instead). A wall time a daylight-saving
    change skips is refused (INVALID_START_TIME), one it repeats too (AMBIGUOUS_START_TIME):
    send that one with its offset."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "start": "2026-11-05T14:00",
                    "durationMinutes": 60,
                    "timezone": "Europe/Madrid",
                    "meetingUrl": "https://meet.example.com/lab-planning",
                }
            ]
        }
    )

    start: BoundedDateTime = Field(
        description="e.g. 2026-11-05T14:00 (local time in `timezone`); 2000-01-01 to 2099-12-31"
    )
    duration_minutes: StrictInt = Field(alias="durationMinutes", ge=MIN_BLOCK_MINUTES, le=MAX_BLOCK_MINUTES)
    timezone: TimezoneName | None = Field(
        default=None, description="IANA time zone, e.g. Europe/Madrid; default: the lab's zone (GET /labs)"
    )
    meeting_url: HttpsUrl = Field(alias="meetingUrl", description="The lab's meeting link (https)")


class BookRequest(StrictModel):
    block_id: BlockId = Field(alias="blockId")


CaseVersion = Annotated[
    StrictInt,
    Field(
        ge=1,
        le=MAX_VERSION,
        description="The case version you read; a stale one gets 409 VERSION_CONFLICT.",
    ),
]


class RescheduleRequest(StrictModel):
    block_id: BlockId = Field(alias="blockId")
    version: CaseVersion


class CancelRequest(StrictModel):
    version: CaseVersion
    reason: Reason | None = Field(default=None, description="Shown on the case timeline")


class HeldRequest(StrictModel):
    version: CaseVersion


class BlockView(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    block_id: str = Field(alias="blockId")
    start: str = Field(description="UTC")
    end: str = Field(description="UTC")
    local_start: str = Field(alias="localStart", description="Wall time with offset in the block's timezone")
    timezone: str
    duration_minutes: int = Field(alias="durationMinutes")
    status: str = Field(description="free | booked")


class BlockPage(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    items: list[BlockView]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class SessionView(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    session_id: str = Field(alias="sessionId")
    case_id: str = Field(alias="caseId")
    block_id: str = Field(alias="blockId")
    start: str
    end: str
    local_start: str = Field(alias="localStart")
    timezone: str
    duration_minutes: int = Field(alias="durationMinutes")
    status: str = Field(description="booked | held | missed | cancelled")
    meeting_url: str = Field(alias="meetingUrl")
    google_calendar_url: str = Field(alias="googleCalendarUrl")
    sequence: int = Field(description="iCalendar SEQUENCE: rises with every change the lab makes")
    case_version: int | None = Field(
        default=None,
        alias="caseVersion",
        description="The case's version after a reschedule, cancel or held (send it with the next change)",
    )


class BookingView(BaseModel):
    """What booking returns: the session, the case's new status, and calendar entries for it."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    session: SessionView
    case_status: CaseStatus = Field(alias="caseStatus")
    attention: Attention
    case_version: int = Field(alias="caseVersion")
    ics: str = Field(description="iCalendar (RFC 5545) file of the session")
    ics_file_name: str = Field(alias="icsFileName")
    google_calendar_url: str = Field(alias="googleCalendarUrl")
