"""The cases API through its Lambda handler, against moto (payload 2.0 events)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from caseroom.auth import Principal
from caseroom.cases import routes
from caseroom.cases.logic import CaseService
from caseroom.clock import FixedClock
from tests.conftest import CLINICIAN, CLINICIAN_2, LAB_TECH, OTHER_LAB, PATIENT, http_event, lambda_context

CROWN = {
    "patientName": "Maria Garcia",
    "rxDescription": "Zirconia crown, shade A2",
    "teeth": ["11", "21"],
    "caseType": "crown",
    "attachments": [{"kind": "scan", "fileName": "upper.stl"}],
}

Call = Callable[..., tuple[int, dict[str, Any]]]


@pytest.fixture
def call(aws_backend: None, clock: FixedClock) -> Iterator[Call]:
    from functions.cases_api.handler import lambda_handler

    routes.use_service(CaseService(clock=clock))
    counter = iter(range(1_000_000))

    def invoke(
        method: str, route: str, path: str | None = None, who: Principal | None = CLINICIAN, **kwargs: Any
    ) -> tuple[int, dict[str, Any]]:
        event = http_event(method, route, path or route, who, request_id=f"req-{next(counter)}", **kwargs)
        response = lambda_handler(event, lambda_context())
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else {}

    yield invoke
    routes.use_service(None)


def create(call: Call, who: Principal = CLINICIAN, **overrides: Any) -> dict[str, Any]:
    status, body = call("POST", "/cases", who=who, body={**CROWN, **overrides})
    assert status == 201, body
    return body


def move(
    call: Call, case_id: str, *statuses: str, version: int | None = None, **extra: Any
) -> dict[str, Any]:
    """The lab walks the case through `statuses` (each must be an allowed transition)."""
    body: dict[str, Any] = {}
    if version is None:
        version = call("GET", "/cases/{caseId}", f"/cases/{case_id}", who=LAB_TECH)[1]["version"]
    for status_name in statuses:
        status, body = call(
            "PUT",
            "/cases/{caseId}/status",
            f"/cases/{case_id}/status",
            who=LAB_TECH,
            body={"status": status_name, "version": version, **extra},
        )
        assert status == 200, body
        version = body["version"]
    return body


def test_create_case_stores_canonical_teeth_and_starts_processing(call: Call) -> None:
    # Given a clinician's crown Rx written in Universal notation with the scan declared
    status, body = call("POST", "/cases", body={**CROWN, "teeth": ["8", "9"], "toothNotation": "UNIVERSAL"})
    # Then the case is stored with FDI teeth, Processing (yellow) and a due date 7 business days out
    assert status == 201
    assert body["teeth"] == ["11", "21"]
    assert body["teethUniversal"] == ["8", "9"]
    assert (body["status"], body["attention"]) == ("Processing", "yellow")
    assert body["dueDate"] == "2026-11-11"
    assert body["version"] == 1
    assert body["rxScript"] == {"status": "pending", "generatedAt": None}
    # And reading it back gives the same case
    status, again = call("GET", "/cases/{caseId}", f"/cases/{body['caseId']}")
    assert status == 200
    assert again["caseId"] == body["caseId"]


def test_case_ids_are_random_and_readable(call: Call) -> None:
    ids = {create(call)["caseId"] for _ in range(5)}
    assert len(ids) == 5
    for case_id in ids:
        assert len(case_id) == 14 and case_id.count("-") == 2
        assert not set(case_id) & set("ILOU")


def test_case_without_required_files_is_red_with_no_due_date(call: Call) -> None:
    body = create(call, caseType="implant_guide", attachments=[{"kind": "scan", "fileName": "a.stl"}])
    assert (body["status"], body["attention"], body["dueDate"]) == ("Missing CBCT/Models", "red", None)


def test_other_users_get_404_not_403(call: Call) -> None:
    case_id = create(call)["caseId"]
    for stranger in (CLINICIAN_2, OTHER_LAB, PATIENT):
        status, body = call("GET", "/cases/{caseId}", f"/cases/{case_id}", who=stranger)
        assert (status, body["code"]) == (404, "CASE_NOT_FOUND")
    # The case's own lab may read it
    assert call("GET", "/cases/{caseId}", f"/cases/{case_id}", who=LAB_TECH)[0] == 200


def test_modify_moves_back_to_processing_and_resets_dates(call: Call, clock: FixedClock) -> None:
    case = create(call)
    lab_view = move(call, case["caseId"], "Received", "Ready to Plan")
    # Lab-side changes never touch Last Modified
    assert lab_view["lastModified"] == case["lastModified"]
    clock.advance(days=3)
    status, modified = call(
        "PATCH",
        "/cases/{caseId}",
        f"/cases/{case['caseId']}",
        body={"version": 3, "rxDescription": "Emax crown instead", "teeth": ["11"]},
    )
    assert status == 200, modified
    assert modified["status"] == "Processing"
    assert modified["lastModified"] > case["lastModified"]
    assert modified["dueDate"] == "2026-11-16"  # Thursday + 7 business days
    assert (modified["teeth"], modified["version"]) == (["11"], 4)


def test_stale_version_gets_409_and_changes_nothing(call: Call) -> None:
    case = create(call)
    path = f"/cases/{case['caseId']}"
    assert call("PATCH", "/cases/{caseId}", path, body={"version": 1, "rxDescription": "first"})[0] == 200
    status, body = call("PATCH", "/cases/{caseId}", path, body={"version": 1, "rxDescription": "second"})
    assert (status, body["code"]) == (409, "VERSION_CONFLICT")
    assert call("GET", "/cases/{caseId}", path)[1]["rxDescription"] == "first"


def test_lab_changes_colour_and_clinician_cannot_set_status(call: Call) -> None:
    case = create(call)
    path = f"/cases/{case['caseId']}/status"
    status, body = call("PUT", "/cases/{caseId}/status", path, body={"status": "Shipped", "version": 1})
    assert (status, body["code"]) == (403, "ROLE_NOT_ALLOWED")
    body = move(call, case["caseId"], "Missing CBCT/Models")
    assert (body["attention"], body["dueDate"]) == ("red", None)


def test_list_orders_by_attention_and_paginates(call: Call) -> None:
    # Given four cases in four colours
    wanted = {
        ("Received", "Manufacturing"): "white",
        ("Received",): "green",
        ("Missing CBCT/Models",): "red",
        (): "yellow",
    }
    for statuses in wanted:
        move(call, create(call)["caseId"], *statuses)
    # When the clinician lists two per page
    status, first = call("GET", "/cases", query={"limit": "2"})
    status2, second = call("GET", "/cases", query={"limit": "2", "cursor": first["nextCursor"]})
    # Then red, yellow, green, white in that order, across pages
    assert status == status2 == 200
    colours = [c["attention"] for c in first["items"] + second["items"]]
    assert colours == ["red", "yellow", "green", "white"]
    assert call("GET", "/cases", who=CLINICIAN_2)[1]["items"] == []


def test_sort_by_patient_descending(call: Call) -> None:
    for name in ("Bravo", "alpha", "Charlie"):
        create(call, patientName=name)
    _, page = call("GET", "/cases", query={"sort": "patient", "order": "desc"})
    assert [c["patientName"] for c in page["items"]] == ["Charlie", "Bravo", "alpha"]


def test_archive_hides_from_main_list_without_cancelling(call: Call) -> None:
    case = create(call)
    status, archived = call(
        "POST", "/cases/{caseId}/archive", f"/cases/{case['caseId']}/archive", body={"version": 1}
    )
    assert (status, archived["archived"], archived["status"]) == (200, True, "Processing")
    assert call("GET", "/cases")[1]["items"] == []
    only_archived = call("GET", "/cases", query={"archived": "true"})[1]["items"]
    assert [c["caseId"] for c in only_archived] == [case["caseId"]]
    status, back = call(
        "POST", "/cases/{caseId}/unarchive", f"/cases/{case['caseId']}/unarchive", body={"version": 2}
    )
    assert (status, back["archived"]) == (200, False)
    assert len(call("GET", "/cases")[1]["items"]) == 1


def test_idempotency_key_returns_the_same_case(call: Call) -> None:
    headers = {"Idempotency-Key": "create-abc-1"}
    first_status, first = call("POST", "/cases", body=CROWN, headers=headers)
    again_status, again = call("POST", "/cases", body=CROWN, headers=headers)
    assert first_status == 201 and again_status == 201
    assert again["caseId"] == first["caseId"]
    assert len(call("GET", "/cases")[1]["items"]) == 1
    status, body = call("POST", "/cases", body={**CROWN, "patientName": "Someone Else"}, headers=headers)
    assert (status, body["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")


def test_audit_trail_records_reads_and_writes(call: Call) -> None:
    case = create(call)
    path = f"/cases/{case['caseId']}"
    call("GET", "/cases/{caseId}", path)
    call("GET", "/cases/{caseId}", path, who=LAB_TECH)
    status, trail = call("GET", "/cases/{caseId}/audit", f"{path}/audit")
    assert status == 200
    actions = [(r["action"], r["actorId"]) for r in trail["items"]]
    assert actions == [
        ("case.read", LAB_TECH.user_id),
        ("case.read", CLINICIAN.user_id),
        ("case.create", CLINICIAN.user_id),
    ]
    assert {r["sourceIp"] for r in trail["items"]} == {"203.0.113.7"}
    # Only the owner reads the trail
    assert call("GET", "/cases/{caseId}/audit", f"{path}/audit", who=LAB_TECH)[0] == 403


def test_cursor_carries_no_patient_name_and_names_sort_as_people_expect(call: Call) -> None:
    import base64

    for name in ("Li Wei", "Li", "Zed"):
        create(call, patientName=name)
    _, first = call("GET", "/cases", query={"sort": "patient", "limit": "1"})
    # The by-patient index key (the casefolded name, then the case id) travels sealed: neither
    # the name nor the case id can be read from the cursor or its bytes.
    raw = base64.urlsafe_b64decode(first["nextCursor"] + "=" * (-len(first["nextCursor"]) % 4))
    case_id = first["items"][0]["caseId"]
    assert b"li\x01" not in raw and case_id.encode() not in raw and case_id not in first["nextCursor"]
    names = [c["patientName"] for c in first["items"]]
    cursor = first["nextCursor"]
    while cursor:
        _, page = call("GET", "/cases", query={"sort": "patient", "limit": "1", "cursor": cursor})
        names += [c["patientName"] for c in page["items"]]
        cursor = page["nextCursor"]
    assert names == ["Li", "Li Wei", "Zed"]


def test_rx_change_makes_the_old_script_stale_and_keeps_missing_files_red(call: Call) -> None:
    from functions.rx_script.handler import lambda_handler
    from tests.integration.test_event_consumers import as_eventbridge, outbox_events

    case = create(call, attachments=[])  # a crown without its scan
    assert case["status"] == "Missing CBCT/Models"
    lambda_handler(as_eventbridge(outbox_events(case["caseId"])[0]), lambda_context())
    path = f"/cases/{case['caseId']}"
    assert call("GET", "/cases/{caseId}", path)[1]["rxScript"]["status"] == "ready"
    status, modified = call("PATCH", "/cases/{caseId}", path, body={"version": 1, "teeth": ["21"]})
    # Still waiting on the clinician's files: red, no due date; the v1 PDF is no longer served
    assert (status, modified["status"], modified["dueDate"]) == (200, "Missing CBCT/Models", None)
    assert modified["rxScript"]["status"] == "pending"
    assert call("GET", "/cases/{caseId}/rx-script", f"{path}/rx-script")[1]["code"] == "DOCUMENT_NOT_READY"


def test_absurd_version_is_a_422_not_a_500(call: Call) -> None:
    case = create(call)
    status, body = call(
        "PATCH", "/cases/{caseId}", f"/cases/{case['caseId']}", body={"version": 10**46, "teeth": ["21"]}
    )
    assert (status, body["code"]) == (422, "VALIDATION_FAILED")
