"""The notifications consumer: from a case event to feed items, live pushes and emails.

Who hears about what (recipients):
  clinician who owns the case: created, status changes, shipped, planning booked /
      cancelled / missed, quarantined upload (feed + push + email per preferences)
  the case's lab (shared lab feed + push, no email): new case, Rx changed, file added,
      planning booked or missed, and status changes the system made (not the lab itself)
Idempotency: each (source, recipient) lands in a feed once (claim committed with the item),
and is emailed once (a claim per recipient, released if sending fails so a retry sends it).
The source of an event's notices is its id, except for status changes: those describe the
case as it is now, so their source is the case version, and two late events about the same
version notify once (delivery order cannot make the clinician read an old status as news).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from caseroom import access, consumers, notifier, realtime, scheduling
from caseroom.cases.dal import get_case
from caseroom.cases.records import Case
from caseroom.cases.statuses import ATTENTION_OF, Attention, CaseStatus
from caseroom.clock import Clock, SystemClock
from caseroom.events import DomainEvent, EventType, is_system_actor
from caseroom.notifications import mailer, store, templates
from caseroom.notifications.kinds import DEFAULT_DIGEST_HOUR_UTC, EmailMode, NoticeKind, effective_mode
from caseroom.notifications.templates import CalendarPart, Email, PlanningDetails
from caseroom.settings import get_settings

DIGEST_DETAIL_TYPE = "NotificationDigestDue"

_clock: Clock = SystemClock()


def use_clock(clock: Clock | None) -> None:
    """Tests and the benchmark inject time (digest times, feed order); None restores the system clock."""
    global _clock
    _clock = clock or SystemClock()


@dataclass(frozen=True)
class Recipient:
    kind: NoticeKind
    audience: str
    user_id: str | None = None  # set for a person (email possible); None for the lab's feed


@dataclass(frozen=True)
class Outcome:
    notices: int = 0
    emailed: int = 0
    digested: int = 0


def _red(status: CaseStatus) -> bool:
    return ATTENTION_OF[status] is Attention.RED


def recipients(event: DomainEvent, case: Case) -> list[Recipient]:
    # Who may be told about this case is the access policy's row for CASE_NOTICE_RECEIVE;
    # this function only chooses, per event, which of them hear about it and as what kind.
    allowed = access.audiences(case, access.Action.CASE_NOTICE_RECEIVE)
    owner = allowed.get(access.Relationship.OWNER)
    lab = allowed.get(access.Relationship.CASE_LAB)

    def to_owner(kind: NoticeKind) -> list[Recipient]:
        if owner is None or owner.user_id is None:
            return []
        return [Recipient(kind, realtime.user_audience(owner.user_id), owner.user_id)]

    def to_lab(kind: NoticeKind) -> list[Recipient]:
        if lab is None or lab.lab_id is None:
            return []
        return [Recipient(kind, realtime.lab_audience(lab.lab_id))]

    match event.type:
        case EventType.CASE_CREATED:
            return [*to_owner(NoticeKind.CASE_CREATED), *to_lab(NoticeKind.LAB_NEW_CASE)]
        case EventType.CASE_RX_MODIFIED:
            return to_lab(NoticeKind.LAB_RX_MODIFIED)
        case EventType.CASE_STATUS_CHANGED:
            by_system = is_system_actor(event.actor)
            if case.status == CaseStatus.ON_HOLD:
                kind = NoticeKind.CASE_ON_HOLD
            elif _red(case.status):
                # A missed session already sends the critical PlanningMissed notice for this change.
                if by_system and case.status == CaseStatus.PLANNING_NO_SHOW:
                    return to_lab(NoticeKind.LAB_STATUS_CHANGED_BY_SYSTEM)
                kind = NoticeKind.CASE_NEEDS_CLINICIAN
            else:
                kind = NoticeKind.CASE_STATUS_CHANGED
            lab_side = to_lab(NoticeKind.LAB_STATUS_CHANGED_BY_SYSTEM) if by_system else []
            return [*to_owner(kind), *lab_side]
        case EventType.CASE_SHIPPED:
            return to_owner(NoticeKind.CASE_SHIPPED)
        case EventType.PLANNING_SCHEDULED:
            return [*to_owner(NoticeKind.PLANNING_SCHEDULED), *to_lab(NoticeKind.LAB_PLANNING_BOOKED)]
        case EventType.PLANNING_CANCELLED:
            return to_owner(NoticeKind.PLANNING_CANCELLED)
        case EventType.PLANNING_MISSED:
            return [*to_owner(NoticeKind.PLANNING_MISSED), *to_lab(NoticeKind.LAB_PLANNING_MISSED)]
        case EventType.FILE_QUARANTINED:
            return to_owner(NoticeKind.FILE_QUARANTINED)
        case EventType.FILE_ADDED:
            return to_lab(NoticeKind.LAB_FILE_ADDED)
    return []


def missed_critical_notices(event: DomainEvent, case: Case) -> list[tuple[Recipient, str]]:
    """The On Hold notice of a status change the case has already moved on from.

    Status notices describe the case as it is when the consumer runs; but On Hold is critical
    (the lab waits on the clinician): if the lab put the case On Hold and moved it on before
    this event was processed, the clinician must still hear that it was held. The change's
    timeline entry (the event's subject) says what the change was; its own source keeps the
    notice to one per change, whatever the redelivery."""
    if event.type is not EventType.CASE_STATUS_CHANGED or not event.subject_id:
        return []
    if case.status == CaseStatus.ON_HOLD:
        return []  # the usual notice of the current state is the On Hold one
    from caseroom.cases.dal import get_timeline_entry

    entry = get_timeline_entry(case.case_id, event.subject_id)
    if entry is None or entry.to_status != CaseStatus.ON_HOLD.value:
        return []
    owner = Recipient(NoticeKind.CASE_ON_HOLD, realtime.user_audience(case.owner_id), case.owner_id)
    return [(owner, f"status:{case.case_id}:entry:{entry.entry_id}")]


def source_of(event: DomainEvent, case: Case) -> str:
    if event.type is EventType.CASE_STATUS_CHANGED:
        return f"status:{case.case_id}:v{case.version}"
    return event.id


def notice_id(source: str, audience: str) -> str:
    return hashlib.sha256(f"{source}\x1f{audience}".encode()).hexdigest()[:20]


def on_event(event: DomainEvent, clock: Clock | None = None) -> Outcome:
    clock = clock or _clock
    if event.type is EventType.CHAT_MESSAGE_POSTED:  # the room's own recipients (caseroom.chat.notices)
        from caseroom.chat import notices

        return notices.on_message_posted(event, clock)
    case = get_case(event.case_id)
    if case is None:
        return Outcome()
    source = source_of(event, case)
    totals = Outcome()
    planning = planning_details(event, case, clock.now())
    deliveries = [(recipient, source) for recipient in recipients(event, case)]
    deliveries.extend(missed_critical_notices(event, case))
    for recipient, notice_source in deliveries:
        title = templates.title(recipient.kind, case, case.case_id)
        email = templates.case_email(recipient.kind, case, planning) if recipient.user_id else None
        result = deliver(
            recipient,
            notice_source,
            title,
            email,
            clock,
            case_id=case.case_id,
            event_type=event.type.value,
            event_id=event.id,
            subject_id=event.subject_id,
        )
        totals = Outcome(
            totals.notices + result.notices,
            totals.emailed + result.emailed,
            totals.digested + result.digested,
        )
    return totals


PLANNING_EVENTS = frozenset(
    {EventType.PLANNING_SCHEDULED, EventType.PLANNING_CANCELLED, EventType.PLANNING_MISSED}
)


def planning_details(event: DomainEvent, case: Case, now: datetime) -> PlanningDetails | None:
    """The session a planning event is about, as it is NOW (events arrive late and out of
    order; the calendar entry always carries the session's latest state and SEQUENCE)."""
    if event.type not in PLANNING_EVENTS or not event.subject_id:
        return None
    from zoneinfo import ZoneInfo

    from caseroom.planning import dal as planning_dal
    from caseroom.planning import ical
    from caseroom.planning.records import SessionStatus

    session = planning_dal.get_session(case.case_id, event.subject_id)
    if session is None:
        return None
    local = session.starts_at.astimezone(ZoneInfo(session.timezone))
    cancelled = session.status is SessionStatus.CANCELLED
    ics = ical.session_ics(session, now, organizer=get_settings().email_from, attendee=case.owner_email)
    return PlanningDetails(
        starts_at=f"{local:%A %d %B %Y, %H:%M}",
        timezone=session.timezone,
        meeting_link=session.meeting_url,
        moved=session.sequence > 0 and not cancelled,
        cancelled=cancelled,
        calendar=CalendarPart(ical.ics_file_name(session), ics, ical.method_of(session)),
    )


def deliver(
    recipient: Recipient,
    source: str,
    title: str,
    email: Email | None,
    clock: Clock,
    *,
    case_id: str = "",
    event_type: str = "",
    event_id: str = "",
    subject_id: str = "",
) -> Outcome:
    """One notice to one recipient: feed (+ push the first time), then email per preferences."""
    now = clock.now()
    nid = notice_id(source, recipient.audience)
    feed_id = store.add_to_feed(
        recipient.audience,
        {
            "noticeKind": recipient.kind.value,
            "title": title,
            "caseId": case_id,
            "eventType": event_type,
            "eventId": event_id,
            "subjectId": subject_id,
        },
        nid,
        source,
        now,
    )
    notices = 0
    if feed_id is not None:
        notices = 1
        notifier.push_to_audiences(
            [recipient.audience],
            {
                "type": "notification",
                "notificationId": feed_id,
                "kind": recipient.kind.value,
                "caseId": case_id,
                "eventType": event_type,
                "eventId": event_id,
            },
            clock,
        )
    if recipient.user_id is None or email is None or not email.to:
        return Outcome(notices=notices)
    preferences = store.get_preferences(recipient.user_id)
    mode = effective_mode(recipient.kind, preferences.modes)
    if mode is EmailMode.IMMEDIATE:
        return Outcome(notices, emailed=int(_email_once(email, source, recipient.user_id, case_id, clock)))
    if mode is EmailMode.DIGEST:
        day = _queue_for_digest(
            recipient.user_id,
            preferences.digest_hour_utc,
            source,
            store.feed_id_at(now, nid),
            title,
            email.to,
            clock,
        )
        return Outcome(notices, digested=int(day is not None))
    return Outcome(notices=notices)


def _email_once(email: Email, source: str, user_id: str, case_id: str, clock: Clock) -> bool:
    what = f"notifications.email:{user_id}"
    if not consumers.claim(source, what, clock):
        return False
    sent = False
    try:
        send(email)
        sent = True
    finally:
        if not sent:  # whatever failed, release the claim so the event's retry can send it
            consumers.release(source, what)
    store.audit_email_sent(case_id, "email.notice", source, clock.now())
    return True


def send(email: Email) -> None:
    """Raises mailer.EmailNotSent when SES does not take it."""
    if email.calendar is not None:
        mailer.send_raw(email.to, mime_message(email, get_settings().email_from))
    else:
        mailer.send_simple(email.to, email.subject, email.text, email.html)


def mime_message(email: Email, sender: str) -> bytes:
    """The email with its calendar entry, the way calendar invitations travel (RFC 6047):
    multipart/mixed [ multipart/alternative [text, html, text/calendar;method=...], .ics file ].
    Mail apps offer the inline part to the calendar, which applies it to the event with the
    same UID; the attachment is the same text for apps that only look at attachments."""
    from email.message import EmailMessage

    assert email.calendar is not None
    calendar = email.calendar
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = sender
    message["To"] = email.to
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    message.add_alternative(
        calendar.ics.encode("utf-8"),
        maintype="text",
        subtype="calendar",
        params={"method": calendar.method, "charset": "UTF-8"},
    )
    message.add_attachment(
        calendar.ics.encode("utf-8"),
        maintype="application",
        subtype="ics",
        filename=calendar.file_name,
    )
    return bytes(message)


# --- daily digest ----------------------------------------------------------------------------


def next_digest_at(now: datetime, hour_utc: int | None) -> datetime:
    """The next HH:00 UTC strictly after `now`."""
    hour = DEFAULT_DIGEST_HOUR_UTC if hour_utc is None else hour_utc
    today = now.astimezone(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today if today > now else today + timedelta(days=1)


def digest_timer_name(user_id: str, day: str) -> str:
    return f"digest-{hashlib.sha256(user_id.encode()).hexdigest()[:24]}-{day.replace('-', '')}"


def _queue_for_digest(
    user_id: str, hour: int | None, source: str, feed_id: str, title: str, email_to: str, clock: Clock
) -> str | None:
    """Files the notice under the user's next digest (once per source, whatever the redelivery)."""
    what = f"notifications.digest:{user_id}"
    if not consumers.claim(source, what, clock):
        return None
    now = clock.now()
    due = next_digest_at(now, hour)
    day = due.date().isoformat()
    queued = False
    try:
        store.add_digest_item(user_id, day, feed_id, title, email_to, now)
        # One timer per user and day; scheduling it again with the same name and time is harmless.
        scheduling.schedule_event(
            digest_timer_name(user_id, day), due, DIGEST_DETAIL_TYPE, {"userId": user_id, "day": day}
        )
        queued = True
    finally:
        if not queued:
            consumers.release(source, what)
    return day


def on_digest_due(user_id: str, day: str, clock: Clock | None = None) -> bool:
    """Sends the day's digest once (timers are at-least-once); False if there was nothing to send."""
    clock = clock or _clock
    items = store.digest_items(user_id, day)
    if not items:
        return False
    source = f"digest:{day}"
    email = templates.digest_email(str(items[-1]["email"]), day, [str(i["title"]) for i in items])
    return _email_once(email, source, user_id, "", clock)
