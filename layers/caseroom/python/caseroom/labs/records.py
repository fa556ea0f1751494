"""The stored shape of labs, clinics and the clinician -> clinic and labs relationship.

Plain dataclasses: case creation and the event consumers read them on their cold start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from caseroom.cases.case_types import CaseType
from caseroom.labs.calendar import MONDAY_TO_FRIDAY, LabCalendar, Turnaround


@dataclass(frozen=True)
class Lab:
    lab_id: str
    name: str
    timezone: str  # IANA
    # The case types the lab makes, each with its turnaround; a type not listed is refused.
    case_types: Mapping[CaseType, Turnaround]
    business_days: frozenset[int] = MONDAY_TO_FRIDAY  # ISO weekdays
    holidays: frozenset[str] = frozenset()  # ISO dates in the lab's zone
    address: tuple[str, ...] = ()
    phone: str | None = None
    email: str | None = None

    def calendar(self) -> LabCalendar:
        return LabCalendar(
            timezone=self.timezone,
            business_days=self.business_days,
            holidays=self.holidays,
            turnarounds=self.case_types,
        )

    def makes(self, case_type: CaseType) -> bool:
        return case_type in self.case_types


@dataclass(frozen=True)
class Clinic:
    clinic_id: str
    name: str
    timezone: str  # IANA: the Rx script prints the case's dates in it
    address: tuple[
        str, ...
    ]  # printed lines, e.g. ("12 Campbell Parade", "Bondi Beach NSW 2026", "Australia")
    phone: str | None = None


@dataclass(frozen=True)
class ClinicianProfile:
    """Which clinic a clinician belongs to and which labs they send cases to (keyed by the
    Cognito sub, the user id every request carries)."""

    user_id: str
    clinic_id: str
    lab_ids: tuple[str, ...]
    default_lab_id: str
    licence_number: str | None = None
    display_name: str | None = None  # as printed on the Rx (defaults to the token's name)
