"""Loading labs, clinics and clinicians into the table: how they are created, locally and in AWS.

A directory document (JSON) lists them:

    {"labs": [{"labId": "lab-1", "name": "...", "timezone": "America/Los_Angeles",
               "businessDays": [1, 2, 3, 4, 5], "holidays": ["2026-12-25"],
               "caseTypes": {"crown": {"turnaroundBusinessDays": 7, "manufacturingBusinessDays": 3}},
               "address": ["..."], "phone": "...", "email": "..."}],
     "clinics": [{"clinicId": "clinic-1", "name": "...", "timezone": "Australia/Sydney", "address": ["..."]}],
     "clinicians": [{"userId": "<Cognito sub>", "clinicId": "clinic-1", "labIds": ["lab-1"],
                     "defaultLabId": "lab-1", "licenceNumber": "DEN0001234567"}]}

`python -m caseroom.labs.directory directory.json` validates the whole document first (time
zones, weekdays, dates, case types, references) and writes nothing if anything is wrong; then
it puts every item (an upsert: loading the same document twice is harmless). In AWS run it
with credentials that may write the table and CASEROOM_TABLE_NAME set to the stack's table
name (a CloudFormation output). The local runtime loads its demo directory the same way
(local/seed.py). There is no HTTP route that creates labs: an administrator's change, not a
user's.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from caseroom.cases.case_types import CaseType
from caseroom.labs import dal
from caseroom.labs.calendar import MAX_SEARCH_DAYS, Turnaround
from caseroom.labs.records import Clinic, ClinicianProfile, Lab
from caseroom.localtime import is_zone_name

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
MAX_TURNAROUND_DAYS = 60


class DirectoryError(ValueError):
    """The document is invalid; `problems` says where (never applied in part)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class Directory:
    labs: list[Lab] = field(default_factory=list)
    clinics: list[Clinic] = field(default_factory=list)
    clinicians: list[ClinicianProfile] = field(default_factory=list)


def parse(
    document: Mapping[str, Any], known_labs: Sequence[str] = (), known_clinics: Sequence[str] = ()
) -> Directory:
    """Validates a directory document. References may point at labs and clinics in the document
    or at `known_*` ones (already in the table)."""
    problems: list[str] = []
    directory = Directory()
    for index, raw in enumerate(document.get("labs", [])):
        lab = _lab(raw, f"labs[{index}]", problems)
        if lab is not None:
            directory.labs.append(lab)
    for index, raw in enumerate(document.get("clinics", [])):
        clinic = _clinic(raw, f"clinics[{index}]", problems)
        if clinic is not None:
            directory.clinics.append(clinic)
    lab_ids = {lab.lab_id for lab in directory.labs} | set(known_labs)
    clinic_ids = {clinic.clinic_id for clinic in directory.clinics} | set(known_clinics)
    for index, raw in enumerate(document.get("clinicians", [])):
        profile = _clinician(raw, f"clinicians[{index}]", problems, lab_ids, clinic_ids)
        if profile is not None:
            directory.clinicians.append(profile)
    if problems:
        raise DirectoryError(problems)
    return directory


def load(document: Mapping[str, Any]) -> Directory:
    """Validates `document`, resolving references to labs and clinics already in the table,
    then writes every item."""
    referenced_labs = {x for c in document.get("clinicians", []) for x in c.get("labIds", [])}
    referenced_clinics = {c.get("clinicId") for c in document.get("clinicians", [])}
    known_labs = [lab.lab_id for lab in dal.get_labs(str(x) for x in referenced_labs)]
    known_clinics = [
        str(x) for x in referenced_clinics if isinstance(x, str) and ID_PATTERN.match(x) and dal.get_clinic(x)
    ]
    directory = parse(document, known_labs, known_clinics)
    write(directory)
    return directory


def write(directory: Directory) -> None:
    for lab in directory.labs:
        dal.put_values(dal.lab_values(lab))
    for clinic in directory.clinics:
        dal.put_values(dal.clinic_values(clinic))
    for profile in directory.clinicians:
        dal.put_values(dal.profile_values(profile))


# --- validation --------------------------------------------------------------------------------


def _id(raw: Mapping[str, Any], name: str, where: str, problems: list[str]) -> str | None:
    value = raw.get(name)
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        problems.append(f"{where}.{name}: 1-64 letters, digits, '-' or '_'")
        return None
    return value


def _text(
    raw: Mapping[str, Any], name: str, where: str, problems: list[str], optional: bool = False
) -> str | None:
    value = raw.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        problems.append(f"{where}.{name}: a non-empty text of at most 200 characters")
        return None
    return value.strip()


def _zone(raw: Mapping[str, Any], where: str, problems: list[str]) -> str | None:
    value = raw.get("timezone")
    if not isinstance(value, str) or not is_zone_name(value):
        problems.append(f"{where}.timezone: an IANA time zone name, e.g. Australia/Sydney")
        return None
    return value


def _address(raw: Mapping[str, Any], where: str, problems: list[str]) -> tuple[str, ...]:
    value = raw.get("address", [])
    if (
        not isinstance(value, list)
        or len(value) > 8
        or not all(isinstance(x, str) and 0 < len(x) <= 200 for x in value)
    ):
        problems.append(f"{where}.address: up to 8 lines of text")
        return ()
    return tuple(value)


def _lab(raw: Any, where: str, problems: list[str]) -> Lab | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: an object")
        return None
    count = len(problems)
    lab_id, name, zone = (
        _id(raw, "labId", where, problems),
        _text(raw, "name", where, problems),
        _zone(raw, where, problems),
    )
    days = raw.get("businessDays", [1, 2, 3, 4, 5])
    if not isinstance(days, list) or not days or not all(isinstance(d, int) and 1 <= d <= 7 for d in days):
        problems.append(f"{where}.businessDays: ISO weekdays 1 (Monday) to 7 (Sunday), at least one")
        days = [1]
    holidays = raw.get("holidays", [])
    if not isinstance(holidays, list) or len(holidays) > MAX_SEARCH_DAYS // 3:
        problems.append(f"{where}.holidays: a list of ISO dates")
        holidays = []
    for day in holidays:
        try:
            date.fromisoformat(day)
        except (TypeError, ValueError):
            problems.append(f"{where}.holidays: {day!r} is not an ISO date (YYYY-MM-DD)")
    case_types: dict[CaseType, Turnaround] = {}
    offered = raw.get("caseTypes")
    if not isinstance(offered, Mapping) or not offered:
        problems.append(f"{where}.caseTypes: the case types the lab makes, with their turnaround")
        offered = {}
    for type_name, turnaround in offered.items():
        try:
            case_type = CaseType(type_name)
        except ValueError:
            problems.append(f"{where}.caseTypes: unknown case type {type_name!r}")
            continue
        days_total = turnaround.get("turnaroundBusinessDays") if isinstance(turnaround, Mapping) else None
        days_making = turnaround.get("manufacturingBusinessDays") if isinstance(turnaround, Mapping) else None
        if not all(isinstance(d, int) and 1 <= d <= MAX_TURNAROUND_DAYS for d in (days_total, days_making)):
            problems.append(
                f"{where}.caseTypes.{type_name}: turnaroundBusinessDays and manufacturingBusinessDays, "
                f"1-{MAX_TURNAROUND_DAYS}"
            )
            continue
        case_types[case_type] = Turnaround(int(days_total), int(days_making))  # type: ignore[arg-type]
    address = _address(raw, where, problems)
    phone = _text(raw, "phone", where, problems, optional=True)
    email = _text(raw, "email", where, problems, optional=True)
    if len(problems) > count or lab_id is None or name is None or zone is None:
        return None
    return Lab(
        lab_id=lab_id,
        name=name,
        timezone=zone,
        case_types=case_types,
        business_days=frozenset(days),
        holidays=frozenset(holidays),
        address=address,
        phone=phone,
        email=email,
    )


def _clinic(raw: Any, where: str, problems: list[str]) -> Clinic | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: an object")
        return None
    count = len(problems)
    clinic_id = _id(raw, "clinicId", where, problems)
    name = _text(raw, "name", where, problems)
    zone = _zone(raw, where, problems)
    address = _address(raw, where, problems)
    if not address:
        problems.append(f"{where}.address: the clinic's address is printed on the Rx script")
    phone = _text(raw, "phone", where, problems, optional=True)
    if len(problems) > count or clinic_id is None or name is None or zone is None:
        return None
    return Clinic(clinic_id=clinic_id, name=name, timezone=zone, address=address, phone=phone)


def _clinician(
    raw: Any, where: str, problems: list[str], lab_ids: set[str], clinic_ids: set[str]
) -> ClinicianProfile | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: an object")
        return None
    count = len(problems)
    user_id = raw.get("userId")
    if not isinstance(user_id, str) or not 0 < len(user_id) <= 128:
        problems.append(f"{where}.userId: the user's Cognito sub")
    clinic_id = _id(raw, "clinicId", where, problems)
    if clinic_id is not None and clinic_id not in clinic_ids:
        problems.append(f"{where}.clinicId: no such clinic in the document or the table")
    labs = raw.get("labIds")
    if not isinstance(labs, list) or not labs or len(labs) > dal.MAX_LABS:
        problems.append(f"{where}.labIds: 1-{dal.MAX_LABS} lab ids")
        labs = []
    for lab_id in labs:
        if lab_id not in lab_ids:
            problems.append(f"{where}.labIds: {lab_id!r} is no lab in the document or the table")
    default = raw.get("defaultLabId", labs[0] if labs else None)
    if default not in labs:
        problems.append(f"{where}.defaultLabId: one of labIds")
    licence = _text(raw, "licenceNumber", where, problems, optional=True)
    display_name = _text(raw, "displayName", where, problems, optional=True)
    if len(problems) > count or clinic_id is None:
        return None
    return ClinicianProfile(
        user_id=str(user_id),
        clinic_id=clinic_id,
        lab_ids=tuple(str(x) for x in labs),
        default_lab_id=str(default),
        licence_number=licence,
        display_name=display_name,
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(
            "usage: python -m caseroom.labs.directory DIRECTORY.json  (table: CASEROOM_TABLE_NAME)",
            file=sys.stderr,
        )
        return 2
    with open(argv[0], encoding="utf-8") as handle:
        document = json.load(handle)
    try:
        directory = load(document)
    except DirectoryError as error:
        for problem in error.problems:
            print(f"invalid: {problem}", file=sys.stderr)
        return 1
    print(
        f"Loaded {len(directory.labs)} lab(s), {len(directory.clinics)} clinic(s), "
        f"{len(directory.clinicians)} clinician(s)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
