"""The Team-Up API contract (openapi.json is generated from these models)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from caseroom.cases.models import MAX_VERSION, StrictModel
from caseroom.team.records import InvitationStatus, ProfessionalRole

# A plain, conservative address check (no display names, no IP literals, no quoted parts).
EmailAddress = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=3,
        max_length=254,
        pattern=r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$",
    ),
]
UserId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@-]+$")]


class InviteRequest(StrictModel):
    """Invite by email, or pick someone from your network by their user id."""

    email: EmailAddress | None = None
    user_id: UserId | None = Field(default=None, alias="userId")
    professional_role: ProfessionalRole = Field(alias="professionalRole")


class TransferOwnershipRequest(StrictModel):
    user_id: UserId = Field(alias="userId", description="An active member with a clinician account")
    version: int = Field(ge=1, le=MAX_VERSION, description="The case version you read")
    my_role: ProfessionalRole = Field(
        default=ProfessionalRole.DENTIST,
        alias="myRole",
        description="Your professional role on the team once you are a member",
    )


class _View(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)


class InvitationView(_View):
    invitation_id: str = Field(alias="invitationId")
    case_id: str = Field(alias="caseId")
    email: str
    professional_role: ProfessionalRole = Field(alias="professionalRole")
    status: InvitationStatus
    invited_by_name: str = Field(alias="invitedByName")
    created_at: str = Field(alias="createdAt")
    email_sent: bool | None = Field(default=None, alias="emailSent")


class TeamRequestView(_View):
    """An invitation as its invitee sees it before answering: no patient data."""

    invitation_id: str = Field(alias="invitationId")
    case_id: str = Field(alias="caseId")
    professional_role: ProfessionalRole = Field(alias="professionalRole")
    invited_by_name: str = Field(alias="invitedByName")
    created_at: str = Field(alias="createdAt")


class TeamRequestPage(_View):
    items: list[TeamRequestView]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class MemberView(_View):
    user_id: str = Field(alias="userId")
    name: str
    email: str
    professional_role: ProfessionalRole = Field(alias="professionalRole")
    joined_at: str = Field(alias="joinedAt")


class OwnerView(_View):
    user_id: str = Field(alias="userId")
    name: str
    email: str


class TeamView(_View):
    case_id: str = Field(alias="caseId")
    owner: OwnerView
    members: list[MemberView]
    pending: list[InvitationView] = Field(
        default_factory=list, description="Pending invitations (shown to the owner only)"
    )


class ContactView(_View):
    user_id: str = Field(alias="userId")
    name: str
    email: str
    since: str


class ContactPage(_View):
    items: list[ContactView]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class Done(_View):
    outcome: str = Field(description="cancelled | removed | left | declined")
