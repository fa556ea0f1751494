"""Notifications: feed, emails (immediate, digest, off), preferences and critical notices,
through the notifications function and the /me/notification* API, against moto."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from caseroom import aws, dynamo
from caseroom.auth import Principal
from caseroom.clock import FixedClock
from caseroom.notifications import routes as notification_routes
from caseroom.notifications import service, store
from caseroom.notifications.api import NotificationService
from caseroom.settings import get_settings
from tests.conftest import CLINICIAN, CLINICIAN_2, LAB_TECH, START, http_event, lambda_context
from tests.integration.test_cases_api import Call, call, create
from tests.integration.test_event_consumers import as_eventbridge, outbox_events, sent_emails

__all__ = ["call"]

Me = Callable[..., tuple[int, dict[str, Any]]]


@pytest.fixture
def me(call: Call, clock: FixedClock) -> Iterator[Me]:
    """The notifications API as `who` (default: the clinician)."""
    from functions.notifications_api.handler import lambda_handler

    notification_routes.use_service(NotificationService(clock=clock))
    service.use_clock(clock)
    counter = iter(range(1_000_000))

    def invoke(
        method: str, route: str, path: str | None = None, who: Principal = CLINICIAN, **kwargs: Any
    ) -> tuple[int, dict[str, Any]]:
        event = http_event(method, route, path or route, who, request_id=f"n-{next(counter)}", **kwargs)
        response = lambda_handler(event, lambda_context("notifications_api"))
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else {}

    yield invoke
    notification_routes.use_service(None)
    service.use_clock(None)


def notify(event: dict[str, Any]) -> dict[str, Any]:
    from functions.notifications.handler import lambda_handler

    result: dict[str, Any] = lambda_handler(event, lambda_context("notifications"))
    return result


def reason_for(status: str) -> dict[str, str]:
    """On Hold and Cancelled need the lab's reason (the state machine refuses them without)."""
    return {"reason": "Waiting for a new scan"} if status in ("On Hold", "Cancelled") else {}


def lab_sets(call: Call, case: dict[str, Any], status: str, clock: FixedClock) -> dict[str, Any]:
    clock.advance(seconds=1)  # outbox events are ordered by time
    code, body = call(
        "PUT",
        "/cases/{caseId}/status",
        f"/cases/{case['caseId']}/status",
        who=LAB_TECH,
        body={"status": status, "version": case["version"], **reason_for(status)},
    )
    assert code == 200, body
    return body


def last_event(case_id: str) -> dict[str, Any]:
    return as_eventbridge(outbox_events(case_id)[-1])


def event_of(case_id: str, event_type: str, subject_id: str = "", actor: str = "system") -> dict[str, Any]:
    detail = {
        "id": f"evt-{event_type}-{case_id}",
        "type": event_type,
        "version": "1",
        "time": "2026-11-02T09:30:00.000Z",
        "caseId": case_id,
        "actor": actor,
        "correlationId": "c-1",
        "subjectId": subject_id,
    }
    return {"source": "caseroom", "detail-type": event_type, "detail": detail}


def emails_to(address: str, since: int) -> list[Any]:
    return [m for m in sent_emails()[since:] if m.destinations["ToAddresses"] == [address]]


def test_on_hold_is_emailed_once_and_lands_in_the_feed(call: Call, me: Me, clock: FixedClock) -> None:
    # Given a case and a clinician who tried to mute everything that can be muted
    case = create(call)
    notify(last_event(case["caseId"]))
    status, _ = me("PUT", "/me/notification-preferences", body={"email": {"CaseStatusChanged": "off"}})
    assert status == 200
    before = len(sent_emails())

    # When the lab puts it on hold and the event arrives twice
    clock.advance(minutes=5)
    lab_sets(call, case, "On Hold", clock)
    event = last_event(case["caseId"])
    assert notify(event)["emailed"] == 1
    assert notify(event)["emailed"] == 0

    # Then one critical email, naming the case but not the patient, readable as text and HTML
    [email] = emails_to(CLINICIAN.email, before)
    assert case["caseId"] in email.subject and "on hold" in email.subject
    assert "Maria Garcia" not in email.body and "Zirconia" not in email.body
    # And the feed has it on top, unread
    status, page = me("GET", "/me/notifications")
    assert page["items"][0]["kind"] == "CaseOnHold"
    assert page["items"][0]["caseId"] == case["caseId"]
    assert page["items"][0]["read"] is False
    assert page["unreadCount"] == 2  # created + on hold


def test_critical_notices_cannot_be_muted(me: Me, call: Call, clock: FixedClock) -> None:
    # The API refuses it with a stable code
    for kind, mode in (("CaseOnHold", "off"), ("CaseNeedsClinician", "digest"), ("PlanningMissed", "off")):
        status, body = me("PUT", "/me/notification-preferences", body={"email": {kind: mode}})
        assert (status, body["code"]) == (422, "CRITICAL_NOTICE_NOT_MUTABLE"), kind
    status, body = me("PUT", "/me/notification-preferences", body={"email": {"LabNewCase": "off"}})
    assert (status, body["code"]) == (422, "NOTIFICATION_KIND_NOT_CONFIGURABLE")
    status, body = me("PUT", "/me/notification-preferences", body={"email": {"NoSuchKind": "off"}})
    assert (status, body["code"]) == (422, "VALIDATION_FAILED")

    # And a stored "off" written around the API is ignored by the sender
    store.put_preferences(
        CLINICIAN.user_id, store.Preferences({"CaseNeedsClinician": "off"}, None), clock.now()
    )
    case = create(call)
    before = len(sent_emails())
    lab_sets(call, case, "Missing CBCT/Models", clock)
    assert notify(last_event(case["caseId"]))["emailed"] == 1
    [email] = emails_to(CLINICIAN.email, before)
    assert "needs you" in email.subject and "Upload" in email.body
    status, prefs = me("GET", "/me/notification-preferences")
    by_kind = {p["kind"]: p for p in prefs["preferences"]}
    assert by_kind["CaseNeedsClinician"] == {
        "kind": "CaseNeedsClinician",
        "email": "immediate",
        "default": "immediate",
        "critical": True,
    }


def test_progress_goes_to_the_daily_digest_with_a_timer(call: Call, me: Me, clock: FixedClock) -> None:
    # Given the default preferences (status progress -> digest) and a digest hour of 07:00 UTC
    case = create(call)
    before = len(sent_emails())

    # When the lab moves the case along at 09:00 on Nov 2
    updated = lab_sets(call, case, "Received", clock)
    assert notify(last_event(case["caseId"]))["digested"] == 1
    clock.advance(minutes=1)
    lab_sets(call, updated, "Manufacturing", clock)
    notify(last_event(case["caseId"]))

    # Then nothing is emailed now, and one timer waits for Nov 3, 07:00 UTC
    assert emails_to(CLINICIAN.email, before) == []
    scheduler = aws.client("scheduler")
    schedules = scheduler.list_schedules(GroupName=get_settings().schedule_group)["Schedules"]
    [timer] = [s for s in schedules if s["Name"].startswith("digest-")]
    detail = scheduler.get_schedule(GroupName=get_settings().schedule_group, Name=timer["Name"])
    assert detail["ScheduleExpression"] == "at(2026-11-03T07:00:00)"
    payload = json.loads(detail["Target"]["Input"])
    assert payload == {"userId": CLINICIAN.user_id, "day": "2026-11-03"}

    # When the timer fires (twice: at-least-once)
    timer_event = {
        "source": "caseroom.scheduler",
        "detail-type": "NotificationDigestDue",
        "detail": payload,
    }
    assert notify(timer_event)["sent"] is True
    assert notify(timer_event)["sent"] is False

    # Then one digest lists both changes, without patient data
    [digest] = emails_to(CLINICIAN.email, before)
    assert "daily summary for 2026-11-03 (2 updates)" in digest.subject
    assert f"Case {case['caseId']} is now Manufacturing" in digest.body
    assert "Maria Garcia" not in digest.body


def test_off_means_feed_only(call: Call, me: Me) -> None:
    me("PUT", "/me/notification-preferences", body={"email": {"CaseShipped": "off"}, "digestHourUtc": 18})
    case = create(call)
    before = len(sent_emails())
    outcome = notify(event_of(case["caseId"], "CaseShipped", actor=LAB_TECH.user_id))
    assert (outcome["notices"], outcome["emailed"], outcome["digested"]) == (1, 0, 0)
    assert emails_to(CLINICIAN.email, before) == []
    _, prefs = me("GET", "/me/notification-preferences")
    assert prefs["digestHourUtc"] == 18


def test_shipped_email_carries_carrier_and_tracking(call: Call) -> None:
    case = create(call)
    # The workflow stores shipping on the case record (carrier, trackingNumber, trackingUrl)
    dynamo.dynamodb().update_item(
        TableName=get_settings().table_name,
        Key=dynamo.key(f"CASE#{case['caseId']}", "CASE"),
        UpdateExpression="SET carrier = :c, trackingNumber = :n, trackingUrl = :u",
        ExpressionAttributeValues={
            ":c": {"S": "UPS"},
            ":n": {"S": "1Z999AA10123456784"},
            ":u": {"S": "https://track.example.com/?n=1Z999<b>"},
        },
    )
    before = len(sent_emails())
    notify(event_of(case["caseId"], "CaseShipped", actor=LAB_TECH.user_id))
    [email] = emails_to(CLINICIAN.email, before)
    assert "has shipped" in email.subject
    assert "UPS" in email.body and "1Z999AA10123456784" in email.body
    # moto keeps the HTML part: every value is escaped, the link too
    assert "1Z999&lt;b&gt;" in email.body and "<b>" not in email.body


@pytest.mark.parametrize(
    ("event_type", "subject_words", "body_words"),
    [
        ("PlanningScheduled", "planning session booked", "time and the meeting link are in CaseRoom"),
        ("PlanningMissed", "planning session missed", "Planning No Show"),
        ("PlanningCancelled", "planning session cancelled", "book another session"),
        ("FileQuarantined", "was quarantined", "failed verification"),
    ],
)
def test_planning_and_quarantine_emails(
    call: Call, event_type: str, subject_words: str, body_words: str
) -> None:
    case = create(call, attachments=[{"kind": "scan", "fileName": "secret-patient-name.stl"}])
    before = len(sent_emails())
    notify(event_of(case["caseId"], event_type, subject_id="obj-1"))
    [email] = emails_to(CLINICIAN.email, before)
    assert subject_words in email.subject and case["caseId"] in email.subject
    assert body_words in email.body
    assert "secret-patient-name" not in email.body and "Maria Garcia" not in email.body


def test_feed_pages_newest_first_and_counts_clear(call: Call, me: Me, clock: FixedClock) -> None:
    # Given five notices in the clinician's feed
    case = create(call)
    version = case
    for new_status in ("Received", "On Hold", "Processing", "Missing CBCT/Models", "Received"):
        clock.advance(minutes=1)
        version = lab_sets(call, version, new_status, clock)
        notify(last_event(case["caseId"]))
    status, unread = me("GET", "/me/notifications/unread-count")
    assert unread == {"unreadCount": 5}

    # When reading it two at a time
    _, first = me("GET", "/me/notifications", query={"limit": "2"})
    _, second = me("GET", "/me/notifications", query={"limit": "2", "cursor": first["nextCursor"]})
    kinds = [i["kind"] for i in first["items"] + second["items"]]
    assert kinds == ["CaseStatusChanged", "CaseNeedsClinician", "CaseStatusChanged", "CaseOnHold"]
    times = [i["createdAt"] for i in first["items"] + second["items"]]
    assert times == sorted(times, reverse=True)

    # Then marking one read lowers the count once, and marking all clears it
    target = first["items"][1]["notificationId"]
    assert me("POST", "/me/notifications/{notificationId}/read", f"/me/notifications/{target}/read")[1] == {
        "notificationId": target,
        "unreadCount": 4,
    }
    me("POST", "/me/notifications/{notificationId}/read", f"/me/notifications/{target}/read")
    assert me("GET", "/me/notifications/unread-count")[1] == {"unreadCount": 4}
    status, body = me("POST", "/me/notifications/read-all")
    assert (status, body["unreadCount"]) == (200, 0)
    _, page = me("GET", "/me/notifications")
    assert all(i["read"] for i in page["items"])

    # And a notice after "read all" counts again
    clock.advance(minutes=1)
    lab_sets(call, version, "On Hold", clock)
    notify(last_event(case["caseId"]))
    assert me("GET", "/me/notifications/unread-count")[1] == {"unreadCount": 1}


def test_a_user_sees_only_their_own_feed(call: Call, me: Me) -> None:
    case = create(call)
    notify(last_event(case["caseId"]))
    _, mine = me("GET", "/me/notifications")
    [item] = mine["items"]
    # Another clinician sees nothing and cannot mark the item read
    _, theirs = me("GET", "/me/notifications", who=CLINICIAN_2)
    assert theirs["items"] == [] and theirs["unreadCount"] == 0
    path = f"/me/notifications/{item['notificationId']}/read"
    status, body = me("POST", "/me/notifications/{notificationId}/read", path, who=CLINICIAN_2)
    assert (status, body["code"]) == (404, "NOTIFICATION_NOT_FOUND")
    status, body = me("POST", "/me/notifications/{notificationId}/read", "/me/notifications/..%2f/read")
    assert status == 404
    # A cursor from my feed does not open theirs
    _, page = me("GET", "/me/notifications", query={"limit": "1"})
    assert page["nextCursor"]
    status, body = me("GET", "/me/notifications", query={"cursor": page["nextCursor"]}, who=CLINICIAN_2)
    assert (status, body["code"]) == (400, "INVALID_CURSOR")
    # The lab's shared feed has the new case
    _, lab = me("GET", "/me/notifications", who=LAB_TECH)
    assert [i["kind"] for i in lab["items"]] == ["LabNewCase"]


def test_lab_hears_about_what_the_system_did_and_about_files(call: Call, me: Me, clock: FixedClock) -> None:
    case = create(call)
    notify(event_of(case["caseId"], "FileAdded", subject_id="file-1", actor=CLINICIAN.user_id))
    clock.advance(seconds=1)  # the feed is newest first; same-instant notices have no defined order
    notify(event_of(case["caseId"], "CaseStatusChanged", actor="system:case_workflow"))
    _, lab = me("GET", "/me/notifications", who=LAB_TECH)
    assert [i["kind"] for i in lab["items"]] == ["LabStatusChangedBySystem", "LabFileAdded"]
    assert lab["items"][1]["subjectId"] == "file-1"


def test_a_missed_session_emails_the_clinician_once(call: Call) -> None:
    # Given a case the missed-session timer moved to Planning No Show (as case_workflow does)
    case = create(call)
    dynamo.dynamodb().update_item(
        TableName=get_settings().table_name,
        Key=dynamo.key(f"CASE#{case['caseId']}", "CASE"),
        UpdateExpression="SET #s = :s, attention = :a",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "Planning No Show"}, ":a": {"S": "red"}},
    )
    before = len(sent_emails())
    # When both events of that change arrive
    notify(event_of(case["caseId"], "PlanningMissed", actor="system:case_workflow", subject_id="s-1"))
    notify(event_of(case["caseId"], "CaseStatusChanged", actor="system:case_workflow"))
    # Then the clinician gets the one critical "missed" email, not a second "needs you" one
    [email] = emails_to(CLINICIAN.email, before)
    assert "planning session missed" in email.subject


def test_status_events_for_one_case_version_notify_once(call: Call, me: Me, clock: FixedClock) -> None:
    # Two status events processed after the case reached its latest version describe the same state
    case = create(call)
    updated = lab_sets(call, case, "Received", clock)
    first = last_event(case["caseId"])
    lab_sets(call, updated, "On Hold", clock)
    second = last_event(case["caseId"])
    assert notify(second)["notices"] == 1
    assert notify(first)["notices"] == 0  # late, and the case is On Hold either way
    _, page = me("GET", "/me/notifications")
    assert [i["kind"] for i in page["items"]] == ["CaseOnHold"]


def test_email_audit_record_reads_back_through_the_audit_trail(call: Call) -> None:
    from caseroom import audit_store
    from caseroom.audit import RequestMeta
    from caseroom.paging import PageRequest

    case = create(call)
    notify(last_event(case["caseId"]))
    page = PageRequest(CLINICIAN, RequestMeta("test", "127.0.0.1"), 50, None, FixedClock(START).now())
    records, _ = audit_store.list_for_case(case["caseId"], page)
    assert "email.notice" in [r.action for r in records]


def test_on_hold_is_emailed_even_when_the_lab_moved_the_case_on_before_it_was_processed(
    call: Call, me: Me, clock: FixedClock
) -> None:
    # Given a clinician who muted ordinary status emails
    case = create(call)
    notify(last_event(case["caseId"]))
    me("PUT", "/me/notification-preferences", body={"email": {"CaseStatusChanged": "off"}})
    before = len(sent_emails())
    # When the lab puts the case On Hold and resumes it before the consumer runs
    held = lab_sets(call, case, "On Hold", clock)
    on_hold_event = last_event(case["caseId"])
    lab_sets(call, held, "Processing", clock)
    resumed_event = last_event(case["caseId"])
    # Then the late On Hold event still sends the critical email (once, whatever the redelivery)
    assert notify(on_hold_event)["emailed"] == 1
    assert notify(on_hold_event)["emailed"] == 0
    [email] = emails_to(CLINICIAN.email, before)
    assert "on hold" in email.subject and case["caseId"] in email.subject
    # And the resume is one ordinary notice (not emailed: muted), not a second On Hold
    assert notify(resumed_event)["emailed"] == 0
    _, page = me("GET", "/me/notifications")
    kinds = [i["kind"] for i in page["items"]]
    assert kinds.count("CaseOnHold") == 1 and kinds.count("CaseStatusChanged") == 1


def test_expired_feed_items_are_filtered_on_read_and_the_unread_count_follows(
    call: Call, me: Me, clock: FixedClock
) -> None:
    from caseroom.notifications import store

    # Given two unread notices ten days apart
    case = create(call)
    notify(last_event(case["caseId"]))
    clock.advance(days=10)
    held = lab_sets(call, case, "On Hold", clock)
    notify(last_event(case["caseId"]))
    assert me("GET", "/me/notifications/unread-count")[1] == {"unreadCount": 2}
    _, page = me("GET", "/me/notifications")
    older = page["items"][1]["notificationId"]

    # When the first one passes its retention (DynamoDB has not deleted it yet)
    clock.advance(days=store.FEED_RETENTION_DAYS - 9)
    # Then the feed, the count and mark-read all treat it as gone
    _, page = me("GET", "/me/notifications")
    assert [i["kind"] for i in page["items"]] == ["CaseOnHold"]
    assert page["unreadCount"] == 1
    path = f"/me/notifications/{older}/read"
    status, body = me("POST", "/me/notifications/{notificationId}/read", path)
    assert (status, body["code"]) == (404, "NOTIFICATION_NOT_FOUND")
    # And when TTL does delete it, nothing drifts
    dynamo.dynamodb().delete_item(
        TableName=get_settings().table_name, Key=dynamo.key(f"FEED#USER#{CLINICIAN.user_id}", f"N#{older}")
    )
    assert me("GET", "/me/notifications/unread-count")[1] == {"unreadCount": 1}
    # A new notice counts once; when everything has expired the count is 0, not a stuck badge
    lab_sets(call, held, "Processing", clock)
    notify(last_event(case["caseId"]))
    assert me("GET", "/me/notifications/unread-count")[1] == {"unreadCount": 2}
    clock.advance(days=store.FEED_RETENTION_DAYS + 1)
    assert me("GET", "/me/notifications/unread-count")[1] == {"unreadCount": 0}
    assert me("GET", "/me/notifications")[1]["items"] == []


def test_expired_webhook_deliveries_are_filtered_on_read(aws_backend: None) -> None:
    from datetime import UTC, datetime, timedelta

    from caseroom.audit import RequestMeta
    from caseroom.paging import PageRequest
    from caseroom.webhooks import sender, store

    # Given a delivery stored 31 days ago (retention 30) that TTL has not deleted yet
    created = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    endpoint = store.Endpoint(
        endpoint_id="ep_0123456789abcdef0123", owner_id=CLINICIAN.user_id, owner_email=CLINICIAN.email,
        owner_name="Ana", url="https://93.184.216.34/hook", event_types=("CaseCreated",), description="",
        enabled=True, created_at="2026-10-01T09:00:00.000Z", secret="whsec_x",
    )  # fmt: skip
    delivery = sender.new_delivery(endpoint, "msg_1", "CaseCreated", "evt-1", "CASE-1", created, "{}")
    assert store.create_delivery(delivery)
    retention = timedelta(seconds=store.DELIVERY_RETENTION_SECONDS)
    before, after = created + retention - timedelta(seconds=1), created + retention
    # Then it is listed and found until its retention ends, and neither afterwards
    for moment, expected in ((before, 1), (after, 0)):
        page = PageRequest(CLINICIAN, RequestMeta("test", "127.0.0.1"), 25, None, moment)
        items, _ = store.list_deliveries(endpoint.endpoint_id, page)
        assert len(items) == expected
        found = store.get_delivery(endpoint.endpoint_id, delivery.delivery_id, int(moment.timestamp()))
        assert (found is not None) == bool(expected)
