"""Email templates: readable text and the same content as HTML, every value escaped.

No patient names, file names or Rx text: email is not a secure channel. A message names the
case id, its type and teeth, and sends the reader to CaseRoom for the rest.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, replace

from caseroom.cases.records import Case
from caseroom.notifications.kinds import NoticeKind

SIGNATURE = "- CaseRoom"
RED_MISSING_FILES = "Missing CBCT/Models"
RED_PLANNING_NO_SHOW = "Planning No Show"


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    calendar: CalendarPart | None = None  # sent as a text/calendar part and an .ics attachment


@dataclass(frozen=True)
class CalendarPart:
    """An iCalendar entry for the reader's calendar app: `method` (PUBLISH or CANCEL) is also
    the text/calendar part's method parameter, as iTIP over email (RFC 6047) asks."""

    file_name: str
    ics: str
    method: str


@dataclass(frozen=True)
class Paragraph:
    text: str
    link: str | None = None  # an https URL shown as a link in the HTML part


@dataclass(frozen=True)
class PlanningDetails:
    """The seam for the planning session's time and meeting link. The workflow's session record
    fills it once it exists; until then planning emails send the reader to CaseRoom for both."""

    starts_at: str
    timezone: str
    meeting_link: str | None = None
    moved: bool = False  # the lab rescheduled the session (its calendar SEQUENCE rose)
    cancelled: bool = False  # the session is cancelled now, whatever the event said
    calendar: CalendarPart | None = None


def render(to: str, subject: str, greeting_name: str, paragraphs: Sequence[Paragraph]) -> Email:
    greeting = f"Hello {greeting_name}," if greeting_name else "Hello,"
    text_parts = [greeting, *(p.text + (f"\n{p.link}" if p.link else "") for p in paragraphs), SIGNATURE]
    html_parts = [f"<p>{_escape(greeting)}</p>"]
    for paragraph in paragraphs:
        body = _escape(paragraph.text)
        if paragraph.link and _linkable(paragraph.link):
            url = html.escape(paragraph.link, quote=True)
            body += f'<br><a href="{url}">{url}</a>'
        html_parts.append(f"<p>{body}</p>")
    html_parts.append(f"<p>{_escape(SIGNATURE)}</p>")
    return Email(
        to=to,
        subject=subject,
        text="\n\n".join(text_parts),
        html="<html><body>" + "".join(html_parts) + "</body></html>",
    )


def _linkable(link: str) -> bool:
    """HTTPS links, or links into this deployment's own app (the local runtime serves it over
    http on 127.0.0.1); anything else stays plain text."""
    from caseroom.settings import get_settings

    app_url = get_settings().app_url.rstrip("/") + "/"
    return link.startswith("https://") or link.startswith(app_url)


def _escape(text: str) -> str:
    return html.escape(text, quote=True).replace("\n", "<br>")


def describe(case: Case) -> str:
    """'7KQ2-M9XD-4RTA (crown, teeth 11, 21)': what identifies a case without naming the patient."""
    kind = case.case_type.replace("_", " ")
    teeth = ", ".join(case.teeth)
    return f"{case.case_id} ({kind}, teeth {teeth})" if teeth else f"{case.case_id} ({kind})"


def title(kind: NoticeKind, case: Case | None, case_id: str) -> str:
    """One line for the feed, the digest and the subject: ids, types and statuses only."""
    status = case.status if case else ""
    return {
        NoticeKind.CASE_CREATED: f"Case {case_id} received",
        NoticeKind.CASE_STATUS_CHANGED: f"Case {case_id} is now {status}",
        NoticeKind.CASE_ON_HOLD: f"Case {case_id} is on hold",
        NoticeKind.CASE_NEEDS_CLINICIAN: f"Case {case_id} needs you: {status}",
        NoticeKind.CASE_SHIPPED: f"Case {case_id} has shipped",
        NoticeKind.PLANNING_SCHEDULED: f"Planning session booked for case {case_id}",
        NoticeKind.PLANNING_CANCELLED: f"Planning session cancelled for case {case_id}",
        NoticeKind.PLANNING_MISSED: f"Planning session missed for case {case_id}",
        NoticeKind.FILE_QUARANTINED: f"An upload to case {case_id} was quarantined",
        NoticeKind.LAB_NEW_CASE: f"New case {case_id}",
        NoticeKind.LAB_RX_MODIFIED: f"Rx changed on case {case_id}",
        NoticeKind.LAB_FILE_ADDED: f"New file on case {case_id}",
        NoticeKind.LAB_PLANNING_BOOKED: f"Planning session booked on case {case_id}",
        NoticeKind.LAB_PLANNING_MISSED: f"Planning session missed on case {case_id}",
        NoticeKind.LAB_STATUS_CHANGED_BY_SYSTEM: f"Case {case_id} moved to {status}",
        NoticeKind.WEBHOOK_ENDPOINT_DISABLED: "A webhook endpoint was disabled",
        NoticeKind.SHARE_LINK_FIRST_OPENED: f"A share link of case {case_id} was opened for the first time",
        NoticeKind.SHARE_LINK_EXPIRING: f"A share link of case {case_id} expires within the hour",
        # A patient's notices name no case (a disconnected case leaves nothing in their lists)
        NoticeKind.PASSPORT_CONNECTED: "A clinic added your treatment records to your Passport",
        NoticeKind.PASSPORT_SHARED: "Your clinic shared new records with you",
    }[kind]


def case_email(kind: NoticeKind, case: Case, planning: PlanningDetails | None = None) -> Email | None:
    """The immediate email of a case notice to its owner, or None for kinds never emailed."""
    about = describe(case)
    due = case.due_date or "set once the lab has everything it needs"
    sign_in = "Sign in to CaseRoom to see the details."
    paragraphs: list[Paragraph]
    match kind:
        case NoticeKind.CASE_CREATED:
            paragraphs = [
                Paragraph(f"We received your case {about}."),
                Paragraph(f"Status: {case.status}. Expected ship date: {due}."),
                Paragraph(
                    "Keep the case id for any correspondence. Sign in to CaseRoom to view the Rx "
                    "script, upload files or change the Rx."
                ),
            ]
            subject = f"CaseRoom: case {case.case_id} received"
        case NoticeKind.CASE_ON_HOLD:
            paragraphs = [
                Paragraph(f"The lab put your case {about} on hold."),
                Paragraph("Sign in to CaseRoom to see why and what the lab needs from you."),
            ]
            subject = f"CaseRoom: case {case.case_id} is on hold"
        case NoticeKind.CASE_NEEDS_CLINICIAN:
            if case.status == RED_MISSING_FILES:
                need = (
                    "The lab cannot start without the CBCT or the models. Upload them in CaseRoom; "
                    "the case has no due date until then."
                )
            elif case.status == RED_PLANNING_NO_SHOW:
                need = (
                    "The planning session was missed. Book a new session in CaseRoom; the case has "
                    "no due date until then."
                )
            else:
                need = sign_in
            paragraphs = [Paragraph(f"Your case {about} needs you: {case.status}."), Paragraph(need)]
            subject = f"CaseRoom: case {case.case_id} needs you ({case.status})"
        case NoticeKind.CASE_STATUS_CHANGED:
            paragraphs = [
                Paragraph(f"Your case {about} is now {case.status}. Expected ship date: {due}."),
                Paragraph(sign_in),
            ]
            subject = f"CaseRoom: case {case.case_id} is now {case.status}"
        case NoticeKind.CASE_SHIPPED:
            carrier = case.carrier or "the carrier"
            tracking = (
                f"Carrier: {carrier}. Tracking number: {case.tracking_number}."
                if case.tracking_number
                else f"Carrier: {carrier}. The tracking number is in CaseRoom."
            )
            paragraphs = [
                Paragraph(f"Your case {about} has shipped."),
                Paragraph(tracking, link=case.tracking_url),
            ]
            subject = f"CaseRoom: case {case.case_id} has shipped"
        case NoticeKind.PLANNING_SCHEDULED:
            if planning is not None and planning.cancelled:
                # A late "booked" notice for a session cancelled since: the cancellation's own
                # email carries the calendar update; this one would only confuse.
                return None
            when = (
                Paragraph(f"When: {planning.starts_at} ({planning.timezone}).", link=planning.meeting_link)
                if planning
                else Paragraph("The time and the meeting link are in CaseRoom, with a calendar file.")
            )
            if planning is not None and planning.moved:
                paragraphs = [
                    Paragraph(f"The lab moved the planning session of your case {about}."),
                    when,
                    Paragraph("The attached calendar entry updates the one you have."),
                ]
                subject = f"CaseRoom: planning session moved for case {case.case_id}"
            else:
                paragraphs = [Paragraph(f"A planning session for your case {about} is booked."), when]
                subject = f"CaseRoom: planning session booked for case {case.case_id}"
        case NoticeKind.PLANNING_CANCELLED:
            paragraphs = [
                Paragraph(f"The lab cancelled the planning session of your case {about}."),
                Paragraph(
                    "The attached calendar update removes it from your calendar. "
                    "Sign in to CaseRoom to book another session."
                ),
            ]
            subject = f"CaseRoom: planning session cancelled for case {case.case_id}"
        case NoticeKind.PLANNING_MISSED:
            paragraphs = [
                Paragraph(f"The planning session of your case {about} was missed."),
                Paragraph(
                    "The case waits in Planning No Show, without a due date, until you book a new "
                    "session in CaseRoom."
                ),
            ]
            subject = f"CaseRoom: planning session missed for case {case.case_id}"
        case NoticeKind.FILE_QUARANTINED:
            paragraphs = [
                Paragraph(
                    f"A file uploaded to your case {about} failed verification and was quarantined; "
                    "the lab cannot use it."
                ),
                Paragraph("Sign in to CaseRoom to see which upload it was, and upload it again."),
            ]
            subject = f"CaseRoom: an upload to case {case.case_id} was quarantined"
        case _:
            return None
    email = render(case.owner_email, subject, case.owner_name, paragraphs)
    if planning is not None and planning.calendar is not None and kind in CALENDAR_KINDS:
        email = replace(email, calendar=planning.calendar)
    return email


# The notices whose email carries the session's calendar entry.
CALENDAR_KINDS = frozenset({NoticeKind.PLANNING_SCHEDULED, NoticeKind.PLANNING_CANCELLED})


def endpoint_disabled_email(to: str, name: str, endpoint_id: str, host: str, reason: str) -> Email:
    return render(
        to,
        "CaseRoom: a webhook endpoint was disabled",
        name,
        [
            Paragraph(f"Your webhook endpoint {endpoint_id} at {host} was disabled: {reason}."),
            Paragraph(
                "CaseRoom no longer sends events to it. Fix the receiver, then re-enable the "
                "endpoint in CaseRoom; undelivered events are kept for 14 days."
            ),
        ],
    )


def digest_email(to: str, day: str, titles: Sequence[str]) -> Email:
    lines = "\n".join(f"- {line}" for line in titles)
    return render(
        to,
        f"CaseRoom: your daily summary for {day} ({len(titles)} update{'s' if len(titles) != 1 else ''})",
        "",
        [Paragraph(f"What happened on your cases:\n{lines}"), Paragraph("Sign in to CaseRoom for details.")],
    )
