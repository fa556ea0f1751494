"""Local wall times and time zones, never guessed.

A wall time that a daylight-saving change skips (02:30 on a spring-forward night) does not
exist; one it repeats (01:30 on a fall-back night) is ambiguous. Both are refused with their
own stable code instead of being silently shifted or resolved to one of the two instants.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from caseroom.errors import AmbiguousStartTime, InvalidStartTime, InvalidTimezone


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or 400 INVALID_TIMEZONE."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:  # ValueError: a path, not a zone name
        raise InvalidTimezone() from error


def is_zone_name(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def to_utc(wall: datetime, timezone: ZoneInfo) -> datetime:
    """A wall time in `timezone` (or an instant with an offset) as UTC.

    Raises InvalidStartTime for a wall time skipped by a DST change and AmbiguousStartTime for
    one that happens twice."""
    if wall.tzinfo is not None:
        return wall.astimezone(UTC)
    first = wall.replace(tzinfo=timezone, fold=0)
    second = wall.replace(tzinfo=timezone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    if first.astimezone(UTC).astimezone(timezone).replace(tzinfo=None) != wall:
        raise InvalidStartTime()
    raise AmbiguousStartTime()


def local_date(moment: datetime, timezone: ZoneInfo) -> date:
    """The calendar day `moment` falls on in `timezone`."""
    return moment.astimezone(timezone).date()


def start_of_local_day(moment: datetime, timezone: ZoneInfo) -> datetime:
    """The first instant of `moment`'s local day in `timezone`, as UTC (midnight may be skipped
    by a DST change in some zones: then the day starts at the first wall time that exists)."""
    day = local_date(moment, timezone)
    midnight = datetime(day.year, day.month, day.day, tzinfo=timezone)
    # A skipped midnight (e.g. America/Santiago) normalizes forward through UTC.
    return midnight.astimezone(UTC)
