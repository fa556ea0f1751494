"""A lab's working calendar: its time zone, its business days and holidays, and how many of
them each case type takes. Due and ship dates are days of this calendar, and "today" is the
lab's today (the date on the lab's wall), never the UTC date.

Plain Python (no pydantic, no boto3): the event consumers compute due dates on their cold start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from caseroom.cases.case_types import CASE_TYPE_RULES, CaseType

MONDAY_TO_FRIDAY = frozenset({1, 2, 3, 4, 5})  # ISO weekdays: Monday 1 ... Sunday 7
# A calendar with every day a holiday would never reach a due date: arithmetic stops after
# this many days and the validation of a lab (caseroom.labs.directory) refuses such a lab.
MAX_SEARCH_DAYS = 3 * 366


@dataclass(frozen=True)
class Turnaround:
    """Business days a case type takes at a lab."""

    turnaround_business_days: int  # from (re)submission to shipping
    manufacturing_business_days: int  # from Manufacturing to shipping


def default_turnarounds() -> dict[CaseType, Turnaround]:
    return {
        case_type: Turnaround(rules.turnaround_business_days, rules.manufacturing_business_days)
        for case_type, rules in CASE_TYPE_RULES.items()
    }


@dataclass(frozen=True)
class LabCalendar:
    timezone: str  # IANA name
    business_days: frozenset[int] = MONDAY_TO_FRIDAY
    holidays: frozenset[str] = frozenset()  # ISO dates (YYYY-MM-DD) in the lab's zone
    turnarounds: Mapping[CaseType, Turnaround] = field(default_factory=default_turnarounds)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def today(self, now: datetime) -> date:
        """The lab's date at the instant `now`."""
        return now.astimezone(self.zone).date()

    def is_business_day(self, day: date) -> bool:
        return day.isoweekday() in self.business_days and day.isoformat() not in self.holidays

    def add_business_days(self, start: date, days: int) -> date:
        """The `days`-th business day after `start` (a start on a closed day counts from the
        next business day)."""
        current, remaining = start, days
        for _ in range(MAX_SEARCH_DAYS):
            if remaining <= 0:
                return current
            current += timedelta(days=1)
            if self.is_business_day(current):
                remaining -= 1
        raise ValueError("the lab's calendar has no business days")

    def turnaround(self, case_type: CaseType) -> Turnaround:
        # A case keeps its type's turnaround even if the lab has since stopped making the type.
        found = self.turnarounds.get(case_type)
        if found is not None:
            return found
        rules = CASE_TYPE_RULES[case_type]
        return Turnaround(rules.turnaround_business_days, rules.manufacturing_business_days)

    def due_date(self, case_type: CaseType, now: datetime) -> date:
        """A full turnaround from the lab's today."""
        return self.add_business_days(self.today(now), self.turnaround(case_type).turnaround_business_days)


# For a case whose lab record is gone (or predates lab records): Monday-Friday in UTC with the
# standard turnarounds, which is how every date was computed before labs were entities.
UTC_CALENDAR = LabCalendar(timezone="UTC")
