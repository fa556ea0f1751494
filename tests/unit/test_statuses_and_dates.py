from __future__ import annotations

from datetime import date

from caseroom.cases.case_types import add_business_days
from caseroom.cases.statuses import ATTENTION_OF, Attention, CaseStatus


def test_every_status_has_a_colour_matching_the_lab_portal() -> None:
    assert set(ATTENTION_OF) == set(CaseStatus)
    red = {s for s, a in ATTENTION_OF.items() if a is Attention.RED}
    assert red == {CaseStatus.MISSING_FILES, CaseStatus.PLANNING_NO_SHOW}
    assert ATTENTION_OF[CaseStatus.RECEIVED] is Attention.GREEN
    assert ATTENTION_OF[CaseStatus.READY_TO_PLAN] is Attention.YELLOW
    assert ATTENTION_OF[CaseStatus.ON_HOLD] is Attention.WHITE


def test_business_days_skip_weekends() -> None:
    friday = date(2026, 11, 6)
    assert add_business_days(friday, 1) == date(2026, 11, 9)
    assert add_business_days(friday, 5) == date(2026, 11, 13)
    saturday = date(2026, 11, 7)
    assert add_business_days(saturday, 1) == date(2026, 11, 9)
