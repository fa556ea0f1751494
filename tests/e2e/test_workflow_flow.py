"""The case workflow through the running local runtime over real HTTP: a lab walks a case to
Shipped, an illegal move is refused with the allowed ones, and a clinician books a planning
session and gets its calendar file."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.test_cases_flow import RX, Client, base_url, sign_in

__all__ = ["base_url"]
pytestmark = pytest.mark.e2e

TRACKING = {
    "carrier": "UPS",
    "trackingNumber": "1Z999AA10123456784",
    "trackingUrl": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
}


def move(lab: Client, case_id: str, version: int, status: str, **extra: str) -> dict[str, object]:
    code, body = lab.call("PUT", f"/cases/{case_id}/status", {"status": status, "version": version, **extra})
    assert code == 200, body
    return dict(body)


def test_a_lab_walks_a_case_to_shipped_and_illegal_moves_are_refused(base_url: str) -> None:
    ana, lab = sign_in(base_url, "clinician"), sign_in(base_url, "lab")
    status, case = ana.call("POST", "/cases", RX)
    assert status == 201
    case_id = case["caseId"]

    # An illegal move: 409 with the moves that are allowed from Processing
    status, refused = lab.call(
        "PUT", f"/cases/{case_id}/status", {"status": "Shipped", "version": 1, **TRACKING}
    )
    assert (status, refused["code"]) == (409, "ILLEGAL_TRANSITION")
    assert refused["allowed"] == ["Missing CBCT/Models", "Received", "On Hold", "Cancelled"]

    # The lab walks it through; colours follow
    colours = []
    version = 1
    for target, extra in (("Received", {}), ("Manufacturing", {}), ("Finished", {}), ("Shipped", TRACKING)):
        moved = move(lab, case_id, version, target, **extra)
        version = int(str(moved["version"]))
        colours.append(moved["attention"])
    assert colours == ["green", "white", "white", "white"]

    # The clinician sees where it is and how to track it
    status, shipped = ana.call("GET", f"/cases/{case_id}")
    assert (shipped["status"], shipped["carrier"], shipped["trackingNumber"]) == (
        "Shipped",
        "UPS",
        "1Z999AA10123456784",
    )
    # Shipped is final
    status, refused = lab.call(
        "PUT", f"/cases/{case_id}/status", {"status": "On Hold", "version": version, "reason": "x"}
    )
    assert (status, refused["code"], refused["allowed"]) == (409, "ILLEGAL_TRANSITION", [])

    # The timeline tells who moved it, from where to where
    status, timeline = ana.call("GET", f"/cases/{case_id}/timeline?limit=10")
    assert status == 200
    assert [(e["from"], e["to"]) for e in timeline["items"]] == [
        (None, "Processing"),
        ("Processing", "Received"),
        ("Received", "Manufacturing"),
        ("Manufacturing", "Finished"),
        ("Finished", "Shipped"),
    ]
    assert {e["by"]["name"] for e in timeline["items"][1:]} == {"Lea Martin"}


def test_a_clinician_books_a_planning_session_and_gets_the_ics(base_url: str) -> None:
    ana, lab = sign_in(base_url, "clinician"), sign_in(base_url, "lab")
    status, case = ana.call("POST", "/cases", RX)
    case_id = case["caseId"]
    move(lab, case_id, 1, "Received")
    move(lab, case_id, 2, "Ready to Plan")

    # The lab publishes a free block three days ahead
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    status, block = lab.call(
        "POST",
        "/lab/planning/blocks",
        {
            "start": f"{day.isoformat()}T10:00",
            "durationMinutes": 45,
            "timezone": "Europe/Madrid",
            "meetingUrl": "https://meet.lab.example/room-3",
        },
    )
    assert status == 201, block

    # The clinician sees it and books it
    status, free = ana.call("GET", f"/cases/{case_id}/planning/blocks")
    assert block["blockId"] in [b["blockId"] for b in free["items"]]
    status, booking = ana.call("POST", f"/cases/{case_id}/planning", {"blockId": block["blockId"]})
    assert status == 201, booking
    assert (booking["caseStatus"], booking["attention"]) == ("Planning Scheduled", "green")
    assert booking["ics"].startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert "https://meet.lab.example/room-3" in booking["ics"]
    assert booking["googleCalendarUrl"].startswith(
        "https://calendar.google.com/calendar/render?action=TEMPLATE"
    )
    assert "Maria" not in booking["ics"] + booking["googleCalendarUrl"]

    # The .ics downloads again, as a calendar file
    request = urllib.request.Request(
        f"{base_url}/cases/{case_id}/planning/ics", headers={"authorization": f"Bearer {ana.token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["content-type"].startswith("text/calendar")
        assert "attachment" in response.headers["content-disposition"]
        ics = response.read().decode()
    assert f"UID:{booking['session']['sessionId']}@caseroom\r\n" in ics

    # Booked is booked: the block is taken and the clinician cannot move it
    status, refused = ana.call("POST", f"/cases/{case_id}/planning", {"blockId": block["blockId"]})
    assert (status, refused["code"]) == (409, "CASE_NOT_READY_TO_PLAN")
    status, refused = ana.call(
        "POST", f"/cases/{case_id}/planning/cancel", {"version": booking["caseVersion"]}
    )
    assert (status, refused["code"]) == (403, "ROLE_NOT_ALLOWED")
