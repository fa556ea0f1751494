"""The access policy: the one place that answers "may principal P perform action A on case C
(and on resource R)". Every route declares its action (caseroom.route_support.allows) and every
use case asks this module; no other module compares ids or roles to decide.

It is an allow-list. A principal's relationships to what a request names are computed once
(`relationships`), and RIGHTS says which relationships grant each action; anything not listed
is denied. New kinds of principal (an active case member with a role, a connected patient
limited to shared galleries, a guest holding a link) are new Relationship members, a line in
`relationships` that recognises them, and new entries in the rows of RIGHTS, not new code paths.

Denials: a case the caller has no relationship to is 404 CASE_NOT_FOUND, the same body as an
id that does not exist, and audited; a caller who sees the case but lacks the right gets 403
ROLE_NOT_ALLOWED, also audited. Actions on the caller's own things (their lists, feed,
webhook endpoints) are decided on their account: 403 when their role does not grant it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from caseroom import audit_store, ids
from caseroom.audit import Outcome, RequestMeta, user_record
from caseroom.auth import Principal, Role
from caseroom.cases import dal
from caseroom.cases.records import Case
from caseroom.clock import Clock, iso
from caseroom.errors import CaseNotFound, RoleNotAllowed
from caseroom.team import dal as team_dal
from caseroom.team.records import Member

# Account roles that may be on a case team (a patient never is).
MEMBER_ROLES = frozenset({Role.CLINICIAN, Role.LAB})


class Scope(StrEnum):
    PUBLIC = "public"  # no token needed
    ACCOUNT = "account"  # the caller's own things (their lists, feed, preferences)
    CASE = "case"  # a case, or something inside it (gallery, file, upload, planning session)
    ENDPOINT = "endpoint"  # a webhook endpoint, which belongs to one user
    LINK = "link"  # a share link's guest view: no JWT, authorized by the link's token (public route)


class Action(StrEnum):
    """What a request does. Values are the names written in audit records."""

    HEALTH = "health.read"
    ME_READ = "me.read"
    # cases
    CASE_CREATE = "case.create"
    CASE_LIST = "case.list"
    LAB_QUEUE_LIST = "lab.queue.list"
    CASE_READ = "case.read"
    CASE_MODIFY = "case.modify"
    CASE_STATUS_SET = "case.status.set"
    CASE_TIMELINE_READ = "case.timeline.read"
    CASE_ARCHIVE = "case.archive"
    CASE_UNARCHIVE = "case.unarchive"
    CASE_AUDIT_READ = "case.audit.read"
    RX_SCRIPT_DOWNLOAD = "rx_script.download"
    # labs
    LABS_READ = "labs.read"
    # files
    UPLOAD_REQUEST = "file.upload.request"
    UPLOAD_READ = "file.upload.read"
    UPLOAD_PARTS = "file.upload.parts"
    UPLOAD_COMPLETE = "file.upload.complete"
    UPLOAD_ABORT = "file.upload.abort"
    GALLERY_LIST = "gallery.list"
    GALLERY_CREATE = "gallery.create"
    FILE_LIST = "file.list"
    FILE_READ = "file.read"
    FILE_UPDATE = "file.update"
    FILE_DELETE = "file.delete"
    FILE_DOWNLOAD = "file.download"
    # planning
    PLANNING_BLOCK_PUBLISH = "planning.block.publish"
    PLANNING_LAB_BLOCKS_LIST = "planning.lab_blocks.list"
    PLANNING_FREE_BLOCKS_READ = "planning.blocks.read"
    PLANNING_BOOK = "planning.book"
    PLANNING_READ = "planning.read"
    PLANNING_ICS_DOWNLOAD = "planning.ics.download"
    PLANNING_RESCHEDULE = "planning.reschedule"
    PLANNING_CANCEL = "planning.cancel"
    PLANNING_HELD = "planning.held"
    # notifications (the caller's own feed and preferences)
    NOTIFICATION_PREFERENCES_READ = "notification.preferences.read"
    NOTIFICATION_PREFERENCES_UPDATE = "notification.preferences.update"
    NOTIFICATION_FEED_READ = "notification.feed.read"
    NOTIFICATION_MARK_READ = "notification.mark_read"
    # webhooks
    WEBHOOK_CREATE = "webhook.create"
    WEBHOOK_LIST = "webhook.list"
    WEBHOOK_READ = "webhook.read"
    WEBHOOK_DELETE = "webhook.delete"
    WEBHOOK_ENABLE = "webhook.enable"
    WEBHOOK_ROTATE_SECRET = "webhook.rotate_secret"  # noqa: S105 - an action name, not a secret
    WEBHOOK_TEST = "webhook.test"
    WEBHOOK_DELIVERIES_READ = "webhook.deliveries.read"
    WEBHOOK_REDELIVER = "webhook.redeliver"
    # --- share links (guests without an account) -------------------------------------------
    SHARE_LINK_CREATE = "share_link.create"
    SHARE_LINK_LIST = "share_link.list"
    SHARE_LINK_REVOKE = "share_link.revoke"
    SHARE_LINK_LOG_READ = "share_link.log.read"
    SHARE_LINK_POLICY_READ = "share_link.policy.read"
    SHARE_LINK_POLICY_SET = "share_link.policy.set"
    SHARED_EMAIL_CODE_SEND = "shared.email_code.send"
    SHARED_EMAIL_CODE_VERIFY = "shared.email_code.verify"
    SHARED_VIEW = "shared.view"
    SHARED_DOWNLOAD = "shared.download"
    # --- passport (connected patients) -----------------------------------------------------
    PASSPORT_CONNECT = "passport.connect"
    PASSPORT_READ = "passport.read"
    PASSPORT_SHARE = "passport.share"
    PASSPORT_DISCONNECT = "passport.disconnect"
    PATIENT_CASE_LIST = "patient.case.list"
    PATIENT_CASE_READ = "patient.case.read"
    PATIENT_FILE_DOWNLOAD = "patient.file.download"
    PATIENT_ACCESS_LOG_READ = "patient.access_log.read"
    PATIENT_EXPORT = "patient.export"
    # what event consumers do for a user: who is told about a case
    CASE_NOTICE_RECEIVE = "case.notice.receive"
    CASE_WEBHOOK_RECEIVE = "case.webhook.receive"
    # --- Team-Up (case teams, the network) ---
    TEAM_READ = "team.read"
    TEAM_INVITE = "team.invite"
    TEAM_INVITATION_CANCEL = "team.invitation.cancel"
    TEAM_MEMBER_REMOVE = "team.member.remove"
    TEAM_LEAVE = "team.leave"
    TEAM_OWNERSHIP_TRANSFER = "team.ownership.transfer"
    TEAM_REQUESTS_LIST = "team.requests.list"
    TEAM_REQUEST_RESPOND = "team.request.respond"
    SHARED_CASE_LIST = "case.shared.list"
    NETWORK_READ = "network.read"
    NETWORK_REMOVE = "network.remove"
    # --- the room (chat, issue 13): each case has a team room and a patient room ---
    CHAT_TICKET_CREATE = "chat.ticket.create"  # a single-use WebSocket ticket for the caller
    CHAT_ROOMS_LIST = "chat.rooms.list"  # the rooms of a case the caller may read, unread counts
    # Room families: a route or WS action names the family; the decision is made on the
    # room-specific action (room_action), whose row differs between the two rooms.
    CHAT_JOIN = "chat.join"
    CHAT_READ = "chat.read"
    CHAT_POST = "chat.post"
    CHAT_TEAM_JOIN = "chat.team.join"
    CHAT_TEAM_READ = "chat.team.read"
    CHAT_TEAM_POST = "chat.team.post"
    CHAT_PATIENT_JOIN = "chat.patient.join"
    CHAT_PATIENT_READ = "chat.patient.read"
    CHAT_PATIENT_POST = "chat.patient.post"
    CHAT_MESSAGE_EDIT = "chat.message.edit"  # its author only (and within the edit window)
    CHAT_MESSAGE_DELETE = "chat.message.delete"


class Room(StrEnum):
    """The two rooms of a case. A patient never sees the team room; the lab never the patient's."""

    TEAM = "team"
    PATIENT = "patient"


class Relationship(StrEnum):
    # to the caller's account
    ANYONE = "anyone"  # no token at all
    SIGNED_IN = "signed-in"
    CLINICIAN = "clinician"
    LAB_MEMBER = "lab member"
    # to a case
    OWNER = "owner"  # the clinician who opened the case
    CASE_LAB = "case's lab"  # a member of the lab the case was sent to
    UPLOADER = "uploader"  # of the file or pending upload the request names
    # Team-Up: an active member of the case's team (a consistent read of their membership item;
    # pending, declined, cancelled, removed and departed members hold nothing)
    MEMBER = "active member"
    # an active member while the owner lets members create share links (the case's share-link
    # policy, a consistent read made only for active members)
    LINK_MAKER = "link-making member"
    # the owner or an active member who created the share link the request names
    LINK_CREATOR = "link's creator"
    # to a webhook endpoint
    ENDPOINT_OWNER = "endpoint owner"
    # --- outside the care team: patients and guests (issue 14) -----------------------------
    PATIENT = "patient"  # account: a patient whose email address is verified
    CONNECTED_PATIENT = "connected patient"  # the case's patient; limited to the shared galleries
    LINK_HOLDER = "link holder"  # holds a live share link of the case (not expired, not revoked)
    GUEST = "guest"  # a link holder past the link's email check (if any); limited to its galleries
    # --- the room (chat) ---
    AUTHOR = "author"  # of the chat message the request names (while they still see the case)


_OWNER, _LAB, _UPLOADER = Relationship.OWNER, Relationship.CASE_LAB, Relationship.UPLOADER
_BOTH = frozenset({_OWNER, _LAB})
_MEMBER = Relationship.MEMBER
# Team-Up: what an active member may do beyond the rows shared by owner and lab. Kept as one
# group (added to the rows below) so the other relationships' rows read as before.
_MEMBER_MAY: frozenset[Action] = frozenset(
    {
        Action.CASE_READ,
        Action.CASE_TIMELINE_READ,
        Action.RX_SCRIPT_DOWNLOAD,
        Action.UPLOAD_REQUEST,
        Action.GALLERY_LIST,
        Action.GALLERY_CREATE,
        Action.FILE_LIST,
        Action.FILE_READ,
        Action.FILE_UPDATE,
        Action.FILE_DOWNLOAD,
        Action.PLANNING_READ,
        Action.PLANNING_ICS_DOWNLOAD,
        Action.TEAM_READ,
    }
)


@dataclass(frozen=True)
class Rule:
    scope: Scope
    granted_to: frozenset[Relationship]


def _rule(scope: Scope, *granted_to: Relationship) -> Rule:
    return Rule(scope, frozenset(granted_to))


def _with_members(rights: Mapping[Action, Rule]) -> dict[Action, Rule]:
    """The Team-Up column: MEMBER joins the rows named in _MEMBER_MAY."""
    return {
        action: Rule(rule.scope, rule.granted_to | {_MEMBER}) if action in _MEMBER_MAY else rule
        for action, rule in rights.items()
    }


# The table. Read a row as "ACTION is allowed to ...". The README prints it.
# Pending uploads: only their uploader signs parts and completes them; the case's owner may also
# follow one and abort it, as they may delete any file of the case. The lab sees the file record
# through the file routes but cannot sign, complete or abort a clinician's upload (nor the
# clinician a lab's, beyond following and aborting it as the case's owner).
_CORE_RIGHTS: Mapping[Action, Rule] = {
    Action.HEALTH: _rule(Scope.PUBLIC, Relationship.ANYONE),
    Action.ME_READ: _rule(Scope.ACCOUNT, Relationship.SIGNED_IN),
    Action.CASE_CREATE: _rule(Scope.ACCOUNT, Relationship.CLINICIAN),
    Action.CASE_LIST: _rule(Scope.ACCOUNT, Relationship.CLINICIAN),
    Action.LAB_QUEUE_LIST: _rule(Scope.ACCOUNT, Relationship.LAB_MEMBER),
    Action.CASE_READ: _rule(Scope.CASE, *_BOTH),
    Action.CASE_MODIFY: _rule(Scope.CASE, _OWNER),
    Action.CASE_STATUS_SET: _rule(Scope.CASE, _LAB),
    Action.CASE_TIMELINE_READ: _rule(Scope.CASE, *_BOTH),
    Action.CASE_ARCHIVE: _rule(Scope.CASE, _OWNER),
    Action.CASE_UNARCHIVE: _rule(Scope.CASE, _OWNER),
    Action.CASE_AUDIT_READ: _rule(Scope.CASE, _OWNER),
    Action.RX_SCRIPT_DOWNLOAD: _rule(Scope.CASE, *_BOTH),
    Action.LABS_READ: _rule(Scope.ACCOUNT, Relationship.CLINICIAN, Relationship.LAB_MEMBER),
    Action.UPLOAD_REQUEST: _rule(Scope.CASE, *_BOTH),
    Action.UPLOAD_READ: _rule(Scope.CASE, _UPLOADER, _OWNER),
    Action.UPLOAD_PARTS: _rule(Scope.CASE, _UPLOADER),
    Action.UPLOAD_COMPLETE: _rule(Scope.CASE, _UPLOADER),
    Action.UPLOAD_ABORT: _rule(Scope.CASE, _UPLOADER, _OWNER),
    Action.GALLERY_LIST: _rule(Scope.CASE, *_BOTH),
    Action.GALLERY_CREATE: _rule(Scope.CASE, *_BOTH),
    Action.FILE_LIST: _rule(Scope.CASE, *_BOTH),
    Action.FILE_READ: _rule(Scope.CASE, *_BOTH),
    Action.FILE_UPDATE: _rule(Scope.CASE, *_BOTH),
    Action.FILE_DELETE: _rule(Scope.CASE, _UPLOADER, _OWNER),
    Action.FILE_DOWNLOAD: _rule(Scope.CASE, *_BOTH),
    Action.PLANNING_BLOCK_PUBLISH: _rule(Scope.ACCOUNT, Relationship.LAB_MEMBER),
    Action.PLANNING_LAB_BLOCKS_LIST: _rule(Scope.ACCOUNT, Relationship.LAB_MEMBER),
    Action.PLANNING_FREE_BLOCKS_READ: _rule(Scope.CASE, *_BOTH),
    Action.PLANNING_BOOK: _rule(Scope.CASE, _OWNER),
    Action.PLANNING_READ: _rule(Scope.CASE, *_BOTH),
    Action.PLANNING_ICS_DOWNLOAD: _rule(Scope.CASE, *_BOTH),
    Action.PLANNING_RESCHEDULE: _rule(Scope.CASE, _LAB),
    Action.PLANNING_CANCEL: _rule(Scope.CASE, _LAB),
    Action.PLANNING_HELD: _rule(Scope.CASE, _LAB),
    Action.NOTIFICATION_PREFERENCES_READ: _rule(Scope.ACCOUNT, Relationship.SIGNED_IN),
    Action.NOTIFICATION_PREFERENCES_UPDATE: _rule(Scope.ACCOUNT, Relationship.SIGNED_IN),
    Action.NOTIFICATION_FEED_READ: _rule(Scope.ACCOUNT, Relationship.SIGNED_IN),
    Action.NOTIFICATION_MARK_READ: _rule(Scope.ACCOUNT, Relationship.SIGNED_IN),
    Action.WEBHOOK_CREATE: _rule(Scope.ACCOUNT, Relationship.CLINICIAN),
    Action.WEBHOOK_LIST: _rule(Scope.ACCOUNT, Relationship.CLINICIAN),
    Action.WEBHOOK_READ: _rule(Scope.ENDPOINT, Relationship.ENDPOINT_OWNER),
    Action.WEBHOOK_DELETE: _rule(Scope.ENDPOINT, Relationship.ENDPOINT_OWNER),
    Action.WEBHOOK_ENABLE: _rule(Scope.ENDPOINT, Relationship.ENDPOINT_OWNER),
    Action.WEBHOOK_ROTATE_SECRET: _rule(Scope.ENDPOINT, Relationship.ENDPOINT_OWNER),
    Action.WEBHOOK_TEST: _rule(Scope.ENDPOINT, Relationship.ENDPOINT_OWNER),
    Action.WEBHOOK_DELIVERIES_READ: _rule(Scope.ENDPOINT, Relationship.ENDPOINT_OWNER),
    Action.WEBHOOK_REDELIVER: _rule(Scope.ENDPOINT, Relationship.ENDPOINT_OWNER),
    Action.CASE_NOTICE_RECEIVE: _rule(Scope.CASE, *_BOTH),
    Action.CASE_WEBHOOK_RECEIVE: _rule(Scope.CASE, _OWNER),
    # --- outside the care team (issue 14): share links for guests, the patient's Passport -------
    # A guest or a connected patient never gets a row above: not the case, its timeline, Rx,
    # members, audit, uploads or other galleries. Their rows are limited to galleries: the
    # relationship is held on a file only when its gallery is one the link / the patient was given.
    # The owner makes links, or an active member when the owner allows it (the policy); a
    # member lists, revokes and reads the log of the links they made, the owner of any link.
    Action.SHARE_LINK_CREATE: _rule(Scope.CASE, _OWNER, Relationship.LINK_MAKER),
    Action.SHARE_LINK_LIST: _rule(Scope.CASE, _OWNER, _MEMBER),
    Action.SHARE_LINK_REVOKE: _rule(Scope.CASE, _OWNER, Relationship.LINK_CREATOR),
    Action.SHARE_LINK_LOG_READ: _rule(Scope.CASE, _OWNER, Relationship.LINK_CREATOR),
    Action.SHARE_LINK_POLICY_READ: _rule(Scope.CASE, _OWNER, _MEMBER),
    Action.SHARE_LINK_POLICY_SET: _rule(Scope.CASE, _OWNER),
    Action.SHARED_EMAIL_CODE_SEND: _rule(Scope.LINK, Relationship.LINK_HOLDER),
    Action.SHARED_EMAIL_CODE_VERIFY: _rule(Scope.LINK, Relationship.LINK_HOLDER),
    Action.SHARED_VIEW: _rule(Scope.LINK, Relationship.GUEST),
    Action.SHARED_DOWNLOAD: _rule(Scope.LINK, Relationship.GUEST),
    Action.PASSPORT_CONNECT: _rule(Scope.CASE, _OWNER),
    Action.PASSPORT_READ: _rule(Scope.CASE, _OWNER),
    Action.PASSPORT_SHARE: _rule(Scope.CASE, _OWNER),
    Action.PASSPORT_DISCONNECT: _rule(Scope.CASE, _OWNER),
    Action.PATIENT_CASE_LIST: _rule(Scope.ACCOUNT, Relationship.PATIENT),
    Action.PATIENT_CASE_READ: _rule(Scope.CASE, Relationship.CONNECTED_PATIENT),
    Action.PATIENT_FILE_DOWNLOAD: _rule(Scope.CASE, Relationship.CONNECTED_PATIENT),
    Action.PATIENT_ACCESS_LOG_READ: _rule(Scope.CASE, Relationship.CONNECTED_PATIENT),
    Action.PATIENT_EXPORT: _rule(Scope.CASE, Relationship.CONNECTED_PATIENT),
}

# Team-Up rows. The team list is seen by everyone on the case (owner, lab, active members);
# only the owner changes the team; a member may leave. Invitations are answered on the
# caller's account: the invitation is addressed to an email, and only an account whose
# verified email is that address finds it (caseroom.team.logic).
_TEAM_RIGHTS: Mapping[Action, Rule] = {
    Action.TEAM_READ: _rule(Scope.CASE, *_BOTH),
    Action.TEAM_INVITE: _rule(Scope.CASE, _OWNER),
    Action.TEAM_INVITATION_CANCEL: _rule(Scope.CASE, _OWNER),
    Action.TEAM_MEMBER_REMOVE: _rule(Scope.CASE, _OWNER),
    Action.TEAM_LEAVE: _rule(Scope.CASE, _MEMBER),
    Action.TEAM_OWNERSHIP_TRANSFER: _rule(Scope.CASE, _OWNER),
    Action.TEAM_REQUESTS_LIST: _rule(Scope.ACCOUNT, Relationship.CLINICIAN, Relationship.LAB_MEMBER),
    Action.TEAM_REQUEST_RESPOND: _rule(Scope.ACCOUNT, Relationship.CLINICIAN, Relationship.LAB_MEMBER),
    Action.SHARED_CASE_LIST: _rule(Scope.ACCOUNT, Relationship.CLINICIAN, Relationship.LAB_MEMBER),
    Action.NETWORK_READ: _rule(Scope.ACCOUNT, Relationship.CLINICIAN, Relationship.LAB_MEMBER),
    Action.NETWORK_REMOVE: _rule(Scope.ACCOUNT, Relationship.CLINICIAN, Relationship.LAB_MEMBER),
}

# The room (chat). Team room: the owner, the case's lab and active members. Patient room: the
# clinic side (owner and active members) and the connected patient. Editing or deleting a
# message is its author's (the logic also requires the right to post in that room and the
# edit window).
_PATIENT = Relationship.CONNECTED_PATIENT
_CHAT_ROOMS: Mapping[Action, Rule] = {
    Action.CHAT_TEAM_JOIN: _rule(Scope.CASE, *_BOTH, _MEMBER),
    Action.CHAT_TEAM_READ: _rule(Scope.CASE, *_BOTH, _MEMBER),
    Action.CHAT_TEAM_POST: _rule(Scope.CASE, *_BOTH, _MEMBER),
    Action.CHAT_PATIENT_JOIN: _rule(Scope.CASE, _OWNER, _MEMBER, _PATIENT),
    Action.CHAT_PATIENT_READ: _rule(Scope.CASE, _OWNER, _MEMBER, _PATIENT),
    Action.CHAT_PATIENT_POST: _rule(Scope.CASE, _OWNER, _MEMBER, _PATIENT),
}
ROOM_ACTIONS: Mapping[Action, Mapping[Room, Action]] = {
    Action.CHAT_JOIN: {Room.TEAM: Action.CHAT_TEAM_JOIN, Room.PATIENT: Action.CHAT_PATIENT_JOIN},
    Action.CHAT_READ: {Room.TEAM: Action.CHAT_TEAM_READ, Room.PATIENT: Action.CHAT_PATIENT_READ},
    Action.CHAT_POST: {Room.TEAM: Action.CHAT_TEAM_POST, Room.PATIENT: Action.CHAT_PATIENT_POST},
}


def _family(action: Action) -> Rule:
    """A room family's row: whoever holds the action in at least one room (never decided on)."""
    rooms = ROOM_ACTIONS[action].values()
    return Rule(Scope.CASE, frozenset().union(*(_CHAT_ROOMS[a].granted_to for a in rooms)))


_CHAT_RIGHTS: Mapping[Action, Rule] = {
    Action.CHAT_TICKET_CREATE: _rule(Scope.ACCOUNT, Relationship.SIGNED_IN),
    Action.CHAT_ROOMS_LIST: _rule(Scope.CASE, *_BOTH, _MEMBER, _PATIENT),
    **_CHAT_ROOMS,
    **{family: _family(family) for family in ROOM_ACTIONS},
    Action.CHAT_MESSAGE_EDIT: _rule(Scope.CASE, Relationship.AUTHOR),
    Action.CHAT_MESSAGE_DELETE: _rule(Scope.CASE, Relationship.AUTHOR),
}

RIGHTS: Mapping[Action, Rule] = _with_members({**_CORE_RIGHTS, **_TEAM_RIGHTS, **_CHAT_RIGHTS})


def room_action(family: Action, room: Room) -> Action:
    """The action decided for `family` (CHAT_JOIN, CHAT_READ, CHAT_POST) in `room`."""
    return ROOM_ACTIONS[family][room]


# Seeing a case at all (anything but a 404) is holding a relationship that may read it: the
# team reads the case, the connected patient their Passport view, a link holder the link's page.
SEES_CASE: frozenset[Relationship] = (
    RIGHTS[Action.CASE_READ].granted_to
    | RIGHTS[Action.PATIENT_CASE_READ].granted_to
    | RIGHTS[Action.SHARED_EMAIL_CODE_SEND].granted_to
    | RIGHTS[Action.SHARED_VIEW].granted_to
)
# Relationships limited to some galleries of the case (Grant.galleries).
GALLERY_LIMITED: frozenset[Relationship] = frozenset({Relationship.CONNECTED_PATIENT, Relationship.GUEST})


@dataclass(frozen=True)
class Resource:
    """What inside a case a request names, where the decision depends on it."""

    kind: str  # "file", "upload", "gallery", "planning-session", "share-link", "message"
    resource_id: str
    created_by: str | None = None  # uploader of a file or pending upload; creator of a share link
    gallery_id: str | None = None  # for rows limited to some galleries (patients, guests)


@dataclass(frozen=True)
class Grant:
    """What the case's owner gave someone outside the team, from a consistent read made for this
    decision: a patient connection (caseroom.passport) or a share link (caseroom.sharing)."""

    case_id: str
    galleries: frozenset[str] | None  # None: every gallery of the case (a whole-case link)
    live: bool = True  # a link: not revoked, not expired at the decision's time
    opens_view: bool = True  # a link that asks for an email code: the code was confirmed
    files: frozenset[str] = frozenset()  # single files shared beyond the galleries (chat attachments)


# --- relationships ---------------------------------------------------------------------------


def account_relationships(who: Principal) -> frozenset[Relationship]:
    if who.role is Role.GUEST:  # a share link's holder has no account
        return frozenset({Relationship.ANYONE})
    found = {Relationship.ANYONE, Relationship.SIGNED_IN}
    if who.role is Role.CLINICIAN:
        found.add(Relationship.CLINICIAN)
    if who.role is Role.LAB and who.lab_id:
        found.add(Relationship.LAB_MEMBER)
    if who.role is Role.PATIENT and who.email_verified:
        found.add(Relationship.PATIENT)
    return frozenset(found)


def read_grant(who: Principal, case: Case, clock: Clock) -> Grant | None:
    """The consistent read a patient's or a guest's relationship rests on (None for the team)."""
    if who.role is Role.PATIENT and who.email_verified:
        from caseroom.passport import dal as passport_dal

        connection = passport_dal.get_connection(case.case_id)
        if connection is None or connection.patient_email != passport_dal.normalize_email(who.email):
            return None
        return Grant(
            case.case_id, frozenset(connection.shared_galleries), files=frozenset(connection.shared_files)
        )
    if who.role is Role.GUEST and who.share_link_id:
        from caseroom.sharing import dal as sharing_dal

        link = sharing_dal.get_link(case.case_id, who.share_link_id)
        if link is None:
            return None
        now = iso(clock.now())
        live = link.revoked_at is None and now < link.expires_at
        confirmed = not link.require_email_code or (
            who.share_session is not None
            and sharing_dal.session_is_live(link.link_id, who.share_session, now)
        )
        galleries = None if link.galleries is None else frozenset(link.galleries)
        return Grant(case.case_id, galleries, live=live, opens_view=confirmed)
    return None


def relationships(
    who: Principal,
    case: Case,
    resource: Resource | None = None,
    grant: Grant | None = None,
    membership: Member | None = None,
    members_make_links: bool = False,
) -> frozenset[Relationship]:
    """Every relationship `who` holds to `case` (and to `resource` inside it). `grant` is the
    consistent read of a patient connection or share link (read_grant) for those callers;
    `membership` the caller's active-membership item of this case as a consistent read found it
    (None when there is none: never invited, pending, declined, removed or departed);
    `members_make_links` the case's share-link policy (a consistent read, made for members)."""
    found: set[Relationship] = set()
    if who.role is Role.CLINICIAN and who.user_id == case.owner_id:
        found.add(_OWNER)
    if who.role is Role.LAB and who.lab_id is not None and who.lab_id == case.lab_id:
        found.add(_LAB)
    if grant is not None and grant.case_id == case.case_id:
        in_galleries = (
            resource is None
            or resource.kind == "message"  # a chat message is decided by its room's row
            or grant.galleries is None
            or (resource.gallery_id is not None and resource.gallery_id in grant.galleries)
            or (resource.kind == "file" and resource.resource_id in grant.files)
        )
        if who.role is Role.PATIENT and who.email_verified and in_galleries:
            found.add(Relationship.CONNECTED_PATIENT)
        if who.role is Role.GUEST and grant.live:
            found.add(Relationship.LINK_HOLDER)
            if grant.opens_view and in_galleries:
                found.add(Relationship.GUEST)
    if (
        membership is not None
        and membership.case_id == case.case_id
        and membership.user_id == who.user_id
        and who.role in MEMBER_ROLES
    ):
        found.add(_MEMBER)
        if members_make_links:
            found.add(Relationship.LINK_MAKER)
    # Resource relationships count only for someone who sees the case: an uploader who lost
    # access to the case has lost access to their uploads too (a member their links).
    if (
        found & (_BOTH | {_MEMBER})
        and resource is not None
        and resource.kind != "message"
        and resource.created_by == who.user_id
    ):
        if resource.kind == "share-link":
            if found & {_OWNER, _MEMBER}:
                found.add(Relationship.LINK_CREATOR)
        else:
            found.add(_UPLOADER)
    # The author of a chat message, while they still see the case (a removed member is not).
    if (
        found & (_BOTH | {_MEMBER, Relationship.CONNECTED_PATIENT})
        and resource is not None
        and resource.kind == "message"
        and resource.created_by == who.user_id
    ):
        found.add(Relationship.AUTHOR)
    return frozenset(found)


def allows(action: Action, held: Iterable[Relationship]) -> bool:
    return not RIGHTS[action].granted_to.isdisjoint(held)


# --- decisions -------------------------------------------------------------------------------


def require_account(who: Principal, action: Action) -> None:
    """An action on the caller's own things: 403 unless their account relationship grants it."""
    if not allows(action, account_relationships(who)):
        raise RoleNotAllowed()


def endpoint_allows(who: Principal, action: Action, owner_id: str | None) -> bool:
    """A webhook endpoint: False (the caller gets the same 404 as an unknown id) unless it is theirs."""
    held = {Relationship.ENDPOINT_OWNER} if owner_id is not None and owner_id == who.user_id else set()
    return allows(action, held)


@dataclass(frozen=True)
class Gate:
    """Decides for one request: knows who asks, how to audit, and what time it is."""

    who: Principal
    meta: RequestMeta
    clock: Clock
    _grants: dict[str, Grant | None] = field(default_factory=dict, compare=False, repr=False)
    # The caller's membership per case id, read once per request (consistent GetItem).
    _memberships: dict[str, Member | None] = field(default_factory=dict, compare=False, repr=False)
    # The case's share-link policy, read once per request for an active member only.
    _link_policies: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def grant(self, case: Case) -> Grant | None:
        """The patient's or guest's grant on `case`, read (consistently) once per request."""
        if case.case_id not in self._grants:
            self._grants[case.case_id] = read_grant(self.who, case, self.clock)
        return self._grants[case.case_id]

    def held(self, case: Case, resource: Resource | None = None) -> frozenset[Relationship]:
        """The caller's relationships to `case`. The membership item is read (consistently, on the
        base table, never an index) only for a caller who is neither the owner nor the case's lab."""
        direct = relationships(self.who, case, resource, self.grant(case))
        if direct or self.who.role not in MEMBER_ROLES:
            return direct
        if case.case_id not in self._memberships:
            self._memberships[case.case_id] = team_dal.get_member(case.case_id, self.who.user_id)
        membership = self._memberships[case.case_id]
        if membership is not None and case.case_id not in self._link_policies:
            from caseroom.sharing import dal as sharing_dal

            self._link_policies[case.case_id] = sharing_dal.get_policy(case.case_id).members_may_create
        makes_links = self._link_policies.get(case.case_id, False)
        return relationships(self.who, case, resource, self.grant(case), membership, makes_links)

    relationships = held

    def _deny(self, action: Action, case_id: str | None, object_type: str, object_id: str) -> None:
        audit_store.append(
            user_record(
                self.who,
                self.meta,
                action.value,
                case_id=case_id,
                object_type=object_type,
                object_id=object_id,
                at=iso(self.clock.now()),
                outcome=Outcome.DENIED,
            )
        )

    def visible(self, action: Action, case: Case | None, case_id: str | None) -> Case:
        """The case if the caller holds any relationship that sees it; else an audited 404."""
        if case is None or SEES_CASE.isdisjoint(self.held(case)):
            self._deny(action, case_id, "case", case_id or "-")
            raise CaseNotFound()
        return case

    def require(self, action: Action, case: Case, resource: Resource | None = None) -> None:
        """403 (audited) unless the caller's relationships to the case and resource grant `action`."""
        if not allows(action, self.held(case, resource)):
            target = resource or Resource("case", case.case_id)
            self._deny(action, case.case_id, target.kind, target.resource_id)
            raise RoleNotAllowed("You may not do this on this case.")

    def case(self, action: Action, case: Case | None, case_id: str | None) -> Case:
        """Visible and allowed, for actions that name the case alone."""
        found = self.visible(action, case, case_id)
        self.require(action, found)
        return found


def visible_case(gate: Gate, case_id: str, action: Action) -> Case:
    """The case if the caller sees it (a consistent read of the case item), else an audited 404.
    For actions decided on something inside the case: call gate.require with that resource next."""
    normalized = ids.normalize_case_id(case_id)
    case = dal.get_case(normalized) if normalized else None
    return gate.visible(action, case, normalized)


def authorized_case(who: Principal, case_id: str, meta: RequestMeta, action: Action, clock: Clock) -> Case:
    """The case if `who` may perform `action` on it. 404 (audited) when they may not see it,
    403 (audited) when they see it but lack the right."""
    gate = Gate(who, meta, clock)
    case = visible_case(gate, case_id, action)
    gate.require(action, case)
    return case


@dataclass(frozen=True)
class Audience:
    relationship: Relationship
    user_id: str | None = None  # a person
    lab_id: str | None = None  # everyone in a lab


def audiences(case: Case, action: Action) -> dict[Relationship, Audience]:
    """Whom an event consumer acting for users may tell about `case`: one entry for each
    relationship the row grants `action` to."""
    granted = RIGHTS[action].granted_to
    found: dict[Relationship, Audience] = {}
    if _OWNER in granted:
        found[_OWNER] = Audience(_OWNER, user_id=case.owner_id)
    if _LAB in granted and case.lab_id:
        found[_LAB] = Audience(_LAB, lab_id=case.lab_id)
    return found


def rights_table() -> str:
    """The table as Markdown, for the README (a test keeps the two equal)."""
    columns = [r for r in Relationship if any(r in rule.granted_to for rule in RIGHTS.values())]
    lines = ["| Action | " + " | ".join(c.value for c in columns) + " |"]
    lines.append("|---" * (len(columns) + 1) + "|")
    for action, rule in RIGHTS.items():
        cells = ["yes" if c in rule.granted_to else "" for c in columns]
        lines.append(f"| `{action.value}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)
