"""The stored shape of the rooms: messages, their earlier versions, read markers.

Plain dataclasses (caseroom.stored). Key design in caseroom/chat/dal.py.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Message:
    case_id: str
    room: str  # caseroom.access.Room
    message_id: str
    author_id: str
    author_name: str
    author_role: str  # account role: clinician | lab | patient
    text: str  # "" once deleted (the original stays in the revision and audit trail)
    created_at: str
    reply_to: str | None = None
    attachments: list[str] = field(default_factory=list)  # file ids of the case
    mentions: list[str] = field(default_factory=list)  # user ids of the owner / active members
    edited_at: str | None = None
    deleted_at: str | None = None


@dataclass(frozen=True)
class Revision:
    """A message's text before an edit or a delete: insert-only, never served by a route."""

    case_id: str
    room: str
    message_id: str
    text: str
    replaced_at: str
    replaced_by: str
    change: str  # edited | deleted


def new_message_id(now: datetime) -> str:
    """Sorts by time (milliseconds), then 64 random bits: 'm' + 13 digits + 16 hex characters."""
    return f"m{int(now.timestamp() * 1000):013d}{secrets.token_hex(8)}"


def is_message_id(value: str) -> bool:
    return len(value) == 30 and value[0] == "m" and value[1:14].isdigit() and _hex(value[14:])


def _hex(value: str) -> bool:
    return all(c in "0123456789abcdef" for c in value)
