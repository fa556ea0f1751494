"""Shared fixtures: offline AWS (moto in-process), a fixed clock, and signed-in callers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

# Never reach a real AWS account, whatever the developer's shell holds.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SECURITY_TOKEN="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
    CASEROOM_TABLE_NAME="caseroom-test",
    CASEROOM_FILES_BUCKET="caseroom-files-test",
    CASEROOM_EVENT_BUS_NAME="caseroom-test",
    CASEROOM_EMAIL_FROM="no-reply@caseroom.test",
    POWERTOOLS_METRICS_NAMESPACE="CaseRoomTest",
    POWERTOOLS_DEV="false",
)
os.environ.pop("CASEROOM_AWS_ENDPOINT_URL", None)

from caseroom import aws
from caseroom.auth import Principal, Role
from caseroom.clock import FixedClock
from caseroom.settings import get_settings

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def aws_backend() -> Iterator[None]:
    """moto in-process with CaseRoom's resources created from the wiring manifest."""
    from moto import mock_aws

    from local.provision import provision_resources

    get_settings.cache_clear()
    aws.reset_clients()
    with mock_aws():
        provision_resources(get_settings())
        yield
    aws.reset_clients()


CLINICIAN = Principal(
    user_id="u-clinician-ana", email="ana@clinic.test", name="Dr. Ana Ortiz", role=Role.CLINICIAN
)
CLINICIAN_2 = Principal(
    user_id="u-clinician-ben", email="ben@clinic.test", name="Dr. Ben Osei", role=Role.CLINICIAN
)
LAB_TECH = Principal(
    user_id="u-lab-lea", email="lea@lab.test", name="Lea Martin", role=Role.LAB, lab_id="lab-1"
)
OTHER_LAB = Principal(
    user_id="u-lab-other", email="x@otherlab.test", name="Other Lab", role=Role.LAB, lab_id="lab-2"
)
PATIENT = Principal(user_id="u-patient-pat", email="pat@mail.test", name="Pat Doe", role=Role.PATIENT)

GROUP_OF = {Role.CLINICIAN: "clinicians", Role.LAB: "lab", Role.PATIENT: "patients"}


def claims_of(who: Principal) -> dict[str, Any]:
    """Claims as API Gateway's JWT authorizer hands them to Lambda (all strings)."""
    claims = {
        "sub": who.user_id,
        "email": who.email,
        "name": who.name,
        "cognito:groups": f"[{GROUP_OF[who.role]}]",
    }
    if who.lab_id:
        claims["custom:lab_id"] = who.lab_id
    return claims


class FakeLambdaContext:
    function_name = "cases_api"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:cases_api"
    memory_limit_in_mb = 512
    aws_request_id = "req-test"
    log_group_name = "/aws/lambda/cases_api"
    log_stream_name = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def http_event(
    method: str,
    route: str,
    path: str,
    who: Principal | None = None,
    body: str | dict[str, Any] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    request_id: str = "req-1",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as the JWT authorizer passes it on."""
    import json
    from urllib.parse import urlencode

    raw_body = json.dumps(body) if isinstance(body, dict) else body
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {"content-type": "application/json", **{k.lower(): v for k, v in (headers or {}).items()}},
        "queryStringParameters": query or None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "test",
            "domainName": "test.local",
            "domainPrefix": "test",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "pytest",
            },
            "requestId": request_id,
            "routeKey": f"{method} {route}",
            "stage": "$default",
            "time": "02/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1793610000000,
        },
        "body": raw_body,
        "isBase64Encoded": False,
    }
    if who is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims_of(who), "scopes": None}}
    segments = [s for s in route.split("/") if s]
    values = [s for s in path.split("/") if s]
    params = {s[1:-1]: v for s, v in zip(segments, values, strict=False) if s.startswith("{")}
    if params:
        event["pathParameters"] = params
    return event
