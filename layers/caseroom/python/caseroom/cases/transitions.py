"""The lab statuses as an explicit state machine: which move exists, who may make it, and how.

Every status change in CaseRoom goes through `check()`: the status API (lab), a clinician's
Rx change, a planning booking, the lab's planning actions, and the system reacting to an
event. A move that is not in TRANSITIONS does not happen; the caller gets 409
ILLEGAL_TRANSITION with the statuses it could choose instead.

Colours and dates follow the status (see `due_date_on_entering`): red cases wait on the
clinician and have no due date; Manufacturing ships in 2-7 business days by case type;
Finished ships the next business day. Days are the case's lab's business days, in its zone
(caseroom.labs.calendar).

Plain Python (no pydantic): the event consumers import this on their cold start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from caseroom.cases.case_types import CaseType
from caseroom.cases.statuses import Attention, CaseStatus, attention_of
from caseroom.errors import IllegalTransition
from caseroom.labs.calendar import LabCalendar


class Mover(StrEnum):
    """Who makes a move."""

    CLINICIAN = "clinician"  # the clinician who owns the case
    LAB = "lab"  # a member of the case's lab
    SYSTEM = "system"  # CaseRoom itself, reacting to an event or a timer


class Via(StrEnum):
    """Through which door a move is made (a door only offers its own moves)."""

    STATUS_API = "PUT /cases/{caseId}/status"
    RX_CHANGE = "PATCH /cases/{caseId}"
    BOOKING = "POST /cases/{caseId}/planning"
    PLANNING_CANCEL = "POST /cases/{caseId}/planning/cancel"
    FILE_ADDED = "event FileAdded"
    SESSION_MISSED = "timer PlanningSessionDue"


@dataclass(frozen=True)
class Transition:
    source: CaseStatus
    target: CaseStatus
    mover: Mover
    via: Via


S = CaseStatus

# Statuses a case can still leave (Shipped and Cancelled are final).
OPEN_STATUSES = tuple(s for s in CaseStatus if s not in (S.SHIPPED, S.CANCELLED))
# Where a clinician may still change the Rx: before planning is booked and manufacturing starts.
RX_EDITABLE = (S.MISSING_FILES, S.PROCESSING, S.RECEIVED, S.READY_TO_PLAN, S.PLANNING_NO_SHOW)
# Where the lab resumes a case it put on hold.
RESUMABLE = (S.MISSING_FILES, S.PROCESSING, S.RECEIVED, S.READY_TO_PLAN, S.MANUFACTURING, S.FINISHED)


def _moves(sources: tuple[CaseStatus, ...], target: CaseStatus, mover: Mover, via: Via) -> list[Transition]:
    return [Transition(source, target, mover, via) for source in sources if source is not target]


_LAB, _API = Mover.LAB, Via.STATUS_API

TRANSITIONS: tuple[Transition, ...] = tuple(
    [
        # The lab's progress through the status API.
        *_moves((S.MISSING_FILES,), S.PROCESSING, _LAB, _API),  # files came by mail / iTero / MeditLink
        *_moves((S.MISSING_FILES, S.PROCESSING), S.RECEIVED, _LAB, _API),
        *_moves((S.PROCESSING, S.RECEIVED), S.MISSING_FILES, _LAB, _API),  # the lab finds files missing
        *_moves((S.RECEIVED,), S.READY_TO_PLAN, _LAB, _API),
        # Straight to manufacturing when no planning is needed, or after the session was held.
        *_moves((S.RECEIVED, S.PLANNING_SCHEDULED), S.MANUFACTURING, _LAB, _API),
        *_moves((S.MANUFACTURING,), S.FINISHED, _LAB, _API),
        *_moves((S.FINISHED,), S.SHIPPED, _LAB, _API),  # with carrier, tracking number and URL
        *_moves(OPEN_STATUSES, S.ON_HOLD, _LAB, _API),  # with a reason
        *[Transition(S.ON_HOLD, target, _LAB, _API) for target in RESUMABLE],  # resuming
        *_moves(OPEN_STATUSES, S.CANCELLED, _LAB, _API),
        # Planning: the clinician books; the lab cancels (the case is ready to plan again).
        *_moves((S.READY_TO_PLAN, S.PLANNING_NO_SHOW), S.PLANNING_SCHEDULED, Mover.CLINICIAN, Via.BOOKING),
        Transition(S.PLANNING_SCHEDULED, S.READY_TO_PLAN, _LAB, Via.PLANNING_CANCEL),
        # A clinician's Rx change resubmits the case: Processing, or Missing CBCT/Models while
        # the files its type needs are still missing.
        *_moves(RX_EDITABLE, S.PROCESSING, Mover.CLINICIAN, Via.RX_CHANGE),
        *_moves(RX_EDITABLE, S.MISSING_FILES, Mover.CLINICIAN, Via.RX_CHANGE),
        # The system, on events.
        Transition(S.MISSING_FILES, S.PROCESSING, Mover.SYSTEM, Via.FILE_ADDED),
        Transition(S.PLANNING_SCHEDULED, S.PLANNING_NO_SHOW, Mover.SYSTEM, Via.SESSION_MISSED),
    ]
)

NEEDS_REASON = frozenset({S.ON_HOLD})
NEEDS_TRACKING = frozenset({S.SHIPPED})


def allowed_targets(source: CaseStatus, mover: Mover, via: Via) -> list[CaseStatus]:
    """The statuses `mover` may move a case in `source` to through `via`, in lifecycle order."""
    targets = {t.target for t in TRANSITIONS if t.source is source and t.mover is mover and t.via is via}
    return [status for status in CaseStatus if status in targets]


def is_allowed(source: CaseStatus, target: CaseStatus, mover: Mover, via: Via) -> bool:
    return Transition(source, target, mover, via) in _INDEX


def check(source: CaseStatus, target: CaseStatus, mover: Mover, via: Via) -> None:
    """Raises IllegalTransition (409) listing the allowed targets unless the move is declared."""
    if not is_allowed(source, target, mover, via):
        raise IllegalTransition(
            f"A case in {source.value} cannot move to {target.value} this way.",
            allowed=[s.value for s in allowed_targets(source, mover, via)],
        )


def rx_editable(status: CaseStatus) -> bool:
    return status in RX_EDITABLE


def due_date_on_entering(
    target: CaseStatus,
    case_type: CaseType,
    current_due: str | None,
    calendar: LabCalendar,
    now: datetime,
    resubmitted: bool = False,
) -> str | None:
    """The due (ship) date a case gets when it enters `target`, a day of the lab's calendar
    counted from the lab's today (the date on the lab's wall at `now`, not the UTC date).

    Red and On Hold/Cancelled: none (nothing ships until someone acts). A resubmission (Rx
    change, missing files arriving) restarts the case type's turnaround at this lab, as if the
    case were new. Manufacturing ships in the lab's manufacturing days for the type, Finished
    the next business day, Shipped is dated the lab's today. Otherwise the promised date
    stands, or a fresh turnaround starts if the case had none (coming back from red or hold)."""
    if attention_of(target) is Attention.RED or target in (S.ON_HOLD, S.CANCELLED):
        return None
    today = calendar.today(now)
    if target is S.MANUFACTURING:
        days = calendar.turnaround(case_type).manufacturing_business_days
        return calendar.add_business_days(today, days).isoformat()
    if target is S.FINISHED:
        return calendar.add_business_days(today, 1).isoformat()
    if target is S.SHIPPED:
        return today.isoformat()
    if resubmitted or current_due is None:
        return calendar.due_date(case_type, now).isoformat()
    return current_due


_INDEX = frozenset(TRANSITIONS)
