"""Lambda events and context the benchmarks feed the handlers, shaped as AWS delivers them.

HTTP events come from the local gateway's own event builder (local.apigw_http.event_for), the
same code that serves real requests locally.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from bench.aws_env import ACCOUNT_ID, REGION
from caseroom.auth import Principal, Role, claims_for
from caseroom.events import EVENT_SCHEMA_VERSION, EventType
from caseroom.scheduling import SCHEDULER_SOURCE
from local.apigw_http import event_for
from local.functions import LambdaContext

CLINICIAN = Principal(
    user_id="u-bench-clinician", email="ana@clinic.bench", name="Dr. Ana Bench", role=Role.CLINICIAN
)
LAB_TECH = Principal(
    user_id="u-bench-lab", email="lea@lab.bench", name="Lea Bench", role=Role.LAB, lab_id="lab-1"
)


def load_bench_directory() -> None:
    """The bench clinician's lab (lab-1, UTC, every case type): cases go only to a lab the
    clinician works with (caseroom.labs)."""
    from caseroom.cases.case_types import CASE_TYPE_RULES
    from caseroom.labs import directory

    offers = {
        t.value: {
            "turnaroundBusinessDays": r.turnaround_business_days,
            "manufacturingBusinessDays": r.manufacturing_business_days,
        }
        for t, r in CASE_TYPE_RULES.items()
    }
    document = {
        "labs": [{"labId": "lab-1", "name": "Bench Lab", "timezone": "UTC", "caseTypes": offers}],
        "clinics": [
            {
                "clinicId": "clinic-bench",
                "name": "Bench Clinic",
                "timezone": "UTC",
                "address": ["1 Bench Road"],
            }
        ],
        "clinicians": [
            {
                "userId": CLINICIAN.user_id,
                "clinicId": "clinic-bench",
                "labIds": ["lab-1"],
                "defaultLabId": "lab-1",
            }
        ],
    }
    directory.write(directory.parse(document))


# The case every create in the benchmarks opens (the load part sends the same body over HTTP).
CREATE_CASE_BODY: dict[str, Any] = {
    "patientName": "Bench Patient",
    "rxDescription": "Bench crown",
    "teeth": ["11"],
    "caseType": "crown",
    "attachments": [{"kind": "scan", "fileName": "a.stl"}],
}


def lambda_context(function_name: str = "bench") -> LambdaContext:
    return LambdaContext(function_name=function_name, memory_limit_in_mb=512, timeout_s=10)


def http_event(
    method: str,
    route: str,
    path: str,
    who: Principal | None,
    body: dict[str, Any] | None = None,
    query: dict[str, str] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The payload 2.0 event the local gateway builds once the JWT authorizer let `who` through."""
    event = event_for(
        method,
        path,
        claims=claims_for(who) if who is not None else None,
        body=json.dumps(body) if body is not None else None,
        query=query,
        source_ip="203.0.113.7",
        request_id=request_id,
    )
    if event["routeKey"] != f"{method} {route}":
        raise LookupError(f"{path} matches {event['routeKey']}, not {method} {route}")
    return event


def case_event(
    event_type: EventType, case_id: str, actor: str, event_time: str, subject_id: str = ""
) -> dict[str, Any]:
    """An EventBridge event carrying a CaseRoom domain event, with a fresh event id (consumers
    de-duplicate on it, so a reused id would skip the work we want to time). `subject_id`: the
    object inside the case the event is about (a file for FileAdded, a session for Planning*)."""
    event_id = secrets.token_hex(16)
    detail = {
        "id": event_id,
        "type": event_type.value,
        "version": EVENT_SCHEMA_VERSION,
        "time": event_time,
        "caseId": case_id,
        "actor": actor,
        "correlationId": f"req-{secrets.token_hex(6)}",
    }
    if subject_id:
        detail["subjectId"] = subject_id
    return {
        "version": "0",
        "id": secrets.token_hex(16),
        "detail-type": event_type.value,
        "source": "caseroom",
        "account": ACCOUNT_ID,
        "time": event_time,
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


def timer_event(detail_type: str, detail: dict[str, str], event_time: str) -> dict[str, Any]:
    """What a caseroom.scheduling timer puts on the bus when it fires (EventBridge Scheduler's
    target input as the detail), with a fresh event id."""
    return {
        "version": "0",
        "id": secrets.token_hex(16),
        "detail-type": detail_type,
        "source": SCHEDULER_SOURCE,
        "account": ACCOUNT_ID,
        "time": event_time,
        "region": REGION,
        "resources": [],
        "detail": dict(detail),
    }


def s3_object_created(bucket: str, key: str, size: int, version_id: str, event_time: str) -> dict[str, Any]:
    """S3's `Object Created` event on the default bus (EventBridge notifications on the bucket),
    as events/samples/s3_object_created.json, for one object version."""
    return {
        "version": "0",
        "id": secrets.token_hex(16),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": ACCOUNT_ID,
        "time": event_time,
        "region": REGION,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {
                "key": key,
                "size": size,
                "version-id": version_id,
                "sequencer": secrets.token_hex(9).upper(),
            },
            "request-id": secrets.token_hex(8).upper(),
            "requester": ACCOUNT_ID,
            "source-ip-address": "203.0.113.7",
            "reason": "PostObject",
        },
    }


def websocket_ping_event(connection_id: str = "abc") -> dict[str, Any]:
    """A message on the WebSocket API's $default route asking for a pong."""
    return {
        "requestContext": {"routeKey": "$default", "connectionId": connection_id},
        "body": '{"action":"ping"}',
    }
