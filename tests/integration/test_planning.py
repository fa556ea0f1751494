"""Planning sessions through the planning and cases API handlers, against moto (in-process)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from caseroom.auth import Principal
from caseroom.cases import routes as case_routes
from caseroom.cases.logic import CaseService
from caseroom.clock import FixedClock
from caseroom.planning import routes as planning_routes
from caseroom.planning.logic import PlanningService
from tests.conftest import CLINICIAN, CLINICIAN_2, LAB_TECH, OTHER_LAB, lambda_context
from tests.integration.test_cases_api import CROWN
from tests.support.route_caller import route_caller

Api = Callable[..., tuple[int, Any]]
MEETING = "https://meet.lab.example/planning-room?id=42"
# START (conftest) is Monday 2 November 2026, 09:00 UTC.
BLOCK = {
    "start": "2026-11-05T10:00",
    "durationMinutes": 60,
    "timezone": "Europe/Madrid",
    "meetingUrl": MEETING,
}


@pytest.fixture
def api(aws_backend: None, clock: FixedClock) -> Iterator[Api]:
    """Calls any route through the handler of the function the manifest routes it to."""
    case_routes.use_service(CaseService(clock=clock))
    planning_routes.use_service(PlanningService(clock=clock))

    invoke = route_caller()
    yield invoke
    case_routes.use_service(None)
    planning_routes.use_service(None)


def ready_to_plan_case(api: Api, who: Principal = CLINICIAN) -> str:
    status, case = api("POST", "/cases", who=who, body=CROWN)
    assert status == 201
    for version, target in enumerate(("Received", "Ready to Plan"), start=1):
        status, body = api(
            "PUT",
            "/cases/{caseId}/status",
            f"/cases/{case['caseId']}/status",
            who=LAB_TECH,
            body={"status": target, "version": version},
        )
        assert status == 200, body
    return str(case["caseId"])


def publish(api: Api, who: Principal = LAB_TECH, **overrides: Any) -> tuple[int, Any]:
    return api("POST", "/lab/planning/blocks", who=who, body={**BLOCK, **overrides})


def book(api: Api, case_id: str, block_id: str, who: Principal = CLINICIAN) -> tuple[int, Any]:
    return api(
        "POST", "/cases/{caseId}/planning", f"/cases/{case_id}/planning", who=who, body={"blockId": block_id}
    )


def test_the_lab_publishes_blocks_in_its_time_zone(api: Api) -> None:
    status, block = publish(api)
    assert status == 201, block
    # 10:00 in Madrid (CET, UTC+1 in November) is 09:00 UTC
    assert (block["start"], block["end"]) == ("2026-11-05T09:00:00Z", "2026-11-05T10:00:00Z")
    assert block["localStart"] == "2026-11-05T10:00:00+01:00"
    assert block["status"] == "free"
    status, page = api("GET", "/lab/planning/blocks", who=LAB_TECH)
    assert [b["blockId"] for b in page["items"]] == [block["blockId"]]


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, 400, "INVALID_TIMEZONE"),
        ({"timezone": "../../etc/passwd"}, 400, "INVALID_TIMEZONE"),
        ({"start": "2026-11-02T08:00"}, 400, "BLOCK_IN_PAST"),  # 07:00 UTC, before the clock
        # 28 March 2027 02:30 does not exist in Madrid (clocks jump from 02:00 to 03:00)
        ({"start": "2027-03-28T02:30"}, 400, "INVALID_START_TIME"),
        ({"meetingUrl": "http://meet.example/x"}, 422, "VALIDATION_FAILED"),
        ({"durationMinutes": 5}, 422, "VALIDATION_FAILED"),
    ],
)
def test_bad_blocks_are_refused_with_stable_codes(
    api: Api, overrides: dict[str, Any], status: int, code: str
) -> None:
    got, body = publish(api, **overrides)
    assert (got, body["code"]) == (status, code)


def test_overlapping_blocks_and_non_lab_publishers_are_refused(api: Api) -> None:
    assert publish(api)[0] == 201
    status, body = publish(api, start="2026-11-05T10:30")
    assert (status, body["code"]) == (409, "BLOCK_OVERLAPS")
    # Back to back is fine; so is the same time at another lab
    assert publish(api, start="2026-11-05T11:00")[0] == 201
    assert publish(api, who=OTHER_LAB)[0] == 201
    status, body = publish(api, who=CLINICIAN, start="2026-11-06T10:00")
    assert (status, body["code"]) == (403, "ROLE_NOT_ALLOWED")


def test_booking_schedules_the_case_and_returns_calendar_entries(api: Api, clock: FixedClock) -> None:
    # Given a case Ready to Plan and a free block of its lab
    case_id = ready_to_plan_case(api)
    block = publish(api)[1]
    status, free = api("GET", "/cases/{caseId}/planning/blocks", f"/cases/{case_id}/planning/blocks")
    assert [b["blockId"] for b in free["items"]] == [block["blockId"]]
    # When the clinician books it
    status, booking = book(api, case_id, block["blockId"])
    # Then the case is Planning Scheduled (green) and the answer carries the calendar entries
    assert status == 201, booking
    assert (booking["caseStatus"], booking["attention"], booking["caseVersion"]) == (
        "Planning Scheduled",
        "green",
        4,
    )
    ics = booking["ics"]
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and ics.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20261105T090000Z\r\n" in ics and "DTEND:20261105T100000Z\r\n" in ics
    assert f"UID:{booking['session']['sessionId']}@caseroom\r\n" in ics
    assert "DTSTAMP:20261102T090000Z\r\n" in ics
    assert case_id in ics and "meet.lab.example" in ics
    url = booking["googleCalendarUrl"]
    assert url.startswith("https://calendar.google.com/calendar/render?action=TEMPLATE&text=")
    assert "dates=20261105T090000Z%2F20261105T100000Z" in url and "ctz=Europe%2FMadrid" in url
    assert "Maria" not in ics + url  # the patient's name never reaches third-party calendars
    # The block is no longer offered, and the timeline shows who booked
    assert (
        api("GET", "/cases/{caseId}/planning/blocks", f"/cases/{case_id}/planning/blocks")[1]["items"] == []
    )
    entries = api("GET", "/cases/{caseId}/timeline", f"/cases/{case_id}/timeline")[1]["items"]
    assert (entries[-1]["from"], entries[-1]["to"], entries[-1]["by"]["role"]) == (
        "Ready to Plan",
        "Planning Scheduled",
        "clinician",
    )
    # The .ics downloads again, as a calendar file
    status, response = api("GET", "/cases/{caseId}/planning/ics", f"/cases/{case_id}/planning/ics")
    assert status == 200
    assert response["headers"]["Content-Type"] == "text/calendar; charset=utf-8"
    assert (
        response["headers"]["Content-Disposition"]
        == f'attachment; filename="caseroom-planning-{case_id}.ics"'
    )
    assert "DTSTART:20261105T090000Z" in response["body"]


def test_bad_bookings_get_stable_codes(api: Api, clock: FixedClock) -> None:
    case_id = ready_to_plan_case(api)
    block = publish(api)[1]
    other_lab_block = publish(api, who=OTHER_LAB, start="2026-11-06T10:00")[1]
    # Another lab's block is not disclosed
    assert book(api, case_id, other_lab_block["blockId"])[1]["code"] == "BLOCK_NOT_FOUND"
    assert book(api, case_id, "20261105T0900Z-NOPE00")[1]["code"] == "BLOCK_NOT_FOUND"
    # Only the owning clinician books
    assert book(api, case_id, block["blockId"], who=LAB_TECH)[1]["code"] == "ROLE_NOT_ALLOWED"
    assert book(api, case_id, block["blockId"], who=CLINICIAN_2)[1]["code"] == "CASE_NOT_FOUND"
    # A case not Ready to Plan cannot book
    status, fresh = api("POST", "/cases", body=CROWN)
    status, body = book(api, fresh["caseId"], block["blockId"])
    assert (status, body["code"]) == (409, "CASE_NOT_READY_TO_PLAN")
    # Booked: a taken block, and the clinician cannot book again or change the booking
    assert book(api, case_id, block["blockId"])[0] == 201
    second_case = ready_to_plan_case(api)
    status, body = book(api, second_case, block["blockId"])
    assert (status, body["code"]) == (409, "BLOCK_TAKEN")
    later = publish(api, start="2026-11-09T10:00")[1]
    assert book(api, case_id, later["blockId"])[1]["code"] == "CASE_NOT_READY_TO_PLAN"
    for action, body in (
        ("reschedule", {"blockId": later["blockId"], "version": 4}),
        ("cancel", {"version": 4}),
    ):
        route = f"/cases/{{caseId}}/planning/{action}"
        status, reply = api("POST", route, f"/cases/{case_id}/planning/{action}", body=body)
        assert (status, reply["code"]) == (403, "ROLE_NOT_ALLOWED")
    # A block that has started cannot be booked
    clock.advance(days=7, hours=1)  # Monday 9 November, 10:00 UTC
    status, body = book(api, second_case, later["blockId"])
    assert (status, body["code"]) == (400, "BLOCK_IN_PAST")


def test_the_lab_reschedules_and_cancels(api: Api) -> None:
    case_id = ready_to_plan_case(api)
    first = publish(api)[1]
    second = publish(api, start="2026-11-06T16:00", timezone="America/New_York")[1]
    booking = book(api, case_id, first["blockId"])[1]
    session = booking["session"]
    # The lab moves it: the new block is taken, the old one is free again, the case stays scheduled
    status, moved = api(
        "POST",
        "/cases/{caseId}/planning/reschedule",
        f"/cases/{case_id}/planning/reschedule",
        who=LAB_TECH,
        body={"blockId": second["blockId"], "version": booking["caseVersion"]},
    )
    assert status == 200, moved
    assert (moved["sessionId"], moved["start"], moved["timezone"]) == (
        session["sessionId"],
        "2026-11-06T21:00:00Z",
        "America/New_York",
    )
    statuses = {
        b["blockId"]: b["status"] for b in api("GET", "/lab/planning/blocks", who=LAB_TECH)[1]["items"]
    }
    assert statuses == {first["blockId"]: "free", second["blockId"]: "booked"}
    status, ics = api("GET", "/cases/{caseId}/planning/ics", f"/cases/{case_id}/planning/ics")
    assert "SEQUENCE:1\r\n" in ics["body"] and "DTSTART:20261106T210000Z" in ics["body"]
    # The lab cancels: back to Ready to Plan, the block is free, the timeline says why
    status, cancelled = api(
        "POST",
        "/cases/{caseId}/planning/cancel",
        f"/cases/{case_id}/planning/cancel",
        who=LAB_TECH,
        body={"reason": "Planner unavailable", "version": moved["caseVersion"]},
    )
    assert (status, cancelled["status"]) == (200, "cancelled")
    case = api("GET", "/cases/{caseId}", f"/cases/{case_id}")[1]
    assert (case["status"], case["attention"]) == ("Ready to Plan", "yellow")
    last = api("GET", "/cases/{caseId}/timeline", f"/cases/{case_id}/timeline")[1]["items"][-1]
    assert (last["to"], last["reason"], last["by"]["role"]) == ("Ready to Plan", "Planner unavailable", "lab")
    # The clinician can book again
    rebooked = book(api, case_id, first["blockId"])[1]
    # Nothing left to cancel twice
    status, held = api(
        "POST",
        "/cases/{caseId}/planning/held",
        f"/cases/{case_id}/planning/held",
        who=LAB_TECH,
        body={"version": rebooked["caseVersion"]},
    )
    assert (status, held["status"]) == (200, "held")
    status, body = api(
        "POST",
        "/cases/{caseId}/planning/cancel",
        f"/cases/{case_id}/planning/cancel",
        who=LAB_TECH,
        body={"version": held["caseVersion"]},
    )
    assert (status, body["code"]) == (409, "NO_PLANNING_SESSION")


def test_planning_events_are_thin_and_in_the_outbox(api: Api) -> None:
    from tests.integration.test_event_consumers import outbox_events

    case_id = ready_to_plan_case(api)
    session = book(api, case_id, publish(api)[1]["blockId"])[1]["session"]
    scheduled = [e for e in outbox_events(case_id) if e["eventType"] == "PlanningScheduled"]
    assert [e["subjectId"] for e in scheduled] == [session["sessionId"]]
    assert all("patientName" not in e for e in outbox_events(case_id))


# --- calendar updates: a moved or cancelled session updates the event the clinician has -------


def _notify_new_events(case_id: str, seen: set[str]) -> None:
    """Runs the notifications consumer on the case's events it has not seen yet."""
    from functions.notifications.handler import lambda_handler as notifications
    from tests.integration.test_event_consumers import as_eventbridge, outbox_events

    for event in outbox_events(case_id):
        if event["eventId"] not in seen:
            seen.add(event["eventId"])
            notifications(as_eventbridge(event), lambda_context("notifications"))


def _calendar_emails(case_id: str) -> list[tuple[str, Any]]:
    """(subject, the text/calendar part) of each email about the case that carries one."""
    import email
    import email.policy

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    found = []
    for message in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages:
        if not hasattr(message, "raw_data"):
            continue
        parsed = email.message_from_string(message.raw_data, policy=email.policy.default)
        if case_id not in str(parsed["Subject"]):
            continue
        inline = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
        attached = [p for p in parsed.walk() if p.get_filename() and p.get_filename().endswith(".ics")]
        assert len(inline) == 1 and len(attached) == 1, parsed
        assert inline[0].get_content() == attached[0].get_content().decode()
        found.append((str(parsed["Subject"]), inline[0]))
    return found


def _event(ics: str) -> Any:
    import icalendar

    calendar = icalendar.Calendar.from_ical(ics)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def test_a_moved_then_cancelled_session_updates_then_removes_the_calendar_event(api: Api) -> None:
    seen: set[str] = set()
    case_id = ready_to_plan_case(api)
    first, second = publish(api)[1], publish(api, start="2026-11-06T16:00")[1]
    booking = book(api, case_id, first["blockId"])[1]
    _notify_new_events(case_id, seen)
    uid = f"{booking['session']['sessionId']}@caseroom"

    # Booked: the email carries the event (PUBLISH, SEQUENCE 0), like the booking's .ics
    [(subject, part)] = _calendar_emails(case_id)
    assert "booked" in subject and part.get_param("method") == "PUBLISH"
    calendar, event = _event(part.get_content())
    assert (str(calendar["METHOD"]), str(event["UID"]), int(event["SEQUENCE"])) == ("PUBLISH", uid, 0)
    assert _event(booking["ics"])[1]["UID"] == uid

    # Moved: same UID, the new time, a higher SEQUENCE, by email and in the .ics link
    status, moved = api(
        "POST",
        "/cases/{caseId}/planning/reschedule",
        f"/cases/{case_id}/planning/reschedule",
        who=LAB_TECH,
        body={"blockId": second["blockId"], "version": booking["caseVersion"]},
    )
    assert status == 200 and moved["sequence"] == 1
    _notify_new_events(case_id, seen)
    subject, part = _calendar_emails(case_id)[-1]
    assert "moved" in subject and part.get_param("method") == "PUBLISH"
    calendar, event = _event(part.get_content())
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (uid, 1)
    assert event["DTSTART"].dt.isoformat() == "2026-11-06T15:00:00+00:00"  # 16:00 in Madrid
    status, link = api("GET", "/cases/{caseId}/planning/ics", f"/cases/{case_id}/planning/ics")
    calendar, event = _event(link["body"])
    assert (str(calendar["METHOD"]), str(event["UID"]), int(event["SEQUENCE"])) == ("PUBLISH", uid, 1)

    # Cancelled: METHOD:CANCEL for the same UID, SEQUENCE higher again, by email and in the link
    status, cancelled = api(
        "POST",
        "/cases/{caseId}/planning/cancel",
        f"/cases/{case_id}/planning/cancel",
        who=LAB_TECH,
        body={"version": moved["caseVersion"]},
    )
    assert status == 200 and cancelled["sequence"] == 2
    _notify_new_events(case_id, seen)
    subject, part = _calendar_emails(case_id)[-1]
    assert "cancelled" in subject and part.get_param("method") == "CANCEL"
    for text in (
        part.get_content(),
        api("GET", "/cases/{caseId}/planning/ics", f"/cases/{case_id}/planning/ics")[1]["body"],
    ):
        calendar, event = _event(text)
        assert str(calendar["METHOD"]) == "CANCEL"
        assert (str(event["UID"]), int(event["SEQUENCE"]), str(event["STATUS"])) == (uid, 2, "CANCELLED")
        # RFC 5546 3.2.5: a CANCEL names its organizer and the attendees it cancels for
        assert (
            str(event["ORGANIZER"]).startswith("mailto:")
            and str(event["ATTENDEE"]) == f"mailto:{CLINICIAN.email}"
        )
    # Three calendar emails in all, one per change; the patient is never named
    assert len(_calendar_emails(case_id)) == 3
    assert all("Maria" not in part.get_content() for _, part in _calendar_emails(case_id))


def test_a_late_booked_notice_after_a_cancel_sends_no_stale_calendar_entry(api: Api) -> None:
    from functions.notifications.handler import lambda_handler as notifications
    from tests.integration.test_event_consumers import as_eventbridge, outbox_events

    case_id = ready_to_plan_case(api)
    booking = book(api, case_id, publish(api)[1]["blockId"])[1]
    api(
        "POST",
        "/cases/{caseId}/planning/cancel",
        f"/cases/{case_id}/planning/cancel",
        who=LAB_TECH,
        body={"version": booking["caseVersion"]},
    )
    events = {e["eventType"]: e for e in outbox_events(case_id)}
    # The cancellation is delivered first, the booking after it
    for kind in ("PlanningCancelled", "PlanningScheduled"):
        notifications(as_eventbridge(events[kind]), lambda_context("notifications"))
    [(subject, part)] = _calendar_emails(case_id)
    assert "cancelled" in subject and part.get_param("method") == "CANCEL"


@pytest.mark.parametrize("action", ["reschedule", "held", "cancel"])
def test_session_changes_check_the_case_version(api: Api, action: str) -> None:
    case_id = ready_to_plan_case(api)
    first, second = publish(api)[1], publish(api, start="2026-11-06T16:00")[1]
    booking = book(api, case_id, first["blockId"])[1]
    extra = {"blockId": second["blockId"]} if action == "reschedule" else {}
    route = f"/cases/{{caseId}}/planning/{action}"
    # A stale version is refused and changes nothing
    status, body = api(
        "POST", route, f"/cases/{case_id}/planning/{action}", who=LAB_TECH,
        body={**extra, "version": booking["caseVersion"] - 1},
    )  # fmt: skip
    assert (status, body["code"]) == (409, "VERSION_CONFLICT")
    session = api("GET", "/cases/{caseId}/planning", f"/cases/{case_id}/planning")[1]
    assert (session["status"], session["blockId"], session["sequence"]) == ("booked", first["blockId"], 0)
    # No version at all is a validation error
    status, body = api("POST", route, f"/cases/{case_id}/planning/{action}", who=LAB_TECH, body=extra)
    assert (status, body["code"]) == (422, "VALIDATION_FAILED")
    # The current one works, and moves the case's version on
    status, body = api(
        "POST", route, f"/cases/{case_id}/planning/{action}", who=LAB_TECH,
        body={**extra, "version": booking["caseVersion"]},
    )  # fmt: skip
    assert status == 200, body
    assert body["caseVersion"] == booking["caseVersion"] + 1
    case = api("GET", "/cases/{caseId}", f"/cases/{case_id}")[1]
    assert case["version"] == body["caseVersion"]


def test_a_publish_that_loses_the_race_checks_again_and_sees_the_overlap(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from caseroom.planning import dal as planning_dal

    # Given a publish whose overlap check runs while another overlapping block is published
    real_window = planning_dal.blocks_between
    calls = []

    def window_then_competitor(*args: Any) -> Any:
        seen = real_window(*args)
        calls.append(args)
        if len(calls) == 1:  # between our check and our write, a colleague publishes 10:30
            assert publish(api, start="2026-11-05T10:30")[0] == 201
        return seen

    monkeypatch.setattr(planning_dal, "blocks_between", window_then_competitor)
    # When ours (10:00-11:00) is written
    status, body = publish(api)
    # Then its write did not hold, the check ran again and saw the competitor
    assert (status, body["code"]) == (409, "BLOCK_OVERLAPS")
    assert len(calls) == 3  # ours, the competitor's, ours again
    monkeypatch.setattr(planning_dal, "blocks_between", real_window)
    starts = [b["start"] for b in api("GET", "/lab/planning/blocks", who=LAB_TECH)[1]["items"]]
    assert starts == ["2026-11-05T09:30:00Z"]  # 10:30 in Madrid
