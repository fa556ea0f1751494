"""The rules of Team-Up: invitations, membership, ownership hand-over, the network.

Every change commits with its domain event, its timeline entry and its audit record, or not at
all. Who may do what is caseroom.access (rows TEAM_*); invitations are answered on the caller's
account and found by their verified email, so an invitation addressed to someone else is
simply not there for them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from typing import Any

from caseroom import audit_store, stored
from caseroom.access import MEMBER_ROLES, Action, authorized_case, require_account
from caseroom.audit import AuditRecord, RequestMeta, user_record
from caseroom.auth import Principal, Role
from caseroom.cases import dal as cases_dal
from caseroom.cases import workflow
from caseroom.cases.logic import case_summary
from caseroom.cases.models import CasePage
from caseroom.cases.records import Case, TimelineEntry, evolve
from caseroom.cases.sorting import SortColumn, SortOrder
from caseroom.clock import Clock, SystemClock, iso
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
from caseroom.events import EventType
from caseroom.observability import count, logger
from caseroom.paging import PageRequest
from caseroom.team import dal
from caseroom.team.models import (
    ContactPage,
    ContactView,
    InvitationView,
    InviteRequest,
    MemberView,
    OwnerView,
    TeamRequestPage,
    TeamRequestView,
    TeamView,
    TransferOwnershipRequest,
)
from caseroom.team.records import (
    Contact,
    Invitation,
    InvitationStatus,
    Member,
    ProfessionalRole,
    fold,
    normalize_email,
)

MAX_TEAM_SIZE = 20  # active members + pending invitations of one case


def new_invitation_id(now_iso: str) -> str:
    """Sorts by creation time (requests list newest first), then 80 random bits."""
    stamp = "".join(c for c in now_iso if c.isdigit())[:14]
    return f"iv{stamp}{secrets.token_hex(10)}"


@dataclass
class TeamService:
    clock: Clock = field(default_factory=SystemClock)

    # --- helpers -----------------------------------------------------------------------------

    def _now(self) -> str:
        return iso(self.clock.now())

    def _page(self, who: Principal, meta: RequestMeta, limit: int, cursor: str | None) -> PageRequest:
        return PageRequest(who, meta, limit, cursor, self.clock.now())

    def _audit(
        self,
        who: Principal,
        meta: RequestMeta,
        action: Action,
        case_id: str | None,
        object_type: str,
        object_id: str,
    ) -> AuditRecord:
        return user_record(
            who,
            meta,
            action.value,
            case_id=case_id,
            object_type=object_type,
            object_id=object_id,
            at=self._now(),
        )

    def _event(
        self, who: Principal, meta: RequestMeta, kind: EventType, case_id: str, subject: str
    ) -> dict[str, Any]:
        correlation_id = meta.correlation_id or meta.request_id
        return workflow.event_action(kind, case_id, who.user_id, correlation_id, self.clock.now(), subject)[1]

    def _timeline(
        self, who: Principal, case: Case, change: str, member_name: str, member_role: str
    ) -> dict[str, Any]:
        entry = TimelineEntry(
            # After the status entry of the case's current version, before the next one.
            entry_id=f"{workflow.entry_id_for(case.version)}#{self._now()}#{secrets.token_hex(4)}",
            case_id=case.case_id,
            at=self._now(),
            from_status=case.status.value,
            to_status=case.status.value,
            actor_id=who.user_id,
            actor_role=who.role.value,
            actor_name=who.name,
            kind="team",
            team_change=change,
            member_name=member_name,
            member_role=member_role,
        )
        return cases_dal.timeline_put_action(entry)

    def _commit(
        self,
        who: Principal,
        meta: RequestMeta,
        case: Case,
        actions: list[dict[str, Any]],
        event: tuple[EventType, str],
        timeline: tuple[str, str, str],
        audit: tuple[Action, str, str],
        race: type[Exception],
    ) -> None:
        try:
            dal.transact(
                [
                    *actions,
                    self._event(who, meta, event[0], case.case_id, event[1]),
                    self._timeline(who, case, *timeline),
                    audit_store.audit_put_action(
                        self._audit(who, meta, audit[0], case.case_id, audit[1], audit[2])
                    ),
                ]
            )
        except dal.ConditionFailed as exc:  # someone else changed the same records first
            raise race() from exc

    # --- the owner's side --------------------------------------------------------------------

    def team(self, who: Principal, case_id: str, meta: RequestMeta) -> TeamView:
        case = authorized_case(who, case_id, meta, Action.TEAM_READ, self.clock)
        members = dal.list_members(case.case_id)
        pending: list[InvitationView] = []
        if who.user_id == case.owner_id:
            pending = [
                _invitation_view(i)
                for i in dal.list_invitations(case.case_id)
                if i.status is InvitationStatus.PENDING
            ]
        audit_store.append(self._audit(who, meta, Action.TEAM_READ, case.case_id, "team", case.case_id))
        return TeamView(
            case_id=case.case_id,
            owner=OwnerView(user_id=case.owner_id, name=case.owner_name, email=case.owner_email),
            members=[_member_view(m) for m in sorted(members, key=lambda m: (m.joined_at, m.user_id))],
            pending=pending,
        )

    def invite(
        self, who: Principal, case_id: str, request: InviteRequest, meta: RequestMeta
    ) -> InvitationView:
        case = authorized_case(who, case_id, meta, Action.TEAM_INVITE, self.clock)
        if (request.email is None) == (request.user_id is None):
            raise InviteeMissing()
        if request.user_id is not None:
            contact = dal.get_contact(who.user_id, request.user_id)
            if contact is None:
                raise ContactNotFound()
            email = contact.email
        else:
            assert request.email is not None
            email = normalize_email(request.email)
        if email in (normalize_email(case.owner_email), normalize_email(who.email)):
            raise CannotInviteSelf()
        invitations = dal.list_invitations(case.case_id)
        existing = next((i for i in invitations if i.email == email), None)
        if existing is not None and existing.status is InvitationStatus.PENDING:
            raise AlreadyInvited()
        if existing is not None and existing.status is InvitationStatus.ACCEPTED:
            raise AlreadyMember()
        live = sum(
            1 for i in invitations if i.status in (InvitationStatus.PENDING, InvitationStatus.ACCEPTED)
        )
        if live >= MAX_TEAM_SIZE:
            raise TeamFull()
        now = self._now()
        invitation = Invitation(
            invitation_id=new_invitation_id(now),
            case_id=case.case_id,
            email=email,
            professional_role=request.professional_role,
            status=InvitationStatus.PENDING,
            invited_by=who.user_id,
            invited_by_name=who.name,
            created_at=now,
        )
        self._commit(
            who,
            meta,
            case,
            [dal.invitation_put(invitation, existing), dal.request_put(invitation)],
            (EventType.CASE_MEMBER_INVITED, invitation.invitation_id),
            ("invited", email, invitation.professional_role.value),
            (Action.TEAM_INVITE, "invitation", invitation.invitation_id),
            AlreadyInvited,
        )
        count("TeamInvitations")
        sent = _send_invitation_email(invitation, case)
        return _invitation_view(invitation, email_sent=sent)

    def cancel_invitation(self, who: Principal, case_id: str, invitation_id: str, meta: RequestMeta) -> None:
        case = authorized_case(who, case_id, meta, Action.TEAM_INVITATION_CANCEL, self.clock)
        current = next(
            (
                i
                for i in dal.list_invitations(case.case_id)
                if i.invitation_id == invitation_id and i.status is InvitationStatus.PENDING
            ),
            None,
        )
        if current is None:
            raise InvitationNotFound()
        cancelled = evolve_invitation(current, status=InvitationStatus.CANCELLED, responded_at=self._now())
        self._commit(
            who,
            meta,
            case,
            [dal.invitation_put(cancelled, current), dal.request_delete(current)],
            (EventType.CASE_INVITATION_CANCELLED, current.invitation_id),
            ("cancelled", current.email, current.professional_role.value),
            (Action.TEAM_INVITATION_CANCEL, "invitation", current.invitation_id),
            InvitationNotFound,
        )

    def remove_member(self, who: Principal, case_id: str, user_id: str, meta: RequestMeta) -> None:
        case = authorized_case(who, case_id, meta, Action.TEAM_MEMBER_REMOVE, self.clock)
        self._end_membership(who, case, user_id, meta, InvitationStatus.REMOVED)

    def leave(self, who: Principal, case_id: str, meta: RequestMeta) -> None:
        case = authorized_case(who, case_id, meta, Action.TEAM_LEAVE, self.clock)
        self._end_membership(who, case, who.user_id, meta, InvitationStatus.LEFT)

    def _end_membership(
        self, who: Principal, case: Case, user_id: str, meta: RequestMeta, outcome: InvitationStatus
    ) -> None:
        member = dal.get_member(case.case_id, user_id)
        if member is None:
            raise MemberNotFound()
        actions = [dal.member_delete(member)]
        invitation = dal.get_invitation(case.case_id, member.email)
        if invitation is not None and invitation.status is InvitationStatus.ACCEPTED:
            ended = evolve_invitation(invitation, status=outcome, responded_at=self._now())
            actions.append(dal.invitation_put(ended, invitation))
        removed = outcome is InvitationStatus.REMOVED
        self._commit(
            who,
            meta,
            case,
            actions,
            (EventType.CASE_MEMBER_REMOVED if removed else EventType.CASE_MEMBER_LEFT, member.user_id),
            ("removed" if removed else "left", member.name, member.professional_role.value),
            (Action.TEAM_MEMBER_REMOVE if removed else Action.TEAM_LEAVE, "member", member.user_id),
            MemberNotFound,
        )
        count("TeamMembersRemoved" if removed else "TeamMembersLeft")
        # Effective at once on the live side too: the server closes their connections to the
        # case's rooms (the next frame would be refused anyway: every frame re-checks membership).
        from caseroom.chat.logic import close_member_connections

        close_member_connections(case.case_id, member.user_id, self.clock.now())

    def transfer_ownership(
        self, who: Principal, case_id: str, request: TransferOwnershipRequest, meta: RequestMeta
    ) -> OwnerView:
        case = authorized_case(who, case_id, meta, Action.TEAM_OWNERSHIP_TRANSFER, self.clock)
        if request.version != case.version:
            raise VersionConflict()
        member = dal.get_member(case.case_id, request.user_id)
        if member is None:
            raise MemberNotFound()
        if member.account_role != Role.CLINICIAN.value:
            raise NewOwnerNotEligible()
        now = self._now()
        updated = evolve(
            case,
            owner_id=member.user_id,
            owner_name=member.name,
            owner_email=member.email,
            updated_at=now,
            version=case.version + 1,
        )
        # The previous owner stays on the team as an active member.
        previous = Member(
            case_id=case.case_id,
            user_id=case.owner_id,
            email=normalize_email(case.owner_email),
            name=case.owner_name,
            account_role=Role.CLINICIAN.value,
            professional_role=request.my_role,
            joined_at=now,
            invitation_id=new_invitation_id(now),
        )
        previous_invitation = Invitation(
            invitation_id=previous.invitation_id,
            case_id=case.case_id,
            email=previous.email,
            professional_role=request.my_role,
            status=InvitationStatus.ACCEPTED,
            invited_by=member.user_id,
            invited_by_name=member.name,
            created_at=now,
            responded_at=now,
            user_id=previous.user_id,
        )
        self._commit(
            who,
            meta,
            case,
            [
                cases_dal.replace_case_action(updated, case.version),
                dal.member_delete(member),
                dal.member_put(previous, updated),
                dal.put_action(_invitation_values_for(previous_invitation)),
            ],
            (EventType.CASE_OWNERSHIP_TRANSFERRED, member.user_id),
            ("owner", member.name, member.professional_role.value),
            (Action.TEAM_OWNERSHIP_TRANSFER, "member", member.user_id),
            VersionConflict,
        )
        return OwnerView(user_id=updated.owner_id, name=updated.owner_name, email=updated.owner_email)

    # --- the invitee's side ------------------------------------------------------------------

    def _my_email(self, who: Principal, action: Action) -> str:
        require_account(who, action)
        if not who.email_verified or not who.email:
            raise EmailNotVerified()
        return normalize_email(who.email)

    def requests(self, who: Principal, limit: int, cursor: str | None, meta: RequestMeta) -> TeamRequestPage:
        email = self._my_email(who, Action.TEAM_REQUESTS_LIST)
        items, next_cursor = dal.list_requests(email, self._page(who, meta, limit, cursor))
        return TeamRequestPage(
            items=[
                TeamRequestView(
                    invitation_id=i.invitation_id,
                    case_id=i.case_id,
                    professional_role=i.professional_role,
                    invited_by_name=i.invited_by_name,
                    created_at=i.created_at,
                )
                for i in items
            ],
            next_cursor=next_cursor,
        )

    def _pending_for_me(self, who: Principal, invitation_id: str) -> tuple[Invitation, Case]:
        email = self._my_email(who, Action.TEAM_REQUEST_RESPOND)
        request = dal.get_request(email, invitation_id) if len(invitation_id) <= 64 else None
        case = cases_dal.get_case(request.case_id) if request is not None else None
        current = dal.get_invitation(case.case_id, email) if case is not None else None
        if (
            case is None
            or current is None
            or current.invitation_id != invitation_id
            or current.status is not InvitationStatus.PENDING
        ):
            raise InvitationNotFound()
        if who.user_id == case.owner_id:
            raise CannotInviteSelf()
        return current, case

    def accept(self, who: Principal, invitation_id: str, meta: RequestMeta) -> MemberView:
        current, case = self._pending_for_me(who, invitation_id)
        if who.role not in MEMBER_ROLES:  # the row already refuses patients; kept next to its reason
            raise InvitationNotFound()
        now = self._now()
        member = Member(
            case_id=case.case_id,
            user_id=who.user_id,
            email=current.email,
            name=who.name,
            account_role=who.role.value,
            professional_role=current.professional_role,
            joined_at=now,
            invitation_id=current.invitation_id,
        )
        accepted = evolve_invitation(
            current, status=InvitationStatus.ACCEPTED, responded_at=now, user_id=who.user_id
        )
        actions = [
            dal.invitation_put(accepted, current),
            dal.request_delete(current),
            dal.member_put(member, case),
        ]
        # Owner and member enter each other's network (after a first accepted Team-Up).
        me = Contact(
            owner_id=case.owner_id, user_id=who.user_id, name=who.name, email=current.email, since=now
        )
        owner = Contact(
            owner_id=who.user_id,
            user_id=case.owner_id,
            name=case.owner_name,
            email=normalize_email(case.owner_email),
            since=now,
        )
        for contact in (me, owner):
            actions.extend(_contact_actions(contact))
        self._commit(
            who,
            meta,
            case,
            actions,
            (EventType.CASE_MEMBER_JOINED, who.user_id),
            ("joined", who.name, current.professional_role.value),
            (Action.TEAM_REQUEST_RESPOND, "invitation", current.invitation_id),
            InvitationNotFound,
        )
        count("TeamMembersJoined")
        return _member_view(member)

    def decline(self, who: Principal, invitation_id: str, meta: RequestMeta) -> None:
        current, case = self._pending_for_me(who, invitation_id)
        declined = evolve_invitation(current, status=InvitationStatus.DECLINED, responded_at=self._now())
        self._commit(
            who,
            meta,
            case,
            [dal.invitation_put(declined, current), dal.request_delete(current)],
            (EventType.CASE_MEMBER_DECLINED, current.invitation_id),
            ("declined", current.email, current.professional_role.value),
            (Action.TEAM_REQUEST_RESPOND, "invitation", current.invitation_id),
            InvitationNotFound,
        )

    # --- cases shared with me ----------------------------------------------------------------

    def shared_cases(
        self,
        who: Principal,
        archived: bool,
        sort: SortColumn,
        order: SortOrder,
        limit: int,
        cursor: str | None,
        meta: RequestMeta,
    ) -> CasePage:
        require_account(who, Action.SHARED_CASE_LIST)
        case_ids, next_cursor = dal.list_shared_rows(
            who.user_id, archived, sort, order, self._page(who, meta, limit, cursor)
        )
        confirmed = dal.confirm_shared(who.user_id, case_ids)
        # Index order, but only what a consistent read confirms: an active membership now, and
        # the archive filter as the case stands now.
        cases = [confirmed[c][0] for c in case_ids if c in confirmed and confirmed[c][0].archived == archived]
        if cases:
            record = self._audit(
                who, meta, Action.SHARED_CASE_LIST, None, "case-list", ",".join(c.case_id for c in cases)
            )
            audit_store.append(record)
        return CasePage(items=[case_summary(c) for c in cases], next_cursor=next_cursor)

    # --- network -----------------------------------------------------------------------------

    def network(
        self, who: Principal, query: str | None, limit: int, cursor: str | None, meta: RequestMeta
    ) -> ContactPage:
        require_account(who, Action.NETWORK_READ)
        text = (query or "").strip()
        if not text:
            by, prefix = "NAME", ""
        elif "@" in text:
            by, prefix = "EMAIL", normalize_email(text)
        else:
            by, prefix = "NAME", fold(text)
        contacts, next_cursor = dal.search_network(
            who.user_id, by, prefix, self._page(who, meta, limit, cursor)
        )
        return ContactPage(
            items=[
                ContactView(user_id=c.user_id, name=c.name, email=c.email, since=c.since) for c in contacts
            ],
            next_cursor=next_cursor,
        )

    def remove_contact(self, who: Principal, user_id: str, meta: RequestMeta) -> None:
        require_account(who, Action.NETWORK_REMOVE)
        contact = dal.get_contact(who.user_id, user_id)
        if contact is None:
            raise ContactNotFound()
        dal.delete_contact(contact)


def evolve_invitation(invitation: Invitation, **changes: object) -> Invitation:
    return replace(invitation, **changes)  # type: ignore[arg-type]


def _invitation_values_for(invitation: Invitation) -> dict[str, Any]:
    key = dal.invitation_key(invitation.case_id, invitation.email)
    return {"pk": key["pk"]["S"], "sk": key["sk"]["S"], "kind": "invitation", **stored.to_values(invitation)}


def _contact_actions(contact: Contact) -> list[dict[str, Any]]:
    """Puts of a contact's items, and deletes of the entries an earlier name or email left."""
    actions = dal.contact_puts(contact)
    earlier = dal.get_contact(contact.owner_id, contact.user_id)
    if earlier is not None:
        fresh = {(v["pk"], v["sk"]) for v in dal.contact_items(contact)}
        for values in dal.contact_items(earlier):
            if (values["pk"], values["sk"]) not in fresh:
                actions.append(dal.delete_action(values["pk"], values["sk"]))
    return actions


def _invitation_view(invitation: Invitation, email_sent: bool | None = None) -> InvitationView:
    return InvitationView(
        invitation_id=invitation.invitation_id,
        case_id=invitation.case_id,
        email=invitation.email,
        professional_role=invitation.professional_role,
        status=invitation.status,
        invited_by_name=invitation.invited_by_name,
        created_at=invitation.created_at,
        email_sent=email_sent,
    )


def _member_view(member: Member) -> MemberView:
    return MemberView(
        user_id=member.user_id,
        name=member.name,
        email=member.email,
        professional_role=ProfessionalRole(member.professional_role),
        joined_at=member.joined_at,
    )


def invitation_link(invitation: Invitation) -> str:
    """Where the email sends the invitee: their Team-Up requests, which they reach after signing
    in or signing up with the invited address (the invitation waits for that address). The web
    app routes by the URL's hash (`/#/team-requests/<id>`), so the link works on any static host
    (CloudFront, the local gateway) with no server-side rewrite."""
    from caseroom.settings import app_link

    return app_link(f"team-requests/{invitation.invitation_id}")


def _send_invitation_email(invitation: Invitation, case: Case) -> bool:
    """After the commit: the invitation exists and shows among the invitee's Team-Up requests
    whether or not the email goes out, so a failure is logged and reported, never raised."""
    from caseroom.notifications import mailer, service, templates

    email = templates.render(
        to=invitation.email,
        subject=f"{invitation.invited_by_name} invites you to a case team on CaseRoom",
        greeting_name="",
        paragraphs=[
            templates.Paragraph(
                f"{invitation.invited_by_name} invites you to join the team of case {case.case_id} "
                f"as {invitation.professional_role.value}."
            ),
            templates.Paragraph(
                "Sign in (or create your CaseRoom account with this email address) to accept or decline:",
                link=invitation_link(invitation),
            ),
        ],
    )
    try:
        service.send(email)
    except mailer.EmailNotSent as failure:  # the invitation stands: the caller is told emailSent=false
        logger.warning("invitation email not sent", extra={"error": str(failure)})
        return False
    return True
