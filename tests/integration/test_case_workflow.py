"""Status transitions through the cases API against moto: the state machine, colours and dates,
tracking, reasons and the timeline. (Concurrent moves: tests/workflow, against the moto server.)"""

from __future__ import annotations

from typing import Any

from caseroom.clock import FixedClock
from tests.conftest import CLINICIAN, CLINICIAN_2, LAB_TECH
from tests.integration.test_cases_api import Call, call, create, move
from tests.integration.workflow_support import TRACKING, outbox_types

__all__ = ["call"]


def put_status(
    call: Call, case_id: str, body: dict[str, Any], who: Any = LAB_TECH
) -> tuple[int, dict[str, Any]]:
    return call("PUT", "/cases/{caseId}/status", f"/cases/{case_id}/status", who=who, body=body)


def timeline(call: Call, case_id: str, who: Any = CLINICIAN, **query: str) -> tuple[int, dict[str, Any]]:
    return call("GET", "/cases/{caseId}/timeline", f"/cases/{case_id}/timeline", who=who, query=query or None)


def test_the_lab_walks_a_crown_to_shipped_with_dates_by_case_type(call: Call, clock: FixedClock) -> None:
    # Given a crown case, Processing since Monday 2 November
    case_id = create(call)["caseId"]
    # When the lab receives it: green, the promised date stands
    received = move(call, case_id, "Received")
    assert (received["attention"], received["dueDate"]) == ("green", "2026-11-11")
    # Manufacturing: white, a crown ships 3 business days later (Thursday)
    manufacturing = move(call, case_id, "Manufacturing")
    assert (manufacturing["attention"], manufacturing["dueDate"]) == ("white", "2026-11-05")
    # Finished on Friday: ships the next business day (Monday)
    clock.advance(days=4)
    finished = move(call, case_id, "Finished")
    assert finished["dueDate"] == "2026-11-09"
    # Shipped with tracking: stored on the case, CaseShipped emitted besides CaseStatusChanged
    shipped = move(call, case_id, "Shipped", **TRACKING)
    assert (shipped["status"], shipped["attention"], shipped["dueDate"]) == ("Shipped", "white", "2026-11-06")
    assert (shipped["carrier"], shipped["trackingNumber"], shipped["trackingUrl"]) == (
        "UPS",
        "1Z999AA10123456784",
        "https://www.ups.com/track?tracknum=1Z999AA10123456784",
    )
    types = outbox_types(case_id)
    assert types.count("CaseStatusChanged") == 4
    assert types.count("CaseShipped") == 1
    # Shipped is final
    status, body = put_status(
        call, case_id, {"status": "On Hold", "version": shipped["version"], "reason": "x"}
    )
    assert (status, body["code"], body["allowed"]) == (409, "ILLEGAL_TRANSITION", [])


def test_an_illegal_transition_is_409_with_the_allowed_targets(call: Call) -> None:
    case = create(call)
    status, body = put_status(call, case["caseId"], {"status": "Shipped", "version": 1, **TRACKING})
    assert (status, body["code"]) == (409, "ILLEGAL_TRANSITION")
    assert body["allowed"] == ["Missing CBCT/Models", "Received", "On Hold", "Cancelled"]
    assert "Maria Garcia" not in str(body)
    # Nothing changed
    assert call("GET", "/cases/{caseId}", f"/cases/{case['caseId']}")[1]["version"] == 1
    # The lab cannot book a planning session for the clinician through the status API either
    move(call, case["caseId"], "Received", "Ready to Plan")
    status, body = put_status(call, case["caseId"], {"status": "Planning Scheduled", "version": 3})
    assert (status, body["code"]) == (409, "ILLEGAL_TRANSITION")
    assert "Planning Scheduled" not in body["allowed"]


def test_unknown_status_and_bad_tracking_are_clear_4xx(call: Call) -> None:
    case_id = create(call)["caseId"]
    status, body = put_status(call, case_id, {"status": "Teleported", "version": 1})
    assert (status, body["code"]) == (422, "VALIDATION_FAILED")
    assert body["details"] == [{"loc": ["body", "status"], "type": "enum"}]
    assert "Teleported" not in str(body)
    move(call, case_id, "Received", "Manufacturing", "Finished")
    status, body = put_status(call, case_id, {"status": "Shipped", "version": 4, "carrier": "UPS"})
    assert (status, body["code"]) == (400, "TRACKING_REQUIRED")
    status, body = put_status(
        call, case_id, {"status": "Shipped", "version": 4, **TRACKING, "trackingUrl": "http://x.test"}
    )
    assert (status, body["details"][0]["loc"]) == (422, ["body", "trackingUrl"])
    status, body = put_status(
        call, case_id, {"status": "On Hold", "version": 4, "carrier": "UPS", "reason": "r"}
    )
    assert (status, body["code"]) == (400, "INVALID_REQUEST")


def test_on_hold_needs_a_reason_clears_the_date_and_resumes(call: Call, clock: FixedClock) -> None:
    case_id = create(call)["caseId"]
    status, body = put_status(call, case_id, {"status": "On Hold", "version": 1})
    assert (status, body["code"]) == (400, "REASON_REQUIRED")
    held = move(call, case_id, "On Hold", reason="Waiting for shade confirmation by phone")
    assert (held["attention"], held["dueDate"], held["statusReason"]) == (
        "white",
        None,
        "Waiting for shade confirmation by phone",
    )
    clock.advance(days=1)
    resumed = move(call, case_id, "Received")
    assert (resumed["attention"], resumed["dueDate"], resumed["statusReason"]) == (
        "green",
        "2026-11-12",
        None,
    )


def test_red_clears_the_due_date_and_a_clinician_change_pushes_it_out(call: Call, clock: FixedClock) -> None:
    case_id = create(call)["caseId"]
    missing = move(call, case_id, "Missing CBCT/Models")
    assert (missing["attention"], missing["dueDate"]) == ("red", None)
    clock.advance(days=2)
    status, modified = call(
        "PATCH", "/cases/{caseId}", f"/cases/{case_id}", body={"version": 2, "rxDescription": "new"}
    )
    assert status == 200
    assert (modified["status"], modified["attention"], modified["dueDate"]) == (
        "Processing",
        "yellow",
        "2026-11-13",
    )
    types = outbox_types(case_id)
    assert (types.count("CaseStatusChanged"), types.count("CaseRxModified")) == (2, 1)


def test_the_rx_is_locked_once_manufacturing_starts(call: Call) -> None:
    case_id = create(call)["caseId"]
    move(call, case_id, "Received", "Manufacturing")
    status, body = call(
        "PATCH", "/cases/{caseId}", f"/cases/{case_id}", body={"version": 3, "rxDescription": "x"}
    )
    assert (status, body["code"]) == (409, "RX_LOCKED")


def test_the_timeline_lists_every_change_with_who_when_why(call: Call, clock: FixedClock) -> None:
    # Given a case created by the clinician and moved by the lab three times
    case_id = create(call)["caseId"]
    clock.advance(minutes=5)
    move(call, case_id, "Received")
    clock.advance(minutes=5)
    move(call, case_id, "On Hold", reason="Shade unclear")
    clock.advance(minutes=5)
    move(call, case_id, "Received")
    # When the clinician reads it two entries per page
    status, first = timeline(call, case_id, limit="2")
    status2, second = timeline(call, case_id, limit="2", cursor=first["nextCursor"])
    assert status == status2 == 200
    entries = first["items"] + second["items"]
    # Then every change is there, oldest first, with who, when, why, from and to
    assert [(e["from"], e["to"]) for e in entries] == [
        (None, "Processing"),
        ("Processing", "Received"),
        ("Received", "On Hold"),
        ("On Hold", "Received"),
    ]
    assert entries[0]["by"] == {"userId": CLINICIAN.user_id, "role": "clinician", "name": "Dr. Ana Ortiz"}
    assert entries[2]["by"] == {"userId": LAB_TECH.user_id, "role": "lab", "name": "Lea Martin"}
    assert entries[2]["reason"] == "Shade unclear"
    assert entries[2]["at"] == "2026-11-02T09:10:00.000Z"
    assert second.get("nextCursor") is None
    # The lab reads it too; another clinician learns nothing; a forged cursor is refused
    assert timeline(call, case_id, who=LAB_TECH)[0] == 200
    assert timeline(call, case_id, who=CLINICIAN_2)[1]["code"] == "CASE_NOT_FOUND"
    assert timeline(call, case_id, cursor="bm9wZQ")[1]["code"] == "INVALID_CURSOR"
    # And the reads are audited
    trail = call("GET", "/cases/{caseId}/audit", f"/cases/{case_id}/audit", query={"limit": "100"})[1][
        "items"
    ]
    assert sum(r["action"] == "case.timeline.read" for r in trail) == 3
