"""Data access for labs, clinics and clinician profiles. The only labs module that talks to DynamoDB.

Key design (single table, see README "Data model"):
  lab                 pk=LAB#<labId>       sk=LAB
  clinic              pk=CLINIC#<clinicId> sk=CLINIC
  clinician profile   pk=USER#<userId>     sk=CLINICIAN    clinic id, lab ids, default lab, licence
Access patterns (all consistent reads of the base table, never a Query or Scan):
  a clinician's clinic and labs     GetItem USER#<user>/CLINICIAN
  one lab (case creation, dates)    GetItem LAB#<lab>/LAB
  the clinician's labs (GET /labs)  BatchGetItem of the profile's lab ids (at most MAX_LABS)
  a case's clinic (Rx script)       GetItem CLINIC#<clinic>/CLINIC
Written by caseroom.labs.directory (an administrator's load of a directory document), never
by a request path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from caseroom import dynamo
from caseroom.cases.case_types import CaseType
from caseroom.labs.calendar import UTC_CALENDAR, LabCalendar, Turnaround
from caseroom.labs.records import Clinic, ClinicianProfile, Lab

LAB_SK = "LAB"
CLINIC_SK = "CLINIC"
CLINICIAN_SK = "CLINICIAN"
MAX_LABS = 25  # labs per clinician: one BatchGetItem (limit 100 keys) with room to spare


def lab_pk(lab_id: str) -> str:
    return f"LAB#{lab_id}"


def clinic_pk(clinic_id: str) -> str:
    return f"CLINIC#{clinic_id}"


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


# --- items <-> records -----------------------------------------------------------------------


def lab_values(lab: Lab) -> dict[str, Any]:
    return {
        "pk": lab_pk(lab.lab_id),
        "sk": LAB_SK,
        "kind": "lab",
        "labId": lab.lab_id,
        "name": lab.name,
        "timezone": lab.timezone,
        "businessDays": sorted(lab.business_days),
        "holidays": sorted(lab.holidays),
        "caseTypes": {
            case_type.value: {
                "turnaroundBusinessDays": t.turnaround_business_days,
                "manufacturingBusinessDays": t.manufacturing_business_days,
            }
            for case_type, t in lab.case_types.items()
        },
        "address": list(lab.address),
        "phone": lab.phone,
        "email": lab.email,
    }


def lab_from(values: Mapping[str, Any]) -> Lab:
    known = {c.value for c in CaseType}
    return Lab(
        lab_id=str(values["labId"]),
        name=str(values["name"]),
        timezone=str(values["timezone"]),
        business_days=frozenset(int(d) for d in values.get("businessDays", [1, 2, 3, 4, 5])),
        holidays=frozenset(str(d) for d in values.get("holidays", [])),
        case_types={
            CaseType(name): Turnaround(int(t["turnaroundBusinessDays"]), int(t["manufacturingBusinessDays"]))
            for name, t in (values.get("caseTypes") or {}).items()
            if name in known  # a type this code no longer knows is not offered
        },
        address=tuple(str(line) for line in values.get("address", [])),
        phone=values.get("phone"),
        email=values.get("email"),
    )


def clinic_values(clinic: Clinic) -> dict[str, Any]:
    return {
        "pk": clinic_pk(clinic.clinic_id),
        "sk": CLINIC_SK,
        "kind": "clinic",
        "clinicId": clinic.clinic_id,
        "name": clinic.name,
        "timezone": clinic.timezone,
        "address": list(clinic.address),
        "phone": clinic.phone,
    }


def clinic_from(values: Mapping[str, Any]) -> Clinic:
    return Clinic(
        clinic_id=str(values["clinicId"]),
        name=str(values["name"]),
        timezone=str(values["timezone"]),
        address=tuple(str(line) for line in values.get("address", [])),
        phone=values.get("phone"),
    )


def profile_values(profile: ClinicianProfile) -> dict[str, Any]:
    return {
        "pk": user_pk(profile.user_id),
        "sk": CLINICIAN_SK,
        "kind": "clinician",
        "userId": profile.user_id,
        "clinicId": profile.clinic_id,
        "labIds": list(profile.lab_ids),
        "defaultLabId": profile.default_lab_id,
        "licenceNumber": profile.licence_number,
        "displayName": profile.display_name,
    }


def profile_from(values: Mapping[str, Any]) -> ClinicianProfile:
    return ClinicianProfile(
        user_id=str(values["userId"]),
        clinic_id=str(values["clinicId"]),
        lab_ids=tuple(str(x) for x in values.get("labIds", [])),
        default_lab_id=str(values["defaultLabId"]),
        licence_number=values.get("licenceNumber"),
        display_name=values.get("displayName"),
    )


# --- reads ------------------------------------------------------------------------------------


def _get(pk: str, sk: str) -> dict[str, Any] | None:
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(), Key=dynamo.key(pk, sk), ConsistentRead=True
    )
    item = response.get("Item")
    return dynamo.from_item(item) if item else None


def get_lab(lab_id: str) -> Lab | None:
    values = _get(lab_pk(lab_id), LAB_SK)
    return lab_from(values) if values else None


def get_clinic(clinic_id: str) -> Clinic | None:
    values = _get(clinic_pk(clinic_id), CLINIC_SK)
    return clinic_from(values) if values else None


def get_profile(user_id: str) -> ClinicianProfile | None:
    values = _get(user_pk(user_id), CLINICIAN_SK)
    return profile_from(values) if values else None


def get_labs(lab_ids: Iterable[str]) -> list[Lab]:
    """The labs that exist among `lab_ids` (at most MAX_LABS), in the order asked."""
    wanted = list(dict.fromkeys(lab_ids))[:MAX_LABS]
    if not wanted:
        return []
    table = dynamo.table_name()
    request: dict[str, Any] = {
        table: {"Keys": [dynamo.key(lab_pk(x), LAB_SK) for x in wanted], "ConsistentRead": True}
    }
    found: dict[str, Lab] = {}
    for _attempt in range(5):
        response = dynamo.dynamodb().batch_get_item(RequestItems=request)
        for item in response.get("Responses", {}).get(table, []):
            lab = lab_from(dynamo.from_item(item))
            found[lab.lab_id] = lab
        request = response.get("UnprocessedKeys") or {}
        if not request:
            break
    return [found[x] for x in wanted if x in found]


def calendar_of(lab_id: str) -> LabCalendar:
    """The calendar of the case's lab; Monday-Friday UTC when the lab has no record (a case
    created before labs were entities)."""
    lab = get_lab(lab_id)
    return lab.calendar() if lab is not None else UTC_CALENDAR


# --- writes (administration only: caseroom.labs.directory) -------------------------------------


def put_values(values: Mapping[str, Any]) -> None:
    dynamo.dynamodb().put_item(TableName=dynamo.table_name(), Item=dynamo.to_item(values))
