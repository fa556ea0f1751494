"""iCalendar (RFC 5545) files and Google Calendar links for planning sessions.

These end up in third-party calendars: they name the case id, never the patient.
Times are written in UTC (RFC 5545 3.3.5 form 2), so no VTIMEZONE is needed.

One session is one calendar event for its whole life: the UID is the session id, and every
change the lab makes raises SEQUENCE (RFC 5546 2.1.4), so calendar apps replace the event
instead of adding another:
- booked / moved: METHOD:PUBLISH with the session's current time; a move has a higher SEQUENCE;
- cancelled: METHOD:CANCEL, STATUS:CANCELLED, a higher SEQUENCE again: the event is removed.
The same text goes into the email (a text/calendar part whose `method` parameter matches) and
the .ics link, which always serves the session's current state.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from caseroom.planning.records import Session, SessionStatus

PRODID = "-//CaseRoom//Planning sessions//EN"
LINE_OCTETS = 75  # RFC 5545 3.1: lines SHOULD NOT be longer than 75 octets, excluding CRLF


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11): backslash, semicolon, comma, newline."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Splits a content line into 75-octet pieces joined by CRLF + space, never inside a UTF-8
    character (RFC 5545 3.1)."""
    pieces: list[str] = []
    current, size = "", 0
    limit = LINE_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size = "", 0
            limit = LINE_OCTETS - 1  # continuation lines start with one space
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def summary_for(case_id: str) -> str:
    return f"CaseRoom planning session - case {case_id}"


def description_for(session: Session) -> str:
    return (
        f"Virtual planning session for CaseRoom case {session.case_id}.\n"
        f"Join: {session.meeting_url}\n"
        "Sign in to CaseRoom for the case details."
    )


def method_of(session: Session) -> str:
    """The iTIP method of the session's calendar entry as it is now."""
    return "CANCEL" if session.status is SessionStatus.CANCELLED else "PUBLISH"


def uid_of(session: Session) -> str:
    return f"{session.session_id}@caseroom"


def session_ics(
    session: Session, now: datetime, organizer: str | None = None, attendee: str | None = None
) -> str:
    """The session's calendar entry in its current state. `organizer` (CaseRoom's sender) and
    `attendee` (the clinician) are email addresses; RFC 5546 asks for both in a CANCEL."""
    cancelled = session.status is SessionStatus.CANCELLED
    people: list[tuple[str, str]] = []
    if organizer:
        people.append(("ORGANIZER;CN=CaseRoom", f"mailto:{organizer}"))
    if attendee:
        people.append(("ATTENDEE;ROLE=REQ-PARTICIPANT", f"mailto:{attendee}"))
    properties = [
        ("BEGIN", "VCALENDAR"),
        ("VERSION", "2.0"),
        ("PRODID", PRODID),
        ("CALSCALE", "GREGORIAN"),
        ("METHOD", method_of(session)),
        ("BEGIN", "VEVENT"),
        ("UID", uid_of(session)),
        ("DTSTAMP", _stamp(now)),
        ("DTSTART", _stamp(session.starts_at)),
        ("DTEND", _stamp(session.ends_at)),
        ("SEQUENCE", str(session.sequence)),
        *people,
        ("SUMMARY", escape_text(("Cancelled: " if cancelled else "") + summary_for(session.case_id))),
        ("DESCRIPTION", escape_text(description_for(session))),
        ("LOCATION", escape_text(session.meeting_url)),
        ("URL", session.meeting_url),
        ("STATUS", "CANCELLED" if cancelled else "CONFIRMED"),
        ("TRANSP", "TRANSPARENT" if cancelled else "OPAQUE"),
        ("END", "VEVENT"),
        ("END", "VCALENDAR"),
    ]
    return "".join(fold(f"{name}:{value}") + "\r\n" for name, value in properties)


def google_calendar_url(session: Session) -> str:
    query = urlencode(
        {
            "action": "TEMPLATE",
            "text": summary_for(session.case_id),
            "dates": f"{_stamp(session.starts_at)}/{_stamp(session.ends_at)}",
            "details": description_for(session),
            "location": session.meeting_url,
            "ctz": session.timezone,
        }
    )
    return f"https://calendar.google.com/calendar/render?{query}"


def ics_file_name(session: Session) -> str:
    return f"caseroom-planning-{session.case_id}.ics"
