"""The emails moto's SES accepted (v1 and v2 share one store), read in-process, newest first."""

from __future__ import annotations

import email
import email.policy
import html
from html.parser import HTMLParser
from typing import Any

from local.aws_backend import ACCOUNT_ID, REGION


def sent_emails() -> list[dict[str, Any]]:
    from moto.ses.models import ses_backends  # moto runs in this process

    messages = list(ses_backends[ACCOUNT_ID][REGION].sent_messages)
    return [_describe(message) for message in reversed(messages)]


def _describe(message: Any) -> dict[str, Any]:
    if hasattr(message, "raw_data"):
        return _describe_raw(message)
    destinations = getattr(message, "destinations", {}) or {}
    if hasattr(message, "template"):
        subject = f"(template {message.template})"
        body = str(message.template_data)
    else:
        subject = str(message.subject)
        body = _as_text(str(message.body))
    return {
        "id": getattr(message, "id", getattr(message, "ids", "")),
        "from": message.source,
        "to": list(destinations.get("ToAddresses", [])) if isinstance(destinations, dict) else [],
        "cc": list(destinations.get("CcAddresses", [])) if isinstance(destinations, dict) else [],
        "bcc": list(destinations.get("BccAddresses", [])) if isinstance(destinations, dict) else [],
        "subject": subject,
        "body": body,
    }


def _describe_raw(message: Any) -> dict[str, Any]:
    parsed = email.message_from_string(message.raw_data, policy=email.policy.default)
    part = parsed.get_body(preferencelist=("plain", "html"))
    body = part.get_content() if part is not None else ""
    if part is not None and part.get_content_subtype() == "html":
        body = _as_text(body)
    return {
        "id": message.id,
        "from": message.source or str(parsed.get("From", "")),
        "to": list(message.destinations) if message.destinations else [str(parsed.get("To", ""))],
        "cc": [],
        "bcc": [],
        "subject": str(parsed.get("Subject", "")),
        "body": body,
    }


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p", "div", "li", "tr", "h1", "h2", "h3"):
            self.parts.append("\n")


def _as_text(body: str) -> str:
    """SES keeps the HTML part when both were sent; the mailbox shows readable text."""
    if "<" not in body:
        return body
    extractor = _TextExtractor()
    extractor.feed(body)
    return "".join(extractor.parts).strip()


def render_mailbox_html(messages: list[dict[str, Any]]) -> str:
    rows = "\n".join(
        "<article>"
        f"<h2>{html.escape(m['subject'])}</h2>"
        f"<p class=meta><b>From:</b> {html.escape(m['from'])} &nbsp; "
        f"<b>To:</b> {html.escape(', '.join(m['to']))}"
        + (f" &nbsp; <b>Cc:</b> {html.escape(', '.join(m['cc']))}" if m["cc"] else "")
        + f"</p><pre>{html.escape(m['body'])}</pre></article>"
        for m in messages
    )
    empty = "<p>No email sent yet. Emails the functions send through SES appear here.</p>"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>CaseRoom local mailbox</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "article{border:1px solid #ddd;border-radius:6px;padding:0 1rem;margin:1rem 0}"
        ".meta{color:#555}pre{white-space:pre-wrap;font-family:inherit}</style></head><body>"
        f"<h1>Local mailbox</h1><p>{len(messages)} email(s), newest first. "
        "<a href=/_local/mailbox.json>JSON</a></p>"
        f"{rows or empty}</body></html>"
    )
