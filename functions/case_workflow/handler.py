"""Case workflow function: CaseRoom moving cases on events and timers.

FileAdded             -> Missing CBCT/Models becomes Processing (caseroom.cases.reactions)
Planning* events      -> the missed-session timer follows the session (caseroom.planning.timers)
PlanningSessionDue    -> Planning No Show unless the session was held, moved or cancelled
"""

from typing import Any

from caseroom.cases import reactions
from caseroom.clock import SystemClock
from caseroom.events import DomainEvent, EventType, MalformedEvent
from caseroom.observability import EVENTBRIDGE_CORRELATION, lambda_entrypoint
from caseroom.planning import timers
from caseroom.scheduling import SCHEDULER_SOURCE

PLANNING_CHANGES = {EventType.PLANNING_SCHEDULED, EventType.PLANNING_CANCELLED, EventType.PLANNING_HELD}


def _handle(event: dict[str, Any], context: object) -> dict[str, Any]:
    clock = SystemClock()
    if event.get("source") == SCHEDULER_SOURCE:
        if event.get("detail-type") != timers.TIMER_DETAIL_TYPE:
            raise MalformedEvent("unknown timer")
        return {"timer": timers.TIMER_DETAIL_TYPE, "moved": timers.on_session_due(event.get("detail"), clock)}
    domain_event = DomainEvent.from_detail(event.get("detail"))
    if domain_event.type is EventType.FILE_ADDED:
        return {"eventId": domain_event.id, "moved": reactions.on_file_added(domain_event, clock)}
    if domain_event.type in PLANNING_CHANGES:
        return {"eventId": domain_event.id, "timer": timers.on_planning_changed(domain_event)}
    raise MalformedEvent("case_workflow does not handle this event type")


lambda_handler = lambda_entrypoint(_handle, correlation_id_path=EVENTBRIDGE_CORRELATION)
