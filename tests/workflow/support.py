"""Helpers for the workflow tests: cases in a given status, events as the bus delivers them."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from caseroom import dynamo
from caseroom.audit import RequestMeta
from caseroom.auth import Principal
from caseroom.cases import dal
from caseroom.cases.logic import CaseService
from caseroom.cases.models import CreateCaseRequest, SetStatusRequest
from caseroom.cases.records import TimelineEntry
from caseroom.clock import SystemClock, iso
from caseroom.events import OUTBOX_RETENTION_SECONDS, DomainEvent, EventType, outbox_attributes
from caseroom.outbox import outbox_put_action
from caseroom.paging import PageRequest
from caseroom.settings import get_settings
from tests.conftest import CLINICIAN, LAB_TECH

CASES = CaseService(clock=SystemClock())


def meta() -> RequestMeta:
    return RequestMeta(request_id=f"req-{secrets.token_hex(4)}", source_ip="203.0.113.9")


def new_case(*lab_moves: str, with_scan: bool = True, who: Principal = CLINICIAN) -> str:
    """A crown case (Missing CBCT/Models without its scan), then moved by the lab."""
    attachments = [{"kind": "scan", "fileName": "upper.stl"}] if with_scan else []
    request = CreateCaseRequest.model_validate(
        {
            "patientName": "Maria Garcia",
            "rxDescription": "Zirconia crown",
            "teeth": ["11"],
            "caseType": "crown",
            "attachments": attachments,
        }
    )
    view = CASES.create_case(who, request, meta())
    version = view.version
    for target in lab_moves:
        moved = CASES.set_status(
            LAB_TECH,
            view.case_id,
            SetStatusRequest.model_validate({"status": target, "version": version}),
            meta(),
        )
        version = moved.version
    return view.case_id


def status_of(case_id: str) -> str:
    case = dal.get_case(case_id)
    assert case is not None
    return case.status.value


def timeline_of(case_id: str) -> list[TimelineEntry]:
    page = PageRequest(CLINICIAN, RequestMeta("test", "127.0.0.1"), 100, None, SystemClock().now())
    return dal.list_timeline(case_id, page)[0]


def outbox_of(case_id: str) -> list[dict[str, Any]]:
    """The case's outbox items (test only: reads the small moto table whole)."""
    items = dynamo.dynamodb().scan(TableName=get_settings().table_name)["Items"]
    events = [dynamo.from_item(i) for i in items if i.get("kind", {}).get("S") == "outbox"]
    return sorted((e for e in events if e["caseId"] == case_id), key=lambda e: e["eventTime"])


def event_types(case_id: str) -> list[str]:
    return [e["eventType"] for e in outbox_of(case_id)]


def domain_event(kind: EventType, case_id: str, subject_id: str = "") -> DomainEvent:
    return DomainEvent(
        id=secrets.token_hex(16),
        type=kind,
        time=iso(datetime.now(UTC)),
        case_id=case_id,
        actor="u-files",
        correlation_id="corr-1",
        subject_id=subject_id,
    )


def write_to_outbox(event: DomainEvent) -> None:
    """What the files feature does when a file lands: the event commits with its change."""
    expires = int(datetime.now(UTC).timestamp()) + OUTBOX_RETENTION_SECONDS
    dynamo.transact([outbox_put_action(outbox_attributes(event, expires))])


def as_delivered(event: DomainEvent) -> dict[str, Any]:
    """The EventBridge event a rule hands its function."""
    return {
        "version": "0",
        "id": secrets.token_hex(8),
        "detail-type": event.type.value,
        "source": "caseroom",
        "account": "123456789012",
        "time": event.time,
        "region": "us-east-1",
        "resources": [],
        "detail": event.to_detail(),
    }


def future_slot(days: int, hour: int = 10) -> datetime:
    """A wall-clock-future time (handlers in the runtime use the system clock)."""
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=days)
    return base.replace(hour=hour)
