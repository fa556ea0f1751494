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
