"""Rx script function: on CaseCreated / CaseRxModified, renders the case's Rx script PDF."""

from typing import Any

from caseroom.cases.rx_script import generate_for_event
from caseroom.events import DomainEvent
from caseroom.observability import EVENTBRIDGE_CORRELATION, lambda_entrypoint


def _handle(event: dict[str, Any], context: object) -> dict[str, Any]:
    domain_event = DomainEvent.from_detail(event["detail"])
    return {"caseId": domain_event.case_id, "stored": generate_for_event(domain_event)}


lambda_handler = lambda_entrypoint(_handle, correlation_id_path=EVENTBRIDGE_CORRELATION)
