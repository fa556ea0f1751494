"""Notifications and webhooks through the local runtime: the outbox relayed to the bus, moto's
real EventBridge pattern matching, the rule dispatcher invoking the real functions, timers
fired by the local scheduler at injected times, a receiver on 127.0.0.1 and live WebSockets."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

import functions.realtime.handler as realtime_handler
from caseroom import dynamo, notifier
from caseroom.chat import routes as chat_routes
from caseroom.chat.logic import ChatService
from caseroom.clock import FixedClock
from caseroom.notifications import routes as notification_routes
from caseroom.notifications import service as notification_service
from caseroom.notifications.api import NotificationService
from caseroom.settings import get_settings
from caseroom.webhooks import routes as webhook_routes
from caseroom.webhooks import sender
from caseroom.webhooks.api import WebhookService
from infra import manifest
from local.mailbox import sent_emails
from local.runtime import LocalRuntime
from local.tokens import SEEDED_USERS
from tests.support.webhook_receiver import Receiver, verify, webhook_receiver
from tests.support.ws_tickets import socket_url

CLINICIAN_SUB = SEEDED_USERS["clinician"].sub
CLINICIAN_EMAIL = SEEDED_USERS["clinician"].email
CROWN = {
    "patientName": "Maria Garcia",
    "rxDescription": "Zirconia crown, shade A2",
    "teeth": ["11"],
    "caseType": "crown",
    "attachments": [{"kind": "scan", "fileName": "upper.stl"}],
}


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    with LocalRuntime(clock=clock, background=False, retry_delay_s=0, inline=True) as started:
        sender.use_clock(clock)
        notification_service.use_clock(clock)
        webhook_routes.use_service(WebhookService(clock=clock))
        # $connect redeems tickets against its own clock, and chat_api issues them with the
        # chat service's: both the same injected one
        realtime_handler.use_clock(clock)
        chat_routes.use_service(ChatService(clock=clock))
        notification_routes.use_service(NotificationService(clock=clock))
        sender.use_random(lambda low, high: high)  # the longest backoff: deterministic timings
        yield started
    sender.use_clock(None)
    sender.use_random(None)
    webhook_routes.use_service(None)
    notification_routes.use_service(None)
    realtime_handler.use_clock(None)
    chat_routes.use_service(None)
    notification_service.use_clock(None)


@pytest.fixture
def clock(runtime: LocalRuntime) -> FixedClock:
    assert isinstance(runtime.clock, FixedClock)
    return runtime.clock


def api(runtime: LocalRuntime, user: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    headers = {"authorization": f"Bearer {runtime.sign_in(user)}", "content-type": "application/json"}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(runtime.base_url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def receiver(runtime: LocalRuntime) -> Iterator[Receiver]:
    with webhook_receiver() as started:
        yield started
    # Endpoints belong to the seeded clinician across tests: remove this test's ones.
    _, endpoints = api(runtime, "clinician", "GET", "/webhooks")
    for endpoint in endpoints["items"]:
        api(runtime, "clinician", "DELETE", f"/webhooks/{endpoint['endpointId']}")


def register(runtime: LocalRuntime, url: str, event_types: list[str]) -> dict[str, Any]:
    status, endpoint = api(runtime, "clinician", "POST", "/webhooks", {"url": url, "eventTypes": event_types})
    assert status == 201, endpoint
    return dict(endpoint)


def new_case(runtime: LocalRuntime) -> dict[str, Any]:
    status, case = api(runtime, "clinician", "POST", "/cases", CROWN)
    assert status == 201, case
    runtime.pump()
    return dict(case)


def reason_for(status: str) -> dict[str, str]:
    """On Hold and Cancelled need the lab's reason (the state machine refuses them without)."""
    return {"reason": "Waiting for a new scan"} if status in ("On Hold", "Cancelled") else {}


def lab_sets(runtime: LocalRuntime, case: dict[str, Any], status: str) -> dict[str, Any]:
    code, body = api(
        runtime,
        "lab",
        "PUT",
        f"/cases/{case['caseId']}/status",
        {"status": status, "version": case["version"], **reason_for(status)},
    )
    assert code == 200, body
    runtime.pump()
    return dict(body)


def fire_timers(runtime: LocalRuntime, clock: FixedClock, after: timedelta) -> int:
    clock.advance(seconds=after.total_seconds())
    fired = runtime.scheduler.fire_due(clock.now())
    runtime.pump()
    return fired


def deliveries(runtime: LocalRuntime, endpoint_id: str) -> list[dict[str, Any]]:
    status, page = api(runtime, "clinician", "GET", f"/webhooks/{endpoint_id}/deliveries")
    assert status == 200, page
    return list(page["items"])


def dead_letters(runtime: LocalRuntime) -> list[dict[str, Any]]:
    sqs = runtime.backend.client("sqs")
    url = get_settings().webhook_dlq_url
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
        "Messages", []
    )
    return [json.loads(m["Body"]) for m in messages]


# --- webhooks ----------------------------------------------------------------------------------


def test_a_status_change_arrives_signed_and_thin(
    runtime: LocalRuntime, receiver: Receiver, clock: FixedClock
) -> None:
    # Given an endpoint subscribed to status changes (the secret is shown once)
    endpoint = register(runtime, receiver.url, ["CaseStatusChanged"])
    assert endpoint["secret"].startswith("whsec_") and len(endpoint["secret"]) >= 6 + 32
    _, shown = api(runtime, "clinician", "GET", f"/webhooks/{endpoint['endpointId']}")
    assert "secret" not in shown

    # When the lab changes a case's status (CaseCreated is not subscribed: nothing for it)
    case = new_case(runtime)
    lab_sets(runtime, case, "Received")

    # Then exactly one signed delivery arrives, verifiable with the spec's algorithm
    [hook] = receiver.wait_for(1)
    assert verify(endpoint["secret"], hook.headers, hook.body, clock.now().timestamp())
    assert not verify("whsec_" + "A" * 44, hook.headers, hook.body, clock.now().timestamp())
    payload = json.loads(hook.body)
    assert payload["type"] == "CaseStatusChanged"
    assert payload["data"]["caseId"] == case["caseId"]
    # Thin: ids only (a status change names its timeline entry, readable through the API)
    assert set(payload["data"]) == {"eventId", "caseId", "subjectId"}
    assert b"Maria" not in hook.body and b"Zirconia" not in hook.body
    assert hook.headers["webhook-id"] == f"msg_{payload['data']['eventId']}"
    [logged] = deliveries(runtime, endpoint["endpointId"])
    assert (logged["status"], logged["attempts"], logged["lastStatusCode"]) == ("succeeded", 1, 200)


def test_retries_back_off_until_the_receiver_recovers(
    runtime: LocalRuntime, receiver: Receiver, clock: FixedClock
) -> None:
    # Given a receiver that fails twice, then answers 200
    receiver.statuses = [500, 503]
    endpoint = register(runtime, receiver.url, ["CaseStatusChanged"])
    case = new_case(runtime)
    lab_sets(runtime, case, "Received")
    receiver.wait_for(1)
    [pending] = deliveries(runtime, endpoint["endpointId"])
    assert (pending["status"], pending["attempts"], pending["lastStatusCode"]) == ("pending", 1, 500)

    # Then nothing happens before the backoff (at most 30 s * 2^1) elapses
    assert fire_timers(runtime, clock, timedelta(seconds=59)) == 0
    assert fire_timers(runtime, clock, timedelta(seconds=1)) == 1
    receiver.wait_for(2)
    assert fire_timers(runtime, clock, timedelta(seconds=120)) == 1
    hooks = receiver.wait_for(3)

    # And the third attempt succeeds; every attempt carried the same webhook-id, freshly signed
    [done] = deliveries(runtime, endpoint["endpointId"])
    assert (done["status"], done["attempts"], done["lastStatusCode"]) == ("succeeded", 3, 200)
    assert len({h.headers["webhook-id"] for h in hooks}) == 1
    assert all(verify(endpoint["secret"], h.headers, h.body, clock.now().timestamp()) for h in hooks)
    assert [s for s in runtime.scheduler.pending() if str(s["Name"]).startswith("whd-")] == []


def test_410_disables_the_endpoint_and_tells_its_owner(
    runtime: LocalRuntime, receiver: Receiver, clock: FixedClock
) -> None:
    receiver.statuses = [410]
    endpoint = register(runtime, receiver.url, ["CaseStatusChanged"])
    mails_before = len(sent_emails())
    case = new_case(runtime)
    lab_sets(runtime, case, "Received")
    receiver.wait_for(1)

    _, shown = api(runtime, "clinician", "GET", f"/webhooks/{endpoint['endpointId']}")
    assert shown["enabled"] is False and "410" in shown["disabledReason"]
    [dead] = [d for d in dead_letters(runtime) if d["endpointId"] == endpoint["endpointId"]]
    assert dead["reason"] == "the endpoint answered 410 Gone"
    mails = [m for m in sent_emails()[: len(sent_emails()) - mails_before] if "webhook" in m["subject"]]
    assert mails and mails[0]["to"] == [CLINICIAN_EMAIL] and endpoint["endpointId"] in mails[0]["body"]
    _, feed = api(runtime, "clinician", "GET", "/me/notifications")
    assert "WebhookEndpointDisabled" in [i["kind"] for i in feed["items"]]

    # Nothing more is sent to it; a test ping is refused until it is enabled again
    lab_sets(runtime, {**case, "version": case["version"] + 1}, "Manufacturing")
    assert len(receiver.received) == 1
    status, body = api(runtime, "clinician", "POST", f"/webhooks/{endpoint['endpointId']}/test")
    assert (status, body["code"]) == (409, "WEBHOOK_ENDPOINT_DISABLED")
    assert (
        api(runtime, "clinician", "POST", f"/webhooks/{endpoint['endpointId']}/enable")[1]["enabled"] is True
    )


def test_a_day_of_failures_ends_in_the_dlq_and_disables(
    runtime: LocalRuntime, receiver: Receiver, clock: FixedClock
) -> None:
    receiver.statuses = [500] * 1000
    endpoint = register(runtime, receiver.url, ["CaseStatusChanged"])
    case = new_case(runtime)
    started = clock.now()
    lab_sets(runtime, case, "Received")
    for _ in range(60):
        [delivery] = deliveries(runtime, endpoint["endpointId"])
        if delivery["status"] != "pending":
            break
        fire_timers(runtime, clock, timedelta(hours=1))
    assert delivery["status"] == "failed"
    assert delivery["lastError"] == "no successful delivery for a day"
    assert clock.now() - started >= timedelta(hours=23)
    assert 20 <= delivery["attempts"] == len(receiver.received) <= 40
    assert [d["deliveryId"] for d in dead_letters(runtime)].count(delivery["deliveryId"]) == 1
    _, shown = api(runtime, "clinician", "GET", f"/webhooks/{endpoint['endpointId']}")
    assert shown["enabled"] is False

    # A manual redelivery (after re-enabling) sends it again with the same webhook-id
    receiver.statuses = []
    api(runtime, "clinician", "POST", f"/webhooks/{endpoint['endpointId']}/enable")
    status, again = api(
        runtime,
        "clinician",
        "POST",
        f"/webhooks/{endpoint['endpointId']}/deliveries/{delivery['deliveryId']}/redeliver",
    )
    assert status == 202 and again["status"] == "pending"
    runtime.pump()
    [done] = deliveries(runtime, endpoint["endpointId"])
    assert done["status"] == "succeeded"
    assert receiver.received[-1].headers["webhook-id"] == receiver.received[0].headers["webhook-id"]


def test_rotation_signs_with_both_secrets_during_the_overlap(
    runtime: LocalRuntime, receiver: Receiver, clock: FixedClock
) -> None:
    endpoint = register(runtime, receiver.url, ["CaseStatusChanged"])
    old = endpoint["secret"]
    status, rotated = api(
        runtime,
        "clinician",
        "POST",
        f"/webhooks/{endpoint['endpointId']}/rotate-secret",
        {"overlapMinutes": 60},
    )
    assert status == 200 and rotated["secret"] != old

    # During the overlap a test ping carries two signatures: receivers on either secret accept it
    assert api(runtime, "clinician", "POST", f"/webhooks/{endpoint['endpointId']}/test")[0] == 202
    runtime.pump()
    [ping] = receiver.wait_for(1)
    assert len(ping.headers["webhook-signature"].split(" ")) == 2
    assert json.loads(ping.body)["type"] == "WebhookTest"
    now = clock.now().timestamp()
    assert verify(old, ping.headers, ping.body, now) and verify(
        rotated["secret"], ping.headers, ping.body, now
    )

    # After it, only the new secret signs
    clock.advance(minutes=61)
    api(runtime, "clinician", "POST", f"/webhooks/{endpoint['endpointId']}/test")
    runtime.pump()
    later = receiver.wait_for(2)[1]
    now = clock.now().timestamp()
    assert verify(rotated["secret"], later.headers, later.body, now)
    assert not verify(old, later.headers, later.body, now)


def test_a_duplicated_event_is_delivered_once(runtime: LocalRuntime, receiver: Receiver) -> None:
    endpoint = register(runtime, receiver.url, ["PlanningScheduled"])
    case = new_case(runtime)
    event = {
        "source": "caseroom",
        "detail-type": "PlanningScheduled",
        "detail": {
            "id": "evt-duplicate-1",
            "type": "PlanningScheduled",
            "version": "1",
            "time": "2026-11-02T09:00:00.000Z",
            "caseId": case["caseId"],
            "actor": CLINICIAN_SUB,
            "correlationId": "c",
            "subjectId": "session-1",
        },
    }
    events = runtime.backend.client("events")
    for _ in range(2):  # EventBridge delivers at least once: the same event twice on the bus
        events.put_events(
            Entries=[
                {
                    "Source": "caseroom",
                    "DetailType": "PlanningScheduled",
                    "Detail": json.dumps(event["detail"]),
                    "EventBusName": manifest.EVENT_BUS,
                }
            ]
        )
    runtime.pump()
    [hook] = receiver.wait_for(1)
    assert len(receiver.received) == 1
    assert json.loads(hook.body)["data"] == {
        "eventId": "evt-duplicate-1",
        "caseId": case["caseId"],
        "subjectId": "session-1",
    }
    assert len(deliveries(runtime, endpoint["endpointId"])) == 1


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://example.com/hook", "WEBHOOK_URL_NOT_HTTPS"),
        ("https://user:pw@example.com/hook", "WEBHOOK_URL_MALFORMED"),
        ("ftp://example.com/hook", "WEBHOOK_URL_MALFORMED"),
        ("https:///nohost", "WEBHOOK_URL_MALFORMED"),
        ("https://10.0.0.8/hook", "WEBHOOK_URL_FORBIDDEN_ADDRESS"),
        ("https://169.254.169.254/latest/meta-data", "WEBHOOK_URL_FORBIDDEN_ADDRESS"),
        ("https://[fd00:ec2::254]/", "WEBHOOK_URL_FORBIDDEN_ADDRESS"),
        ("http://10.0.0.8/hook", "WEBHOOK_URL_NOT_HTTPS"),
        ("https://host.invalid/hook", "WEBHOOK_URL_UNRESOLVABLE"),
    ],
)
def test_bad_webhook_urls_are_refused(runtime: LocalRuntime, url: str, code: str) -> None:
    status, body = api(runtime, "clinician", "POST", "/webhooks", {"url": url, "eventTypes": ["CaseCreated"]})
    assert (status, body["code"]) == (400, code)


def test_only_clinicians_register_and_only_their_own(runtime: LocalRuntime, receiver: Receiver) -> None:
    status, body = api(
        runtime, "lab", "POST", "/webhooks", {"url": receiver.url, "eventTypes": ["CaseCreated"]}
    )
    assert (status, body["code"]) == (403, "ROLE_NOT_ALLOWED")
    endpoint = register(runtime, receiver.url, ["CaseCreated"])
    status, body = api(runtime, "clinician2", "GET", f"/webhooks/{endpoint['endpointId']}")
    assert (status, body["code"]) == (404, "WEBHOOK_ENDPOINT_NOT_FOUND")
    status, body = api(runtime, "clinician2", "GET", f"/webhooks/{endpoint['endpointId']}/deliveries")
    assert status == 404


# --- live pushes, digest -------------------------------------------------------------------------


class WebSocketListener:
    """A WebSocket client in its own thread, collecting every message it receives."""

    def __init__(self, url: str) -> None:
        self.messages: list[dict[str, Any]] = []
        self._url = url
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with aiohttp.ClientSession() as session, session.ws_connect(self._url) as socket:
            self._ready.set()
            while not self._stop.is_set():
                try:
                    message = await asyncio.wait_for(socket.receive(), 0.1)
                except TimeoutError:
                    continue
                if message.type == aiohttp.WSMsgType.TEXT:
                    self.messages.append(json.loads(message.data))
                elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    return

    def __enter__(self) -> WebSocketListener:
        self._thread.start()
        assert self._ready.wait(10), "WebSocket did not connect"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def wait_for(self, predicate: Any, timeout_s: float = 10) -> dict[str, Any]:
        deadline = datetime.now(UTC) + timedelta(seconds=timeout_s)
        while datetime.now(UTC) < deadline:
            for message in self.messages:
                if predicate(message):
                    return message
            threading.Event().wait(0.05)
        raise AssertionError(f"no matching push; got {self.messages}")


def test_a_status_change_is_pushed_and_stale_connections_are_dropped(
    runtime: LocalRuntime, clock: FixedClock
) -> None:
    # Given a stale connection record of the clinician (its socket is long gone: 410 on post)
    table = get_settings().table_name
    client = runtime.backend.client("dynamodb")
    expires = int(clock.now().timestamp()) + 3600
    client.put_item(
        TableName=table,
        Item=dynamo.to_item(
            {
                "pk": "CONN#staleConn0000=",
                "sk": "CONN",
                "userId": CLINICIAN_SUB,
                "audiences": [f"USER#{CLINICIAN_SUB}"],
                "ttl": expires,
            }
        ),
    )
    client.put_item(
        TableName=table,
        Item=dynamo.to_item(
            {
                "pk": f"WS#USER#{CLINICIAN_SUB}",
                "sk": "CONN#staleConn0000=",
                "connectionId": "staleConn0000=",
                "ttl": expires,
            }
        ),
    )
    case = new_case(runtime)

    # When the clinician is connected and the lab puts the case on hold
    with (
        WebSocketListener(socket_url(runtime.base_url, runtime.sign_in("clinician"))) as clinician,
        WebSocketListener(socket_url(runtime.base_url, runtime.sign_in("lab"))) as lab,
    ):
        lab_sets(runtime, case, "On Hold")
        # Then the clinician's socket gets a thin push: ids and types only
        push = clinician.wait_for(lambda m: m.get("kind") == "CaseOnHold")
        assert push["caseId"] == case["caseId"] and push["type"] == "notification"
        assert set(push) == {"type", "notificationId", "kind", "caseId", "eventType", "eventId"}
        # And the lab, as a lab, hears about the new case (its shared feed's push)
        assert lab.messages == [] or all(m.get("caseId") for m in lab.messages)

    # And the stale connection's records are gone, the live ones were not touched by it
    assert "Item" not in client.get_item(TableName=table, Key=dynamo.key("CONN#staleConn0000=", "CONN"))
    assert "Item" not in client.get_item(
        TableName=table, Key=dynamo.key(f"WS#USER#{CLINICIAN_SUB}", "CONN#staleConn0000=")
    )


def test_publish_reaches_case_subscribers_once_they_exist(runtime: LocalRuntime, clock: FixedClock) -> None:
    with WebSocketListener(socket_url(runtime.base_url, runtime.sign_in("clinician2"))) as listener:
        [connection_id] = [
            c
            for c in runtime.gateway.connection_ids
            if "Item"
            in runtime.backend.client("dynamodb").get_item(
                TableName=get_settings().table_name,
                Key=dynamo.key(f"WS#USER#{SEEDED_USERS['clinician2'].sub}", f"CONN#{c}"),
            )
        ]
        assert notifier.publish("CASE-SUBS-0001", {"type": "case.event"}, clock) == 0  # nobody subscribed yet
        # What the chat feature will write when a connection subscribes to a case
        runtime.backend.client("dynamodb").put_item(
            TableName=get_settings().table_name,
            Item=dynamo.to_item(
                {
                    "pk": "WS#CASE#CASE-SUBS-0001",
                    "sk": f"CONN#{connection_id}",
                    "connectionId": connection_id,
                    "ttl": int(clock.now().timestamp()) + 3600,
                }
            ),
        )
        assert (
            notifier.publish("CASE-SUBS-0001", {"type": "case.event", "caseId": "CASE-SUBS-0001"}, clock) == 1
        )
        listener.wait_for(lambda m: m.get("type") == "case.event")
    with pytest.raises(notifier.MessageTooLarge):
        notifier.publish("CASE-SUBS-0001", {"blob": "x" * 40_000})


def test_the_daily_digest_is_sent_by_the_local_scheduler(runtime: LocalRuntime, clock: FixedClock) -> None:
    # Given a clinician with default preferences (progress -> digest at 07:00 UTC)
    case = new_case(runtime)
    mails_before = len(sent_emails())
    lab_sets(runtime, case, "Received")
    digest_at = notification_service.next_digest_at(clock.now(), None)
    [timer] = [s for s in runtime.scheduler.pending() if str(s["Name"]).startswith("digest-")]
    assert runtime.scheduler.fire_due(digest_at - timedelta(seconds=1)) == 0

    # When the digest time comes
    assert runtime.scheduler.fire_due(digest_at) >= 1
    runtime.pump()

    # Then one email summarises the day without patient data
    new = sent_emails()[: len(sent_emails()) - mails_before]
    [digest] = [m for m in new if "daily summary" in m["subject"]]
    assert digest["to"] == [CLINICIAN_EMAIL]
    assert f"Case {case['caseId']} is now Received" in digest["body"]
    assert "Maria" not in digest["body"]
    assert timer["Name"] not in [s["Name"] for s in runtime.scheduler.pending()]
