"""HTTP routes of the rooms (served by the chat API function). Thin: parse, identify, call logic.

The live side (join, send, read, typing) is the WebSocket API's (caseroom.chat.socket); these
routes issue its tickets, page the history, count unread messages, and edit or delete a
message. Sending over HTTP is for clients without a WebSocket (and for tests)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from caseroom.access import Action, Room
from caseroom.auth import Principal
from caseroom.chat.logic import ChatService
from caseroom.chat.models import EditMessage, MessagePage, MessageView, RoomList, SendMessage, TicketView
from caseroom.errors import (
    AttachmentNotFound,
    EditWindowClosed,
    MentionNotMember,
    MessageDeleted,
    MessageEmpty,
    MessageNotFound,
    MessageTooLong,
    RateLimited,
    ReplyToNotFound,
)
from caseroom.http import current_principal, request_meta
from caseroom.route_support import (
    CaseIdPath,
    Cursor,
    IdempotencyKey,
    PageSize,
    ServiceSlot,
    create_once,
    declares,
    raises,
)

router = Router()

_services = ServiceSlot(ChatService)
service = _services.get
use_service = _services.use  # tests inject a service with a fixed clock

RoomPath = Annotated[Room, Path(description="team (owner, lab, members) or patient (clinic side, patient)")]
MessageIdPath = Annotated[str, Path(min_length=1, max_length=64, description="A message id")]
After = Annotated[
    str | None,
    Query(
        max_length=64,
        description="Resume after this message id (a reconnect): the messages after it, oldest first",
    ),
]


def _who() -> Principal:
    return current_principal(router)


@router.post(
    "/realtime/tickets",
    summary="A single-use ticket for the WebSocket (?ticket=...), valid 60 seconds",
    responses={201: {"description": "Issued"}},
)
@declares(Action.CHAT_TICKET_CREATE)
def create_ticket() -> tuple[TicketView, int]:
    return service().ticket(_who()), 201


@router.get("/cases/<caseId>/rooms", summary="The case's rooms you may read, with your unread counts")
@declares(Action.CHAT_ROOMS_LIST)
def list_rooms(caseId: CaseIdPath) -> RoomList:
    return service().rooms(_who(), caseId, request_meta(router))


@router.get(
    "/cases/<caseId>/rooms/<room>/messages",
    summary="A room's history, newest first (or after a message id, oldest first)",
)
@declares(Action.CHAT_READ)
@raises(MessageNotFound)
def history(
    caseId: CaseIdPath, room: RoomPath, after: After = None, limit: PageSize = 50, cursor: Cursor = None
) -> MessagePage:
    return service().history(_who(), caseId, room, after, limit, cursor, request_meta(router))


@router.post(
    "/cases/<caseId>/rooms/<room>/messages",
    summary="Send a message (the WebSocket's send action, over HTTPS)",
    responses={201: {"description": "Sent"}},
)
@declares(Action.CHAT_POST)
@raises(MessageTooLong, MessageEmpty, ReplyToNotFound, AttachmentNotFound, MentionNotMember, RateLimited)
def send(
    caseId: CaseIdPath,
    room: RoomPath,
    body: Annotated[SendMessage, Body()],
    idempotency_key: IdempotencyKey = None,
) -> tuple[MessageView, int]:
    who, meta = _who(), request_meta(router)
    request = {"caseId": caseId, "room": room, **body.model_dump(mode="json", by_alias=True)}
    sent = create_once(
        "chat_send",
        who.user_id,
        idempotency_key,
        request,
        MessageView,
        lambda: service().send_over_https(who, caseId, room, body, meta),
        router.lambda_context,
    )
    return sent, 201


@router.patch(
    "/cases/<caseId>/rooms/<room>/messages/<messageId>",
    summary="Edit your message (within 15 minutes); shown as edited",
)
@declares(Action.CHAT_MESSAGE_EDIT)
@raises(MessageNotFound, MessageDeleted, EditWindowClosed, MessageTooLong, MessageEmpty)
def edit(
    caseId: CaseIdPath, room: RoomPath, messageId: MessageIdPath, body: Annotated[EditMessage, Body()]
) -> MessageView:
    return service().edit(_who(), caseId, room, messageId, body, request_meta(router))


@router.delete(
    "/cases/<caseId>/rooms/<room>/messages/<messageId>",
    summary="Delete your message (within 15 minutes); shown as deleted, the original is kept",
)
@declares(Action.CHAT_MESSAGE_DELETE)
@raises(MessageNotFound, MessageDeleted, EditWindowClosed)
def delete(caseId: CaseIdPath, room: RoomPath, messageId: MessageIdPath) -> MessageView:
    return service().delete(_who(), caseId, room, messageId, request_meta(router))
