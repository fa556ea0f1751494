"""Lambda events and context the benchmarks feed the handlers, shaped as AWS delivers them.

HTTP events come from the local gateway's own event builder (local.apigw_http.event_for), the
same code that serves real requests locally.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from caseroom.auth import Principal, Role, claims_for
from caseroom.events import EVENT_SCHEMA_VERSION, EventType
from local.apigw_http import event_for
from local.functions import LambdaContext

ACCOUNT_ID = "123456789012"  # moto's default account

CLINICIAN = Principal(
    user_id="u-bench-clinician", email="ana@clinic.bench", name="Dr. Ana Bench", role=Role.CLINICIAN
)
LAB_TECH = Principal(
    user_id="u-bench-lab", email="lea@lab.bench", name="Lea Bench", role=Role.LAB, lab_id="lab-1"
)


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


def case_event(event_type: EventType, case_id: str, actor: str, event_time: str) -> dict[str, Any]:
    """An EventBridge event carrying a CaseRoom domain event, with a fresh event id (consumers
    de-duplicate on it, so a reused id would skip the work we want to time)."""
    event_id = secrets.token_hex(16)
    return {
        "version": "0",
        "id": secrets.token_hex(16),
        "detail-type": event_type.value,
        "source": "caseroom",
        "account": ACCOUNT_ID,
        "time": event_time,
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "id": event_id,
            "type": event_type.value,
            "version": EVENT_SCHEMA_VERSION,
            "time": event_time,
            "caseId": case_id,
            "actor": actor,
            "correlationId": f"req-{secrets.token_hex(6)}",
        },
    }


def websocket_ping_event(connection_id: str = "abc") -> dict[str, Any]:
    """A message on the WebSocket API's $default route asking for a pong."""
    return {
        "requestContext": {"routeKey": "$default", "connectionId": connection_id},
        "body": '{"action":"ping"}',
    }
