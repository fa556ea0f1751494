"""The declared state machine, due dates per status, and the calendar files (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest

from caseroom.cases.case_types import CASE_TYPE_RULES, CaseType
from caseroom.cases.statuses import CaseStatus
from caseroom.cases.transitions import (
    TRANSITIONS,
    Mover,
    Via,
    allowed_targets,
    check,
    due_date_on_entering,
)
from caseroom.errors import IllegalTransition
from caseroom.labs.calendar import UTC_CALENDAR
from caseroom.planning import ical
from caseroom.planning.records import Session, SessionStatus

S = CaseStatus
MONDAY = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def test_shipped_and_cancelled_are_final_and_every_other_status_can_be_left() -> None:
    sources = {t.source for t in TRANSITIONS}
    assert S.SHIPPED not in sources and S.CANCELLED not in sources
    assert sources == set(CaseStatus) - {S.SHIPPED, S.CANCELLED}


def test_every_status_but_the_initial_ones_can_be_reached() -> None:
    assert {t.target for t in TRANSITIONS} == set(CaseStatus)


def test_the_lab_walk_and_what_is_not_the_labs_to_do() -> None:
    walk = [S.PROCESSING, S.RECEIVED, S.MANUFACTURING, S.FINISHED, S.SHIPPED]
    for source, target in pairwise(walk):
        check(source, target, Mover.LAB, Via.STATUS_API)
    # Planning Scheduled is the clinician's booking; Planning No Show is the system's verdict
    for target in (S.PLANNING_SCHEDULED, S.PLANNING_NO_SHOW):
        for source in CaseStatus:
            assert target not in allowed_targets(source, Mover.LAB, Via.STATUS_API)
    with pytest.raises(IllegalTransition) as refused:
        check(S.PROCESSING, S.SHIPPED, Mover.LAB, Via.STATUS_API)
    assert refused.value.allowed == ["Missing CBCT/Models", "Received", "On Hold", "Cancelled"]
    assert refused.value.status == 409 and refused.value.code == "ILLEGAL_TRANSITION"


def test_system_moves_only_on_their_events() -> None:
    assert allowed_targets(S.MISSING_FILES, Mover.SYSTEM, Via.FILE_ADDED) == [S.PROCESSING]
    assert allowed_targets(S.RECEIVED, Mover.SYSTEM, Via.FILE_ADDED) == []
    assert allowed_targets(S.PLANNING_SCHEDULED, Mover.SYSTEM, Via.SESSION_MISSED) == [S.PLANNING_NO_SHOW]


@pytest.mark.parametrize(
    ("case_type", "ships"),
    [
        (CaseType.IMPLANT_GUIDE, "2026-11-04"),  # 2 business days from Monday
        (CaseType.CROWN, "2026-11-05"),  # 3
        (CaseType.BRIDGE, "2026-11-09"),  # 5: over the weekend
        (CaseType.ALIGNERS, "2026-11-11"),  # 7
    ],
)
def test_manufacturing_ships_in_two_to_seven_business_days(case_type: CaseType, ships: str) -> None:
    assert due_date_on_entering(S.MANUFACTURING, case_type, "2026-12-24", UTC_CALENDAR, MONDAY) == ships
    assert all(2 <= rules.manufacturing_business_days <= 7 for rules in CASE_TYPE_RULES.values())


def test_due_dates_follow_the_status() -> None:
    CAL = UTC_CALENDAR
    friday = datetime(2026, 11, 6, 12, 0, tzinfo=UTC)
    assert due_date_on_entering(S.FINISHED, CaseType.CROWN, "2026-11-20", CAL, friday) == "2026-11-09"
    assert due_date_on_entering(S.MISSING_FILES, CaseType.CROWN, "2026-11-20", CAL, friday) is None
    assert due_date_on_entering(S.PLANNING_NO_SHOW, CaseType.CROWN, "2026-11-20", CAL, friday) is None
    assert due_date_on_entering(S.ON_HOLD, CaseType.CROWN, "2026-11-20", CAL, friday) is None
    assert due_date_on_entering(S.RECEIVED, CaseType.CROWN, "2026-11-20", CAL, friday) == "2026-11-20"
    # Back from red: a fresh turnaround; a resubmission pushes the date out even if one was set
    assert due_date_on_entering(S.RECEIVED, CaseType.CROWN, None, CAL, friday) == "2026-11-17"
    assert (
        due_date_on_entering(S.PROCESSING, CaseType.CROWN, "2026-11-10", CAL, friday, resubmitted=True)
        == "2026-11-17"
    )


SESSION = Session(
    session_id="0123456789abcdef01234567",
    case_id="7KQ2-M9XD-4RTA",
    lab_id="lab-1",
    block_id="20261105T0900Z-ABC123",
    start="2026-11-05T09:00:00Z",
    duration_minutes=45,
    timezone="Europe/Madrid",
    meeting_url="https://meet.example/room?id=1,2;3",
    status=SessionStatus.BOOKED,
    booked_by="u-1",
    booked_at="2026-11-02T09:00:00.000Z",
)


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_ics_lines_end_in_crlf_and_fold_at_75_octets() -> None:
    text = ical.session_ics(SESSION, datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")  # no bare line feeds
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    lines = unfold(text)
    assert lines[:2] == ["BEGIN:VCALENDAR", "VERSION:2.0"]
    assert "DTSTART:20261105T090000Z" in lines and "DTEND:20261105T094500Z" in lines
    assert "DTSTAMP:20261102T090000Z" in lines
    assert "UID:0123456789abcdef01234567@caseroom" in lines
    # TEXT values escape , ; \\ and newlines
    assert "LOCATION:https://meet.example/room?id=1\\,2\\;3" in lines
    description = next(line for line in lines if line.startswith("DESCRIPTION:"))
    assert "\\n" in description and "7KQ2-M9XD-4RTA" in description


def test_folding_never_splits_a_character() -> None:
    line = "SUMMARY:" + "ñ" * 100
    folded = ical.fold(line)
    pieces = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in pieces)
    assert folded.replace("\r\n ", "") == line
    assert ical.escape_text("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne"


def test_google_calendar_link_has_the_template_fields() -> None:
    url = ical.google_calendar_url(SESSION)
    assert url.startswith("https://calendar.google.com/calendar/render?action=TEMPLATE&text=")
    for part in (
        "dates=20261105T090000Z%2F20261105T094500Z",
        "details=",
        "location=https%3A%2F%2Fmeet.example",
    ):
        assert part in url
