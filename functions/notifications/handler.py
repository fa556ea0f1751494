"""Notifications function: emails the people a case event concerns."""

from typing import Any

from caseroom import notifications
from caseroom.events import DomainEvent, EventType
from caseroom.observability import EVENTBRIDGE_CORRELATION, lambda_entrypoint


def _handle(event: dict[str, Any], context: object) -> dict[str, Any]:
    domain_event = DomainEvent.from_detail(event["detail"])
    sent = False
    if domain_event.type is EventType.CASE_CREATED:
        sent = notifications.on_case_created(domain_event)
    return {"eventId": domain_event.id, "sent": sent}


lambda_handler = lambda_entrypoint(_handle, correlation_id_path=EVENTBRIDGE_CORRELATION)
