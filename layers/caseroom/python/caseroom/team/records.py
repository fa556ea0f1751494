"""The stored shape of Team-Up: invitations, active members and network contacts.

Plain dataclasses (caseroom.stored). Key design in caseroom/team/dal.py.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class ProfessionalRole(StrEnum):
    """What a member does on the case, shown to the team."""

    DENTIST = "dentist"
    SURGEON = "surgeon"
    PROSTHODONTIST = "prosthodontist"
    ORTHODONTIST = "orthodontist"
    TECHNICIAN = "technician"


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"  # the invitee is an active member
    DECLINED = "declined"
    CANCELLED = "cancelled"  # the owner withdrew it before an answer
    REMOVED = "removed"  # the owner removed the member
    LEFT = "left"  # the member left


# An address may be invited again once its last invitation is over.
REINVITABLE = frozenset(
    {InvitationStatus.DECLINED, InvitationStatus.CANCELLED, InvitationStatus.REMOVED, InvitationStatus.LEFT}
)


@dataclass(frozen=True)
class Invitation:
    """The case's record of one address: the latest invitation and what became of it."""

    invitation_id: str
    case_id: str
    email: str  # normalized (see normalize_email)
    professional_role: ProfessionalRole
    status: InvitationStatus
    invited_by: str
    invited_by_name: str
    created_at: str
    responded_at: str | None = None
    user_id: str | None = None  # the account that accepted


@dataclass(frozen=True)
class Member:
    """An active member of a case's team. The item exists only while they are active: removing
    or leaving deletes it in the same transaction that records why."""

    case_id: str
    user_id: str
    email: str
    name: str
    account_role: str  # clinician | lab
    professional_role: ProfessionalRole
    joined_at: str
    invitation_id: str


@dataclass(frozen=True)
class Contact:
    """Someone in a user's network (after a first accepted Team-Up)."""

    owner_id: str  # whose network
    user_id: str
    name: str
    email: str
    since: str


def normalize_email(value: str) -> str:
    return value.strip().casefold()


def fold(text: str) -> str:
    """Case- and accent-insensitive search form: "Ștefan" -> "stefan"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()
