"""Case workflow function: CaseRoom moving cases on events and timers.

FileAdded             -> Missing CBCT/Models becomes Processing (caseroom.cases.reactions)
Planning* events      -> the missed-session timer follows the session (caseroom.planning.timers)
PlanningSessionDue    -> Planning No Show unless the session was held, moved or cancelled
Case changes          -> the team members' copies of the case's sort columns follow the case
                         ("cases shared with me", caseroom.team.dal.refresh_shared_rows)
"""

from typing import Any

from caseroom.cases import dal as cases_dal
from caseroom.cases import reactions
from caseroom.clock import SystemClock
from caseroom.events import DomainEvent, EventType, MalformedEvent
from caseroom.observability import EVENTBRIDGE_CORRELATION, lambda_entrypoint
from caseroom.planning import timers
from caseroom.scheduling import SCHEDULER_SOURCE
from caseroom.team import dal as team_dal

PLANNING_CHANGES = {EventType.PLANNING_SCHEDULED, EventType.PLANNING_CANCELLED, EventType.PLANNING_HELD}
# The events of every write that moves a case's sort columns or its archive flag.
SHARED_ROW_CHANGES = {
    EventType.CASE_RX_MODIFIED,
    EventType.CASE_STATUS_CHANGED,
    EventType.CASE_ARCHIVED,
    EventType.CASE_UNARCHIVED,
}


def _handle(event: dict[str, Any], context: object) -> dict[str, Any]:
    clock = SystemClock()
    if event.get("source") == SCHEDULER_SOURCE:
        if event.get("detail-type") != timers.TIMER_DETAIL_TYPE:
            raise MalformedEvent("unknown timer")
        return {"timer": timers.TIMER_DETAIL_TYPE, "moved": timers.on_session_due(event.get("detail"), clock)}
    domain_event = DomainEvent.from_detail(event.get("detail"))
    if domain_event.type is EventType.FILE_ADDED:
        return {"eventId": domain_event.id, "moved": reactions.on_file_added(domain_event, clock)}
    if domain_event.type in SHARED_ROW_CHANGES:
        # Copies the case as it is now (a consistent read), whichever event arrives last.
        case = cases_dal.get_case(domain_event.case_id)
        refreshed = team_dal.refresh_shared_rows(case) if case is not None else 0
        return {"eventId": domain_event.id, "sharedRows": refreshed}
    if domain_event.type in PLANNING_CHANGES:
        return {"eventId": domain_event.id, "timer": timers.on_planning_changed(domain_event)}
    raise MalformedEvent("case_workflow does not handle this event type")


lambda_handler = lambda_entrypoint(_handle, correlation_id_path=EVENTBRIDGE_CORRELATION)
