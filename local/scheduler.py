"""EventBridge Scheduler, played locally: one-time schedules whose target is the CaseRoom bus.

Handlers create schedules with the same boto3 calls as in the cloud (caseroom.scheduling);
moto stores them but never runs them. fire_due(now) does what the Scheduler service does when
`now` passes a schedule's at(...) time: put its event on the bus, then delete it
(ActionAfterCompletion=DELETE). Tests pass an injected time; the running server ticks with
the wall clock.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from caseroom.clock import Clock
from caseroom.scheduling import parse_at
from infra import manifest
from local.aws_backend import AwsBackend
from local.events_relay import BackgroundLoop

LOG = logging.getLogger(__name__)


class TimerScheduler:
    def __init__(self, backend: AwsBackend, clock: Clock, group: str = manifest.SCHEDULE_GROUP) -> None:
        self._backend = backend
        self._clock = clock
        self._group = group
        self._lock = threading.Lock()
        self.loop = BackgroundLoop("scheduler", self._tick, min_idle_s=1.0, max_idle_s=1.0)

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()

    def pending(self) -> list[dict[str, object]]:
        """Every schedule not yet fired, in full (name, expression, target)."""
        scheduler = self._backend.client("scheduler")
        names = [
            summary["Name"]
            for page in scheduler.get_paginator("list_schedules").paginate(GroupName=self._group)
            for summary in page.get("Schedules", [])
        ]
        found = []
        for name in names:
            # A handler may replace or cancel a timer between the listing and this read.
            try:
                found.append(dict(scheduler.get_schedule(GroupName=self._group, Name=name)))
            except scheduler.exceptions.ResourceNotFoundException:
                continue
        return found

    def fire_due(self, now: datetime) -> int:
        """Puts the event of every schedule due at `now` on its bus and deletes the schedule."""
        with self._lock:
            fired = 0
            scheduler = self._backend.client("scheduler")
            for schedule in self.pending():
                if parse_at(str(schedule["ScheduleExpression"])) > now:
                    continue
                target = schedule["Target"]
                assert isinstance(target, dict)
                parameters = target["EventBridgeParameters"]
                response = self._backend.client("events").put_events(
                    Entries=[
                        {
                            "EventBusName": target["Arn"],
                            "Source": parameters["Source"],
                            "DetailType": parameters["DetailType"],
                            "Detail": target["Input"],
                        }
                    ]
                )
                if response.get("FailedEntryCount"):
                    LOG.error(
                        "timer %s could not be put on the bus; kept for the next tick", schedule["Name"]
                    )
                    continue
                scheduler.delete_schedule(GroupName=self._group, Name=schedule["Name"])
                fired += 1
            return fired

    def _tick(self) -> int:
        # Always "idle": the loop then waits its fixed second between ticks.
        self.fire_due(self._clock.now())
        return 0
