"""The stored shape of planning blocks and sessions (plain dataclasses: the timer consumer
reads them on its cold start)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class BlockStatus(StrEnum):
    FREE = "free"
    BOOKED = "booked"


class SessionStatus(StrEnum):
    BOOKED = "booked"
    HELD = "held"  # the lab marked it held: the missed-session timer does nothing
    MISSED = "missed"
    CANCELLED = "cancelled"


def parse_utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Block:
    """A time the lab offers for a virtual planning session."""

    block_id: str  # <UTC start YYYYMMDDTHHMMZ>-<random>: sorts by time inside the lab's partition
    lab_id: str
    start: str  # UTC, e.g. 2026-11-05T14:00:00Z
    duration_minutes: int
    timezone: str  # IANA name the lab published it in (shown to people, used in calendar links)
    meeting_url: str
    status: BlockStatus = BlockStatus.FREE
    case_id: str | None = None
    session_id: str | None = None

    @property
    def starts_at(self) -> datetime:
        return parse_utc(self.start)

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True)
class Session:
    """A case's booked planning session (one current session per case: case.planning_session_id)."""

    session_id: str
    case_id: str
    lab_id: str
    block_id: str
    start: str
    duration_minutes: int
    timezone: str
    meeting_url: str
    status: SessionStatus
    booked_by: str
    booked_at: str
    sequence: int = 0  # iCalendar SEQUENCE: bumps when the lab reschedules
    replaced_block_id: str | None = None  # the block a reschedule moved away from (its timer goes)
    version: int = 1

    @property
    def starts_at(self) -> datetime:
        return parse_utc(self.start)

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    def evolve(self, **changes: object) -> Session:
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]
