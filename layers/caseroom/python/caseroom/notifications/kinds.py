"""What CaseRoom notifies people about, who may mute what, and the defaults.

A notice kind is finer than an event type where criticality differs: a CaseStatusChanged event
is a critical CaseOnHold or CaseNeedsClinician notice when the case went on hold or turned red,
and an ordinary CaseStatusChanged notice otherwise.

Critical (cannot be muted or digested; the API refuses it and the sender ignores a stored
setting): the case is On Hold; the case turned red (Missing CBCT/Models, Planning No Show: the
lab waits on the clinician and the case has no due date); a planning session was missed; the
clinician's webhook endpoint was disabled. Everything else is the recipient's choice.

Preferences govern email only. The in-app feed and live pushes always receive every notice:
they are in the app, behind sign-in, and cost the reader nothing when unwanted.
"""

from __future__ import annotations

from enum import StrEnum


class EmailMode(StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"
    OFF = "off"


class NoticeKind(StrEnum):
    CASE_CREATED = "CaseCreated"
    CASE_STATUS_CHANGED = "CaseStatusChanged"
    CASE_ON_HOLD = "CaseOnHold"
    CASE_NEEDS_CLINICIAN = "CaseNeedsClinician"
    CASE_SHIPPED = "CaseShipped"
    PLANNING_SCHEDULED = "PlanningScheduled"
    PLANNING_CANCELLED = "PlanningCancelled"
    PLANNING_MISSED = "PlanningMissed"
    FILE_QUARANTINED = "FileQuarantined"
    # Lab side (feed and pushes only: the lab works in the app, not from its inbox)
    LAB_NEW_CASE = "LabNewCase"
    LAB_RX_MODIFIED = "LabRxModified"
    LAB_FILE_ADDED = "LabFileAdded"
    LAB_PLANNING_BOOKED = "LabPlanningBooked"
    LAB_PLANNING_MISSED = "LabPlanningMissed"
    LAB_STATUS_CHANGED_BY_SYSTEM = "LabStatusChangedBySystem"
    # System notices to the owner of a webhook endpoint
    WEBHOOK_ENDPOINT_DISABLED = "WebhookEndpointDisabled"
    # To the owner of a share link (feed and pushes: caseroom.sharing.notices)
    SHARE_LINK_FIRST_OPENED = "ShareLinkFirstOpened"
    SHARE_LINK_EXPIRING = "ShareLinkExpiring"
    # To a patient (feed by their verified address, and an email: caseroom.passport.notices)
    PASSPORT_CONNECTED = "PassportConnected"
    PASSPORT_SHARED = "PassportShared"
    # The room (chat): a message while you were not in the room, or one that mentions you
    CHAT_MESSAGE = "ChatMessage"
    CHAT_MENTION = "ChatMention"


CRITICAL: frozenset[NoticeKind] = frozenset(
    {
        NoticeKind.CASE_ON_HOLD,
        NoticeKind.CASE_NEEDS_CLINICIAN,
        NoticeKind.PLANNING_MISSED,
        NoticeKind.WEBHOOK_ENDPOINT_DISABLED,
    }
)

# What a clinician may set, and the default for each. Progress updates default to the digest:
# they need nobody, and one email a day says where every case is.
CLINICIAN_DEFAULTS: dict[NoticeKind, EmailMode] = {
    NoticeKind.CASE_CREATED: EmailMode.IMMEDIATE,
    NoticeKind.CASE_STATUS_CHANGED: EmailMode.DIGEST,
    NoticeKind.CASE_ON_HOLD: EmailMode.IMMEDIATE,
    NoticeKind.CASE_NEEDS_CLINICIAN: EmailMode.IMMEDIATE,
    NoticeKind.CASE_SHIPPED: EmailMode.IMMEDIATE,
    NoticeKind.PLANNING_SCHEDULED: EmailMode.IMMEDIATE,
    NoticeKind.PLANNING_CANCELLED: EmailMode.IMMEDIATE,
    NoticeKind.PLANNING_MISSED: EmailMode.IMMEDIATE,
    NoticeKind.FILE_QUARANTINED: EmailMode.IMMEDIATE,
    NoticeKind.WEBHOOK_ENDPOINT_DISABLED: EmailMode.IMMEDIATE,
    # Chat: the daily digest by default (the email never carries the message or patient data)
    NoticeKind.CHAT_MESSAGE: EmailMode.DIGEST,
    NoticeKind.CHAT_MENTION: EmailMode.DIGEST,
}

LAB_KINDS: frozenset[NoticeKind] = frozenset(
    {
        NoticeKind.LAB_NEW_CASE,
        NoticeKind.LAB_RX_MODIFIED,
        NoticeKind.LAB_FILE_ADDED,
        NoticeKind.LAB_PLANNING_BOOKED,
        NoticeKind.LAB_PLANNING_MISSED,
        NoticeKind.LAB_STATUS_CHANGED_BY_SYSTEM,
    }
)

DEFAULT_DIGEST_HOUR_UTC = 7


def is_critical(kind: NoticeKind) -> bool:
    return kind in CRITICAL


def effective_mode(kind: NoticeKind, stored: dict[str, str]) -> EmailMode:
    """The email mode the sender uses: critical kinds are always immediate, whatever is stored
    (a setting written before a kind became critical, or written around the API)."""
    if kind in CRITICAL:
        return EmailMode.IMMEDIATE
    default = CLINICIAN_DEFAULTS.get(kind)
    if default is None:
        return EmailMode.OFF  # lab-side kinds are never emailed
    try:
        return EmailMode(stored.get(kind.value, default.value))
    except ValueError:
        return default
