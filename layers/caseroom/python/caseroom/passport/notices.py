"""What the patient is told, in their feed (keyed by their verified address: the clinic knows
the address, not the account) and by email: when a clinic connects them (the invitation) and
when it shares something new with them.

Neither names the case, the patient, a gallery or a file: email is not a secure channel, and a
patient the clinic later disconnects keeps nothing of that case in their lists. Both send the
reader to their Passport, where what they may see is decided afresh."""

from __future__ import annotations

from caseroom import realtime
from caseroom.clock import Clock
from caseroom.notifications import templates
from caseroom.notifications.kinds import NoticeKind
from caseroom.notifications.service import Recipient, deliver, send
from caseroom.notifications.templates import Paragraph
from caseroom.passport.records import PatientConnection
from caseroom.settings import app_link


def passport_url() -> str:
    """The Passport screen of the web app (a hash route: `/passport` would be an API path)."""
    return app_link("passport")


def _tell(connection: PatientConnection, kind: NoticeKind, source: str, clock: Clock) -> None:
    recipient = Recipient(kind, realtime.patient_audience(connection.patient_email), None)
    deliver(recipient, source, templates.title(kind, None, ""), None, clock)


def connected(connection: PatientConnection, clock: Clock) -> None:
    """The invitation (email) and the same news in the patient's feed."""
    source = f"passport-connected:{connection.case_id}:{connection.connected_at}"
    _tell(connection, NoticeKind.PASSPORT_CONNECTED, source, clock)
    send(
        templates.render(
            connection.patient_email,
            "Your treatment records on CaseRoom",
            "",
            [
                Paragraph(
                    f"{connection.clinic_name} has shared records of your treatment with you on CaseRoom."
                ),
                Paragraph(
                    "Sign in (or create a patient account) with this email address "
                    "to see them in your Passport.",
                    passport_url(),
                ),
            ],
        )
    )


def shared(connection: PatientConnection, clock: Clock) -> None:
    """Something new is shared (the connection's version names this sharing: told once)."""
    source = f"passport-shared:{connection.case_id}:{connection.connected_at}:{connection.version}"
    _tell(connection, NoticeKind.PASSPORT_SHARED, source, clock)
    send(
        templates.render(
            connection.patient_email,
            "New records in your CaseRoom Passport",
            "",
            [
                Paragraph(f"{connection.clinic_name} shared new records of your treatment with you."),
                Paragraph("Sign in to your Passport to see them.", passport_url()),
            ],
        )
    )
