"""HTTP routes of the notification feed and preferences. Thin: identify the caller, call the logic."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from caseroom.access import Action
from caseroom.errors import CriticalNoticeNotMutable, NotificationKindNotConfigurable, NotificationNotFound
from caseroom.http import current_principal, request_meta
from caseroom.notifications.api import NotificationService
from caseroom.notifications.models import (
    MarkedRead,
    NotificationPage,
    NotificationPreferences,
    UnreadCount,
    UpdateNotificationPreferences,
)
from caseroom.route_support import Cursor, PageSize, ServiceSlot, declares, raises

router = Router()

NotificationIdPath = Annotated[str, Path(min_length=1, max_length=40)]

_services = ServiceSlot(NotificationService)
service = _services.get
use_service = _services.use  # tests inject a service with a fixed clock


@router.get("/me/notification-preferences", summary="My email preference per notification kind")
@declares(Action.NOTIFICATION_PREFERENCES_READ)
def get_preferences() -> NotificationPreferences:
    return service().preferences(current_principal(router))


@router.put(
    "/me/notification-preferences",
    summary="Set email preferences (immediate, digest or off); critical kinds stay immediate",
)
@declares(Action.NOTIFICATION_PREFERENCES_UPDATE)
@raises(NotificationKindNotConfigurable, CriticalNoticeNotMutable)
def put_preferences(body: Annotated[UpdateNotificationPreferences, Body()]) -> NotificationPreferences:
    return service().update_preferences(current_principal(router), body)


@router.get("/me/notifications", summary="My notification feed, newest first")
@declares(Action.NOTIFICATION_FEED_READ)
def list_notifications(limit: PageSize = 25, cursor: Cursor = None) -> NotificationPage:
    return service().feed(current_principal(router), limit, cursor, request_meta(router))


@router.get("/me/notifications/unread-count", summary="How many notifications I have not read")
@declares(Action.NOTIFICATION_FEED_READ)
def unread_count() -> UnreadCount:
    return service().unread(current_principal(router))


@router.post("/me/notifications/<notificationId>/read", summary="Mark one notification read")
@declares(Action.NOTIFICATION_MARK_READ)
@raises(NotificationNotFound)
def mark_read(notificationId: NotificationIdPath) -> MarkedRead:
    return service().mark_read(current_principal(router), notificationId)


@router.post("/me/notifications/read-all", summary="Mark every notification read (the count clears)")
@declares(Action.NOTIFICATION_MARK_READ)
def mark_all_read() -> MarkedRead:
    return service().mark_all_read(current_principal(router))
