"""The room through the running local runtime with real WebSocket clients (aiohttp): tickets over
HTTPS, connect, join, send, the other member receives it, the history over HTTP, removal closing
the removed member's socket; and the patient room with the connected patient, who receives the
clinic's treatment plan and never the team room's messages."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from tests.e2e.test_cases_flow import RX, Client, base_url, sign_in
from tests.support.ws_tickets import socket_url

pytestmark = pytest.mark.e2e
__all__ = ["base_url"]
WAIT_S = 30


async def _next(socket: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    """The next frame of this type (others, such as typing or pushes, are skipped)."""
    while True:
        message = await socket.receive(timeout=WAIT_S)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        frame = json.loads(message.data)
        if frame.get("type") == kind:
            return dict(frame)


async def _call(client: Client, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    return await asyncio.to_thread(client.call, method, path, body)


def _team_case(owner: Client, colleague: Client) -> tuple[str, str]:
    """A case of the owner's with the colleague as an active member; (case id, member id)."""
    status, case = owner.call("POST", "/cases", {**RX, "caseType": "crown"})
    assert status == 201, case
    email = colleague.call("GET", "/me")[1]["email"]
    body = {"email": email, "professionalRole": "surgeon"}
    assert owner.call("POST", f"/cases/{case['caseId']}/team/invitations", body)[0] == 201
    [request] = [
        r for r in colleague.call("GET", "/me/team-requests")[1]["items"] if r["caseId"] == case["caseId"]
    ]
    status, member = colleague.call("POST", f"/me/team-requests/{request['invitationId']}/accept")
    assert status == 200, member
    return case["caseId"], member["userId"]


def test_team_room_send_receive_history_and_removal_closes_the_socket(base_url: str) -> None:
    owner, colleague = sign_in(base_url, "clinician"), sign_in(base_url, "clinician2")
    case_id, member_id = _team_case(owner, colleague)
    room = {"caseId": case_id, "room": "team"}

    async def scenario() -> None:
        owner_url = await asyncio.to_thread(socket_url, base_url, str(owner.token))
        colleague_url = await asyncio.to_thread(socket_url, base_url, str(colleague.token))
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(owner_url) as owner_ws,
            session.ws_connect(colleague_url) as colleague_ws,
        ):
            # Given both joined the case's team room
            for socket in (owner_ws, colleague_ws):
                await socket.send_str(json.dumps({"action": "join", **room}))
                assert (await _next(socket, "joined"))["caseId"] == case_id
            # A ticket opens one connection only
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(owner_url)
            assert refused.value.status == 401
            # When the colleague sends a message
            await colleague_ws.send_str(
                json.dumps({"action": "send", **room, "text": "Scan is in", "ref": "r1"})
            )
            sent = await _next(colleague_ws, "sent")
            assert sent["ref"] == "r1"
            # Then the owner receives it live
            pushed = await _next(owner_ws, "message")
            assert pushed["message"]["messageId"] == sent["messageId"]
            assert pushed["message"]["text"] == "Scan is in"
            # ...and it is in the history over HTTPS, newest first
            status, page = await _call(owner, "GET", f"/cases/{case_id}/rooms/team/messages")
            assert status == 200 and page["items"][0]["messageId"] == sent["messageId"]
            # Malformed and oversized frames get error frames; the connection stays open
            await colleague_ws.send_str("not json")
            assert (await _next(colleague_ws, "error"))["code"] == "MALFORMED_FRAME"
            await colleague_ws.send_str(json.dumps({"action": "send", **room, "text": "x" * 4001}))
            assert (await _next(colleague_ws, "error"))["code"] == "MESSAGE_TOO_LONG"
            # When the owner removes the colleague, the server closes the colleague's socket
            status, _ = await _call(owner, "DELETE", f"/cases/{case_id}/team/members/{member_id}")
            assert status == 200
            closing = await colleague_ws.receive(timeout=WAIT_S)
            assert closing.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.CLOSING,
            )
            # ...and a new connection cannot join or send
            again_url = await asyncio.to_thread(socket_url, base_url, str(colleague.token))
            async with session.ws_connect(again_url) as again:
                await again.send_str(json.dumps({"action": "send", **room, "text": "Still here?"}))
                error = await _next(again, "error")
                assert error["code"] == "CASE_NOT_FOUND" and "Still" not in json.dumps(error)

    asyncio.run(scenario())


def test_patient_room_with_the_connected_patient(base_url: str) -> None:
    owner, patient = sign_in(base_url, "clinician"), sign_in(base_url, "patient")
    status, case = owner.call("POST", "/cases", {**RX, "caseType": "crown"})
    assert status == 201, case
    case_id = case["caseId"]
    email = patient.call("GET", "/me")[1]["email"]
    assert owner.call("POST", f"/cases/{case_id}/passport", {"email": email})[0] == 201

    async def scenario() -> None:
        patient_url = await asyncio.to_thread(socket_url, base_url, str(patient.token))
        async with aiohttp.ClientSession() as session, session.ws_connect(patient_url) as patient_ws:
            # The patient never joins the team room; they join theirs
            await patient_ws.send_str(json.dumps({"action": "join", "caseId": case_id, "room": "team"}))
            assert (await _next(patient_ws, "error"))["code"] == "ROLE_NOT_ALLOWED"
            await patient_ws.send_str(json.dumps({"action": "join", "caseId": case_id, "room": "patient"}))
            await _next(patient_ws, "joined")
            # A team-room message does not reach them; the clinic's message in their room does
            path = f"/cases/{case_id}/rooms/{{room}}/messages"
            assert (await _call(owner, "POST", path.format(room="team"), {"text": "Internal"}))[0] == 201
            status, sent = await _call(
                owner, "POST", path.format(room="patient"), {"text": "Your plan is ready"}
            )
            assert status == 201, sent
            pushed = await _next(patient_ws, "message")
            assert (
                pushed["message"]["text"] == "Your plan is ready" and pushed["message"]["room"] == "patient"
            )
            # The patient answers over the socket; the history of their room has both, no team message
            await patient_ws.send_str(
                json.dumps({"action": "send", "caseId": case_id, "room": "patient", "text": "Thanks"})
            )
            await _next(patient_ws, "sent")
            status, page = await _call(patient, "GET", path.format(room="patient"))
            assert status == 200 and [m["text"] for m in page["items"]] == ["Thanks", "Your plan is ready"]
            status, body = await _call(patient, "GET", path.format(room="team"))
            assert (status, body["code"]) == (403, "ROLE_NOT_ALLOWED")

    asyncio.run(scenario())
