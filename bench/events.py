"""Lambda events and context the benchmarks feed the handlers, shaped as AWS delivers them.

The HTTP event mirrors tests/conftest.py's http_event (API Gateway HTTP API payload 2.0 after
the JWT authorizer); bench/ keeps its own copy so it never imports the test suite.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from caseroom.auth import Principal, Role
from caseroom.events import EVENT_SCHEMA_VERSION, EventType

ACCOUNT_ID = "123456789012"  # moto's default account

CLINICIAN = Principal(
    user_id="u-bench-clinician", email="ana@clinic.bench", name="Dr. Ana Bench", role=Role.CLINICIAN
)
LAB_TECH = Principal(
    user_id="u-bench-lab", email="lea@lab.bench", name="Lea Bench", role=Role.LAB, lab_id="lab-1"
)

_GROUP_OF_ROLE = {Role.CLINICIAN: "clinicians", Role.LAB: "lab", Role.PATIENT: "patients"}

# The case every create in the benchmarks opens (the load part sends the same body over HTTP).
CREATE_CASE_BODY: dict[str, Any] = {
    "patientName": "Bench Patient",
    "rxDescription": "Bench crown",
    "teeth": ["11"],
    "caseType": "crown",
    "attachments": [{"kind": "scan", "fileName": "a.stl"}],
}


@dataclass(frozen=True)
class BenchLambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "bench"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "req-bench"
    log_group_name: str = "/aws/lambda/bench"
    log_stream_name: str = "bench"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def jwt_claims(who: Principal) -> dict[str, str]:
    """Claims as API Gateway's JWT authorizer hands them to Lambda (all strings)."""
    claims = {
        "sub": who.user_id,
        "email": who.email,
        "name": who.name,
        "cognito:groups": f"[{_GROUP_OF_ROLE[who.role]}]",
    }
    if who.lab_id:
        claims["custom:lab_id"] = who.lab_id
    return claims


def http_event(
    method: str,
    route: str,
    path: str,
    who: Principal | None,
    body: dict[str, Any] | None = None,
    query: dict[str, str] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as the JWT authorizer passes it on."""
    request_id = request_id or f"req-{secrets.token_hex(6)}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {"content-type": "application/json"},
        "queryStringParameters": query or None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "bench",
            "domainName": "bench.local",
            "domainPrefix": "bench",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "caseroom-bench",
            },
            "requestId": request_id,
            "routeKey": f"{method} {route}",
            "stage": "$default",
            "time": "02/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1793610000000,
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }
    if who is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": jwt_claims(who), "scopes": None}}
    names = [segment for segment in route.split("/") if segment]
    values = [segment for segment in path.split("/") if segment]
    parameters = {n[1:-1]: v for n, v in zip(names, values, strict=False) if n.startswith("{")}
    if parameters:
        event["pathParameters"] = parameters
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
