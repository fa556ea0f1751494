"""--seed: a realistic demo clinic, created through the public HTTP API like a real client would.

Going through the gateway (not the table) means seeded data obeys every rule of the API and
its events flow as in production (Rx scripts, confirmation emails in the local mailbox).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from local.tokens import SEEDED_USERS

# Labs, clinics and who works with whom (caseroom.labs.directory's document), loaded into the
# table whenever the local runtime starts, seeded or not. Two labs and two clinics on opposite
# sides of the Pacific: a case from Sydney to Los Angeles is due on Los Angeles business days,
# and "today" at the lab is often yesterday at the clinic.
ALL_CASE_TYPES = {
    "crown": (7, 3),
    "bridge": (10, 5),
    "veneers": (10, 5),
    "implant_guide": (5, 2),
    "implant_crown": (10, 5),
    "aligners": (15, 7),
    "denture": (15, 7),
    "night_guard": (5, 2),
}
HARBOUR_CASE_TYPES = ("crown", "bridge", "veneers", "implant_guide", "implant_crown", "night_guard")


def _offers(types: dict[str, tuple[int, int]]) -> dict[str, dict[str, int]]:
    return {
        name: {"turnaroundBusinessDays": total, "manufacturingBusinessDays": making}
        for name, (total, making) in types.items()
    }


DEMO_DIRECTORY: dict[str, Any] = {
    "labs": [
        {
            "labId": "lab-1",
            "name": "Pacific Crown Lab",
            "timezone": "America/Los_Angeles",
            "businessDays": [1, 2, 3, 4, 5],
            "holidays": ["2026-11-26", "2026-12-25", "2027-01-01", "2027-05-31", "2027-07-05"],
            "caseTypes": _offers(ALL_CASE_TYPES),
            "address": ["2150 Mission Street, Suite 300", "San Francisco, CA 94110", "United States"],
            "phone": "+1 415 555 0142",
            "email": "cases@pacificcrown.example.com",
        },
        {
            "labId": "lab-2",
            "name": "Harbour Dental Ceramics",
            "timezone": "Australia/Sydney",
            "businessDays": [1, 2, 3, 4, 5],
            "holidays": ["2026-12-25", "2026-12-28", "2027-01-01", "2027-01-26", "2027-04-23"],
            "caseTypes": _offers({name: ALL_CASE_TYPES[name] for name in HARBOUR_CASE_TYPES}),
            "address": ["48 Harris Street", "Pyrmont NSW 2009", "Australia"],
            "phone": "+61 2 5550 1234",
        },
    ],
    "clinics": [
        {
            "clinicId": "clinic-bondi",
            "name": "Bondi Smile Dental",
            "timezone": "Australia/Sydney",
            "address": ["12 Campbell Parade", "Bondi Beach NSW 2026", "Australia"],
            "phone": "+61 2 5550 9876",
        },
        {
            "clinicId": "clinic-mission",
            "name": "Mission Street Dental",
            "timezone": "America/Los_Angeles",
            "address": ["880 Valencia Street", "San Francisco, CA 94110", "United States"],
            "phone": "+1 415 555 0199",
        },
    ],
    "clinicians": [
        {
            "userId": SEEDED_USERS["clinician"].sub,
            "clinicId": "clinic-bondi",
            "labIds": ["lab-1", "lab-2"],
            "defaultLabId": "lab-1",
            "licenceNumber": "DEN0001234567",
        },
        {
            "userId": SEEDED_USERS["clinician2"].sub,
            "clinicId": "clinic-mission",
            "labIds": ["lab-2", "lab-1"],
            "defaultLabId": "lab-2",
            "licenceNumber": "DDS 65432",
        },
    ],
}


def load_demo_directory() -> None:
    """Puts the demo labs, clinics and clinician profiles into the table (an upsert)."""
    from caseroom.labs import directory

    directory.write(directory.parse(DEMO_DIRECTORY))


DEMO_CASES: tuple[dict[str, Any], ...] = (
    {
        "patientName": "Maria Keller",
        "caseType": "crown",
        "toothNotation": "FDI",
        "teeth": ["36"],
        "rxDescription": (
            "Full-contour zirconia crown on 36, shade A2. Chamfer prep, 1.5 mm occlusal reduction. "
            "Light centric contact, clear of 26 in lateral excursions."
        ),
        "attachments": [{"kind": "scan", "fileName": "36_prep_and_antagonist.stl"}],
    },
    {
        "patientName": "John Whitfield",
        "caseType": "bridge",
        "toothNotation": "FDI",
        "teeth": ["14", "15", "16"],
        "rxDescription": (
            "3-unit PFM bridge 14-16, pontic 15 modified ridge lap. Shade A3, metal occlusal on 16 "
            "(limited clearance). Bite registration attached."
        ),
        "attachments": [
            {"kind": "scan", "fileName": "upper_arch.stl"},
            {"kind": "scan", "fileName": "bite_registration.stl"},
        ],
    },
    {
        "patientName": "Sofia Rossi",
        "caseType": "implant_guide",
        "toothNotation": "FDI",
        "teeth": ["46"],
        "rxDescription": (
            "Fully guided surgical guide for Straumann BLT 4.1 x 10 mm at 46, tooth-supported, 5 mm "
            "sleeve. Keep 2 mm from the inferior alveolar canal."
        ),
        "attachments": [
            {"kind": "cbct", "fileName": "rossi_cbct.zip"},
            {"kind": "scan", "fileName": "lower_arch.stl"},
        ],
    },
    {
        "patientName": "Ahmed Haddad",
        "caseType": "implant_crown",
        "toothNotation": "UNIVERSAL",
        "teeth": ["8"],
        "rxDescription": (
            "Screw-retained zirconia crown on Nobel Active NP at #8. Shade B1, match #9 incisal "
            "translucency and mamelons. Photos with shade tab attached."
        ),
        "attachments": [
            {"kind": "photo", "fileName": "shade_tab_b1.jpg"},
            {"kind": "scan", "fileName": "scan_body_8.stl"},
        ],
    },
    {
        "patientName": "Emily Chen",
        "caseType": "aligners",
        "toothNotation": "FDI",
        "teeth": ["13", "12", "11", "21", "22", "23", "33", "32", "31", "41", "42", "43"],
        "rxDescription": (
            "Clear aligners for mild anterior crowding, upper and lower. Max 0.3 mm IPR per contact, "
            "no attachments on 11/21, keep the posterior occlusion."
        ),
        "attachments": [
            {"kind": "scan", "fileName": "full_arches.stl"},
            {"kind": "photo", "fileName": "smile_frontal.jpg"},
            {"kind": "xray", "fileName": "panoramic.png"},
        ],
    },
    {
        "patientName": "Lucas Moreau",
        "caseType": "denture",
        "toothNotation": "FDI",
        "teeth": [f"{quadrant}{tooth}" for quadrant in (1, 2) for tooth in range(1, 8)],
        "rxDescription": (
            "Upper complete denture, wax set-up for try-in. Medium ovoid teeth, shade A2, bilateral "
            "balanced occlusion. Previous denture scan attached for reference."
        ),
        "attachments": [{"kind": "scan", "fileName": "old_denture.stl"}],
    },
    {
        "patientName": "Hannah Becker",
        "caseType": "night_guard",
        "toothNotation": "UNIVERSAL",
        "teeth": [str(tooth) for tooth in range(2, 16)],
        "rxDescription": (
            "Hard acrylic night guard, upper arch, 2 mm. Flat plane with canine guidance; patient "
            "reports morning TMJ pain."
        ),
        "attachments": [{"kind": "scan", "fileName": "upper_lower_bite.stl"}],
    },
    {
        "patientName": "Daniel Kim",
        "caseType": "veneers",
        "toothNotation": "FDI",
        "teeth": ["12", "11", "21", "22"],
        "rxDescription": (
            "Four lithium disilicate veneers 12-22, shade BL2. Lengthen incisal edges 1 mm as in the "
            "approved mock-up; minimal-prep."
        ),
        "attachments": [
            {"kind": "photo", "fileName": "mockup_retracted.jpg"},
            {"kind": "video", "fileName": "smile_dynamics.mp4"},
        ],
    },
    {
        "patientName": "Olivia Brown",
        "caseType": "crown",
        "toothNotation": "UNIVERSAL",
        "teeth": ["19"],
        "rxDescription": (
            "Lithium disilicate crown #19, shade A3.5, supragingival buccal margin. Patient is a "
            "bruxer: please reinforce the occlusal thickness."
        ),
        "attachments": [{"kind": "pdf", "fileName": "occlusion_notes.pdf"}],
    },
    {
        "patientName": "Mateo Garcia",
        "caseType": "implant_crown",
        "toothNotation": "FDI",
        "teeth": ["24"],
        "rxDescription": (
            "Cement-retained crown on a custom titanium abutment, Zimmer TSV 3.7 at 24. Shade A2, "
            "emergence profile to match 14."
        ),
        "attachments": [{"kind": "cbct", "fileName": "garcia_cbct.zip"}],
        "labId": "lab-2",  # the other lab Dr. Ortiz works with (the rest go to her default lab)
    },
)

# The lab's progress on some cases, along the declared transitions (caseroom.cases.transitions):
# each list is applied in order (index into DEMO_CASES); a step is the PUT /status body
# without its version.
DEMO_TRACKING = {
    "carrier": "UPS",
    "trackingNumber": "1Z999AA10123456784",
    "trackingUrl": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
}
LAB_PROGRESS: dict[int, tuple[dict[str, str], ...]] = {
    0: (
        {"status": "Received"},
        {"status": "Manufacturing"},
        {"status": "Finished"},
        {"status": "Shipped", **DEMO_TRACKING},
    ),
    1: ({"status": "Received"}, {"status": "Manufacturing"}),
    2: ({"status": "Received"}, {"status": "Missing CBCT/Models"}),
    3: ({"status": "Received"}, {"status": "Ready to Plan"}),
    4: ({"status": "Received"}, {"status": "Ready to Plan"}),
    5: ({"status": "On Hold", "reason": "Waiting for the shade to be confirmed by phone"},),
}
# Free planning blocks the lab (lab-1) offers, N business days ahead at 10:00 in the lab's time
# zone (the blocks name no zone: a lab's blocks are in its own zone).
DEMO_BLOCK_DAYS = (1, 2, 3)
DEMO_BLOCK_TIMEZONE = DEMO_DIRECTORY["labs"][0]["timezone"]
DEMO_MEETING_URL = "https://meet.example.com/caseroom-lab-planning"


class SeedError(RuntimeError):
    pass


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)
    moved: int = 0
    blocks: int = 0
    problems: list[str] = field(default_factory=list)


def seed_demo_clinic(
    base_url: str,
    sign_in: Callable[[str], str],
    say: Callable[[str], None] = print,
    cancelled: Callable[[], bool] = lambda: False,
) -> SeedReport:
    """Creates the demo cases as the clinician, then moves some along as the lab. Never raises;
    stops between two API calls once cancelled() is true (Ctrl-C while seeding)."""
    seeder = _Seeder(base_url, cancelled)
    try:
        case_versions = seeder.create_cases(sign_in("clinician"))
        lab_token = sign_in("lab")
        seeder.advance_cases(lab_token, case_versions)
        seeder.publish_blocks(lab_token)
    except SeedError as exc:
        seeder.report.problems.append(str(exc))
    except Exception as exc:  # noqa: BLE001 - seeding is a convenience: it never takes the runtime down
        seeder.report.problems.append(f"unexpected {type(exc).__name__}: {exc}")
    report = seeder.report
    if report.created:
        say(
            f"Seeded {len(report.created)} demo cases for Dr. Ana Ortiz; "
            f"the lab made {report.moved} status change(s) and offers {report.blocks} planning block(s)."
        )
    for problem in report.problems:
        say(f"Seeding problem: {problem}")
    return report


class _Seeder:
    def __init__(self, base_url: str, cancelled: Callable[[], bool]) -> None:
        self.base_url = base_url
        self.cancelled = cancelled
        self.report = SeedReport()

    def call(
        self, method: str, path: str, token: str, payload: Any, idempotency_key: str | None = None
    ) -> Any:
        if self.cancelled():
            raise SeedError("seeding interrupted")
        return call_api(self.base_url, method, path, token, payload, idempotency_key)

    def create_cases(self, token: str) -> dict[int, tuple[str, int]]:
        versions: dict[int, tuple[str, int]] = {}
        for index, case in enumerate(DEMO_CASES):
            status, body = self.call("POST", "/cases", token, case, idempotency_key=str(uuid.uuid4()))
            if status != 201 or not isinstance(body, dict) or "caseId" not in body:
                problem = f"POST /cases answered {status}: {_short(body)}"
                if not self.report.created:  # the first create failing means the API is not there
                    raise SeedError(f"{problem} (is functions/cases_api ready?); no demo data was created")
                self.report.problems.append(problem)
                continue
            self.report.created.append(str(body["caseId"]))
            versions[index] = (str(body["caseId"]), int(body.get("version", 1)))
        return versions

    def advance_cases(self, token: str, versions: dict[int, tuple[str, int]]) -> None:
        for index, steps in LAB_PROGRESS.items():
            if index not in versions:
                continue
            case_id, version = versions[index]
            for step in steps:
                path = f"/cases/{case_id}/status"
                status, body = self.call("PUT", path, token, {**step, "version": version})
                if status != 200 or not isinstance(body, dict):
                    self.report.problems.append(
                        f"PUT {path} {step['status']!r} answered {status}: {_short(body)}"
                    )
                    break
                version = int(body.get("version", version + 1))
                self.report.moved += 1

    def publish_blocks(self, token: str) -> None:
        today = datetime.now(UTC).astimezone(ZoneInfo(DEMO_BLOCK_TIMEZONE)).date()  # the lab's today
        for days_ahead in DEMO_BLOCK_DAYS:
            day = _business_days_after(today, days_ahead)
            block = {
                "start": f"{day.isoformat()}T10:00",
                "durationMinutes": 60,
                "meetingUrl": DEMO_MEETING_URL,
            }
            status, body = self.call("POST", "/lab/planning/blocks", token, block)
            if status not in (200, 201):
                self.report.problems.append(f"POST /lab/planning/blocks answered {status}: {_short(body)}")
                return
            self.report.blocks += 1


def _business_days_after(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def call_api(
    base_url: str, method: str, path: str, token: str, payload: Any = None, idempotency_key: str | None = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(base_url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, _parse(response.read())
    except urllib.error.HTTPError as error:
        return error.code, _parse(error.read())
    except urllib.error.URLError as error:
        raise SeedError(f"{method} {path} could not reach {base_url}: {error.reason}") from error


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _short(body: Any) -> str:
    text = body if isinstance(body, str) else json.dumps(body)
    return text if len(text) <= 300 else text[:300] + "..."
