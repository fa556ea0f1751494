"""Notifications function: case events become feed items, live pushes and emails; the daily
digest timer sends each user's digest."""

from typing import Any

from caseroom.events import DomainEvent, MalformedEvent
from caseroom.notifications import service
from caseroom.observability import EVENTBRIDGE_CORRELATION, lambda_entrypoint
from caseroom.scheduling import SCHEDULER_SOURCE


def _handle(event: dict[str, Any], context: object) -> dict[str, Any]:
    if event.get("source") == SCHEDULER_SOURCE and event.get("detail-type") == service.DIGEST_DETAIL_TYPE:
        detail = event.get("detail")
        if not isinstance(detail, dict) or not all(isinstance(detail.get(k), str) for k in ("userId", "day")):
            raise MalformedEvent("digest timer without userId/day")
        sent = service.on_digest_due(detail["userId"], detail["day"])
        return {"digest": detail["day"], "sent": sent}
    domain_event = DomainEvent.from_detail(event["detail"])
    outcome = service.on_event(domain_event)
    return {
        "eventId": domain_event.id,
        "notices": outcome.notices,
        "emailed": outcome.emailed,
        "digested": outcome.digested,
        "sent": outcome.emailed > 0,
    }


lambda_handler = lambda_entrypoint(_handle, correlation_id_path=EVENTBRIDGE_CORRELATION)
