"""Planning through the local runtime: 50 concurrent bookings of one block, the missed-session
timer fired by the local scheduler at an injected time, held/rescheduled/cancelled sessions,
and planning events delivered out of order."""

from __future__ import annotations

import itertools
import json
import threading
from datetime import datetime, timedelta
from typing import Any

from caseroom import dynamo, ids
from caseroom.cases import dal as cases_dal
from caseroom.cases.records import evolve
from caseroom.clock import SystemClock
from caseroom.errors import DomainError
from caseroom.events import EventType
from caseroom.planning import dal as planning_dal
from caseroom.planning import timers
from caseroom.planning.logic import PlanningService
from caseroom.planning.models import (
    BookRequest,
    CancelRequest,
    HeldRequest,
    PublishBlockRequest,
    RescheduleRequest,
)
from caseroom.planning.records import Block, parse_utc
from local.runtime import LocalRuntime
from tests.conftest import CLINICIAN, LAB_TECH
from tests.workflow.support import (
    as_delivered,
    domain_event,
    event_types,
    future_slot,
    meta,
    new_case,
    status_of,
    timeline_of,
)

PLANNING = PlanningService(clock=SystemClock())
MEETING = "https://meet.lab.example/room/7"


def publish(start: datetime, minutes: int = 60) -> Block:
    request = PublishBlockRequest.model_validate(
        {
            "start": start.isoformat(),
            "durationMinutes": minutes,
            "timezone": "Europe/Madrid",
            "meetingUrl": MEETING,
        }
    )
    view = PLANNING.publish_block(LAB_TECH, request)
    block = planning_dal.get_block("lab-1", view.block_id)
    assert block is not None
    return block


def book(case_id: str, block: Block) -> str:
    return PLANNING.book(CLINICIAN, case_id, BookRequest(blockId=block.block_id), meta()).session.session_id


def due_at(block: Block) -> datetime:
    return block.ends_at + timers.MISSED_GRACE


def pending_timers(runtime: LocalRuntime, session_id: str) -> dict[str, datetime]:
    """The session's timers not yet fired (other tests' sessions may have theirs)."""
    return {
        str(s["Name"]): parse_utc(str(s["ScheduleExpression"])[3:-1] + "Z")
        for s in runtime.scheduler.pending()
        if str(s["Name"]).startswith(f"planning-{session_id}-")
    }


def ready_to_plan_cases(count: int) -> list[str]:
    """Cases stored straight in Ready to Plan: a quick Given (moto copies the whole table for
    every transaction, so walking 50 cases through the API would dominate the test)."""
    template = cases_dal.get_case(new_case("Received", "Ready to Plan"))
    assert template is not None
    case_ids = []
    for _ in range(count):
        case = evolve(template, case_id=ids.new_case_id())
        dynamo.put({"TableName": dynamo.table_name(), "Item": dynamo.to_item(cases_dal._case_values(case))})
        case_ids.append(case.case_id)
    return case_ids


def version_of(case_id: str) -> int:
    case = cases_dal.get_case(case_id)
    assert case is not None
    return case.version


def test_overlapping_blocks_published_at_once_never_double_book_the_labs_time(runtime: LocalRuntime) -> None:
    # Given twelve publishes at once: six overlap one another (the same hour, shifted by 5 to
    # 25 minutes) and six are each in an hour of their own
    base = future_slot(days=20, hour=6)
    overlapping = [base + timedelta(minutes=5 * i) for i in range(6)]
    separate = [base + timedelta(hours=2 + i) for i in range(6)]
    start = threading.Barrier(12)
    outcomes: dict[datetime, str] = {}

    def attempt(when: datetime) -> None:
        start.wait()
        try:
            publish(when)
            outcomes[when] = "published"
        except DomainError as error:
            outcomes[when] = error.code

    threads = [threading.Thread(target=attempt, args=(when,)) for when in overlapping + separate]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one of the overlapping six exists, the others were told why; every separate one exists
    assert [outcomes[w] for w in overlapping].count("published") == 1
    assert sorted({outcomes[w] for w in overlapping}) == ["BLOCK_OVERLAPS", "published"]
    assert [outcomes[w] for w in separate] == ["published"] * 6
    # And no two stored blocks of the lab overlap
    blocks = planning_dal.blocks_between("lab-1", "0", "9")
    spans = sorted((b.starts_at, b.ends_at) for b in blocks)
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))


def test_fifty_concurrent_bookings_of_one_block_make_one_booking(runtime: LocalRuntime) -> None:
    # Given 50 cases Ready to Plan and one free block
    cases = ready_to_plan_cases(50)
    block = publish(future_slot(days=3))
    start = threading.Barrier(len(cases))
    outcomes: dict[str, str] = {}

    def attempt(case_id: str) -> None:
        start.wait()
        try:
            book(case_id, block)
            outcomes[case_id] = "booked"
        except DomainError as error:
            outcomes[case_id] = error.code

    # When all 50 book it at once
    threads = [threading.Thread(target=attempt, args=(case_id,)) for case_id in cases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one booking exists; everyone else was told the block is taken
    winners = [case_id for case_id, outcome in outcomes.items() if outcome == "booked"]
    assert len(winners) == 1
    assert sorted(set(outcomes.values())) == ["BLOCK_TAKEN", "booked"]
    stored = planning_dal.get_block("lab-1", block.block_id)
    assert stored is not None and stored.case_id == winners[0]
    assert [status_of(c) for c in cases].count("Planning Scheduled") == 1
    assert sum(event_types(c).count("PlanningScheduled") for c in cases) == 1


def test_a_missed_session_turns_the_case_red_once(runtime: LocalRuntime) -> None:
    # Given a booked session; the PlanningScheduled event sets its timer
    case_id = new_case("Received", "Ready to Plan")
    block = publish(future_slot(days=4))
    session_id = book(case_id, block)
    runtime.pump()
    assert pending_timers(runtime, session_id) == {
        timers.timer_name(session_id, block.block_id): due_at(block)
    }

    # When the clock is a second short of end + grace, nothing happens
    runtime.scheduler.fire_due(due_at(block) - timedelta(seconds=1))
    runtime.pump()
    assert pending_timers(runtime, session_id) != {}
    assert status_of(case_id) == "Planning Scheduled"
    # Then at end + grace the case becomes Planning No Show (red, no due date), PlanningMissed emitted
    runtime.scheduler.fire_due(due_at(block))
    assert pending_timers(runtime, session_id) == {}
    runtime.pump()
    assert status_of(case_id) == "Planning No Show"
    last = timeline_of(case_id)[-1]
    assert (last.from_status, last.actor_role, last.reason) == (
        "Planning Scheduled",
        "system",
        timers.MISSED_REASON,
    )
    assert event_types(case_id).count("PlanningMissed") == 1
    session = planning_dal.get_session(case_id, session_id)
    assert session is not None and session.status.value == "missed"

    # And a duplicate firing of the timer is a no-op
    put_timer(runtime, case_id, session_id, block.block_id)
    runtime.pump()
    assert event_types(case_id).count("PlanningMissed") == 1
    assert len(timeline_of(case_id)) == 5  # created, Received, Ready to Plan, Scheduled, No Show

    # The clinician can book again from Planning No Show
    again = publish(future_slot(days=5))
    book(case_id, again)
    assert status_of(case_id) == "Planning Scheduled"


def put_timer(runtime: LocalRuntime, case_id: str, session_id: str, block_id: str) -> None:
    """A timer event as the Scheduler puts it on the bus (a duplicate or stale firing)."""
    runtime.backend.client("events").put_events(
        Entries=[
            {
                "EventBusName": runtime.backend.names.event_bus,
                "Source": "caseroom.scheduler",
                "DetailType": timers.TIMER_DETAIL_TYPE,
                "Detail": json.dumps({"caseId": case_id, "sessionId": session_id, "blockId": block_id}),
            }
        ]
    )


def test_a_held_session_cancels_the_timer_and_a_stale_firing_does_nothing(runtime: LocalRuntime) -> None:
    case_id = new_case("Received", "Ready to Plan")
    block = publish(future_slot(days=6))
    session_id = book(case_id, block)
    runtime.pump()
    # When the lab marks the session held
    PLANNING.mark_held(LAB_TECH, case_id, HeldRequest(version=version_of(case_id)), meta())
    runtime.pump()
    # Then its timer is gone, and a late firing anyway changes nothing
    assert pending_timers(runtime, session_id) == {}
    runtime.scheduler.fire_due(due_at(block))
    put_timer(runtime, case_id, session_id, block.block_id)
    runtime.pump()
    assert status_of(case_id) == "Planning Scheduled"
    assert "PlanningMissed" not in event_types(case_id)


def test_a_rescheduled_session_keeps_only_the_new_blocks_timer(runtime: LocalRuntime) -> None:
    case_id = new_case("Received", "Ready to Plan")
    first, second = publish(future_slot(days=7)), publish(future_slot(days=8))
    session_id = book(case_id, first)
    runtime.pump()
    PLANNING.reschedule(
        LAB_TECH, case_id, RescheduleRequest(blockId=second.block_id, version=version_of(case_id)), meta()
    )
    runtime.pump()
    assert pending_timers(runtime, session_id) == {
        timers.timer_name(session_id, second.block_id): due_at(second)
    }
    # The old block's time passes (and a stale copy of its timer arrives): nothing happens
    put_timer(runtime, case_id, session_id, first.block_id)
    runtime.scheduler.fire_due(due_at(first))
    runtime.pump()
    assert status_of(case_id) == "Planning Scheduled"
    # The new block's time passes unheld: Planning No Show
    runtime.scheduler.fire_due(due_at(second))
    assert pending_timers(runtime, session_id) == {}
    runtime.pump()
    assert status_of(case_id) == "Planning No Show"


def test_planning_events_out_of_order_leave_no_timer_for_a_cancelled_session(runtime: LocalRuntime) -> None:
    # Given a session booked then cancelled by the lab
    case_id = new_case("Received", "Ready to Plan")
    block = publish(future_slot(days=9))
    session_id = book(case_id, block)
    PLANNING.cancel(LAB_TECH, case_id, CancelRequest(version=version_of(case_id)), meta())
    # When the bus delivers PlanningCancelled before PlanningScheduled (and each twice)
    cancelled = domain_event(EventType.PLANNING_CANCELLED, case_id, session_id)
    scheduled = domain_event(EventType.PLANNING_SCHEDULED, case_id, session_id)
    results: list[Any] = [
        runtime.functions.invoke("case_workflow", as_delivered(event))["timer"]
        for event in (cancelled, scheduled, scheduled, cancelled)
    ]
    # Then every delivery converges on the stored state: no timer, the case Ready to Plan
    assert results == ["cancelled"] * 4
    assert timers.timer_name(session_id, block.block_id) not in pending_timers(runtime, session_id)
    runtime.pump()
    assert pending_timers(runtime, session_id) == {} or all(
        not n.startswith(f"planning-{session_id}") for n in pending_timers(runtime, session_id)
    )
    assert status_of(case_id) == "Ready to Plan"
