"""Reading labs and clinics for the API: which labs a caller may choose, and the clinic."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from caseroom.access import Action, require_account
from caseroom.auth import Principal, Role
from caseroom.clock import Clock, SystemClock
from caseroom.labs import dal
from caseroom.labs.models import CaseTypeOffer, ClinicView, LabChoices, LabView
from caseroom.labs.records import Clinic, Lab


@dataclass
class LabService:
    clock: Clock = field(default_factory=SystemClock)

    def my_labs(self, who: Principal) -> LabChoices:
        """A clinician: the labs they work with, their default and their clinic. A lab member:
        their own lab. Nobody sees a lab they have no relationship with."""
        require_account(who, Action.LABS_READ)
        if who.role is Role.LAB and who.lab_id:  # LABS_READ: a lab member has a lab id
            lab = dal.get_lab(who.lab_id)
            now = self.clock.now()
            return LabChoices(
                items=[lab_view(lab, now)] if lab else [], default_lab_id=lab.lab_id if lab else None
            )
        profile = dal.get_profile(who.user_id)
        if profile is None:
            return LabChoices(items=[])
        now = self.clock.now()
        labs = dal.get_labs(profile.lab_ids)
        clinic = dal.get_clinic(profile.clinic_id)
        available = {lab.lab_id for lab in labs}
        return LabChoices(
            items=[lab_view(lab, now) for lab in labs],
            default_lab_id=profile.default_lab_id if profile.default_lab_id in available else None,
            clinic=clinic_view(clinic) if clinic else None,
        )


def lab_view(lab: Lab, now: datetime) -> LabView:
    today = lab.calendar().today(now)
    return LabView(
        lab_id=lab.lab_id,
        name=lab.name,
        timezone=lab.timezone,
        today=today.isoformat(),
        business_days=sorted(lab.business_days),
        holidays=sorted(day for day in lab.holidays if day >= today.isoformat()),
        case_types=[
            CaseTypeOffer(
                case_type=case_type,
                turnaround_business_days=t.turnaround_business_days,
                manufacturing_business_days=t.manufacturing_business_days,
            )
            for case_type, t in sorted(lab.case_types.items())
        ],
        address=list(lab.address),
    )


def clinic_view(clinic: Clinic) -> ClinicView:
    return ClinicView(
        clinic_id=clinic.clinic_id,
        name=clinic.name,
        timezone=clinic.timezone,
        address=list(clinic.address),
        phone=clinic.phone,
    )
