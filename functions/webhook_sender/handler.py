"""Webhook sender function: fans case events out to subscribed endpoints and makes every
signed attempt (first, retries from timers, test pings and redeliveries from the API)."""

from typing import Any

from caseroom.events import DomainEvent
from caseroom.observability import EVENTBRIDGE_CORRELATION, lambda_entrypoint
from caseroom.webhooks import sender


def _handle(event: dict[str, Any], context: object) -> dict[str, Any]:
    if event.get("detail-type") == sender.DELIVERY_DUE:
        return {"attempt": sender.on_delivery_due(event.get("detail"))}
    domain_event = DomainEvent.from_detail(event["detail"])
    return {"eventId": domain_event.id, "deliveries": sender.on_domain_event(domain_event)}


lambda_handler = lambda_entrypoint(_handle, correlation_id_path=EVENTBRIDGE_CORRELATION)
