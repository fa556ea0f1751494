"""A lab's calendar and local time: "today" is the lab's today, business days are the lab's,
and a wall time that a daylight-saving change skips or repeats is refused, never guessed.

Sydney (AEDT +11 in November, AEST +10 from April) and Los Angeles (PST -8 in November, PDT -7
from March) sit on either side of the date line: near midnight their "today" differs from UTC's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from caseroom.cases.case_types import CaseType
from caseroom.cases.statuses import CaseStatus
from caseroom.cases.transitions import due_date_on_entering
from caseroom.errors import AmbiguousStartTime, InvalidStartTime, InvalidTimezone
from caseroom.labs.calendar import UTC_CALENDAR, LabCalendar, Turnaround
from caseroom.localtime import start_of_local_day, to_utc, zone

SYDNEY = LabCalendar(timezone="Australia/Sydney")
LOS_ANGELES = LabCalendar(timezone="America/Los_Angeles", holidays=frozenset({"2026-11-26"}))
S = CaseStatus


def test_a_sydney_lab_just_after_its_midnight_is_already_on_the_next_day() -> None:
    # Given Monday 2026-11-02 13:30 UTC, which is Tuesday 00:30 in Sydney
    now = datetime(2026, 11, 2, 13, 30, tzinfo=UTC)
    # Then the Sydney lab's today is Tuesday, and a crown's 7 business days count from it
    assert SYDNEY.today(now) == date(2026, 11, 3)
    assert SYDNEY.due_date(CaseType.CROWN, now) == date(2026, 11, 12)
    # while the UTC calendar (how dates were computed before) would still count from Monday
    assert UTC_CALENDAR.due_date(CaseType.CROWN, now) == date(2026, 11, 11)
    # One minute before Sydney's midnight it is still Monday there
    assert SYDNEY.today(datetime(2026, 11, 2, 12, 59, tzinfo=UTC)) == date(2026, 11, 2)


def test_a_los_angeles_lab_late_on_friday_ships_on_friday_and_finishes_for_monday() -> None:
    # Given Saturday 2026-11-07 07:30 UTC, which is Friday 23:30 in Los Angeles
    now = datetime(2026, 11, 7, 7, 30, tzinfo=UTC)
    assert LOS_ANGELES.today(now) == date(2026, 11, 6)
    # Then a case shipped now is dated Friday (the lab's day), not Saturday
    assert due_date_on_entering(S.SHIPPED, CaseType.CROWN, None, LOS_ANGELES, now) == "2026-11-06"
    # and a case finished now ships the next business day: Monday
    assert due_date_on_entering(S.FINISHED, CaseType.CROWN, None, LOS_ANGELES, now) == "2026-11-09"
    # The same instant in UTC is already Saturday
    assert due_date_on_entering(S.SHIPPED, CaseType.CROWN, None, UTC_CALENDAR, now) == "2026-11-07"


def test_the_labs_holidays_and_business_days_are_skipped() -> None:
    # Given Tuesday 2026-11-24 10:00 in Los Angeles, Thanksgiving (Thursday 26) a holiday
    now = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    # Then 3 manufacturing days are Wednesday, Friday, Monday
    assert due_date_on_entering(S.MANUFACTURING, CaseType.CROWN, None, LOS_ANGELES, now) == "2026-11-30"
    # A lab that works Monday-Saturday and makes crowns in 2 days counts Saturday
    six_days = LabCalendar(
        timezone="America/Los_Angeles",
        business_days=frozenset({1, 2, 3, 4, 5, 6}),
        turnarounds={CaseType.CROWN: Turnaround(4, 2)},
    )
    friday_noon = datetime(2026, 11, 6, 20, 0, tzinfo=UTC)
    assert due_date_on_entering(S.MANUFACTURING, CaseType.CROWN, None, six_days, friday_noon) == "2026-11-09"
    assert six_days.due_date(CaseType.CROWN, friday_noon) == date(2026, 11, 11)
    # A type the lab has no turnaround for keeps the standard one (bridge: 10 days)
    assert six_days.turnaround(CaseType.BRIDGE) == Turnaround(10, 5)


def test_a_calendar_without_business_days_refuses_instead_of_looping() -> None:
    closed = LabCalendar(timezone="UTC", business_days=frozenset())
    with pytest.raises(ValueError, match="no business days"):
        closed.add_business_days(date(2026, 11, 2), 1)


@pytest.mark.parametrize(
    ("wall", "zone_name", "error"),
    [
        (datetime(2027, 3, 14, 2, 30), "America/Los_Angeles", InvalidStartTime),  # spring forward: skipped
        (datetime(2026, 11, 1, 1, 30), "America/Los_Angeles", AmbiguousStartTime),  # fall back: twice
        (datetime(2026, 10, 4, 2, 30), "Australia/Sydney", InvalidStartTime),  # AEST -> AEDT: skipped
        (datetime(2027, 4, 4, 2, 30), "Australia/Sydney", AmbiguousStartTime),  # AEDT -> AEST: twice
    ],
)
def test_a_wall_time_at_a_dst_change_is_refused_never_guessed(
    wall: datetime, zone_name: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        to_utc(wall, zone(zone_name))


def test_wall_times_next_to_dst_changes_and_explicit_offsets_are_exact() -> None:
    los_angeles, sydney = zone("America/Los_Angeles"), zone("Australia/Sydney")
    # The hour after the fall-back repeat exists once (PST, -8)
    assert to_utc(datetime(2026, 11, 1, 2, 0), los_angeles) == datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    # The minute before the repeated hour is still PDT (-7)
    assert to_utc(datetime(2026, 11, 1, 0, 59), los_angeles) == datetime(2026, 11, 1, 7, 59, tzinfo=UTC)
    # Sydney's first wall time after the spring-forward gap is AEDT (+11)
    assert to_utc(datetime(2026, 10, 4, 3, 0), sydney) == datetime(2026, 10, 3, 16, 0, tzinfo=UTC)
    # An ambiguous wall time sent with its offset is not ambiguous
    explicit = datetime.fromisoformat("2026-11-01T01:30:00-08:00")
    assert to_utc(explicit, los_angeles) == datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    with pytest.raises(InvalidTimezone):
        zone("Mars/Olympus_Mons")


def test_the_labs_today_across_dst_changes() -> None:
    # Los Angeles on the fall-back night: midnight PDT is 07:00 UTC
    assert LOS_ANGELES.today(datetime(2026, 11, 1, 6, 59, tzinfo=UTC)) == date(2026, 10, 31)
    assert LOS_ANGELES.today(datetime(2026, 11, 1, 7, 0, tzinfo=UTC)) == date(2026, 11, 1)
    # and the next midnight is PST: 08:00 UTC
    assert LOS_ANGELES.today(datetime(2026, 11, 2, 7, 59, tzinfo=UTC)) == date(2026, 11, 1)
    assert start_of_local_day(datetime(2026, 11, 1, 20, 0, tzinfo=UTC), zone("America/Los_Angeles")) == (
        datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
    )
    # Sydney on its spring-forward day: the day starts at 00:00 AEST (+10)
    assert start_of_local_day(datetime(2026, 10, 4, 5, 0, tzinfo=UTC), zone("Australia/Sydney")) == (
        datetime(2026, 10, 3, 14, 0, tzinfo=UTC)
    )
    # A zone whose midnight is skipped (Santiago, 2026-09-06): the day starts at 01:00 -03
    assert start_of_local_day(datetime(2026, 9, 6, 12, 0, tzinfo=UTC), zone("America/Santiago")) == (
        datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    )
