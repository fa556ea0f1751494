"""Outbox -> stream relay -> bus -> rule queue -> dispatcher -> handler, all against moto."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.runtime import LocalRuntime
from tests.local import fake_functions
from tests.local.support import key_structure

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"

RX_RULE = "rx-script-on-case-rx-changed"  # CaseCreated + CaseRxModified -> rx_script
NOTIFY_RULE = "notify-on-case-events"  # CaseCreated (and more) -> notifications


@pytest.fixture(autouse=True)
def _quiet_pipeline(runtime: LocalRuntime) -> Iterator[None]:
    """Each test starts and ends with nothing in flight."""
    runtime.pump()
    fake_functions.reset()
    yield
    runtime.relay.stop()
    runtime.pump()


def put_item(runtime: LocalRuntime, item: dict[str, str]) -> None:
    runtime.backend.client("dynamodb").put_item(
        TableName=runtime.backend.names.table, Item={k: {"S": v} for k, v in item.items()}
    )


def write_outbox(runtime: LocalRuntime, event_type: str = "CaseCreated") -> str:
    event_id = uuid.uuid4().hex
    put_item(
        runtime,
        {
            "pk": "CASE#7KQ2-M9XD-4RTA",
            "sk": f"OUTBOX#{event_id}",
            "kind": "outbox",
            "eventId": event_id,
            "eventType": event_type,
            "eventVersion": "1",
            "eventTime": "2026-03-02T14:05:09.512Z",
            "caseId": "7KQ2-M9XD-4RTA",
            "actor": "6f1c2a9e-4b7d-4e21-9a3f-8c5d0e7b1a24",
            "correlationId": "JKJbGiq1vHcESaQ=",
            "subjectId": "",
        },
    )
    return event_id


def delivered_ids(function_name: str) -> list[str]:
    return [event["detail"]["id"] for event in fake_functions.invocations(function_name)]


class TestStreamRelay:
    def test_an_outbox_item_becomes_an_event_for_every_matching_rule(self, runtime: LocalRuntime) -> None:
        event_id = write_outbox(runtime)
        assert runtime.relay.pump_once() == 1
        assert runtime.dispatcher.pump_once() == 3  # rx_script, notifications, webhook_sender

        (rx_event,) = fake_functions.invocations("rx_script")
        (notify_event,) = fake_functions.invocations("notifications")
        (webhook_event,) = fake_functions.invocations("webhook_sender")
        assert webhook_event["detail"] == rx_event["detail"]
        sample = json.loads((SAMPLES / "eventbridge_case_created.json").read_text())
        assert key_structure(rx_event) == key_structure(sample)
        assert rx_event["id"] == notify_event["id"]  # one event, delivered to both rules
        assert rx_event["detail"] == notify_event["detail"]
        assert rx_event["source"] == "caseroom"
        assert rx_event["detail-type"] == "CaseCreated"
        assert rx_event["account"] == "123456789012"
        assert rx_event["detail"] == {
            "id": event_id,
            "type": "CaseCreated",
            "version": "1",
            "time": "2026-03-02T14:05:09.512Z",
            "caseId": "7KQ2-M9XD-4RTA",
            "actor": "6f1c2a9e-4b7d-4e21-9a3f-8c5d0e7b1a24",
            "correlationId": "JKJbGiq1vHcESaQ=",
            "subjectId": "",
        }

    def test_rules_only_get_the_event_types_they_match(self, runtime: LocalRuntime) -> None:
        write_outbox(runtime, "CaseRxModified")
        write_outbox(runtime, "CaseArchived")
        assert runtime.pump() >= 3
        assert [e["detail-type"] for e in fake_functions.invocations("rx_script")] == ["CaseRxModified"]
        # Archiving tidies a list: nobody is notified, but clinics may subscribe webhooks to it
        assert [e["detail-type"] for e in fake_functions.invocations("notifications")] == ["CaseRxModified"]
        assert sorted(e["detail-type"] for e in fake_functions.invocations("webhook_sender")) == [
            "CaseArchived",
            "CaseRxModified",
        ]

    def test_other_writes_are_ignored(self, runtime: LocalRuntime) -> None:
        put_item(runtime, {"pk": "CASE#A", "sk": "CASE", "kind": "case", "eventType": "CaseCreated"})
        event_id = write_outbox(runtime)
        runtime.pump()
        fake_functions.reset()
        # Updating or deleting an outbox item is not a new event.
        runtime.backend.client("dynamodb").update_item(
            TableName=runtime.backend.names.table,
            Key={"pk": {"S": "CASE#7KQ2-M9XD-4RTA"}, "sk": {"S": f"OUTBOX#{event_id}"}},
            UpdateExpression="SET relayed = :yes",
            ExpressionAttributeValues={":yes": {"S": "yes"}},
        )
        assert runtime.relay.pump_once() == 0
        assert runtime.dispatcher.pump_once() == 0

    def test_a_failed_put_is_retried_without_loss_or_duplicates(
        self, runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        first, second = write_outbox(runtime), write_outbox(runtime)
        events_client = runtime.relay._events
        real_put_events = events_client.put_events
        calls: list[str] = []

        def flaky_put_events(**kwargs: Any) -> Any:
            calls.append(kwargs["Entries"][0]["Detail"])
            if len(calls) == 2:  # the second event fails once
                return {
                    "FailedEntryCount": 1,
                    "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "boom"}],
                }
            return real_put_events(**kwargs)

        monkeypatch.setattr(events_client, "put_events", flaky_put_events)
        with pytest.raises(RuntimeError, match="InternalFailure"):
            runtime.relay.pump_once()
        assert runtime.relay.pump_once() == 1
        assert runtime.relay.pump_once() == 0
        runtime.dispatcher.pump_once()
        assert delivered_ids("rx_script") == [first, second]

    def test_stopping_and_restarting_the_loop_loses_and_repeats_nothing(self, runtime: LocalRuntime) -> None:
        before_start = write_outbox(runtime)
        runtime.relay.start()
        wait_until_delivered(runtime, before_start)
        runtime.relay.stop()

        while_stopped = write_outbox(runtime)
        assert delivered_ids("rx_script") == [before_start]
        runtime.relay.start()
        wait_until_delivered(runtime, while_stopped)
        runtime.relay.stop()

        runtime.pump()
        assert delivered_ids("rx_script") == [before_start, while_stopped]
        assert delivered_ids("notifications") == [before_start, while_stopped]


def wait_until_delivered(runtime: LocalRuntime, event_id: str) -> None:
    """The relay loop runs in its own thread; the dispatcher is pumped here, so only the loop is awaited."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        runtime.dispatcher.pump_once()
        if event_id in delivered_ids("rx_script"):
            return
        time.sleep(0.05)
    raise AssertionError(f"event {event_id} was not relayed by the background loop")


class TestRuleDispatcher:
    def test_a_failure_is_retried_then_the_message_is_deleted(self, runtime: LocalRuntime) -> None:
        fake_functions.fail_next("notifications", 1)
        event_id = write_outbox(runtime)
        runtime.relay.pump_once()
        assert (
            runtime.dispatcher.pump_once() == 3
        )  # rx_script and webhook_sender succeed, notifications fails
        assert delivered_ids("notifications") == [event_id]
        assert runtime.dispatcher.pump_once() == 1  # the retry (retry delay 0 in tests)
        assert delivered_ids("notifications") == [event_id, event_id]
        assert runtime.dispatcher.pump_once() == 0  # deleted after success
        assert runtime.dispatcher.dead_letters(NOTIFY_RULE) == []

    def test_after_three_failures_the_event_goes_to_the_rule_dlq(self, runtime: LocalRuntime) -> None:
        fake_functions.fail_next("rx_script", 100)
        event_id = write_outbox(runtime)
        runtime.pump()
        assert delivered_ids("rx_script") == [event_id] * 3  # Lambda's async retries: 1 + 2
        assert delivered_ids("notifications") == [event_id]
        (dead,) = runtime.dispatcher.dead_letters(RX_RULE)
        assert dead["detail"]["id"] == event_id
        assert runtime.dispatcher.dead_letters(NOTIFY_RULE) == []


class TestBackgroundDispatcher:
    def test_a_queued_event_wakes_its_rule_loop_at_once(self, runtime: LocalRuntime) -> None:
        # Given the rule loops idle with a one-minute poll: only the queue watch can wake them
        for loop in runtime.dispatcher.loop.loops:
            loop._min_idle_s = loop._max_idle_s = 60.0
        runtime.dispatcher.start()
        try:
            time.sleep(0.3)  # every loop has found nothing and waits
            # When an event reaches the rules' queues
            event_id = write_outbox(runtime)
            runtime.relay.pump_once()
            # Then it is delivered within seconds, not at the next poll
            deadline = time.monotonic() + 10
            while event_id not in delivered_ids("rx_script") and time.monotonic() < deadline:
                time.sleep(0.05)
            assert event_id in delivered_ids("rx_script")
        finally:
            runtime.dispatcher.stop()
            for loop in runtime.dispatcher.loop.loops:
                loop._min_idle_s, loop._max_idle_s = 0.05, 5.0

    def test_once_the_stop_began_an_event_stays_queued_untouched(self, runtime: LocalRuntime) -> None:
        queue_name = next(r.queue_name for r in runtime.backend.names.rules if r.rule.name == RX_RULE)
        queue_url = runtime.backend.queue_url(queue_name)
        dead_before = runtime.dispatcher.dead_letters(RX_RULE)
        # Given an event in the rule's queue and a stop under way
        event_id = write_outbox(runtime)
        runtime.relay.pump_once()
        runtime.dispatcher._stopping.set()
        try:
            # When the dispatcher meets it
            runtime.dispatcher.pump_once()
        finally:
            runtime.dispatcher._stopping.clear()
        # Then its handler is not started, and the message is neither deleted nor dead-lettered:
        # it is still in the queue (with a data directory, still a file) for the next start
        assert delivered_ids("rx_script") == []
        attributes = runtime.backend.client("sqs").get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        assert sum(int(value) for value in attributes.values()) == 1
        assert runtime.dispatcher.dead_letters(RX_RULE) == dead_before
        # And once visible again (as after a restart) it is delivered, once
        _make_visible(queue_name)
        runtime.pump()
        assert delivered_ids("rx_script") == [event_id]


def _make_visible(queue_name: str) -> None:
    """What a restart does to a message received before the stop (its visibility lasts minutes)."""
    from moto.sqs.models import sqs_backends

    from local.aws_backend import ACCOUNT_ID, REGION

    for message in sqs_backends[ACCOUNT_ID][REGION].queues[queue_name]._messages:
        message.change_visibility(0)
