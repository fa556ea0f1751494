"""Email notifications. Email is not a secure channel: messages name the case id, type and
teeth, never the patient; the details are one sign-in away."""

from __future__ import annotations

import html
from dataclasses import dataclass

from caseroom import audit_store, aws, consumers
from caseroom.audit import system_record
from caseroom.cases import dal
from caseroom.cases.records import Case
from caseroom.clock import Clock, SystemClock, iso
from caseroom.events import DomainEvent
from caseroom.settings import get_settings

CONSUMER = "notifications.case_created"


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str


def case_created_email(case: Case) -> Email:
    kind = case.case_type.value.replace("_", " ")
    due = case.due_date or "set once the lab has everything it needs"
    text = (
        f"Hello {case.owner_name},\n\n"
        f"We received your case {case.case_id} ({kind}, teeth {', '.join(case.teeth)}).\n"
        f"Status: {case.status.value}. Expected ship date: {due}.\n\n"
        "Keep the case id for any correspondence. Sign in to CaseRoom to view the Rx script,\n"
        "upload files or change the Rx.\n\n- CaseRoom"
    )
    body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n"))
    return Email(
        to=case.owner_email,
        subject=f"CaseRoom: case {case.case_id} received",
        text=text,
        html=f"<html><body>{body}</body></html>",
    )


def send(email: Email) -> None:
    aws.client("ses").send_email(
        Source=get_settings().email_from,
        Destination={"ToAddresses": [email.to]},
        Message={
            "Subject": {"Data": email.subject, "Charset": "UTF-8"},
            "Body": {
                "Text": {"Data": email.text, "Charset": "UTF-8"},
                "Html": {"Data": email.html, "Charset": "UTF-8"},
            },
        },
    )


def on_case_created(event: DomainEvent, clock: Clock | None = None) -> bool:
    """Sends the confirmation once per event, however often the event is delivered."""
    clock = clock or SystemClock()
    case = dal.get_case(event.case_id)
    if case is None or not case.owner_email:
        return False
    if not consumers.claim(event.id, CONSUMER, clock):
        return False
    sent = False
    try:
        send(case_created_email(case))
        sent = True
    finally:
        if not sent:  # whatever failed, release the claim so EventBridge's retry can send it
            consumers.release(event.id, CONSUMER)
    audit_store.append(
        system_record(
            "notifications", "email.case_created", case.case_id, "email", event.id, iso(clock.now()), event.id
        )
    )
    return True
