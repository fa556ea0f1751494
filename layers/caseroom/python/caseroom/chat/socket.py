"""The WebSocket side of the rooms: the frames a client sends on $default and their replies.

    {"action": "ping"}                                                    -> {"type": "pong"}
    {"action": "join",  "caseId": "...", "room": "team"|"patient"}        -> {"type": "joined", ...}
    {"action": "leave", "caseId": "...", "room": ...}                     -> {"type": "left", ...}
    {"action": "send",  "caseId": "...", "room": ..., "text": "...",
     "replyTo"?: "<messageId>", "attachments"?: [fileId], "mentions"?: [userId]}
                                                                          -> {"type": "sent", "messageId"}
    {"action": "read",  "caseId": "...", "room": ..., "messageId": "..."} -> {"type": "read", ...}
    {"action": "typing","caseId": "...", "room": ...}                     -> {"type": "typing.sent"}
Every frame may carry "ref" (up to 64 characters), repeated in its reply. Errors are
{"type": "error", "code": "...", "message": "...", "action": ..., "ref": ...} with the stable
codes of caseroom.errors; an error never repeats what the client sent (text, ids).

Limits: a message's text is 4000 characters; send and typing frames spend a token of the
connection's bucket (RATE_PER_SECOND tokens per second, at most BURST stored), kept on the
connection item so every Lambda instance sees the same bucket.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, ValidationError

from caseroom import dynamo, rate_limit, realtime
from caseroom.access import Room
from caseroom.audit import RequestMeta
from caseroom.cases.models import StrictModel
from caseroom.chat.logic import ChatService
from caseroom.chat.models import MessageId, SendMessage
from caseroom.clock import Clock
from caseroom.errors import (
    DomainError,
    MalformedFrame,
    Unauthenticated,
    UnknownAction,
    ValidationFailed,
)

RATE_PER_SECOND = 5.0
BURST = 5.0
CONNECTION_BUCKET = rate_limit.Bucket(rate_per_second=RATE_PER_SECOND, burst=BURST)
MAX_FRAME_CHARS = 32 * 1024  # API Gateway's frame limit; larger never reaches the function there


class _Frame(StrictModel):
    action: str
    ref: str | None = Field(default=None, max_length=64)


class _RoomFrame(_Frame):
    case_id: str = Field(alias="caseId", min_length=1, max_length=20)
    room: Room


class _ReadFrame(_RoomFrame):
    message_id: MessageId = Field(alias="messageId")


class _SendFrame(_RoomFrame, SendMessage):
    pass


FRAMES: dict[str, type[_Frame]] = {
    "ping": _Frame,
    "join": _RoomFrame,
    "leave": _RoomFrame,
    "typing": _RoomFrame,
    "read": _ReadFrame,
    "send": _SendFrame,
}
LIMITED = frozenset({"send", "typing"})


def error_frame(error: DomainError, action: str | None = None, ref: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": error.code, "message": error.message}
    if action in FRAMES:
        frame["action"] = action
    if ref is not None:
        frame["ref"] = ref
    if isinstance(error, ValidationFailed) and error.details:
        frame["details"] = error.details
    return frame


def _parse(body: str) -> tuple[str, dict[str, Any]]:
    if len(body) > MAX_FRAME_CHARS:
        raise MalformedFrame()
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedFrame() from exc
    if not isinstance(document, dict) or not isinstance(document.get("action"), str):
        raise MalformedFrame()
    return str(document["action"]), document


def _validated(action: str, document: dict[str, Any]) -> _Frame:
    model = FRAMES.get(action)
    if model is None:
        raise UnknownAction()
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        # Where, never what: the location and the kind of problem, not the value sent.
        details: list[dict[str, object]] = [
            {"loc": [str(part) for part in error["loc"]], "type": error["type"]} for error in exc.errors()
        ]
        raise ValidationFailed(details=details) from exc


def _spend_token(connection_id: str, values: dict[str, Any], now_ms: int) -> None:
    """The connection's bucket (on its connection item): RateLimited when it is empty."""
    rate_limit.spend(
        CONNECTION_BUCKET,
        dynamo.key(realtime.connection_pk(connection_id), realtime.CONNECTION_SK),
        values,
        now_ms,
        lambda: (realtime.connection(connection_id, now_ms // 1000) or (None, None))[1],
        item_must_exist=True,
    )


def handle(
    connection_id: str, body: str, meta: RequestMeta, clock: Clock, service: ChatService
) -> dict[str, Any]:
    """One $default frame -> its reply frame (sent back by the route response)."""
    action: str | None = None
    ref: str | None = None
    try:
        action, document = _parse(body)
        raw_ref = document.get("ref")
        ref = raw_ref if isinstance(raw_ref, str) and len(raw_ref) <= 64 else None
        frame = _validated(action, document)
        if action == "ping":
            return {"type": "pong", **({"ref": ref} if ref else {})}
        now = clock.now()
        found = realtime.connection(connection_id, int(now.timestamp()))
        if found is None:
            raise Unauthenticated("This connection is closed; open a new one with a fresh ticket.")
        who, values = found
        if action in LIMITED:
            _spend_token(connection_id, values, int(now.timestamp() * 1000))
        reply = _dispatch(frame, who, connection_id, meta, service)
        return {**reply, **({"ref": ref} if ref else {})}
    except DomainError as error:
        return error_frame(error, action, ref)


def _dispatch(
    frame: _Frame, who: Any, connection_id: str, meta: RequestMeta, service: ChatService
) -> dict[str, Any]:
    if isinstance(frame, _SendFrame):
        request = SendMessage.model_validate(frame.model_dump(include=set(SendMessage.model_fields)))
        sent = service.send(who, frame.case_id, frame.room, request, meta)
        return {
            "type": "sent",
            "caseId": sent.case_id,
            "room": frame.room.value,
            "messageId": sent.message_id,
        }
    if isinstance(frame, _ReadFrame):
        service.mark_read(who, frame.case_id, frame.room, frame.message_id, meta)
        return {"type": "read", "room": frame.room.value, "messageId": frame.message_id}
    assert isinstance(frame, _RoomFrame)
    if frame.action == "join":
        case_id = service.join(who, connection_id, frame.case_id, frame.room, meta)
        return {"type": "joined", "caseId": case_id, "room": frame.room.value}
    if frame.action == "leave":
        service.leave(connection_id, frame.case_id, frame.room)
        return {"type": "left", "caseId": frame.case_id, "room": frame.room.value}
    service.typing(who, frame.case_id, frame.room, meta)
    return {"type": "typing.sent", "room": frame.room.value}
