"""The room (chat) in process against moto: tickets, joining, sending and the fan-out, history
and resuming, unread counts, edits and deletes, removal closing the member's connections, the
patient room and its attachments, limits; and every "Bad input" of issue 13 that is the room's:
joining a room of a case you are not on, a reused or expired ticket, oversized or malformed
frames, an attachment id from another case, sending after removal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from caseroom import dynamo, realtime
from caseroom.chat import dal as chat_dal
from caseroom.chat import routes as chat_routes
from caseroom.chat.logic import ChatService
from caseroom.clock import FixedClock
from caseroom.events import DomainEvent
from caseroom.notifications import service as notifications
from caseroom.settings import get_settings
from tests.conftest import CLINICIAN, CLINICIAN_2, LAB_TECH, REMOVED_COLLEAGUE, SURGEON
from tests.integration import chat_support as ws
from tests.integration.test_access_matrix import (
    CROWN,
    VERIFIED_PATIENT,
    Api,
    World,
    _available_photo,
    _ok,
    build_world,
    services_on,
)
from tests.integration.workflow_support import outbox_types

MESSAGES = "/cases/{caseId}/rooms/{room}/messages"
MESSAGE = "/cases/{caseId}/rooms/{room}/messages/{messageId}"


@pytest.fixture
def api(aws_backend: None, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    with services_on(clock, monkeypatch) as invoke:
        yield invoke


@pytest.fixture
def chat(api: Api, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[ws.Connections]:
    """The chat API and the realtime function on the test's clock, posting to a recorder."""
    from functions.realtime import handler

    connections = ws.Connections()
    monkeypatch.setenv("CASEROOM_WEBSOCKET_ENDPOINT", "https://ws.caseroom.test/local")
    get_settings.cache_clear()
    real_client = __import__("caseroom.aws", fromlist=["client"]).client

    def client(name: str, **kwargs: Any) -> Any:
        return connections if name == "apigatewaymanagementapi" else real_client(name, **kwargs)

    monkeypatch.setattr("caseroom.notifier.aws.client", client)
    chat_routes.use_service(ChatService(clock=clock))
    handler.use_clock(clock)
    yield connections
    chat_routes.use_service(None)
    handler.use_clock(None)
    get_settings.cache_clear()


@pytest.fixture
def world(api: Api) -> World:
    """A case with its team (active SURGEON, pending, declined, removed colleagues) and the
    connected patient (VERIFIED_PATIENT)."""
    return build_world(api, "GET /cases/{caseId}")


def send(api: Api, world: World, who: Any, room: str = "team", **body: Any) -> tuple[int, Any]:
    path = MESSAGES.format(caseId=world.case_id, room=room)
    return api("POST", MESSAGES, path, who=who, body={"text": "Crown margin looks good", **body})


def history(api: Api, world: World, who: Any, room: str = "team", **query: str) -> tuple[int, Any]:
    path = MESSAGES.format(caseId=world.case_id, room=room)
    return api("GET", MESSAGES, path, who=who, query=query or None)


# --- tickets ----------------------------------------------------------------------------------


def test_a_ticket_opens_one_connection_and_only_once(api: Api, chat: ws.Connections) -> None:
    ticket = ws.ticket(api, CLINICIAN)
    status, connection_id, _ = ws.connect_with(ticket)
    assert status == 200
    # The connection knows who holds it (the ticket's principal)
    found = realtime.connection(connection_id, 0)
    assert found is not None and found[0].user_id == CLINICIAN.user_id
    # When the same ticket is presented again, it is refused
    status, _, body = ws.connect_with(ticket)
    assert (status, body["code"]) == (401, "TICKET_INVALID")
    # ...as are a made-up ticket and no ticket at all
    assert ws.connect_with("x" * 43)[2]["code"] == "TICKET_INVALID"
    assert ws.connect_with(None)[2]["code"] == "TICKET_INVALID"
    # ...and the ID token path is gone: a valid ID token in the URL opens nothing
    from caseroom.auth import claims_for

    event = {
        "requestContext": {"routeKey": "$connect", "connectionId": "tokenConn0000=", "requestId": "r"},
        "queryStringParameters": {"token": json.dumps(claims_for(CLINICIAN))},
    }
    result = ws.realtime(event)
    assert (result["statusCode"], json.loads(result["body"])["code"]) == (401, "TICKET_INVALID")
    assert realtime.connection("tokenConn0000=", 0) is None


def test_an_expired_ticket_is_refused_even_before_ttl_removes_it(
    api: Api, chat: ws.Connections, clock: FixedClock
) -> None:
    ticket = ws.ticket(api, CLINICIAN)
    clock.advance(seconds=61)
    status, _, body = ws.connect_with(ticket)
    assert (status, body["code"]) == (401, "TICKET_EXPIRED")
    assert ticket not in json.dumps(body)
    # The item was still there (TTL lags), and the attempt used it up
    status, _, body = ws.connect_with(ticket)
    assert body["code"] == "TICKET_INVALID"


def test_tickets_need_an_account(api: Api, chat: ws.Connections) -> None:
    status, body = api("POST", "/realtime/tickets", who=None)
    assert (status, body["code"]) == (401, "UNAUTHENTICATED")


def test_a_user_over_the_connection_limit_is_refused_others_are_not(api: Api, chat: ws.Connections) -> None:
    for _ in range(realtime.MAX_CONNECTIONS_PER_USER):
        ws.connect(api, CLINICIAN)
    status, _, body = ws.connect_with(ws.ticket(api, CLINICIAN))
    assert (status, body["code"]) == (429, "TOO_MANY_CONNECTIONS")
    assert ws.connect_with(ws.ticket(api, SURGEON))[0] == 200


# --- joining, sending, the fan-out --------------------------------------------------------------


def test_send_reaches_every_connection_in_the_room_once_and_is_stored(
    api: Api, chat: ws.Connections, world: World
) -> None:
    owner, surgeon, lab = (ws.connect(api, who) for who in (CLINICIAN, SURGEON, LAB_TECH))
    bystander = ws.connect(api, SURGEON)  # connected, but never joined the room
    for connection_id in (owner, surgeon, lab):
        reply = ws.frame(connection_id, {"action": "join", "caseId": world.case_id, "room": "team"})
        assert reply == {"type": "joined", "caseId": world.case_id, "room": "team"}
    # When the surgeon sends a message
    reply = ws.frame(
        surgeon, {"action": "send", "caseId": world.case_id, "room": "team", "text": "Ready?", "ref": "c1"}
    )
    assert reply["type"] == "sent" and reply["ref"] == "c1"
    # Then every connection in the room got it once, the bystander nothing
    for connection_id in (owner, surgeon, lab):
        [pushed] = chat.to(connection_id)
        assert pushed["type"] == "message"
        assert pushed["message"]["text"] == "Ready?" and pushed["message"]["authorId"] == SURGEON.user_id
    assert chat.to(bystander) == []
    # ...it is stored, audited, and its event is in the outbox (offline members are told from it)
    stored = chat_dal.get_message(world.case_id, "team", reply["messageId"])
    assert stored is not None and stored.text == "Ready?"
    assert "ChatMessagePosted" in outbox_types(world.case_id)
    assert ("chat.post", reply["messageId"]) in _case_audit(world.case_id)


def test_a_stale_connection_loses_its_own_records_never_the_senders(
    api: Api, chat: ws.Connections, world: World
) -> None:
    sender, stale = ws.connect(api, CLINICIAN), ws.connect(api, SURGEON)
    for connection_id in (sender, stale):
        ws.frame(connection_id, {"action": "join", "caseId": world.case_id, "room": "team"})
    chat.gone.add(stale)
    assert (
        ws.frame(sender, {"action": "send", "caseId": world.case_id, "room": "team", "text": "x"})["type"]
        == "sent"
    )
    audience = realtime.room_audience(world.case_id, "team")
    assert list(realtime.members_of(audience, 0)) == [sender]
    assert realtime.connection(stale, 0) is None and realtime.connection(sender, 0) is not None


def test_joining_a_room_of_a_case_you_are_not_on_is_refused(
    api: Api, chat: ws.Connections, world: World
) -> None:
    for who in (CLINICIAN_2, REMOVED_COLLEAGUE):
        connection_id = ws.connect(api, who)
        reply = ws.frame(connection_id, {"action": "join", "caseId": world.case_id, "room": "team"})
        assert reply == {
            "type": "error",
            "code": "CASE_NOT_FOUND",
            "message": "No such case.",
            "action": "join",
        }
        assert realtime.members_of(realtime.room_audience(world.case_id, "team"), 0) == {}
    # The case's lab sees the case but never the patient room; the patient never the team room
    lab = ws.connect(api, LAB_TECH)
    assert (
        ws.frame(lab, {"action": "join", "caseId": world.case_id, "room": "patient"})["code"]
        == "ROLE_NOT_ALLOWED"
    )
    patient = ws.connect(api, VERIFIED_PATIENT)
    assert (
        ws.frame(patient, {"action": "join", "caseId": world.case_id, "room": "team"})["code"]
        == "ROLE_NOT_ALLOWED"
    )
    assert (
        ws.frame(patient, {"action": "join", "caseId": world.case_id, "room": "patient"})["type"] == "joined"
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("not json", "MALFORMED_FRAME"),
        ("[1, 2]", "MALFORMED_FRAME"),
        ('{"text": "no action"}', "MALFORMED_FRAME"),
        ('{"action": "dance"}', "UNKNOWN_ACTION"),
        ('{"action": "join", "caseId": "X", "room": "lobby"}', "VALIDATION_FAILED"),
        ('{"action": "send", "room": "team", "text": "no case"}', "VALIDATION_FAILED"),
        (
            '{"action": "send", "caseId": "X", "room": "team", "text": "a", "color": "red"}',
            "VALIDATION_FAILED",
        ),
        ("{" * 5000, "MALFORMED_FRAME"),
        (
            '{"action": "send", "caseId": "X", "room": "team", "text": "' + "y" * 40_000 + '"}',
            "MALFORMED_FRAME",
        ),
    ],
)
def test_malformed_and_oversized_frames_get_error_frames_that_echo_nothing(
    api: Api, chat: ws.Connections, body: str, code: str
) -> None:
    connection_id = ws.connect(api, CLINICIAN)
    reply = ws.frame(connection_id, body)
    assert reply["type"] == "error" and reply["code"] == code
    assert "no case" not in str(reply) and "red" not in str(reply) and "yyyy" not in str(reply)


def test_message_limits_and_what_may_be_attached(
    api: Api, chat: ws.Connections, world: World, clock: FixedClock
) -> None:
    connection_id = ws.connect(api, CLINICIAN)
    base = {"action": "send", "caseId": world.case_id, "room": "team"}
    secret = "Maria's secret " * 300  # 4500 characters
    reply = ws.frame(connection_id, {**base, "text": secret})
    assert reply["code"] == "MESSAGE_TOO_LONG" and "Maria" not in str(reply)
    assert ws.frame(connection_id, {**base, "text": "é" * 4000})["type"] == "sent"  # characters, not bytes
    assert ws.frame(connection_id, {**base, "text": "   "})["code"] == "MESSAGE_EMPTY"
    assert ws.frame(connection_id, {**base, "text": "a", "replyTo": "m" + "1" * 13 + "a" * 16})["code"] == (
        "REPLY_TO_NOT_FOUND"
    )
    clock.advance(seconds=2)  # every send frame spends a token of the connection's bucket (5/s)
    # An attachment id from another case (the same clinician's) is not found, nothing is stored
    other_case = _ok(api("POST", "/cases", who=CLINICIAN, body=CROWN), 201)["caseId"]
    foreign = _available_photo(api, other_case, CLINICIAN)
    before = chat_dal.latest_message_id(world.case_id, "team")
    assert (
        ws.frame(connection_id, {**base, "text": "see", "attachments": [foreign]})["code"]
        == "ATTACHMENT_NOT_FOUND"
    )
    assert chat_dal.latest_message_id(world.case_id, "team") == before
    # ...a file of the case is attached; mentions must be the team's
    mine = _available_photo(api, world.case_id, CLINICIAN)
    assert ws.frame(connection_id, {**base, "text": "see", "attachments": [mine]})["type"] == "sent"
    clock.advance(seconds=2)
    assert ws.frame(connection_id, {**base, "text": "@x", "mentions": [CLINICIAN_2.user_id]})["code"] == (
        "MENTION_NOT_MEMBER"
    )
    assert ws.frame(connection_id, {**base, "text": "@s", "mentions": [SURGEON.user_id]})["type"] == "sent"


def test_a_connection_over_its_rate_gets_an_error_frame_others_do_not(
    api: Api, chat: ws.Connections, world: World, clock: FixedClock
) -> None:
    fast, calm = ws.connect(api, CLINICIAN), ws.connect(api, SURGEON)
    base = {"action": "send", "caseId": world.case_id, "room": "team", "text": "hi"}
    replies = [ws.frame(fast, base)["type"] for _ in range(6)]
    assert replies == ["sent"] * 5 + ["error"]
    assert ws.frame(fast, base)["code"] == "RATE_LIMITED"
    assert ws.frame(calm, base)["type"] == "sent"
    clock.advance(seconds=1)
    assert ws.frame(fast, base)["type"] == "sent"  # refilled
    assert ws.frame(fast, {"action": "ping"})["type"] == "pong"


# --- history, resuming, unread --------------------------------------------------------------------


def test_history_pages_newest_first_and_resumes_after_a_message_without_gaps(
    api: Api, chat: ws.Connections, world: World, clock: FixedClock
) -> None:
    ids = []
    for n in range(7):
        clock.advance(seconds=1)
        ids.append(_ok(send(api, world, CLINICIAN, text=f"note {n}"), 201)["messageId"])
    # A new member sees the whole history, newest first, in pages with authenticated cursors
    first = _ok(history(api, world, SURGEON, limit="3"))
    assert [m["messageId"] for m in first["items"]] == ids[::-1][:3]
    second = _ok(history(api, world, SURGEON, limit="3", cursor=first["nextCursor"]))
    assert [m["messageId"] for m in second["items"]] == ids[::-1][3:6]
    # ...someone else's cursor does not open
    status, body = history(api, world, CLINICIAN, limit="3", cursor=first["nextCursor"])
    assert (status, body["code"]) == (400, "INVALID_CURSOR")
    # A reconnecting client resumes after the last id it saw: the rest, oldest first, once each
    resumed = _ok(history(api, world, SURGEON, after=ids[3]))
    assert [m["messageId"] for m in resumed["items"]] == ids[4:]
    assert ("chat.team.read", "team") in _case_audit(world.case_id)


def test_unread_counts_per_member_and_room(
    api: Api, chat: ws.Connections, world: World, clock: FixedClock
) -> None:
    rooms = "/cases/{caseId}/rooms"
    path = rooms.format(caseId=world.case_id)
    ids = []
    for n in range(3):
        clock.advance(seconds=1)
        ids.append(_ok(send(api, world, CLINICIAN, text=f"t{n}"), 201)["messageId"])
    _ok(send(api, world, CLINICIAN, room="patient", text="For you"), 201)
    surgeon_rooms = {r["room"]: r["unread"] for r in _ok(api("GET", rooms, path, who=SURGEON))["items"]}
    assert surgeon_rooms == {"team": 3, "patient": 1}
    owner_rooms = {r["room"]: r["unread"] for r in _ok(api("GET", rooms, path, who=CLINICIAN))["items"]}
    assert owner_rooms == {"team": 0, "patient": 0}  # their own messages
    # The lab sees only the team room, the patient only theirs
    assert [r["room"] for r in _ok(api("GET", rooms, path, who=LAB_TECH))["items"]] == ["team"]
    assert [r["room"] for r in _ok(api("GET", rooms, path, who=VERIFIED_PATIENT))["items"]] == ["patient"]
    # When the surgeon marks the second message read
    connection_id = ws.connect(api, SURGEON)
    reply = ws.frame(
        connection_id, {"action": "read", "caseId": world.case_id, "room": "team", "messageId": ids[1]}
    )
    assert reply["type"] == "read"
    surgeon_rooms = {r["room"]: r["unread"] for r in _ok(api("GET", rooms, path, who=SURGEON))["items"]}
    assert surgeon_rooms == {"team": 1, "patient": 1}


# --- edits and deletes ---------------------------------------------------------------------------


def test_the_author_edits_and_deletes_within_the_window_and_the_original_is_kept(
    api: Api, chat: ws.Connections, world: World, clock: FixedClock
) -> None:
    # Given the owner and the lab in the room
    watchers = [ws.connect(api, who) for who in (CLINICIAN, LAB_TECH)]
    for connection_id in watchers:
        ws.frame(connection_id, {"action": "join", "caseId": world.case_id, "room": "team"})
    message_id = _ok(send(api, world, SURGEON, text="Margin at 0.5 mm"), 201)["messageId"]
    path = MESSAGE.format(caseId=world.case_id, room="team", messageId=message_id)
    # Someone else cannot edit it
    status, body = api("PATCH", MESSAGE, path, who=CLINICIAN, body={"text": "Hacked"})
    assert (status, body["code"]) == (403, "ROLE_NOT_ALLOWED")
    # The author can, and it shows as edited
    edited = _ok(api("PATCH", MESSAGE, path, who=SURGEON, body={"text": "Margin at 0.4 mm"}))
    assert edited["text"] == "Margin at 0.4 mm" and edited["editedAt"]
    deleted = _ok(api("DELETE", MESSAGE, path, who=SURGEON))
    assert deleted["text"] == "" and deleted["deletedAt"]
    # Every connection in the room was pushed the send, the edit and the delete, in that order
    for connection_id in watchers:
        pushed = [(p["type"], p["message"]["text"]) for p in chat.to(connection_id)]
        assert pushed == [
            ("message", "Margin at 0.5 mm"),
            ("message.edited", "Margin at 0.4 mm"),
            ("message.deleted", ""),
        ]
    [shown] = _ok(history(api, world, CLINICIAN))["items"]
    assert shown["deletedAt"] and shown["text"] == ""
    # The originals stay (insert-only revisions next to the audit records)
    kept = [r.text for r in chat_dal.revisions(world.case_id, "team", message_id)]
    assert sorted(kept) == ["Margin at 0.4 mm", "Margin at 0.5 mm"]
    audit = _case_audit(world.case_id)
    assert ("chat.message.edit", message_id) in audit and ("chat.message.delete", message_id) in audit
    # Past the window, no more edits
    later = _ok(send(api, world, SURGEON, text="Second"), 201)["messageId"]
    clock.advance(minutes=16)
    path = MESSAGE.format(caseId=world.case_id, room="team", messageId=later)
    status, body = api("PATCH", MESSAGE, path, who=SURGEON, body={"text": "Too late"})
    assert (status, body["code"]) == (409, "EDIT_WINDOW_CLOSED")


# --- removal --------------------------------------------------------------------------------------


def test_removal_closes_the_members_connections_and_they_receive_nothing_more(
    api: Api, chat: ws.Connections, world: World
) -> None:
    owner, surgeon = ws.connect(api, CLINICIAN), ws.connect(api, SURGEON)
    for connection_id in (owner, surgeon):
        ws.frame(connection_id, {"action": "join", "caseId": world.case_id, "room": "team"})
    # When the owner removes the surgeon
    route = "/cases/{caseId}/team/members/{userId}"
    _ok(api("DELETE", route, route.format(caseId=world.case_id, userId=SURGEON.user_id)))
    # Then the server closed their connection and forgot it
    assert chat.deleted == [surgeon]
    assert realtime.connection(surgeon, 0) is None
    # ...the next message reaches the owner only
    chat.posts.clear()
    _ok(send(api, world, CLINICIAN, text="After"), 201)
    assert [target for target, _ in chat.posts] == [owner]
    # ...and sending after removal is refused with nothing stored (a new connection, too)
    before = chat_dal.latest_message_id(world.case_id, "team")
    again = ws.connect(api, SURGEON)
    reply = ws.frame(
        again, {"action": "send", "caseId": world.case_id, "room": "team", "text": "Still here?"}
    )
    assert reply["code"] == "CASE_NOT_FOUND" and "Still" not in str(reply)
    status, body = send(api, world, SURGEON)
    assert (status, body["code"]) == (404, "CASE_NOT_FOUND")
    assert chat_dal.latest_message_id(world.case_id, "team") == before


# --- the patient room -----------------------------------------------------------------------------


def test_a_plan_sent_into_the_patient_room_is_shared_with_the_patient_by_that_act(
    api: Api, chat: ws.Connections, world: World
) -> None:
    plan = _available_photo(api, world.case_id, CLINICIAN)  # stands for the PDF treatment plan
    download = "/me/passport/cases/{caseId}/files/{fileId}/download"
    path = download.format(caseId=world.case_id, fileId=plan)
    # It is not in a gallery the patient was given... (the photo lands in Initial Documentation,
    # which connecting shares; move it out of reach by unsharing that gallery)
    unshare = "/cases/{caseId}/passport/galleries/{galleryId}"
    _ok(api("DELETE", unshare, unshare.format(caseId=world.case_id, galleryId="initial-documentation")))
    assert api("GET", download, path, who=VERIFIED_PATIENT)[1]["code"] == "ROLE_NOT_ALLOWED"
    # When the clinic sends it into the patient room
    patient = ws.connect(api, VERIFIED_PATIENT)
    ws.frame(patient, {"action": "join", "caseId": world.case_id, "room": "patient"})
    _ok(send(api, world, CLINICIAN, room="patient", text="Your treatment plan", attachments=[plan]), 201)
    # Then the patient received it live and may download it
    [pushed] = chat.to(patient)
    assert pushed["message"]["attachments"] == [plan]
    assert api("GET", download, path, who=VERIFIED_PATIENT)[0] == 200
    # The team room's messages never reach the patient room, nor its history
    _ok(send(api, world, CLINICIAN, room="team", text="Internal note"), 201)
    assert len(chat.to(patient)) == 1
    items = _ok(history(api, world, VERIFIED_PATIENT, room="patient"))["items"]
    assert [m["text"] for m in items] == ["Your treatment plan"]
    # The patient answers; a team-room read is refused
    assert send(api, world, VERIFIED_PATIENT, room="patient", text="Thanks")[0] == 201
    assert history(api, world, VERIFIED_PATIENT, room="team")[1]["code"] == "ROLE_NOT_ALLOWED"


# --- offline members ------------------------------------------------------------------------------


def test_members_not_in_the_room_get_a_feed_item_and_an_email_without_the_text(
    api: Api, chat: ws.Connections, world: World, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[Any] = []
    monkeypatch.setattr("caseroom.notifications.service.send", sent.append)
    monkeypatch.setattr("caseroom.notifications.service._queue_for_digest", lambda *a, **k: "2026-11-03")
    owner = ws.connect(api, CLINICIAN)
    ws.frame(owner, {"action": "join", "caseId": world.case_id, "room": "team"})
    message_id = _ok(send(api, world, LAB_TECH, text="Maria's scan is blurry"), 201)["messageId"]
    event = DomainEvent(
        id="e" * 32,
        type=notifications.EventType.CHAT_MESSAGE_POSTED,
        time="2026-11-02T09:00:00.000Z",
        case_id=world.case_id,
        actor=LAB_TECH.user_id,
        correlation_id="c",
        subject_id=f"team:{message_id}",
    )
    outcome = notifications.on_event(event, clock)
    # The owner was in the room: nothing. The surgeon was not: a feed item, digested by default
    assert outcome.notices == 1 and outcome.digested == 1 and outcome.emailed == 0
    feed = _ok(api("GET", "/me/notifications", who=SURGEON))["items"]
    assert [item["kind"] for item in feed] == ["ChatMessage"]
    assert _ok(api("GET", "/me/notifications", who=CLINICIAN))["items"] == []
    assert "Maria" not in str(feed) and "blurry" not in str(feed)
    # Redelivered: once only
    assert notifications.on_event(event, clock).notices == 0


def _case_audit(case_id: str) -> list[tuple[str, str]]:
    items = dynamo.dynamodb().query(
        TableName=get_settings().table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"AUDIT#CASE#{case_id}"}},
    )["Items"]
    return [(v["action"], v.get("objectId", "")) for v in map(dynamo.from_item, items)]


def test_disconnecting_the_patient_closes_their_room_connections_and_only_theirs(
    api: Api, chat: ws.Connections, world: World
) -> None:
    owner, surgeon, patient = (ws.connect(api, who) for who in (CLINICIAN, SURGEON, VERIFIED_PATIENT))
    for connection_id in (owner, surgeon, patient):
        joined = ws.frame(connection_id, {"action": "join", "caseId": world.case_id, "room": "patient"})
        assert joined["type"] == "joined", joined
    # When the clinic disconnects the patient
    _ok(api("DELETE", "/cases/{caseId}/passport", f"/cases/{world.case_id}/passport"))
    # Then the server closed the patient's connection (the clinic side stays) and forgot it
    assert chat.deleted == [patient]
    assert realtime.connection(patient, 0) is None
    # ...and the next message in the patient room reaches the clinic side only
    chat.posts.clear()
    _ok(send(api, world, CLINICIAN, room="patient", text="After"), 201)
    assert sorted(target for target, _ in chat.posts) == sorted([owner, surgeon])


def test_a_frame_that_loses_the_bucket_race_is_not_rate_limited_but_a_flood_is(
    api: Api, chat: ws.Connections, clock: FixedClock
) -> None:
    from caseroom.chat.socket import BURST, _spend_token
    from caseroom.errors import RateLimited

    connection_id = ws.connect(api, CLINICIAN)
    found = realtime.connection(connection_id, 0)
    assert found is not None
    stale = found[1]  # what two frames of one connection read before either spent
    now_ms = int(clock.now().timestamp() * 1000)
    # When two frames spend with the same read (parallel sandboxes), both pass: the loser re-reads
    _spend_token(connection_id, stale, now_ms)
    _spend_token(connection_id, stale, now_ms)
    # ...and the bucket holds what two spends left
    after = realtime.connection(connection_id, 0)
    assert after is not None and float(after[1]["bucketTokens"]) == pytest.approx(BURST - 2)
    # But a flood at one instant still ends at the burst
    for _ in range(int(BURST) - 2):
        _spend_token(connection_id, realtime.connection(connection_id, 0)[1], now_ms)  # type: ignore[index]
    with pytest.raises(RateLimited):
        _spend_token(connection_id, stale, now_ms)


def test_sending_over_https_is_paced_per_user_and_others_are_unaffected(
    api: Api, chat: ws.Connections, world: World, clock: FixedClock
) -> None:
    from caseroom.chat.logic import HTTPS_SEND_BUCKET

    # Given the surgeon sends the whole burst at one instant over HTTPS
    for n in range(int(HTTPS_SEND_BUCKET.burst)):
        _ok(send(api, world, SURGEON, text=f"Draft {n}"), 201)
    # When they send one more at that instant, it is refused with a stable code, stored nowhere
    status, body = send(api, world, SURGEON, text="One too many")
    assert (status, body["code"]) == (429, "RATE_LIMITED")
    assert "One too many" not in json.dumps(body)
    texts = [m["text"] for m in _ok(history(api, world, CLINICIAN, limit="50"))["items"]]
    assert "One too many" not in texts and len(texts) == int(HTTPS_SEND_BUCKET.burst)
    # ...while the owner, at the same instant, still sends
    _ok(send(api, world, CLINICIAN, text="Owner is fine"), 201)
    # And a second later the surgeon has tokens again
    clock.advance(seconds=1)
    _ok(send(api, world, SURGEON, text="Paced"), 201)
