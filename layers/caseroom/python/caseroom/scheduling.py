"""One-time timers: "at time T, put this event on the CaseRoom bus".

A planning session that may be missed, a pending upload that may never complete, a webhook
delivery to retry later: each schedules a timer, and an EventBridge rule routes the timer's
event to its consumer exactly like a domain event. Consumers treat timers as at-least-once
and re-check state, so a timer that fires after the thing it guards happened is a no-op.

Cloud: an EventBridge Scheduler one-time schedule (`at(...)`) targeting the bus, deleted
after it runs. Local: the same calls against moto; local.scheduler fires due schedules.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from caseroom import aws
from caseroom.settings import get_settings

SCHEDULER_SOURCE = "caseroom.scheduler"
_NAME = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")


class InvalidScheduleName(ValueError):
    pass


def schedule_event(
    name: str, at: datetime, detail_type: str, detail: dict[str, str], *, replace: bool = True
) -> None:
    """Schedules (or re-schedules) the timer `name` to put this event on the bus at `at`.
    replace=False for a name that cannot exist yet (one made from a fresh random id): it
    saves the DeleteSchedule round trip."""
    if not _NAME.match(name):
        raise InvalidScheduleName("schedule names are 1-64 characters of [0-9A-Za-z_.-]")
    settings = get_settings()
    scheduler = aws.client("scheduler")
    # Two invocations may (re-)schedule one name at once (two events of one user's digest, in
    # parallel sandboxes): the other's CreateSchedule can land between this one's delete and
    # create. Replacing means the last writer wins, so delete and create again.
    for attempt in range(3):
        if replace:
            cancel_schedule(name)  # CreateSchedule fails on an existing name; re-scheduling replaces
        try:
            _create_schedule(scheduler, settings, name, at, detail_type, detail)
            return
        except scheduler.exceptions.ConflictException:
            if not replace or attempt == 2:
                raise


def _create_schedule(
    scheduler: Any, settings: Any, name: str, at: datetime, detail_type: str, detail: dict[str, str]
) -> None:
    scheduler.create_schedule(
        Name=name,
        GroupName=settings.schedule_group,
        ScheduleExpression=f"at({_whole_second_at_or_after(at):%Y-%m-%dT%H:%M:%S})",
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={
            "Arn": settings.event_bus_arn,
            "RoleArn": settings.scheduler_role_arn,
            "Input": json.dumps(detail, sort_keys=True),
            "EventBridgeParameters": {"Source": SCHEDULER_SOURCE, "DetailType": detail_type},
            # A timer lost to a long outage is worse than a late one.
            "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
        },
    )


def _whole_second_at_or_after(at: datetime) -> datetime:
    # at() has whole seconds: truncating would fire a timer up to 999 ms early, before the
    # thing it guards is due (a consumer then rightly does nothing, and nothing fires again).
    at = at.astimezone(UTC)
    return (at + timedelta(seconds=1)).replace(microsecond=0) if at.microsecond else at


def cancel_schedule(name: str) -> None:
    """Deletes the timer; no error if it already fired or never existed."""
    scheduler = aws.client("scheduler")
    with contextlib.suppress(scheduler.exceptions.ResourceNotFoundException):
        scheduler.delete_schedule(Name=name, GroupName=get_settings().schedule_group)


def parse_at(expression: str) -> datetime:
    """`at(2026-11-02T10:00:00)` (UTC) -> aware datetime; the inverse of schedule_event's format."""
    match = re.fullmatch(r"at\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\)", expression)
    if match is None:
        raise ValueError(f"not a one-time schedule expression: {expression!r}")
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC)
