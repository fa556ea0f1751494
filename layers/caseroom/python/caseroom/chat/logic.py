"""The rules of the rooms (issue 13): tickets, joining, messages, history, read markers, edits.

Each case has two rooms (caseroom.access.Room): the team room (owner, the case's lab, active
members) and the patient room (owner, active members, the connected patient). Every right is a
row of caseroom.access (CHAT_*), decided on consistent reads of the case, the membership and
the patient connection, never an index; a removed member is refused on their next frame.

Writes commit with their audit record (and, for a new message, its ChatMessagePosted event,
which the notifications consumer turns into feed items and emails for members who were not in
the room); the fan-out follows the commit: one Query for the room's connections, one post each.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from caseroom import audit_store, ids, notifier, rate_limit, realtime
from caseroom.access import (
    Action,
    Gate,
    Resource,
    Room,
    allows,
    require_account,
    room_action,
    visible_case,
)
from caseroom.audit import RequestMeta, user_record
from caseroom.auth import Principal, Role
from caseroom.cases import workflow
from caseroom.cases.records import Case
from caseroom.chat import dal
from caseroom.chat.models import (
    EDIT_WINDOW_MINUTES,
    MAX_TEXT_CHARS,
    EditMessage,
    MessagePage,
    MessageView,
    RoomList,
    RoomView,
    SendMessage,
    TicketView,
)
from caseroom.chat.records import Message, Revision, is_message_id, new_message_id
from caseroom.clock import Clock, SystemClock, iso
from caseroom.errors import (
    AttachmentNotFound,
    EditWindowClosed,
    MentionNotMember,
    MessageDeleted,
    MessageEmpty,
    MessageNotFound,
    MessageTooLong,
    ReplyToNotFound,
)
from caseroom.events import EventType
from caseroom.files import dal as files_dal
from caseroom.files.records import FileStatus
from caseroom.observability import count
from caseroom.paging import PageRequest
from caseroom.team import dal as team_dal

UNREAD_CAP = 100
# A client without a socket sends over HTTPS, at the socket's pace, counted per user (a short
# queue of drafts written offline may go at once).
HTTPS_SEND_BUCKET = rate_limit.Bucket(rate_per_second=5.0, burst=10.0)
EDIT_WINDOW = timedelta(minutes=EDIT_WINDOW_MINUTES)


def message_view(message: Message) -> MessageView:
    return MessageView(
        message_id=message.message_id,
        case_id=message.case_id,
        room=Room(message.room),
        author_id=message.author_id,
        author_name=message.author_name,
        author_role=message.author_role,
        text=message.text,
        created_at=message.created_at,
        reply_to=message.reply_to,
        attachments=message.attachments,
        mentions=message.mentions,
        edited_at=message.edited_at,
        deleted_at=message.deleted_at,
    )


def frame_of(kind: str, message: Message) -> dict[str, Any]:
    """What a room's connections receive (one frame; 4000 characters stay far under 32 KB)."""
    return {"type": kind, "message": message_view(message).model_dump(by_alias=True, mode="json")}


@dataclass
class ChatService:
    clock: Clock = field(default_factory=SystemClock)

    def _now(self) -> str:
        return iso(self.clock.now())

    def _record(self, who: Principal, meta: RequestMeta, action: Action, case_id: str, oid: str) -> Any:
        return user_record(
            who,
            meta,
            action.value,
            case_id=case_id,
            object_type="chat-message",
            object_id=oid,
            at=self._now(),
        )

    def room_case(
        self, who: Principal, case_id: str, room: Room, family: Action, meta: RequestMeta
    ) -> tuple[Gate, Case]:
        """The case if the caller holds `family` in `room` (404 / 403, audited, otherwise)."""
        action = room_action(family, room)
        gate = Gate(who, meta, self.clock)
        case = visible_case(gate, case_id, action)
        gate.require(action, case)
        return gate, case

    # --- tickets and rooms --------------------------------------------------------------------

    def ticket(self, who: Principal) -> TicketView:
        require_account(who, Action.CHAT_TICKET_CREATE)
        ticket, seconds = realtime.issue_ticket(who, self.clock)
        count("ChatTickets")
        return TicketView(ticket=ticket, expires_in_seconds=seconds)

    def rooms(self, who: Principal, case_id: str, meta: RequestMeta) -> RoomList:
        gate = Gate(who, meta, self.clock)
        case = visible_case(gate, case_id, Action.CHAT_ROOMS_LIST)
        gate.require(Action.CHAT_ROOMS_LIST, case)
        held = gate.held(case)
        items = []
        for room in Room:
            if not allows(room_action(Action.CHAT_READ, room), held):
                continue
            marker = dal.read_marker(case.case_id, room.value, who.user_id)
            items.append(
                RoomView(
                    room=room,
                    unread=dal.unread_count(case.case_id, room.value, who.user_id, marker, UNREAD_CAP),
                    last_message_id=dal.latest_message_id(case.case_id, room.value),
                    read_up_to=marker,
                )
            )
        return RoomList(case_id=case.case_id, items=items)

    def join(self, who: Principal, connection_id: str, case_id: str, room: Room, meta: RequestMeta) -> str:
        """Subscribes the connection to the room's pushes; returns the case id (normalized)."""
        _, case = self.room_case(who, case_id, room, Action.CHAT_JOIN, meta)
        expires = int(self.clock.now().timestamp()) + realtime.MAX_CONNECTION_SECONDS
        realtime.subscribe(
            connection_id, realtime.room_audience(case.case_id, room.value), who.user_id, expires
        )
        return case.case_id

    def leave(self, connection_id: str, case_id: str, room: Room) -> None:
        """Unsubscribes the connection (no right needed: it only stops pushes)."""
        normalized = ids.normalize_case_id(case_id)
        if normalized:
            realtime.unsubscribe(connection_id, realtime.room_audience(normalized, room.value))

    # --- messages -----------------------------------------------------------------------------

    def send_over_https(
        self, who: Principal, case_id: str, room: Room, request: SendMessage, meta: RequestMeta
    ) -> MessageView:
        """send, for a client without a socket: RateLimited past the user's HTTPS pace."""
        now_ms = int(self.clock.now().timestamp() * 1000)
        rate_limit.spend_per_user(HTTPS_SEND_BUCKET, "CHAT_HTTPS_SEND", who.user_id, now_ms)
        return self.send(who, case_id, room, request, meta)

    def send(
        self, who: Principal, case_id: str, room: Room, request: SendMessage, meta: RequestMeta
    ) -> MessageView:
        gate, case = self.room_case(who, case_id, room, Action.CHAT_POST, meta)
        if len(request.text) > MAX_TEXT_CHARS:
            raise MessageTooLong(f"A message's text is at most {MAX_TEXT_CHARS} characters.")
        if not request.text.strip() and not request.attachments:
            raise MessageEmpty()
        if (
            request.reply_to is not None
            and dal.get_message(case.case_id, room.value, request.reply_to) is None
        ):
            raise ReplyToNotFound()
        attachments = list(dict.fromkeys(request.attachments))
        for file_id in attachments:
            self._check_attachment(gate, case, file_id)
        mentions = list(dict.fromkeys(request.mentions))
        for user_id in mentions:
            if user_id != case.owner_id and team_dal.get_member(case.case_id, user_id) is None:
                raise MentionNotMember()
        now = self.clock.now()
        message = Message(
            case_id=case.case_id,
            room=room.value,
            message_id=new_message_id(now),
            author_id=who.user_id,
            author_name=who.name,
            author_role=who.role.value,
            text=request.text,
            created_at=iso(now),
            reply_to=request.reply_to,
            attachments=attachments,
            mentions=mentions,
        )
        actions = [
            dal.message_put(message),
            audit_store.audit_put_action(
                self._record(who, meta, Action.CHAT_POST, case.case_id, message.message_id)
            ),
            workflow.event_action(
                EventType.CHAT_MESSAGE_POSTED,
                case.case_id,
                who.user_id,
                meta.correlation_id or meta.request_id,
                now,
                f"{room.value}:{message.message_id}",
            )[1],
        ]
        if room is Room.PATIENT and attachments and who.role is not Role.PATIENT:
            # Sending a file into the patient room shares it with the patient, by that act.
            from caseroom.passport.logic import share_files_actions

            actions += share_files_actions(who, case.case_id, attachments, meta, iso(now))
        dal.transact(actions)
        count("ChatMessages")
        notifier.push_to_room(case.case_id, room.value, frame_of("message", message), self.clock)
        return message_view(message)

    def _check_attachment(self, gate: Gate, case: Case, file_id: str) -> None:
        """An available file of this case that the sender may read; anything else is the same
        ATTACHMENT_NOT_FOUND (another case's id reveals nothing)."""
        file = files_dal.get_file(case.case_id, file_id) if 0 < len(file_id) <= 64 else None
        if file is None or file.file_status is not FileStatus.AVAILABLE:
            raise AttachmentNotFound()
        action = Action.PATIENT_FILE_DOWNLOAD if gate.who.role is Role.PATIENT else Action.FILE_READ
        resource = Resource("file", file.file_id, file.uploader_id, file.gallery_id)
        if not allows(action, gate.held(case, resource)):
            raise AttachmentNotFound()

    def history(
        self,
        who: Principal,
        case_id: str,
        room: Room,
        after: str | None,
        limit: int,
        cursor: str | None,
        meta: RequestMeta,
    ) -> MessagePage:
        _, case = self.room_case(who, case_id, room, Action.CHAT_READ, meta)
        if after is not None and not is_message_id(after):
            raise MessageNotFound()
        page = PageRequest(who, meta, limit, cursor, self.clock.now())
        messages, next_cursor = dal.history(case.case_id, room.value, after, page)
        audit_store.append(
            user_record(
                who,
                meta,
                room_action(Action.CHAT_READ, room).value,
                case_id=case.case_id,
                object_type="chat-room",
                object_id=room.value,
                at=self._now(),
            )
        )
        return MessagePage(items=[message_view(m) for m in messages], next_cursor=next_cursor)

    def mark_read(self, who: Principal, case_id: str, room: Room, message_id: str, meta: RequestMeta) -> bool:
        _, case = self.room_case(who, case_id, room, Action.CHAT_READ, meta)
        if not is_message_id(message_id) or dal.get_message(case.case_id, room.value, message_id) is None:
            raise MessageNotFound()
        return dal.mark_read(case.case_id, room.value, who.user_id, message_id, self._now())

    def typing(self, who: Principal, case_id: str, room: Room, meta: RequestMeta) -> None:
        _, case = self.room_case(who, case_id, room, Action.CHAT_POST, meta)
        notifier.push_to_room(
            case.case_id,
            room.value,
            {
                "type": "typing",
                "caseId": case.case_id,
                "room": room.value,
                "userId": who.user_id,
                "name": who.name,
            },
            self.clock,
        )

    # --- edits and deletes (the author, within the window) -------------------------------------

    def _own_message(
        self, who: Principal, case_id: str, room: Room, message_id: str, action: Action, meta: RequestMeta
    ) -> tuple[Case, Message]:
        gate, case = self.room_case(who, case_id, room, Action.CHAT_POST, meta)
        message = dal.get_message(case.case_id, room.value, message_id) if is_message_id(message_id) else None
        if message is None:
            raise MessageNotFound()
        gate.require(action, case, Resource("message", message.message_id, message.author_id))
        if message.deleted_at is not None:
            raise MessageDeleted()
        if self.clock.now() - _parse(message.created_at) > EDIT_WINDOW:
            raise EditWindowClosed()
        return case, message

    def _replace(
        self,
        who: Principal,
        meta: RequestMeta,
        action: Action,
        previous: Message,
        updated: Message,
        change: str,
    ) -> None:
        revision = Revision(
            case_id=previous.case_id,
            room=previous.room,
            message_id=previous.message_id,
            text=previous.text,
            replaced_at=self._now(),
            replaced_by=who.user_id,
            change=change,
        )
        try:
            dal.transact(
                [
                    dal.message_replace(updated, previous),
                    dal.revision_put(revision),
                    audit_store.audit_put_action(
                        self._record(who, meta, action, previous.case_id, previous.message_id)
                    ),
                ]
            )
        except dal.ConditionFailed as exc:  # edited or deleted meanwhile
            raise MessageNotFound() from exc
        notifier.push_to_room(
            updated.case_id, updated.room, frame_of(f"message.{change}", updated), self.clock
        )

    def edit(
        self,
        who: Principal,
        case_id: str,
        room: Room,
        message_id: str,
        request: EditMessage,
        meta: RequestMeta,
    ) -> MessageView:
        _, message = self._own_message(who, case_id, room, message_id, Action.CHAT_MESSAGE_EDIT, meta)
        if len(request.text) > MAX_TEXT_CHARS:
            raise MessageTooLong(f"A message's text is at most {MAX_TEXT_CHARS} characters.")
        if not request.text.strip() and not message.attachments:
            raise MessageEmpty()
        updated = replace(message, text=request.text, edited_at=self._now())
        self._replace(who, meta, Action.CHAT_MESSAGE_EDIT, message, updated, "edited")
        return message_view(updated)

    def delete(
        self, who: Principal, case_id: str, room: Room, message_id: str, meta: RequestMeta
    ) -> MessageView:
        _, message = self._own_message(who, case_id, room, message_id, Action.CHAT_MESSAGE_DELETE, meta)
        updated = replace(message, text="", attachments=[], mentions=[], deleted_at=self._now())
        self._replace(who, meta, Action.CHAT_MESSAGE_DELETE, message, updated, "deleted")
        return message_view(updated)


# --- removal: the server closes the member's connections to the case's rooms ----------------------


def close_member_connections(case_id: str, user_id: str, now: datetime) -> int:
    """Closes every connection `user_id` holds in either room of the case (one Query per room);
    returns how many were closed. Called when a member is removed or leaves."""
    epoch = int(now.timestamp())
    connections = [
        connection_id
        for room in Room
        for connection_id, member in realtime.members_of(
            realtime.room_audience(case_id, room.value), epoch
        ).items()
        if member == user_id
    ]
    return notifier.close_connections(connections)


def close_patient_connections(case_id: str, owner_id: str, now: datetime) -> int:
    """Closes the patient's connections to the case's patient room (one Query): every
    connection there that is neither the owner's nor an active member's (a consistent read per
    other user). Called when the clinic disconnects the patient, so no push reaches them after."""
    from caseroom.team import dal as team_dal

    members = realtime.members_of(realtime.room_audience(case_id, Room.PATIENT.value), int(now.timestamp()))
    clinic_side: dict[str, bool] = {}
    for user_id in set(members.values()):
        clinic_side[user_id] = user_id == owner_id or team_dal.get_member(case_id, user_id) is not None
    return notifier.close_connections([cid for cid, user_id in members.items() if not clinic_side[user_id]])


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
