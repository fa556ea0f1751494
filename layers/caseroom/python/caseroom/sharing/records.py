"""The stored shape of share links and what hangs off them (dataclasses: read on every guest request)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ShareLink:
    link_id: str
    case_id: str
    token_hash: str  # SHA-256 of the token; the token itself is shown once and never stored
    created_by: str
    created_by_name: str
    created_at: str
    expires_at: str  # <= created_at + 24 h, never moved
    galleries: list[str] | None  # None: the whole case
    show_patient_name: bool
    require_email_code: bool
    note: str | None = None
    revoked_at: str | None = None
    revoked_by: str | None = None
    first_opened_at: str | None = None
    expiry_warned_at: str | None = None


@dataclass
class TokenEntry:
    """Token hash -> link: the only way in from a token (a consistent GetItem, never a listing)."""

    case_id: str
    link_id: str


@dataclass
class EmailChallenge:
    challenge_id: str
    link_id: str
    email: str
    code_hash: str
    expires_at: str  # 5 minutes
    attempts: int = 0
    used: bool = False


@dataclass
class GuestSession:
    link_id: str
    email: str
    created_at: str
    expires_at: str  # the link's expiry


@dataclass
class LinkAccess:
    """One line of a link's access log: what a guest did, when, from where, with what client."""

    link_id: str
    at: str
    action: str  # opened | downloaded | email-code-sent | email-code-confirmed | refused
    source_ip: str
    user_agent: str
    request_id: str
    file_id: str | None = None
    guest_email: str | None = None


@dataclass
class SharePolicy:
    """The case owner's setting for share links (one per case; absent: members may not create)."""

    case_id: str
    members_may_create: bool = False
    updated_by: str | None = None
    updated_at: str | None = None
