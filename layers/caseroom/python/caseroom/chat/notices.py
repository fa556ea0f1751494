"""Offline members hear about a room's messages: the notifications consumer's ChatMessagePosted.

Who: the owner and the active members who may read the room (never the author), minus those
with a connection in the room when the event is processed (they saw it live); a member the
message mentions is told in any case. What: a feed item (and a live push to their other
connections), and an email per their preferences (the daily digest by default) that says a
message is waiting in which case's room, never its text or anything about the patient.
"""

from __future__ import annotations

from datetime import datetime

from caseroom import realtime
from caseroom.access import Room
from caseroom.cases.dal import get_case
from caseroom.chat import dal
from caseroom.clock import Clock
from caseroom.events import DomainEvent
from caseroom.notifications import service, templates
from caseroom.notifications.kinds import NoticeKind
from caseroom.settings import get_settings
from caseroom.team import dal as team_dal


def _email(to: str, name: str, case_id: str, room: Room, kind: NoticeKind) -> templates.Email:
    what = "mentioned you" if kind is NoticeKind.CHAT_MENTION else "posted a message"
    where = "team room" if room is Room.TEAM else "patient room"
    app = get_settings().app_url.rstrip("/")
    return templates.render(
        to,
        f"CaseRoom: a message is waiting in case {case_id}",
        name,
        [
            templates.Paragraph(
                f"Someone {what} in the {where} of case {case_id}. Sign in to read it.",
                f"{app}/cases/{case_id}" if app else None,
            )
        ],
    )


def on_message_posted(event: DomainEvent, clock: Clock) -> service.Outcome:
    room_value, _, message_id = event.subject_id.partition(":")
    try:
        room = Room(room_value)
    except ValueError:
        return service.Outcome()
    case = get_case(event.case_id)
    message = dal.get_message(event.case_id, room.value, message_id) if case else None
    if case is None or message is None or message.deleted_at is not None:
        return service.Outcome()
    now: datetime = clock.now()
    online = set(
        realtime.members_of(realtime.room_audience(case.case_id, room.value), int(now.timestamp())).values()
    )
    people = {case.owner_id: (case.owner_email, case.owner_name)}
    for member in team_dal.list_members(case.case_id):
        people[member.user_id] = (member.email, member.name)
    totals = service.Outcome()
    for user_id, (email, name) in people.items():
        if user_id == message.author_id:
            continue
        mentioned = user_id in message.mentions
        if user_id in online and not mentioned:
            continue
        kind = NoticeKind.CHAT_MENTION if mentioned else NoticeKind.CHAT_MESSAGE
        where = "team room" if room is Room.TEAM else "patient room"
        title = (
            f"{'You were mentioned' if mentioned else 'New message'} in the {where} of case {case.case_id}"
        )
        result = service.deliver(
            service.Recipient(kind, realtime.user_audience(user_id), user_id),
            f"chat:{message.message_id}",
            title,
            _email(email, name, case.case_id, room, kind) if email else None,
            clock,
            case_id=case.case_id,
            event_type=event.type.value,
            event_id=event.id,
            subject_id=event.subject_id,
        )
        totals = service.Outcome(
            totals.notices + result.notices,
            totals.emailed + result.emailed,
            totals.digested + result.digested,
        )
    return totals
