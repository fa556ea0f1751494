"""Labs and clinics through the API (moto): a clinician in Sydney sends cases to a lab in Los
Angeles or one in Sydney, chosen per case; dates follow the chosen lab's zone and calendar; a lab
the clinician does not work with, or a case type the lab does not make, is refused."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from caseroom.auth import Principal, Role
from caseroom.cases import routes as case_routes
from caseroom.cases.logic import CaseService
from caseroom.clock import FixedClock
from caseroom.labs import dal as labs_dal
from caseroom.labs import directory
from caseroom.labs import routes as lab_routes
from caseroom.labs.logic import LabService
from caseroom.labs.rx import rx_parties
from caseroom.planning import routes as planning_routes
from caseroom.planning.logic import PlanningService
from infra import manifest
from tests.conftest import ALL_TYPES, CLINICIAN, LAB_TECH, http_event, lambda_context, load_test_directory

ZOE = Principal(user_id="u-clinician-zoe", email="zoe@bondi.test", name="Dr. Zoe Tan", role=Role.CLINICIAN)
NOBODY = Principal(user_id="u-clinician-new", email="new@clinic.test", name="Dr. New", role=Role.CLINICIAN)
LA_TECH = Principal(user_id="u-lab-la", email="sam@la.test", name="Sam Reyes", role=Role.LAB, lab_id="lab-la")
SYD_TECH = Principal(
    user_id="u-lab-syd", email="mia@syd.test", name="Mia Ng", role=Role.LAB, lab_id="lab-syd"
)

ZONES_DIRECTORY: dict[str, Any] = {
    "labs": [
        {
            "labId": "lab-la",
            "name": "Pacific Crown Lab",
            "timezone": "America/Los_Angeles",
            "holidays": ["2026-11-26"],
            "caseTypes": {k: v for k, v in ALL_TYPES.items() if k != "aligners"},
            "address": ["2150 Mission Street", "San Francisco, CA 94110"],
        },
        {
            "labId": "lab-syd",
            "name": "Harbour Dental Ceramics",
            "timezone": "Australia/Sydney",
            "caseTypes": {
                "crown": {"turnaroundBusinessDays": 7, "manufacturingBusinessDays": 3},
                "aligners": {"turnaroundBusinessDays": 15, "manufacturingBusinessDays": 7},
            },
        },
    ],
    "clinics": [
        {
            "clinicId": "clinic-bondi",
            "name": "Bondi Smile Dental",
            "timezone": "Australia/Sydney",
            "address": ["12 Campbell Parade", "Bondi Beach NSW 2026"],
        }
    ],
    "clinicians": [
        {
            "userId": ZOE.user_id,
            "clinicId": "clinic-bondi",
            "labIds": ["lab-la", "lab-syd"],
            "defaultLabId": "lab-la",
            "licenceNumber": "DEN0001234567",
        }
    ],
}
CROWN = {
    "patientName": "Ștefan Łukasz",
    "rxDescription": "Zirconia crown, shade A2",
    "teeth": ["11"],
    "caseType": "crown",
    "attachments": [{"kind": "scan", "fileName": "upper.stl"}],
}
# Monday 2026-11-02 13:30 UTC: Monday 05:30 in Los Angeles, Tuesday 00:30 in Sydney.
SYDNEY_JUST_PAST_MIDNIGHT = datetime(2026, 11, 2, 13, 30, tzinfo=UTC)

Api = Callable[..., tuple[int, Any]]


@pytest.fixture
def api(aws_backend: None) -> Iterator[tuple[Api, FixedClock]]:
    clock = FixedClock(SYDNEY_JUST_PAST_MIDNIGHT)
    load_test_directory(ZONES_DIRECTORY)
    case_routes.use_service(CaseService(clock=clock))
    lab_routes.use_service(LabService(clock=clock))
    planning_routes.use_service(PlanningService(clock=clock))
    handlers = {route.route_key: route.function for route in manifest.HTTP_ROUTES}
    counter = iter(range(1_000_000))

    def invoke(
        method: str, route: str, path: str | None = None, who: Principal | None = ZOE, **kwargs: Any
    ) -> tuple[int, Any]:
        function = handlers[f"{method} {route}"]
        handler = importlib.import_module(manifest.function(function).module).lambda_handler
        event = http_event(method, route, path or route, who, request_id=f"req-{next(counter)}", **kwargs)
        response = handler(event, lambda_context(function))
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else {}

    yield invoke, clock
    case_routes.use_service(None)
    lab_routes.use_service(None)
    planning_routes.use_service(None)


def test_a_clinician_sees_only_their_labs_with_the_default_and_their_clinic(
    api: tuple[Api, FixedClock],
) -> None:
    call, _ = api
    status, body = call("GET", "/labs")
    assert status == 200
    assert [lab["labId"] for lab in body["items"]] == ["lab-la", "lab-syd"]  # never lab-1, lab-2
    assert body["defaultLabId"] == "lab-la"
    la, syd = body["items"]
    # Each lab's today at the same instant: Monday in Los Angeles, already Tuesday in Sydney
    assert (la["timezone"], la["today"]) == ("America/Los_Angeles", "2026-11-02")
    assert (syd["timezone"], syd["today"]) == ("Australia/Sydney", "2026-11-03")
    assert la["holidays"] == ["2026-11-26"] and la["businessDays"] == [1, 2, 3, 4, 5]
    assert "aligners" not in {t["caseType"] for t in la["caseTypes"]}
    assert {t["caseType"]: t["turnaroundBusinessDays"] for t in syd["caseTypes"]} == {
        "aligners": 15,
        "crown": 7,
    }
    assert body["clinic"] == {
        "clinicId": "clinic-bondi",
        "name": "Bondi Smile Dental",
        "timezone": "Australia/Sydney",
        "address": ["12 Campbell Parade", "Bondi Beach NSW 2026"],
        "phone": None,
    }
    # A lab member sees their own lab; a clinician without a profile sees none
    status, body = call("GET", "/labs", who=SYD_TECH)
    assert (status, [lab["labId"] for lab in body["items"]], body["defaultLabId"]) == (
        200,
        ["lab-syd"],
        "lab-syd",
    )
    assert call("GET", "/labs", who=NOBODY)[1] == {"items": [], "defaultLabId": None, "clinic": None}


def test_the_chosen_lab_gets_the_case_with_due_dates_on_its_own_calendar(api: tuple[Api, FixedClock]) -> None:
    call, _ = api
    # Given the same instant, a crown (7 business days) to each lab
    status, to_la = call("POST", "/cases", body=CROWN)  # the default lab
    assert status == 201, to_la
    status, to_syd = call("POST", "/cases", body={**CROWN, "labId": "lab-syd"})
    assert status == 201, to_syd
    # Then each case names its lab and the clinician's clinic, and counts from that lab's today
    assert (to_la["labId"], to_la["clinicId"], to_la["dueDate"]) == ("lab-la", "clinic-bondi", "2026-11-11")
    assert (to_syd["labId"], to_syd["clinicId"], to_syd["dueDate"]) == (
        "lab-syd",
        "clinic-bondi",
        "2026-11-12",
    )
    # And each lab's queue has its own case; the other lab cannot even see it
    # My list says which lab has which case
    listed = {c["caseId"]: c["labId"] for c in call("GET", "/cases")[1]["items"]}
    assert listed == {to_la["caseId"]: "lab-la", to_syd["caseId"]: "lab-syd"}
    assert [c["caseId"] for c in call("GET", "/lab/cases", who=SYD_TECH)[1]["items"]] == [to_syd["caseId"]]
    assert [c["caseId"] for c in call("GET", "/lab/cases", who=LA_TECH)[1]["items"]] == [to_la["caseId"]]
    status, body = call("GET", "/cases/{caseId}", f"/cases/{to_syd['caseId']}", who=LA_TECH)
    assert (status, body["code"]) == (404, "CASE_NOT_FOUND")
    assert call("GET", "/cases/{caseId}", f"/cases/{to_syd['caseId']}", who=SYD_TECH)[0] == 200
    assert call("GET", "/cases/{caseId}", f"/cases/{to_syd['caseId']}", who=LAB_TECH)[0] == 404
    # The Rx script's parties: the clinic (address, zone), the licence, the lab
    parties = rx_parties(ZOE.user_id, to_syd["clinicId"], to_syd["labId"])
    assert parties.clinic is not None and parties.clinic.address == (
        "12 Campbell Parade",
        "Bondi Beach NSW 2026",
    )
    assert parties.clinic_timezone == "Australia/Sydney"
    assert parties.clinician is not None and parties.clinician.licence_number == "DEN0001234567"
    assert parties.lab is not None and parties.lab.name == "Harbour Dental Ceramics"


def test_late_friday_in_los_angeles_the_lab_ships_on_friday(api: tuple[Api, FixedClock]) -> None:
    call, clock = api
    status, case = call("POST", "/cases", body=CROWN)
    assert status == 201
    # Given Saturday 07:30 UTC: still Friday 23:30 in Los Angeles
    clock.advance(days=4, hours=18)
    assert clock.now() == datetime(2026, 11, 7, 7, 30, tzinfo=UTC)
    version = case["version"]
    path = f"/cases/{case['caseId']}/status"
    due: dict[str, str] = {}
    for target in ("Received", "Manufacturing", "Finished", "Shipped"):
        extra = (
            {"carrier": "UPS", "trackingNumber": "1Z999", "trackingUrl": "https://ups.example/1Z999"}
            if target == "Shipped"
            else {}
        )
        status, body = call(
            "PUT",
            "/cases/{caseId}/status",
            path,
            who=LA_TECH,
            body={"status": target, "version": version, **extra},
        )
        assert status == 200, body
        version, due[target] = body["version"], body["dueDate"]
    # Then manufacturing (3 days) counts from Friday: Mon, Tue, Wed; Finished ships Monday;
    # Shipped is dated Friday, the lab's day (UTC says Saturday)
    assert due == {
        "Received": "2026-11-11",
        "Manufacturing": "2026-11-11",
        "Finished": "2026-11-09",
        "Shipped": "2026-11-06",
    }


def test_a_clinicians_rx_change_restarts_the_turnaround_on_the_labs_calendar(
    api: tuple[Api, FixedClock],
) -> None:
    call, clock = api
    status, case = call("POST", "/cases", body=CROWN)
    assert status == 201
    # Given the Tuesday before Thanksgiving (a holiday of the Los Angeles lab), 09:00 there
    clock.advance(days=22, hours=3, minutes=30)
    assert clock.now() == datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
    status, body = call(
        "PATCH",
        "/cases/{caseId}",
        f"/cases/{case['caseId']}",
        body={"rxDescription": "Shade A3", "version": 1},
    )
    # Then 7 business days skip the weekend and Thursday 26: Wed, Fri, Mon-Thu
    assert (status, body["dueDate"]) == (200, "2026-12-04")


@pytest.mark.parametrize(
    ("who", "overrides", "code"),
    [
        (ZOE, {"labId": "lab-2"}, "LAB_NOT_AVAILABLE"),  # exists, but Zoe does not work with it
        (ZOE, {"labId": "lab-nope"}, "LAB_NOT_AVAILABLE"),  # does not exist: the same answer
        (ZOE, {"caseType": "aligners", "attachments": []}, "CASE_TYPE_NOT_OFFERED"),  # lab-la does not
        (NOBODY, {}, "NO_LAB_CONFIGURED"),
    ],
)
def test_a_lab_or_case_type_outside_the_clinicians_labs_is_refused(
    api: tuple[Api, FixedClock], who: Principal, overrides: dict[str, Any], code: str
) -> None:
    call, _ = api
    status, body = call("POST", "/cases", who=who, body={**CROWN, **overrides})
    assert (status, body["code"]) == (422, code)
    # The answer never repeats what was sent, so two unknown labs answer identically
    assert "lab-2" not in json.dumps(body) and "lab-nope" not in json.dumps(body)
    # and nothing was created in any queue
    for tech in (LAB_TECH, LA_TECH, SYD_TECH):
        assert call("GET", "/lab/cases", who=tech)[1]["items"] == []


def test_a_malformed_lab_id_is_a_validation_error(api: tuple[Api, FixedClock]) -> None:
    call, _ = api
    status, body = call("POST", "/cases", body={**CROWN, "labId": "../lab-1"})
    assert (status, body["code"]) == (422, "VALIDATION_FAILED")


def test_planning_blocks_are_in_the_labs_zone_and_its_day(api: tuple[Api, FixedClock]) -> None:
    call, clock = api
    meeting = "https://meet.example/room"
    # A block without a zone is in the lab's zone: Monday 09:00 in Los Angeles is 17:00 UTC
    status, block = call(
        "POST",
        "/lab/planning/blocks",
        who=LA_TECH,
        body={"start": "2026-11-02T09:00", "durationMinutes": 60, "meetingUrl": meeting},
    )
    assert status == 201, block
    assert (block["timezone"], block["start"], block["localStart"]) == (
        "America/Los_Angeles",
        "2026-11-02T17:00:00Z",
        "2026-11-02T09:00:00-08:00",
    )
    # A wall time the fall-back change repeats (Sydney, 4 April 2027 02:30) is refused, not guessed
    status, body = call(
        "POST",
        "/lab/planning/blocks",
        who=SYD_TECH,
        body={"start": "2027-04-04T02:30", "durationMinutes": 30, "meetingUrl": meeting},
    )
    assert (status, body["code"]) == (400, "AMBIGUOUS_START_TIME")
    # ... and accepted with its offset
    status, body = call(
        "POST",
        "/lab/planning/blocks",
        who=SYD_TECH,
        body={"start": "2027-04-04T02:30:00+10:00", "durationMinutes": 30, "meetingUrl": meeting},
    )
    assert (status, body["start"], body["timezone"]) == (201, "2027-04-03T16:30:00Z", "Australia/Sydney")
    # When it is Tuesday 02:00 UTC, it is still Monday 18:00 in Los Angeles: the lab's
    # "from today on" list still shows Monday morning's block
    clock.advance(hours=12, minutes=30)
    status, page = call("GET", "/lab/planning/blocks", who=LA_TECH)
    assert [b["blockId"] for b in page["items"]] == [block["blockId"]]
    # From Tuesday 00:00 in Los Angeles (08:00 UTC) on, it is gone
    clock.advance(hours=6)
    assert call("GET", "/lab/planning/blocks", who=LA_TECH)[1]["items"] == []


def test_a_directory_document_is_validated_as_a_whole_before_anything_is_written() -> None:
    bad = {
        "labs": [
            {"labId": "lab-x", "name": "X", "timezone": "Mars/Base", "caseTypes": {"crown": {}}},
            {
                "labId": "bad id!",
                "name": "Y",
                "timezone": "UTC",
                "businessDays": [0],
                "caseTypes": {"cake": {}},
            },
        ],
        "clinics": [{"clinicId": "c-1", "name": "C", "timezone": "UTC", "address": []}],
        "clinicians": [{"userId": "u", "clinicId": "c-2", "labIds": ["lab-zzz"], "defaultLabId": "lab-x"}],
    }
    with pytest.raises(directory.DirectoryError) as raised:
        directory.parse(bad)
    problems = "\n".join(raised.value.problems)
    for expected in (
        "labs[0].timezone",
        "labs[0].caseTypes.crown",
        "labs[1].labId",
        "labs[1].businessDays",
        "unknown case type 'cake'",
        "clinics[0].address",
        "clinicians[0].clinicId",
        "'lab-zzz' is no lab",
        "clinicians[0].defaultLabId",
    ):
        assert expected in problems
    parsed = directory.parse(ZONES_DIRECTORY)
    assert [lab.lab_id for lab in parsed.labs] == ["lab-la", "lab-syd"]
    assert parsed.clinicians[0].lab_ids == ("lab-la", "lab-syd")


def test_loading_resolves_references_to_labs_already_in_the_table(aws_backend: None) -> None:
    # lab-1 and clinic-1 were loaded before (tests/conftest.py); a new clinician may name them
    loaded = directory.load(
        {
            "clinicians": [
                {"userId": "u-late", "clinicId": "clinic-1", "labIds": ["lab-1"], "defaultLabId": "lab-1"}
            ]
        }
    )
    assert [p.user_id for p in loaded.clinicians] == ["u-late"]
    with pytest.raises(directory.DirectoryError):
        directory.load({"clinicians": [{"userId": "u-x", "clinicId": "clinic-1", "labIds": ["lab-gone"]}]})
    assert labs_dal.get_profile("u-x") is None and labs_dal.get_profile("u-late") is not None
    assert labs_dal.get_profile(CLINICIAN.user_id) is not None


def test_the_chosen_labs_feed_hears_about_the_case_and_no_other_lab_does(api: tuple[Api, FixedClock]) -> None:
    from caseroom.notifications import routes as notification_routes
    from caseroom.notifications import service as notices
    from caseroom.notifications.api import NotificationService
    from tests.integration.test_notifications import last_event, notify

    call, clock = api
    notification_routes.use_service(NotificationService(clock=clock))
    notices.use_clock(clock)
    try:
        # Given a case sent to the Sydney lab, its CaseCreated event delivered
        status, case = call("POST", "/cases", body={**CROWN, "labId": "lab-syd"})
        assert status == 201
        notify(last_event(case["caseId"]))
        # Then the Sydney lab's shared feed has it, the Los Angeles lab's has nothing
        status, syd = call("GET", "/me/notifications", who=SYD_TECH)
        assert (status, [i["kind"] for i in syd["items"]]) == (200, ["LabNewCase"])
        assert call("GET", "/me/notifications", who=LA_TECH)[1]["items"] == []
    finally:
        notification_routes.use_service(None)
        notices.use_clock(None)
