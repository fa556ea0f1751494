"""What the owner of a share link is told (in-app feed and live push; never email): when the link
is opened for the first time, and an hour before it expires.

First opening: the guest's request that records firstOpenedAt (a conditional write, so once)
delivers the notice. Expiry: creating a link sets a one-time timer (caseroom.scheduling) at
expiry - 1 h; the share_link_notices function re-reads the link when it fires and says nothing
if the link was revoked or already warned about (timers are at least once)."""

from __future__ import annotations

from datetime import datetime, timedelta

from caseroom import realtime, scheduling
from caseroom.clock import Clock, iso
from caseroom.notifications import templates
from caseroom.notifications.kinds import NoticeKind
from caseroom.notifications.service import Recipient, deliver
from caseroom.sharing import dal
from caseroom.sharing.records import ShareLink

EXPIRY_TIMER = "ShareLinkExpiring"
WARN_BEFORE = timedelta(hours=1)


def _parse(at: str) -> datetime:
    return datetime.fromisoformat(at.replace("Z", "+00:00"))


def _tell_owner(link: ShareLink, kind: NoticeKind, source: str, clock: Clock) -> None:
    recipient = Recipient(kind, realtime.user_audience(link.created_by), link.created_by)
    title = templates.title(kind, None, link.case_id)
    deliver(recipient, source, title, None, clock, case_id=link.case_id, subject_id=link.link_id)


def first_opened(link: ShareLink, clock: Clock) -> None:
    _tell_owner(link, NoticeKind.SHARE_LINK_FIRST_OPENED, f"share-link-opened:{link.link_id}", clock)


def schedule_expiry_warning(link: ShareLink) -> None:
    """At expiry - 1 h (or at creation, for a link that lives less than that)."""
    at = max(_parse(link.expires_at) - WARN_BEFORE, _parse(link.created_at))
    scheduling.schedule_event(
        f"share-expiry-{link.link_id}",
        at,
        EXPIRY_TIMER,
        {"caseId": link.case_id, "linkId": link.link_id},
        replace=False,
    )


def on_expiry_timer(detail: dict[str, str], clock: Clock) -> bool:
    """True when the owner was told; False for a link that is gone, revoked, expired or warned."""
    link = dal.get_link(str(detail.get("caseId", "")), str(detail.get("linkId", "")))
    now = iso(clock.now())
    if link is None or link.revoked_at is not None or now >= link.expires_at:
        return False
    if not dal.mark(link.case_id, link.link_id, {"expiryWarnedAt": now}, "expiryWarnedAt", also=[]):
        return False
    _tell_owner(link, NoticeKind.SHARE_LINK_EXPIRING, f"share-link-expiring:{link.link_id}", clock)
    return True
