"""The rules of the /me/notification* routes: a user reads and changes only their own feed and
preferences. A lab member's feed is their lab's shared feed (the lab works as one queue)."""

from __future__ import annotations

from dataclasses import dataclass, field

from caseroom import realtime
from caseroom.access import Action, require_account
from caseroom.audit import RequestMeta
from caseroom.auth import Principal, Role
from caseroom.clock import Clock, SystemClock
from caseroom.errors import CriticalNoticeNotMutable, NotificationKindNotConfigurable, NotificationNotFound
from caseroom.notifications import store
from caseroom.notifications.kinds import (
    CLINICIAN_DEFAULTS,
    DEFAULT_DIGEST_HOUR_UTC,
    EmailMode,
    NoticeKind,
    effective_mode,
    is_critical,
)
from caseroom.notifications.models import (
    KindPreference,
    MarkedRead,
    Notification,
    NotificationPage,
    NotificationPreferences,
    UnreadCount,
    UpdateNotificationPreferences,
)
from caseroom.paging import PageRequest


def feed_audience(who: Principal) -> str:
    if who.role is Role.LAB and who.lab_id:
        return realtime.lab_audience(who.lab_id)
    if who.role is Role.PATIENT and who.email_verified and who.email:
        return realtime.patient_audience(who.email)  # what clinics sent to the verified address
    return realtime.user_audience(who.user_id)


@dataclass
class NotificationService:
    clock: Clock = field(default_factory=SystemClock)

    def preferences(self, who: Principal) -> NotificationPreferences:
        require_account(who, Action.NOTIFICATION_PREFERENCES_READ)
        stored = store.get_preferences(who.user_id)
        return NotificationPreferences(
            preferences=[
                KindPreference(
                    kind=kind,
                    email=effective_mode(kind, stored.modes),
                    default=default,
                    critical=is_critical(kind),
                )
                for kind, default in CLINICIAN_DEFAULTS.items()
            ],
            digest_hour_utc=(
                stored.digest_hour_utc if stored.digest_hour_utc is not None else DEFAULT_DIGEST_HOUR_UTC
            ),
        )

    def update_preferences(
        self, who: Principal, request: UpdateNotificationPreferences
    ) -> NotificationPreferences:
        require_account(who, Action.NOTIFICATION_PREFERENCES_UPDATE)
        for kind, mode in request.email.items():
            if kind not in CLINICIAN_DEFAULTS:
                raise NotificationKindNotConfigurable(
                    details=[{"loc": ["email", kind.value], "type": "kind"}]
                )
            if is_critical(kind) and mode is not EmailMode.IMMEDIATE:
                raise CriticalNoticeNotMutable(details=[{"loc": ["email", kind.value], "type": "critical"}])
        stored = store.get_preferences(who.user_id)
        modes = dict(stored.modes)
        modes.update(
            {kind.value: mode.value for kind, mode in request.email.items() if not is_critical(kind)}
        )
        hour = request.digest_hour_utc if request.digest_hour_utc is not None else stored.digest_hour_utc
        store.put_preferences(who.user_id, store.Preferences(modes, hour), self.clock.now())
        return self.preferences(who)

    def feed(self, who: Principal, limit: int, cursor: str | None, meta: RequestMeta) -> NotificationPage:
        require_account(who, Action.NOTIFICATION_FEED_READ)
        audience = feed_audience(who)
        page = PageRequest(who, meta, limit, cursor, self.clock.now())
        items, next_cursor = store.list_feed(audience, page)
        return NotificationPage(
            items=[
                Notification(
                    notification_id=i.feed_id,
                    kind=i.kind,
                    title=i.title,
                    case_id=i.case_id,
                    event_type=i.event_type,
                    event_id=i.event_id,
                    subject_id=i.subject_id,
                    created_at=i.created_at,
                    read=i.read,
                )
                for i in items
            ],
            next_cursor=next_cursor,
            unread_count=store.unread_count(audience, self.clock.now()),
        )

    def unread(self, who: Principal) -> UnreadCount:
        require_account(who, Action.NOTIFICATION_FEED_READ)
        return UnreadCount(unread_count=store.unread_count(feed_audience(who), self.clock.now()))

    def mark_read(self, who: Principal, notification_id: str) -> MarkedRead:
        require_account(who, Action.NOTIFICATION_MARK_READ)
        audience = feed_audience(who)
        if not store.FEED_ID.match(notification_id):
            raise NotificationNotFound()
        if store.mark_read(audience, notification_id, self.clock.now()) is None:
            raise NotificationNotFound()
        return MarkedRead(
            notification_id=notification_id, unread_count=store.unread_count(audience, self.clock.now())
        )

    def mark_all_read(self, who: Principal) -> MarkedRead:
        require_account(who, Action.NOTIFICATION_MARK_READ)
        audience = feed_audience(who)
        store.mark_all_read(audience, self.clock.now())
        return MarkedRead(unread_count=store.unread_count(audience, self.clock.now()))


__all__ = ["NoticeKind", "NotificationService", "feed_audience"]
