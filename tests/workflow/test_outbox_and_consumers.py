"""The outbox survives a relay crash, consumers apply each event once whatever the delivery
order, and concurrent moves of one case let exactly one win: all through the local runtime."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from caseroom.cases.models import SetStatusRequest
from caseroom.errors import DomainError
from caseroom.events import EventType
from local.events_relay import StreamRelay
from local.runtime import LocalRuntime
from tests.conftest import LAB_TECH
from tests.workflow.support import (
    CASES,
    as_delivered,
    domain_event,
    event_types,
    meta,
    new_case,
    status_of,
    timeline_of,
    write_to_outbox,
)


class SimulatedCrash(Exception):
    """The relay process dies here: records read, nothing put on the bus yet."""


class CrashBeforePut:
    def put_events(self, **_: Any) -> Any:
        raise SimulatedCrash()


def emails_about(case_id: str) -> list[Any]:
    return [m for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages if case_id in m.subject]


def moves_to_processing(case_id: str) -> list[Any]:
    return [
        e
        for e in timeline_of(case_id)
        if (e.from_status, e.to_status) == ("Missing CBCT/Models", "Processing")
    ]


def test_a_relay_crash_between_write_and_put_loses_nothing_and_doubles_nothing(runtime: LocalRuntime) -> None:
    # Given a case waiting for its scan, its CaseCreated event fully handled
    case_id = new_case(with_scan=False)
    runtime.pump()
    assert (status_of(case_id), len(emails_about(case_id))) == ("Missing CBCT/Models", 1)

    # When the scan lands (FileAdded committed to the outbox) and the relay dies after reading
    # the record but before PutEvents
    write_to_outbox(domain_event(EventType.FILE_ADDED, case_id, subject_id="file-1"))
    crashed = StreamRelay(runtime.backend, resume_from=runtime.relay.checkpoint())
    crashed._events = CrashBeforePut()
    with pytest.raises(SimulatedCrash):
        crashed.pump_once()
    runtime.dispatcher.pump_once()
    assert status_of(case_id) == "Missing CBCT/Models"  # nothing reached the bus

    # Then a relay restarted from the crashed one's checkpoint puts the event on the bus
    restarted = StreamRelay(runtime.backend, resume_from=crashed.checkpoint())
    assert restarted.pump_once() == 1
    runtime.dispatcher.pump_once()
    assert status_of(case_id) == "Processing"
    assert len(moves_to_processing(case_id)) == 1

    # And a relay that lost its checkpoint replays the whole stream: every effect stays single
    replayed = StreamRelay(runtime.backend).pump_once()
    assert replayed >= 2  # at least this case's CaseCreated and FileAdded again
    while runtime.dispatcher.pump_once():
        pass
    assert status_of(case_id) == "Processing"
    assert len(moves_to_processing(case_id)) == 1
    assert event_types(case_id).count("CaseStatusChanged") == 1
    assert len(emails_about(case_id)) == 1  # the confirmation email was not sent again
    runtime.relay.pump_once()  # the runtime's own relay catches up too (more duplicates)
    runtime.pump()
    assert len(moves_to_processing(case_id)) == 1


def test_file_added_twice_and_out_of_order_gives_one_move(runtime: LocalRuntime) -> None:
    # Given a case waiting for files and two files landing (two FileAdded events)
    case_id = new_case(with_scan=False)
    first = domain_event(EventType.FILE_ADDED, case_id, subject_id="file-1")
    second = domain_event(EventType.FILE_ADDED, case_id, subject_id="file-2")
    # When the bus delivers them late, twice, and the second before the first
    results = [
        runtime.functions.invoke("case_workflow", as_delivered(event))["moved"]
        for event in (second, first, second, first)
    ]
    # Then the case moved once, by the first delivery that arrived
    assert results == [True, False, False, False]
    assert status_of(case_id) == "Processing"
    (entry,) = moves_to_processing(case_id)
    assert (entry.actor_id, entry.actor_role) == ("system:case_workflow", "system")
    assert event_types(case_id).count("CaseStatusChanged") == 1

    # When the lab finds a file missing after all, a late copy of an old event changes nothing
    case = CASES.get_case(LAB_TECH, case_id, meta())
    CASES.set_status(
        LAB_TECH,
        case_id,
        SetStatusRequest.model_validate({"status": "Missing CBCT/Models", "version": case.version}),
        meta(),
    )
    assert runtime.functions.invoke("case_workflow", as_delivered(first))["moved"] is False
    assert status_of(case_id) == "Missing CBCT/Models"
    # But a new file moves it again
    third = domain_event(EventType.FILE_ADDED, case_id, subject_id="file-3")
    assert runtime.functions.invoke("case_workflow", as_delivered(third))["moved"] is True
    assert len(moves_to_processing(case_id)) == 2


def test_file_added_to_a_case_past_missing_files_is_a_no_op(runtime: LocalRuntime) -> None:
    case_id = new_case("Received")
    event = domain_event(EventType.FILE_ADDED, case_id, subject_id="file-9")
    write_to_outbox(event)
    runtime.pump()
    assert status_of(case_id) == "Received"
    assert event_types(case_id).count("CaseStatusChanged") == 1  # only the lab's move


def test_concurrent_transitions_exactly_one_wins(runtime: LocalRuntime) -> None:
    # Given a case at version 1 and eight lab members moving it at once, each somewhere else
    case_id = new_case()
    targets = ["Received", "Missing CBCT/Models", "Cancelled", "On Hold"] * 2
    start = threading.Barrier(len(targets))
    outcomes: list[str] = []

    def attempt(target: str) -> None:
        request = SetStatusRequest.model_validate({"status": target, "version": 1, "reason": "r"})
        start.wait()
        try:
            CASES.set_status(LAB_TECH, case_id, request, meta())
            outcomes.append("won")
        except DomainError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=attempt, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one move happened; the others were told the case changed under them
    assert sorted(outcomes) == ["VERSION_CONFLICT"] * 7 + ["won"]
    entries = timeline_of(case_id)
    assert len(entries) == 2 and entries[1].to_status == status_of(case_id)
    assert event_types(case_id).count("CaseStatusChanged") == 1
