"""Timers (caseroom.scheduling) through the local EventBridge Scheduler: created with the same
boto3 calls as in the cloud, fired onto the CaseRoom bus only once the injected time passes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from caseroom import scheduling
from caseroom.settings import get_settings
from local.runtime import LocalRuntime

DUE = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
TIMER_DETAIL_TYPE = "TestTimerDue"


def timer_events(runtime: LocalRuntime) -> list[dict[str, Any]]:
    """Events a test-only rule on the CaseRoom bus caught (source caseroom.scheduler)."""
    sqs = runtime.backend.client("sqs")
    url = runtime.backend.queue_url("test-timers")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in messages]


@pytest.fixture(scope="module", autouse=True)
def _timer_rule(runtime: LocalRuntime) -> None:
    sqs = runtime.backend.client("sqs")
    queue_url = sqs.create_queue(QueueName="test-timers")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = runtime.backend.client("events")
    bus = runtime.backend.names.event_bus
    pattern = {"source": [scheduling.SCHEDULER_SOURCE], "detail-type": [TIMER_DETAIL_TYPE]}
    events.put_rule(Name="test-timers", EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule="test-timers", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])


def test_a_timer_fires_once_when_its_time_passes(runtime: LocalRuntime) -> None:
    # Given a timer due at 15:30
    scheduling.schedule_event("session-1-missed", DUE, TIMER_DETAIL_TYPE, {"sessionId": "S1"})
    assert [s["Name"] for s in runtime.scheduler.pending()] == ["session-1-missed"]

    # When the clock is a second short of it, nothing fires
    assert runtime.scheduler.fire_due(DUE - timedelta(seconds=1)) == 0
    assert timer_events(runtime) == []

    # Then at its time it lands on the bus, exactly once, and the schedule is gone
    assert runtime.scheduler.fire_due(DUE) == 1
    assert runtime.scheduler.fire_due(DUE + timedelta(hours=1)) == 0
    [event] = timer_events(runtime)
    assert event["source"] == "caseroom.scheduler"
    assert event["detail-type"] == TIMER_DETAIL_TYPE
    assert event["detail"] == {"sessionId": "S1"}
    assert runtime.scheduler.pending() == []


def test_a_timer_with_milliseconds_never_fires_before_its_time(runtime: LocalRuntime) -> None:
    # Given a timer due 250 ms past a whole second (schedules have whole seconds)
    scheduling.schedule_event("upload-1", DUE + timedelta(milliseconds=250), TIMER_DETAIL_TYPE, {})

    # Then it is not due at the whole second before its time, only at the one after
    assert runtime.scheduler.fire_due(DUE) == 0
    assert runtime.scheduler.fire_due(DUE + timedelta(seconds=1)) == 1
    assert len(timer_events(runtime)) == 1


def test_rescheduling_replaces_and_cancelling_removes(runtime: LocalRuntime) -> None:
    # Given a timer moved an hour later (a rescheduled session)
    scheduling.schedule_event("session-2-missed", DUE, TIMER_DETAIL_TYPE, {"sessionId": "S2"})
    scheduling.schedule_event(
        "session-2-missed", DUE + timedelta(hours=1), TIMER_DETAIL_TYPE, {"sessionId": "S2"}
    )

    # Then the old time no longer fires it
    assert runtime.scheduler.fire_due(DUE) == 0

    # And a cancelled timer never fires; cancelling twice is harmless
    scheduling.cancel_schedule("session-2-missed")
    scheduling.cancel_schedule("session-2-missed")
    assert runtime.scheduler.fire_due(DUE + timedelta(days=1)) == 0
    assert timer_events(runtime) == []


def test_schedule_names_are_checked_before_any_call() -> None:
    with pytest.raises(scheduling.InvalidScheduleName):
        scheduling.schedule_event("has spaces/and slashes", DUE, TIMER_DETAIL_TYPE, {})


def test_at_expressions_round_trip() -> None:
    assert scheduling.parse_at("at(2026-11-02T15:30:00)") == DUE
    with pytest.raises(ValueError, match="one-time"):
        scheduling.parse_at("rate(5 minutes)")


def test_rescheduling_a_name_another_invocation_just_created_replaces_it(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given another invocation that creates the same timer between this one's delete and create
    # (two events of one user's digest handled in parallel sandboxes)
    original = scheduling.cancel_schedule
    raced = []

    def cancel_then_lose_the_race(name: str) -> None:
        original(name)
        if not raced:
            raced.append(name)
            scheduling._create_schedule(
                runtime.backend.client("scheduler"),
                get_settings(),
                name,
                DUE,
                TIMER_DETAIL_TYPE,
                {"by": "the other invocation"},
            )

    monkeypatch.setattr(scheduling, "cancel_schedule", cancel_then_lose_the_race)
    # When this one schedules it, it does not fail: the last writer wins
    scheduling.schedule_event("digest-race", DUE + timedelta(hours=1), TIMER_DETAIL_TYPE, {"by": "this one"})
    monkeypatch.setattr(scheduling, "cancel_schedule", original)
    [schedule] = [s for s in runtime.scheduler.pending() if s["Name"] == "digest-race"]
    assert json.loads(schedule["Target"]["Input"]) == {"by": "this one"}
    scheduling.cancel_schedule("digest-race")
