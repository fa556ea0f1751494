"""HTTP routes of Team-Up (served by the cases API function). Thin: parse, identify, call logic."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from caseroom.access import Action
from caseroom.auth import Principal
from caseroom.cases.models import CasePage
from caseroom.cases.sorting import SortColumn, SortOrder
from caseroom.errors import (
    AlreadyInvited,
    AlreadyMember,
    CannotInviteSelf,
    ContactNotFound,
    EmailNotVerified,
    InvitationNotFound,
    InviteeMissing,
    MemberNotFound,
    NewOwnerNotEligible,
    TeamFull,
    VersionConflict,
)
from caseroom.http import current_principal, request_meta
from caseroom.route_support import (
    CaseIdPath,
    Cursor,
    IdempotencyKey,
    PageSize,
    ServiceSlot,
    create_once,
    declares,
    raises,
)
from caseroom.team.logic import TeamService
from caseroom.team.models import (
    ContactPage,
    Done,
    InvitationView,
    InviteRequest,
    MemberView,
    OwnerView,
    TeamRequestPage,
    TeamView,
    TransferOwnershipRequest,
)

router = Router()

_services = ServiceSlot(TeamService)
service = _services.get
use_service = _services.use  # tests inject a service with a fixed clock

InvitationIdPath = Annotated[str, Path(min_length=1, max_length=64, description="Invitation id")]
UserIdPath = Annotated[str, Path(min_length=1, max_length=128, description="A user's id")]


def _who() -> Principal:
    return current_principal(router)


@router.get(
    "/cases/<caseId>/team",
    summary="The case team: owner, active members (and, for the owner, pending invitations)",
)
@declares(Action.TEAM_READ)
def get_team(caseId: CaseIdPath) -> TeamView:
    return service().team(_who(), caseId, request_meta(router))


@router.post(
    "/cases/<caseId>/team/invitations",
    summary="Invite a colleague by email, or from your network by userId",
    responses={201: {"description": "Invited (Pending)"}},
)
@declares(Action.TEAM_INVITE)
@raises(InviteeMissing, ContactNotFound, CannotInviteSelf, AlreadyInvited, AlreadyMember, TeamFull)
def invite(
    caseId: CaseIdPath, body: Annotated[InviteRequest, Body()], idempotency_key: IdempotencyKey = None
) -> tuple[InvitationView, int]:
    who, meta = _who(), request_meta(router)
    request = {"caseId": caseId, **body.model_dump(mode="json", by_alias=True)}
    invited = create_once(
        "team_invite",
        who.user_id,
        idempotency_key,
        request,
        InvitationView,
        lambda: service().invite(who, caseId, body, meta),
        router.lambda_context,
    )
    return invited, 201


@router.delete("/cases/<caseId>/team/invitations/<invitationId>", summary="Cancel a pending invitation")
@declares(Action.TEAM_INVITATION_CANCEL)
@raises(InvitationNotFound)
def cancel_invitation(caseId: CaseIdPath, invitationId: InvitationIdPath) -> Done:
    service().cancel_invitation(_who(), caseId, invitationId, request_meta(router))
    return Done(outcome="cancelled")


@router.delete("/cases/<caseId>/team/members/<userId>", summary="Remove a member (effective at once)")
@declares(Action.TEAM_MEMBER_REMOVE)
@raises(MemberNotFound)
def remove_member(caseId: CaseIdPath, userId: UserIdPath) -> Done:
    service().remove_member(_who(), caseId, userId, request_meta(router))
    return Done(outcome="removed")


@router.post("/cases/<caseId>/team/leave", summary="Leave the case team")
@declares(Action.TEAM_LEAVE)
@raises(MemberNotFound)
def leave(caseId: CaseIdPath) -> Done:
    service().leave(_who(), caseId, request_meta(router))
    return Done(outcome="left")


@router.post("/cases/<caseId>/team/owner", summary="Hand the case to an active member (you stay a member)")
@declares(Action.TEAM_OWNERSHIP_TRANSFER)
@raises(VersionConflict, MemberNotFound, NewOwnerNotEligible)
def transfer_ownership(caseId: CaseIdPath, body: Annotated[TransferOwnershipRequest, Body()]) -> OwnerView:
    return service().transfer_ownership(_who(), caseId, body, request_meta(router))


@router.get("/me/team-requests", summary="My pending Team-Up invitations, newest first")
@declares(Action.TEAM_REQUESTS_LIST)
@raises(EmailNotVerified)
def team_requests(limit: PageSize = 25, cursor: Cursor = None) -> TeamRequestPage:
    return service().requests(_who(), limit, cursor, request_meta(router))


@router.post(
    "/me/team-requests/<invitationId>/accept", summary="Accept an invitation: become an active member"
)
@declares(Action.TEAM_REQUEST_RESPOND)
@raises(EmailNotVerified, InvitationNotFound, CannotInviteSelf)
def accept(invitationId: InvitationIdPath) -> MemberView:
    return service().accept(_who(), invitationId, request_meta(router))


@router.post("/me/team-requests/<invitationId>/decline", summary="Decline an invitation")
@declares(Action.TEAM_REQUEST_RESPOND)
@raises(EmailNotVerified, InvitationNotFound, CannotInviteSelf)
def decline(invitationId: InvitationIdPath) -> Done:
    service().decline(_who(), invitationId, request_meta(router))
    return Done(outcome="declined")


@router.get("/shared/cases", summary="Cases shared with me (active memberships), sorted like my cases")
@declares(Action.SHARED_CASE_LIST)
def shared_cases(
    sort: Annotated[SortColumn, Query()] = SortColumn.ATTENTION,
    order: Annotated[SortOrder, Query()] = SortOrder.ASC,
    archived: Annotated[bool, Query(description="true: only archived cases")] = False,
    limit: PageSize = 25,
    cursor: Cursor = None,
) -> CasePage:
    return service().shared_cases(_who(), archived, sort, order, limit, cursor, request_meta(router))


@router.get("/me/network", summary="My network: search by name prefix or email, paginated")
@declares(Action.NETWORK_READ)
def network(
    q: Annotated[
        str | None, Query(max_length=100, description="Name prefix (case/accent-insensitive) or email prefix")
    ] = None,
    limit: PageSize = 25,
    cursor: Cursor = None,
) -> ContactPage:
    return service().network(_who(), q, limit, cursor, request_meta(router))


@router.delete("/me/network/<userId>", summary="Remove someone from my network")
@declares(Action.NETWORK_REMOVE)
@raises(ContactNotFound)
def remove_contact(userId: UserIdPath) -> Done:
    service().remove_contact(_who(), userId, request_meta(router))
    return Done(outcome="removed")
