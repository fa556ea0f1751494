"""The /me/notification* API contract (pydantic: HTTP function only, never the consumer)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from caseroom.api_types import StrictInt
from caseroom.notifications.kinds import EmailMode, NoticeKind


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class KindPreference(_Model):
    kind: NoticeKind
    email: EmailMode
    default: EmailMode
    critical: bool = Field(description="Critical notices are always emailed immediately")


class NotificationPreferences(_Model):
    preferences: list[KindPreference]
    digest_hour_utc: int = Field(alias="digestHourUtc", description="When the daily digest is sent (UTC)")


class UpdateNotificationPreferences(_Model):
    """Sets the kinds named (others keep their setting). Critical kinds accept only 'immediate'."""

    email: dict[NoticeKind, EmailMode] = Field(default_factory=dict, max_length=32)
    digest_hour_utc: StrictInt | None = Field(default=None, ge=0, le=23, alias="digestHourUtc")


class Notification(_Model):
    notification_id: str = Field(alias="notificationId")
    kind: str
    title: str = Field(description="Ids and statuses only, never patient data")
    case_id: str = Field(alias="caseId")
    event_type: str = Field(alias="eventType")
    event_id: str = Field(alias="eventId")
    subject_id: str = Field(alias="subjectId")
    created_at: str = Field(alias="createdAt")
    read: bool


class NotificationPage(_Model):
    items: list[Notification]
    next_cursor: str | None = Field(default=None, alias="nextCursor")
    unread_count: int = Field(alias="unreadCount")


class UnreadCount(_Model):
    unread_count: int = Field(alias="unreadCount")


class MarkedRead(_Model):
    notification_id: str | None = Field(default=None, alias="notificationId")
    unread_count: int = Field(alias="unreadCount")
