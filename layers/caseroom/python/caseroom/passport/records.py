"""The stored shape of a patient's connection to a case (dataclass: read on every patient request)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PatientConnection:
    case_id: str
    patient_email: str  # normalized (stripped, lower case); matched against a verified address only
    connected_by: str
    clinic_name: str  # the connecting clinician's name, shown in the patient's Passport
    connected_at: str
    shared_galleries: list[str]
    version: int = 1
    # Files shared one by one: attachments a clinic member sent into the case's patient room.
    shared_files: list[str] = field(default_factory=list)
