"""Applying a status change: the new case, its timeline entry and its events, ready to commit
in one transaction with the case write (see transitions.py for which moves exist).

Shared by every door that moves a case: the status API, a clinician's Rx change, planning
bookings and cancellations, and the event consumers (CaseRoom itself as the mover).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from caseroom import ids
from caseroom.cases import dal, transitions
from caseroom.cases.records import Case, TimelineEntry, evolve
from caseroom.cases.statuses import CaseStatus, attention_of
from caseroom.cases.transitions import Mover, Via
from caseroom.clock import iso
from caseroom.events import OUTBOX_RETENTION_SECONDS, DomainEvent, EventType, outbox_attributes
from caseroom.labs import dal as labs_dal
from caseroom.labs.calendar import LabCalendar
from caseroom.outbox import outbox_put_action

SYSTEM_NAME = "CaseRoom"


@dataclass(frozen=True)
class ActorRef:
    """Who made a change, as the timeline shows it (never a patient)."""

    user_id: str
    role: str  # clinician | lab | system
    name: str


def system_actor(component: str) -> ActorRef:
    return ActorRef(user_id=f"system:{component}", role="system", name=SYSTEM_NAME)


def entry_id_for(case_version: int) -> str:
    """A timeline entry is named by the case version its change wrote: unique per case (each
    version is written once, conditionally) and in the true order of changes, whatever the
    clocks of the writers say."""
    return f"{case_version:012d}"


def event_action(
    kind: EventType, case_id: str, actor_id: str, correlation_id: str, now: datetime, subject_id: str = ""
) -> tuple[str, dict[str, Any]]:
    """(event id, outbox put action) of one domain event."""
    event = DomainEvent(
        id=ids.new_event_id(),
        type=kind,
        time=iso(now),
        case_id=case_id,
        actor=actor_id,
        correlation_id=correlation_id,
        subject_id=subject_id,
    )
    expires = int(now.timestamp()) + OUTBOX_RETENTION_SECONDS
    return event.id, outbox_put_action(outbox_attributes(event, expires))


@dataclass(frozen=True)
class StatusChange:
    updated: Case
    entry: TimelineEntry
    # The timeline entry and the events (CaseStatusChanged, + CaseShipped): commit them with the case.
    actions: list[dict[str, Any]] = field(default_factory=list)


def change_status(
    case: Case,
    target: CaseStatus,
    *,
    mover: Mover,
    via: Via,
    actor: ActorRef,
    now: datetime,
    correlation_id: str,
    reason: str | None = None,
    resubmitted: bool = False,
    changes: dict[str, Any] | None = None,
    calendar: LabCalendar | None = None,
) -> StatusChange:
    """Checks the move against the state machine and builds everything it writes.
    The caller commits `updated` conditioned on `case.version` plus `actions`. Dates follow
    the calendar of the case's lab (read here unless the caller has it)."""
    transitions.check(case.status, target, mover, via)
    calendar = calendar if calendar is not None else labs_dal.calendar_of(case.lab_id)
    entry_id = entry_id_for(case.version + 1)
    actor_for_events = actor.user_id if actor.role != "system" else "system"
    event_id, status_event = event_action(
        EventType.CASE_STATUS_CHANGED,
        case.case_id,
        actor_for_events,
        correlation_id,
        now,
        subject_id=entry_id,
    )
    entry = TimelineEntry(
        entry_id=entry_id,
        case_id=case.case_id,
        at=iso(now),
        from_status=case.status.value,
        to_status=target.value,
        actor_id=actor.user_id,
        actor_role=actor.role,
        actor_name=actor.name,
        reason=reason,
        event_id=event_id,
    )
    actions = [dal.timeline_put_action(entry), status_event]
    if target is CaseStatus.SHIPPED:
        actions.append(
            event_action(EventType.CASE_SHIPPED, case.case_id, actor_for_events, correlation_id, now)[1]
        )
    updated = evolve(
        case,
        status=target,
        attention=attention_of(target),
        due_date=transitions.due_date_on_entering(
            target, case.case_type, case.due_date, calendar, now, resubmitted=resubmitted
        ),
        updated_at=iso(now),
        version=case.version + 1,
        status_reason=reason if target in (CaseStatus.ON_HOLD, CaseStatus.CANCELLED) else None,
        **(changes or {}),
    )
    return StatusChange(updated=updated, entry=entry, actions=actions)


def creation_entry(case: Case, actor: ActorRef) -> TimelineEntry:
    """The first timeline entry: the status the case was created in."""
    return TimelineEntry(
        entry_id=entry_id_for(case.version),
        case_id=case.case_id,
        at=case.created_at,
        from_status=None,
        to_status=case.status.value,
        actor_id=actor.user_id,
        actor_role=actor.role,
        actor_name=actor.name,
    )
