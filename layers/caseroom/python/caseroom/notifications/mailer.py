"""Sending mail through SES: the notifications context's data access for email. Whatever goes
wrong there (SES refused the message, or could not be reached) becomes EmailNotSent, so the
logic decides what a lost email means without knowing botocore."""

from __future__ import annotations

from caseroom import aws
from caseroom.settings import get_settings


class EmailNotSent(Exception):
    """SES did not take the message; the exception's name and cause are for the logs only."""


def send_simple(to: str, subject: str, text: str, html: str) -> None:
    _call(
        "send_email",
        Source=get_settings().email_from,
        Destination={"ToAddresses": [to]},
        Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": text, "Charset": "UTF-8"}, "Html": {"Data": html, "Charset": "UTF-8"}},
        },
    )


def send_raw(to: str, message: bytes) -> None:
    """A whole MIME message (an email with a calendar attachment)."""
    _call("send_raw_email", Source=get_settings().email_from, Destinations=[to], RawMessage={"Data": message})


def _call(operation: str, **request: object) -> None:
    from botocore.exceptions import BotoCoreError, ClientError  # on first send, not at import

    try:
        getattr(aws.client("ses"), operation)(**request)
    except (ClientError, BotoCoreError) as failure:
        raise EmailNotSent(type(failure).__name__) from failure
