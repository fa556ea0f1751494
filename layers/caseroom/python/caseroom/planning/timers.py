"""The missed-session timer, run by the case_workflow function.

On PlanningScheduled/PlanningCancelled/PlanningHeld the consumer reads the session as it is
now and sets (or cancels) a timer at the block's end + MISSED_GRACE. Timers are named per
session AND block: a reschedule adds the new block's timer and cancels the old block's, and
no ordering of deliveries can make a stale timer replace the current one (a stale timer
that fires anyway is a no-op).

When a timer fires, the case moves to Planning No Show (red) and PlanningMissed is emitted,
unless the session was held, cancelled or moved, or the case moved on meanwhile: the consumer
re-checks all of that, and commits its claim with its effect.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from caseroom import audit_store, consumers, dynamo, scheduling
from caseroom.audit import system_record
from caseroom.cases import dal as cases_dal
from caseroom.cases import transitions, workflow
from caseroom.cases.statuses import CaseStatus
from caseroom.cases.transitions import Mover, Via
from caseroom.clock import Clock, iso
from caseroom.events import DomainEvent, EventType, MalformedEvent
from caseroom.planning import dal
from caseroom.planning.records import Session, SessionStatus

COMPONENT = "case_workflow"
TIMER_DETAIL_TYPE = "PlanningSessionDue"
MISSED_GRACE = timedelta(minutes=30)
DUE_CONSUMER = "case_workflow.planning_due"
MAX_ATTEMPTS = 5
MISSED_REASON = "The planning session was missed."


class StillContended(RuntimeError):
    pass


def timer_name(session_id: str, block_id: str) -> str:
    return f"planning-{session_id}-{block_id}"


def on_planning_changed(event: DomainEvent) -> str:
    """Makes the session's timer match the session as stored now; returns what it did."""
    session = dal.get_session(event.case_id, event.subject_id) if event.subject_id else None
    if session is None:
        return "unknown-session"
    name = timer_name(session.session_id, session.block_id)
    if session.replaced_block_id:
        # A reschedule: the old block's timer goes (were it to fire anyway, it is a no-op).
        scheduling.cancel_schedule(timer_name(session.session_id, session.replaced_block_id))
    if session.status is SessionStatus.BOOKED:
        scheduling.schedule_event(
            name,
            session.ends_at + MISSED_GRACE,
            TIMER_DETAIL_TYPE,
            {"caseId": session.case_id, "sessionId": session.session_id, "blockId": session.block_id},
        )
        return "scheduled"
    scheduling.cancel_schedule(name)
    return "cancelled"


def _timer_detail(detail: Any) -> tuple[str, str, str]:
    if not isinstance(detail, dict):
        raise MalformedEvent("timer detail is not an object")
    values = tuple(detail.get(key) for key in ("caseId", "sessionId", "blockId"))
    if not all(isinstance(v, str) and v for v in values):
        raise MalformedEvent("timer detail needs caseId, sessionId and blockId")
    case_id, session_id, block_id = (str(v) for v in values)
    return case_id, session_id, block_id


def _still_due(session: Session | None, case: Any, session_id: str, block_id: str) -> bool:
    return (
        session is not None
        and case is not None
        and session.status is SessionStatus.BOOKED
        and session.block_id == block_id
        and case.planning_session_id == session_id
        and transitions.is_allowed(case.status, CaseStatus.PLANNING_NO_SHOW, Mover.SYSTEM, Via.SESSION_MISSED)
    )


def on_session_due(detail: Any, clock: Clock) -> bool:
    """The block ended (+ grace) and nobody marked the session held: Planning No Show.
    Returns True if this delivery moved the case."""
    case_id, session_id, block_id = _timer_detail(detail)
    claim_id = f"timer-{session_id}-{block_id}"  # stable across duplicate firings of this timer
    for _attempt in range(MAX_ATTEMPTS):
        if consumers.claimed(claim_id, DUE_CONSUMER):
            return False
        session = dal.get_session(case_id, session_id)
        case = cases_dal.get_case(case_id)
        if not _still_due(session, case, session_id, block_id):
            consumers.claim(claim_id, DUE_CONSUMER, clock)
            return False
        assert session is not None and case is not None
        now = clock.now()
        correlation_id = f"timer-{session_id}"
        change = workflow.change_status(
            case,
            CaseStatus.PLANNING_NO_SHOW,
            mover=Mover.SYSTEM,
            via=Via.SESSION_MISSED,
            actor=workflow.system_actor(COMPONENT),
            now=now,
            correlation_id=correlation_id,
            reason=MISSED_REASON,
        )
        _, missed = workflow.event_action(
            EventType.PLANNING_MISSED, case_id, "system", correlation_id, now, session_id
        )
        audit = system_record(
            COMPONENT, "planning.missed", case_id, "planning-session", session_id, iso(now), claim_id
        )
        try:
            dal.transact(
                [
                    cases_dal.replace_case_action(change.updated, case.version),
                    dal.put_session_action(session.evolve(status=SessionStatus.MISSED), session.version),
                    *change.actions,
                    missed,
                    consumers.claim_action(claim_id, DUE_CONSUMER, clock),
                    audit_store.audit_put_action(audit),
                ]
            )
        except dynamo.ConditionFailed:
            continue  # the case or session changed, or another delivery won: look again
        return True
    raise StillContended("the case kept changing; EventBridge will retry")
