"""Shared fixtures: offline AWS (moto in-process), a fixed clock, and signed-in callers."""

from __future__ import annotations

import json
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
    CASEROOM_WEBHOOK_DLQ_URL="https://sqs.us-east-1.amazonaws.com/123456789012/caseroom-webhook-dlq-test",
    POWERTOOLS_METRICS_NAMESPACE="CaseRoomTest",
    POWERTOOLS_DEV="false",
    # List cursors are sealed with this fixed test key (caseroom.paging); never a real one.
    CASEROOM_CURSOR_KEY="test-cursor-key-0123456789abcdef0123456789abcdef",
)
os.environ.pop("CASEROOM_AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)  # the local runtime's DynamoDB Local, never in tests

from caseroom import aws
from caseroom.auth import Principal, Role, claims_for
from caseroom.cases.case_types import CASE_TYPE_RULES
from caseroom.clock import FixedClock
from caseroom.settings import get_settings
from local.apigw_http import event_for
from local.functions import LambdaContext

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
        load_test_directory()
        yield
    aws.reset_clients()


CLINICIAN = Principal(
    user_id="u-clinician-ana",
    email="ana@clinic.test",
    name="Dr. Ana Ortiz",
    role=Role.CLINICIAN,
    email_verified=True,
)
CLINICIAN_2 = Principal(
    user_id="u-clinician-ben",
    email="ben@clinic.test",
    name="Dr. Ben Osei",
    role=Role.CLINICIAN,
    email_verified=True,
)
# Team-Up: colleagues invited to CLINICIAN's cases (the matrix puts one in each state).
SURGEON = Principal(
    user_id="u-clinician-sam",
    email="sam@surgery.test",
    name="Dr. Ștefan Sam",
    role=Role.CLINICIAN,
    email_verified=True,
)
PENDING_COLLEAGUE = Principal(
    user_id="u-clinician-pia",
    email="pia@clinic.test",
    name="Dr. Pia Long",
    role=Role.CLINICIAN,
    email_verified=True,
)
DECLINED_COLLEAGUE = Principal(
    user_id="u-clinician-dan",
    email="dan@clinic.test",
    name="Dr. Dan Ng",
    role=Role.CLINICIAN,
    email_verified=True,
)
REMOVED_COLLEAGUE = Principal(
    user_id="u-clinician-rex",
    email="rex@clinic.test",
    name="Dr. Rex Roe",
    role=Role.CLINICIAN,
    email_verified=True,
)
LAB_TECH = Principal(
    user_id="u-lab-lea",
    email="lea@lab.test",
    name="Lea Martin",
    role=Role.LAB,
    lab_id="lab-1",
    email_verified=True,
)
OTHER_LAB = Principal(
    user_id="u-lab-other",
    email="x@otherlab.test",
    name="Other Lab",
    role=Role.LAB,
    lab_id="lab-2",
    email_verified=True,
)
# Unverified on purpose: the Passport tests' VERIFIED_PATIENT is the same account once verified.
PATIENT = Principal(user_id="u-patient-pat", email="pat@mail.test", name="Pat Doe", role=Role.PATIENT)

SOURCE_IP = "203.0.113.7"

ALL_TYPES = {
    case_type.value: {
        "turnaroundBusinessDays": rules.turnaround_business_days,
        "manufacturingBusinessDays": rules.manufacturing_business_days,
    }
    for case_type, rules in CASE_TYPE_RULES.items()
}
# The labs and clinic the tests' callers work with. lab-1 keeps UTC, Monday-Friday and the
# standard turnarounds, so dates in the older tests read as before; the zone tests bring their own.
TEST_DIRECTORY: dict[str, Any] = {
    "labs": [
        {"labId": "lab-1", "name": "Test Lab One", "timezone": "UTC", "caseTypes": ALL_TYPES},
        {"labId": "lab-2", "name": "Test Lab Two", "timezone": "UTC", "caseTypes": ALL_TYPES},
    ],
    "clinics": [
        {"clinicId": "clinic-1", "name": "Test Clinic", "timezone": "UTC", "address": ["1 Test Street"]},
    ],
    "clinicians": [
        {"userId": CLINICIAN.user_id, "clinicId": "clinic-1", "labIds": ["lab-1"], "defaultLabId": "lab-1"},
        {"userId": CLINICIAN_2.user_id, "clinicId": "clinic-1", "labIds": ["lab-1"], "defaultLabId": "lab-1"},
    ],
}


def load_test_directory(document: dict[str, Any] | None = None) -> None:
    from caseroom.labs import directory

    directory.write(directory.parse(document or TEST_DIRECTORY))


def lambda_context(function_name: str = "cases_api") -> LambdaContext:
    return LambdaContext(function_name=function_name, memory_limit_in_mb=512, timeout_s=10)


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
    """The payload 2.0 event the local gateway builds for this request once the JWT authorizer
    has let `who` through (no authorizer context for None)."""
    raw_body = json.dumps(body) if isinstance(body, dict) else body
    event = event_for(
        method,
        path,
        claims=claims_for(who) if who is not None else None,
        body=raw_body,
        query=query,
        headers=headers,
        source_ip=SOURCE_IP,
        request_id=request_id,
        now=START,
    )
    assert event["routeKey"] == f"{method} {route}", "the path matches another route than the test names"
    return event


# --- the contract: every answer any test gets from an HTTP function is in openapi.json ----------

_OPENAPI: dict[str, Any] = {}


def documented_answers(route_key: str) -> dict[int, set[str] | None]:
    """Status -> the error codes openapi.json lists for it (None: a success status)."""
    if not _OPENAPI:
        from pathlib import Path

        _OPENAPI.update(json.loads((Path(__file__).resolve().parents[1] / "openapi.json").read_text()))
    method, path = route_key.split(" ", 1)
    operation = _OPENAPI["paths"][path][method.lower()]
    answers: dict[int, set[str] | None] = {}
    for status, response in operation["responses"].items():
        if "$ref" in response:  # a response shared by several operations
            response = _OPENAPI["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        examples = response.get("content", {}).get("application/json", {}).get("examples", {})
        answers[int(status)] = (
            {code for code in examples if code != "gateway"} if int(status) >= 400 else None
        )
    return answers


def check_against_contract(route_key: str, response: dict[str, Any]) -> None:
    answers = documented_answers(route_key)
    status = int(response["statusCode"])
    assert status in answers, f"{route_key} answered {status}, which openapi.json does not list"
    codes = answers[status]
    if codes is not None:
        code = json.loads(response["body"]).get("code")
        assert code in codes, f"{route_key} answered {status} {code}, not among {sorted(codes)}"


@pytest.fixture(autouse=True)
def _answers_match_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test that drives an HTTP function in-process also checks the contract: a status or
    error code the document does not list for that operation fails the test."""
    from caseroom.http import CaseRoomResolver

    resolve = CaseRoomResolver.resolve

    def checked(self: CaseRoomResolver, event: Any, context: Any) -> dict[str, Any]:
        response = resolve(self, event, context)
        route_key = event.get("routeKey", "") if isinstance(event, dict) else ""
        if route_key and route_key != "$default":
            check_against_contract(route_key, response)
        return response

    monkeypatch.setattr(CaseRoomResolver, "resolve", checked)
