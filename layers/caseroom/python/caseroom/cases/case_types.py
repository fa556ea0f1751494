"""Case types: what a lab makes, which files it cannot start without, and its turnaround."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class CaseType(StrEnum):
    CROWN = "crown"
    BRIDGE = "bridge"
    VENEERS = "veneers"
    IMPLANT_GUIDE = "implant_guide"
    IMPLANT_CROWN = "implant_crown"
    ALIGNERS = "aligners"
    DENTURE = "denture"
    NIGHT_GUARD = "night_guard"


class FileKind(StrEnum):
    PHOTO = "photo"
    CBCT = "cbct"
    SCAN = "scan"
    XRAY = "xray"
    VIDEO = "video"
    PDF = "pdf"
    OTHER = "other"


@dataclass(frozen=True)
class CaseTypeRules:
    required_files: frozenset[FileKind]  # without these the case waits in Missing CBCT/Models
    turnaround_business_days: int  # from (re)submission to shipping
    manufacturing_business_days: int  # from Manufacturing to shipping (the portal says 2-7 days)


CASE_TYPE_RULES: dict[CaseType, CaseTypeRules] = {
    CaseType.CROWN: CaseTypeRules(
        required_files=frozenset({FileKind.SCAN}), turnaround_business_days=7, manufacturing_business_days=3
    ),
    CaseType.BRIDGE: CaseTypeRules(
        required_files=frozenset({FileKind.SCAN}), turnaround_business_days=10, manufacturing_business_days=5
    ),
    CaseType.VENEERS: CaseTypeRules(
        required_files=frozenset({FileKind.SCAN, FileKind.PHOTO}),
        turnaround_business_days=10,
        manufacturing_business_days=5,
    ),
    CaseType.IMPLANT_GUIDE: CaseTypeRules(
        required_files=frozenset({FileKind.CBCT, FileKind.SCAN}),
        turnaround_business_days=5,
        manufacturing_business_days=2,
    ),
    CaseType.IMPLANT_CROWN: CaseTypeRules(
        required_files=frozenset({FileKind.SCAN}), turnaround_business_days=10, manufacturing_business_days=5
    ),
    CaseType.ALIGNERS: CaseTypeRules(
        required_files=frozenset({FileKind.SCAN, FileKind.PHOTO}),
        turnaround_business_days=15,
        manufacturing_business_days=7,
    ),
    CaseType.DENTURE: CaseTypeRules(
        required_files=frozenset({FileKind.SCAN}), turnaround_business_days=15, manufacturing_business_days=7
    ),
    CaseType.NIGHT_GUARD: CaseTypeRules(
        required_files=frozenset({FileKind.SCAN}), turnaround_business_days=5, manufacturing_business_days=2
    ),
}


def add_business_days(start: date, days: int) -> date:
    """Monday-Friday arithmetic; a start on a weekend counts from the next Monday."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def due_date_for(case_type: CaseType, today: date) -> date:
    return add_business_days(today, CASE_TYPE_RULES[case_type].turnaround_business_days)
