"""What the Rx script prints about the parties of a case: the clinician's clinic (name, time
zone, address), the clinician's licence number, and the lab. For the Rx document generator."""

from __future__ import annotations

from dataclasses import dataclass

from caseroom.labs import dal
from caseroom.labs.records import Clinic, ClinicianProfile, Lab


@dataclass(frozen=True)
class RxParties:
    clinic: Clinic | None  # None for a case opened before clinics were recorded
    clinician: ClinicianProfile | None
    lab: Lab | None

    @property
    def clinic_timezone(self) -> str:
        """The zone the Rx prints dates in: the clinic's, else the lab's, else UTC."""
        if self.clinic is not None:
            return self.clinic.timezone
        return self.lab.timezone if self.lab is not None else "UTC"


def rx_parties(owner_id: str, clinic_id: str | None, lab_id: str) -> RxParties:
    """Consistent reads of the case's clinic (as recorded on the case), the owner's profile and the lab."""
    profile = dal.get_profile(owner_id)
    clinic_key = clinic_id or (profile.clinic_id if profile else None)
    return RxParties(
        clinic=dal.get_clinic(clinic_key) if clinic_key else None,
        clinician=profile,
        lab=dal.get_lab(lab_id),
    )
