"""The event plumbing AWS runs for CaseRoom, played locally.

StreamRelay    = the EventBridge Pipe: table stream -> outbox filter -> input template -> bus.
RuleDispatcher = the rules' Lambda targets: moto matches each rule's pattern into an SQS queue;
                 the dispatcher invokes the rule's handler in-process, retries failures and
                 parks poison events in a per-rule DLQ, as Lambda's async invocation does.

Both expose pump_once() (tests call it: deterministic, no sleeping) and a background loop.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from infra import manifest
from local.aws_backend import ACCOUNT_ID, AwsBackend, RuleResources
from local.event_patterns import matches, render_template, value_at
from local.functions import FunctionRegistry

LOG = logging.getLogger(__name__)
CONSOLE = logging.getLogger("local.console")  # one line per delivered event


class BackgroundLoop:
    """Calls step() until stopped. When a step finds nothing to do, it waits, doubling the wait up to
    max_idle_s: events flow within a fraction of a second, and an idle runtime polls moto rarely
    (each stream poll leaves a shard iterator behind in moto's memory)."""

    def __init__(
        self, name: str, step: Callable[[], int], min_idle_s: float = 0.05, max_idle_s: float = 0.5
    ) -> None:
        self._name = name
        self._step = step
        self._min_idle_s = min_idle_s
        self._max_idle_s = max_idle_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        # Called after a step that did work (the runtime wakes the next loop downstream with it).
        self.after_work: Callable[[], None] | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def signal_stop(self) -> None:
        """Asks the loop to stop after its current step, without waiting for it."""
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        """Ends the current idle wait now: something upstream has just produced work."""
        self._wake.set()

    def stop(self, timeout_s: float = 1.0) -> None:
        """Waits at most timeout_s for the current step: a step stuck on a slow backend call is
        left behind (a daemon thread), so stopping the runtime stays within seconds."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        stop = self._stop  # this thread's own: a later start() makes a new one
        idle_s = self._min_idle_s
        while not stop.is_set():
            try:
                worked = self._step()
            except Exception:  # a loop that dies silently is worse than a logged error
                if stop.is_set():
                    return  # cut short by the stop (the backends are going away): nothing to report
                LOG.exception("%s failed; retrying", self._name)
                worked = 0
            if worked:
                idle_s = self._min_idle_s
                if self.after_work is not None:
                    self.after_work()
            else:
                self._wake.wait(idle_s)
                idle_s = self._min_idle_s if self._wake.is_set() else min(idle_s * 2, self._max_idle_s)
            self._wake.clear()


class LoopGroup:
    """Several BackgroundLoops driven as one (the same start/wake/stop surface as one loop)."""

    def __init__(self, loops: list[BackgroundLoop]) -> None:
        self.loops = loops

    @property
    def running(self) -> bool:
        return any(loop.running for loop in self.loops)

    @property
    def after_work(self) -> Callable[[], None] | None:
        return self.loops[0].after_work if self.loops else None

    @after_work.setter
    def after_work(self, callback: Callable[[], None] | None) -> None:
        for loop in self.loops:
            loop.after_work = callback

    def start(self) -> None:
        for loop in self.loops:
            loop.start()

    def signal_stop(self) -> None:
        for loop in self.loops:
            loop.signal_stop()

    def wake(self) -> None:
        for loop in self.loops:
            loop.wake()

    def stop(self, timeout_s: float = 1.0) -> None:
        deadline = time.monotonic() + timeout_s
        for loop in self.loops:
            loop.stop(timeout_s=max(0.0, deadline - time.monotonic()))


class RelayError(RuntimeError):
    pass


class StreamRelay:
    """Relays newly inserted outbox items from the table's stream to the event bus, in order."""

    def __init__(
        self,
        backend: AwsBackend,
        relay: manifest.OutboxRelay = manifest.OUTBOX_RELAY,
        resume_from: dict[str, str] | None = None,
        on_checkpoint: Callable[[dict[str, str]], None] | None = None,
    ) -> None:
        """resume_from: a checkpoint() of an earlier relay (a Pipe restarting from its stored
        position); without it the relay reads each shard from its oldest record.
        on_checkpoint: called with the new checkpoint() after a pump moved it (to store it)."""
        self._relay = relay
        self._stream_arn = backend.table_stream_arn
        self._event_bus = backend.names.event_bus
        self._streams = backend.client("dynamodbstreams")
        self._events = backend.client("events")
        # Per shard: where to read next, and the last record handled (to rebuild an iterator).
        self._iterators: dict[str, str | None] = {}
        self._positions: dict[str, str] = dict(resume_from or {})
        self._on_checkpoint = on_checkpoint
        self._lock = threading.Lock()
        self.loop = BackgroundLoop("stream-relay", self.pump_once)

    def checkpoint(self) -> dict[str, str]:
        """Per shard, the sequence number of the last record fully handled (put on the bus)."""
        with self._lock:
            return dict(self._positions)

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()

    def pump_once(self) -> int:
        """Reads every shard up to its end; returns how many events were put on the bus."""
        with self._lock:
            before = dict(self._positions)
            try:
                shards = self._streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"][
                    "Shards"
                ]
                return sum(self._pump_shard(shard["ShardId"]) for shard in shards)
            finally:
                if self._on_checkpoint is not None and self._positions != before:
                    self._on_checkpoint(dict(self._positions))

    def _pump_shard(self, shard_id: str) -> int:
        if shard_id in self._iterators and self._iterators[shard_id] is None:
            return 0  # a closed shard we have read to the end
        reused = self._iterators.get(shard_id)
        iterator: str | None = reused or self._new_iterator(shard_id)
        fresh = reused is None
        relayed = 0
        while iterator:
            page = self._get_records(shard_id, iterator)
            for record in page["Records"]:
                try:
                    relayed += self._relay_record(record)
                except Exception:
                    # Re-read from the last handled record next time: nothing lost, nothing repeated.
                    self._iterators.pop(shard_id, None)
                    raise
                self._positions[shard_id] = record["dynamodb"]["SequenceNumber"]
            self._iterators[shard_id] = page.get("NextShardIterator")
            if not page["Records"]:
                if not fresh:
                    # moto rolls a failed transaction back by swapping in a copy of the table,
                    # stream shard included: an iterator from before then never sees another
                    # record. So an empty page from a reused iterator is checked once more with
                    # a fresh one from the last handled record.
                    iterator, fresh = self._new_iterator(shard_id), True
                    continue
                break
            fresh = False
            iterator = self._iterators[shard_id]
        return relayed

    def _get_records(self, shard_id: str, iterator: str) -> dict[str, Any]:
        # Real iterators expire after 15 minutes; rebuild from the last handled record.
        try:
            return dict(self._streams.get_records(ShardIterator=iterator, Limit=100))
        except self._streams.exceptions.ExpiredIteratorException:
            return dict(self._streams.get_records(ShardIterator=self._new_iterator(shard_id), Limit=100))

    def _new_iterator(self, shard_id: str) -> str:
        position = self._positions.get(shard_id)
        if position is None:
            response = self._streams.get_shard_iterator(
                StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )
        else:
            response = self._streams.get_shard_iterator(
                StreamArn=self._stream_arn,
                ShardId=shard_id,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                SequenceNumber=position,
            )
        return str(response["ShardIterator"])

    def _relay_record(self, record: dict[str, Any]) -> int:
        if not matches(self._relay.stream_filter, record):
            return 0
        detail_type = value_at(self._relay.detail_type_path, record)
        detail = render_template(self._relay.detail_template, record)
        try:
            json.loads(detail)
        except ValueError:
            detail = ""
        if not isinstance(detail_type, str) or not detail_type or not detail:
            # The Pipe would fail this record forever; log it loudly and move on.
            LOG.error("Outbox record %s has no usable detail-type/detail; skipped", record.get("eventID"))
            return 0
        response = self._events.put_events(
            Entries=[
                {
                    "Source": manifest.EVENT_SOURCE,
                    "DetailType": detail_type,
                    "Detail": detail,
                    "EventBusName": self._event_bus,
                }
            ]
        )
        if response.get("FailedEntryCount"):
            entry = response["Entries"][0]
            raise RelayError(f"put_events failed: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}")
        LOG.info("relayed %s to bus %s", detail_type, self._event_bus)
        return 1


class RuleDispatcher:
    """Delivers the events each rule matched to the rule's function, with retries and a DLQ.

    In the background, every rule's events are delivered side by side, and within a rule up to
    `parallel_per_rule` at once (EventBridge invokes a Lambda target asynchronously: concurrent
    events run in concurrent sandboxes; here the function's sandbox pool bounds them). Stopping
    abandons deliveries in flight without touching their messages: they stay queued (and on disk
    with a data directory) and are delivered after the next start."""

    def __init__(
        self,
        backend: AwsBackend,
        functions: FunctionRegistry,
        max_attempts: int = 3,  # Lambda async invocation: the first try + 2 retries
        retry_delay_s: int = 2,
        parallel_per_rule: int = 4,
    ) -> None:
        self._functions = functions
        self._max_attempts = max_attempts
        self._retry_delay_s = retry_delay_s
        self._parallel_per_rule = max(1, parallel_per_rule)
        self._sqs = backend.client("sqs")
        self._rules: dict[str, tuple[RuleResources, str, str]] = {
            rule.rule.name: (
                rule,
                backend.queue_url(rule.queue_name),
                backend.queue_url(rule.dead_letter_queue_name),
            )
            for rule in backend.names.rules
        }
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._one_at_a_time = threading.Lock()
        self._deliveries: ThreadPoolExecutor | None = None
        # One loop per rule: a rule with a slow consumer never holds up another rule's events.
        # Woken when a message reaches the rule's queue (wake_queue); the idle poll is a safety net.
        self._loops = {
            name: BackgroundLoop(
                f"rule-{name}", functools.partial(self._pump_rule_in_background, name), max_idle_s=5.0
            )
            for name in self._rules
        }
        self._loop_of_queue = {
            resources.queue_name: self._loops[name] for name, (resources, _, _) in self._rules.items()
        }
        self.loop = LoopGroup(list(self._loops.values()))

    def wake_queue(self, queue_name: str) -> None:
        """A message reached queue_name: its rule's loop looks at once."""
        loop = self._loop_of_queue.get(queue_name)
        if loop is not None:
            loop.wake()

    def start(self) -> None:
        self._stopping.clear()
        self.loop.start()

    def signal_stop(self) -> None:
        """From here on no delivery starts, and a delivery cut short leaves its message queued."""
        self._stopping.set()
        self.loop.signal_stop()

    def stop(self) -> None:
        self._stopping.set()
        self.loop.stop()
        with self._lock:
            if self._deliveries is not None:
                self._deliveries.shutdown(wait=False, cancel_futures=True)
            self._deliveries = None

    def _pump_rule_in_background(self, rule_name: str) -> int:
        with self._lock:
            if self._deliveries is None:
                self._deliveries = ThreadPoolExecutor(
                    max_workers=len(self._rules) * self._parallel_per_rule, thread_name_prefix="delivery"
                )
            deliveries = self._deliveries
        return self._pump_rule(rule_name, deliveries)

    def pump_once(self) -> int:
        """Delivers what is visible in every rule queue now, one at a time (deterministic for
        tests); returns how many deliveries were tried."""
        with self._lock:
            return sum(self._pump_rule(name) for name in self._rules)

    def dead_letters(self, rule_name: str) -> list[dict[str, Any]]:
        """The events parked in a rule's DLQ (peeked: they stay there)."""
        _, _, dlq_url = self._rules[rule_name]
        response = self._sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        return [json.loads(message["Body"]) for message in response.get("Messages", [])]

    def _pump_rule(self, rule_name: str, deliveries: ThreadPoolExecutor | None = None) -> int:
        """Receives up to parallel_per_rule x 10 events of one rule and delivers them, in parallel
        when given an executor."""
        resources, queue_url, dlq_url = self._rules[rule_name]
        function = self._functions.function(resources.rule.function)
        rounds = self._parallel_per_rule if deliveries is not None else 1
        messages: list[dict[str, Any]] = []
        for _ in range(rounds):
            if self._stopping.is_set() and deliveries is not None:
                break
            response = self._sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0,
                # Long enough that nobody else sees the message while its handler runs (and
                # waits for a sandbox of its function).
                VisibilityTimeout=2 * function.timeout_s + 30,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
            batch = response.get("Messages", [])
            messages.extend(batch)
            if len(batch) < 10:
                break
        if deliveries is None:
            for message in messages:
                self._deliver(resources, queue_url, dlq_url, message)
        else:
            futures = [
                deliveries.submit(self._deliver, resources, queue_url, dlq_url, message)
                for message in messages
            ]
            for future in futures:
                if not future.cancelled():
                    future.exception()  # waits; _deliver logs its own failures
        return len(messages)

    def _deliver(
        self, resources: RuleResources, queue_url: str, dlq_url: str, message: dict[str, Any]
    ) -> None:
        rule, function_name = resources.rule.name, resources.rule.function
        attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        started = time.perf_counter()
        if self._stopping.is_set():
            return  # left queued: delivered after the next start
        try:
            event = json.loads(message["Body"])
            # moto's events lack "account", which every real EventBridge event carries.
            event.setdefault("account", ACCOUNT_ID)
            if self._functions.waiting_requests():
                # Requests are queued at the gateway for a sandbox: on a 2-core machine every
                # event handler running beside them slows them towards the gateway's 30 s
                # timeout. Events then go one at a time (never none: they still drain); in
                # AWS both would simply scale out.
                with self._one_at_a_time:
                    self._functions.invoke(function_name, event)
            else:
                self._functions.invoke(function_name, event)
        except Exception as exc:
            if self._stopping.is_set():
                return  # cut short by the stop (its sandbox was killed): not a failure of the event
            LOG.exception(
                "rule %s -> %s failed (attempt %d/%d)", rule, function_name, attempt, self._max_attempts
            )
            if attempt >= self._max_attempts:
                self._sqs.send_message(
                    QueueUrl=dlq_url,
                    MessageBody=message["Body"],
                    MessageAttributes={
                        "ErrorMessage": {
                            "DataType": "String",
                            "StringValue": f"{type(exc).__name__}: {exc}"[:1000],
                        },
                        "Attempts": {"DataType": "Number", "StringValue": str(attempt)},
                    },
                )
                self._sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                LOG.error(
                    "rule %s: event moved to DLQ %s after %d attempts",
                    rule,
                    resources.dead_letter_queue_name,
                    attempt,
                )
            else:
                self._sqs.change_message_visibility(
                    QueueUrl=queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self._retry_delay_s,
                )
            return
        self._sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        CONSOLE.info(
            "EVENT %s -> %s %s %.0f ms",
            event.get("detail-type"),
            function_name,
            rule,
            (time.perf_counter() - started) * 1000,
        )
