"""Bad input: a 4xx with a stable code, no echo of what was sent, nothing stored changes."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.conftest import CLINICIAN_2, LAB_TECH
from tests.integration.test_cases_api import CROWN, Call, call, create

__all__ = ["call"]  # the fixture is shared

SECRET_NAME = "Zebulon Quixote-Patientname"


def assert_error(status: int, body: dict[str, Any], expected_status: int, code: str) -> None:
    assert (status, body["code"]) == (expected_status, code), body
    assert body["message"]
    assert SECRET_NAME not in json.dumps(body)


def test_malformed_json(call: Call) -> None:
    status, body = call("POST", "/cases", body='{"patientName": "' + SECRET_NAME + '",')
    assert_error(status, body, 400, "MALFORMED_JSON")


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"teeth": "11"}, "teeth"),  # wrong type
        ({"caseType": "spaceship"}, "caseType"),  # unknown enum
        ({"rxDescription": "x" * 4001}, "rxDescription"),  # oversize
        ({"favouriteColour": "blue"}, "favouriteColour"),  # unknown field
        ({"patientName": ""}, "patientName"),  # empty
    ],
)
def test_invalid_fields_are_422_with_location_only(call: Call, change: dict[str, Any], where: str) -> None:
    status, body = call("POST", "/cases", body={**CROWN, "patientName": SECRET_NAME, **change})
    assert_error(status, body, 422, "VALIDATION_FAILED")
    assert any(where in d["loc"] for d in body["details"])
    assert call("GET", "/cases")[1]["items"] == []  # nothing was created


@pytest.mark.parametrize(
    ("teeth", "notation"),
    [
        (["19"], "FDI"),
        (["10"], "FDI"),
        (["33"], "UNIVERSAL"),
        (["U"], "UNIVERSAL"),
        (["11"], "UNIVERSAL-ish"),
    ],
)
def test_impossible_teeth_are_rejected(call: Call, teeth: list[str], notation: str) -> None:
    status, body = call(
        "POST",
        "/cases",
        body={**CROWN, "patientName": SECRET_NAME, "teeth": teeth, "toothNotation": notation},
    )
    assert status in (400, 422)
    assert body["code"] in ("INVALID_TOOTH", "VALIDATION_FAILED")
    assert SECRET_NAME not in json.dumps(body)


def test_bad_teeth_on_modify_leave_the_case_unchanged(call: Call) -> None:
    case = create(call)
    path = f"/cases/{case['caseId']}"
    status, body = call("PATCH", "/cases/{caseId}", path, body={"version": 1, "teeth": ["11", "99"]})
    assert_error(status, body, 400, "INVALID_TOOTH")
    stored = call("GET", "/cases/{caseId}", path)[1]
    assert (stored["teeth"], stored["version"]) == (case["teeth"], 1)


@pytest.mark.parametrize(
    "cursor", ["not-base64!!", base64.urlsafe_b64encode(b'{"f":"x","k":{}}').decode(), "A" * 3000]
)
def test_bad_cursors(call: Call, cursor: str) -> None:
    status, body = call("GET", "/cases", query={"cursor": cursor})
    assert status in (400, 422)
    assert body["code"] in ("INVALID_CURSOR", "VALIDATION_FAILED")


def test_cursor_of_another_listing_is_refused(call: Call) -> None:
    for _ in range(3):
        create(call)
    cursor = call("GET", "/cases", query={"limit": "1"})[1]["nextCursor"]
    # Same user, another sort order: refused rather than serving a wrong page
    status, body = call("GET", "/cases", query={"limit": "1", "sort": "patient", "cursor": cursor})
    assert_error(status, body, 400, "INVALID_CURSOR")
    # Another user replaying it: refused too
    status, body = call("GET", "/cases", who=CLINICIAN_2, query={"limit": "1", "cursor": cursor})
    assert_error(status, body, 400, "INVALID_CURSOR")


def test_missing_identity_is_401(call: Call) -> None:
    status, body = call("GET", "/cases", who=None)
    assert_error(status, body, 401, "UNAUTHENTICATED")


def test_bad_limit_and_unknown_sort(call: Call) -> None:
    assert call("GET", "/cases", query={"limit": "1000"})[1]["code"] == "VALIDATION_FAILED"
    assert call("GET", "/cases", query={"sort": "ssn"})[1]["code"] == "VALIDATION_FAILED"


def test_unknown_case_id_shapes_are_404(call: Call) -> None:
    for case_id in ("nope", "0000-0000-0000", "zzzz%20zzzz"):
        status, body = call("GET", "/cases/{caseId}", f"/cases/{case_id}")
        assert_error(status, body, 404, "CASE_NOT_FOUND")


def test_patient_cannot_open_cases(call: Call) -> None:
    from tests.conftest import PATIENT

    status, body = call("POST", "/cases", who=PATIENT, body=CROWN)
    assert_error(status, body, 403, "ROLE_NOT_ALLOWED")


def test_idempotency_key_too_long(call: Call) -> None:
    status, body = call("POST", "/cases", body=CROWN, headers={"Idempotency-Key": "k" * 300})
    assert_error(status, body, 400, "INVALID_REQUEST")


class _FailingTransactions:
    """The DynamoDB client, except that TransactWriteItems fails the way DynamoDB says."""

    def __init__(self, real: Any, error: dict[str, Any]) -> None:
        self._real, self._error = real, error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def transact_write_items(self, **_: Any) -> None:
        from botocore.exceptions import ClientError

        raise ClientError(self._error, "TransactWriteItems")


@pytest.mark.parametrize(
    ("error", "expected_status", "code"),
    [
        (  # another transaction holds the case item
            {
                "Error": {"Code": "TransactionCanceledException", "Message": SECRET_NAME},
                "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}],
            },
            503,
            "DATABASE_BUSY",
        ),
        ({"Error": {"Code": "ThrottlingException", "Message": SECRET_NAME}}, 503, "DATABASE_BUSY"),
        ({"Error": {"Code": "ValidationException", "Message": SECRET_NAME}}, 500, "INTERNAL_ERROR"),
    ],
)
def test_database_failures_are_busy_or_internal_and_change_nothing(
    call: Call,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: dict[str, Any],
    expected_status: int,
    code: str,
) -> None:
    from caseroom import dynamo

    # Given a case
    case = create(call)
    path = f"/cases/{case['caseId']}"
    real = dynamo.dynamodb()

    # When DynamoDB refuses the status change's transaction
    monkeypatch.setattr(dynamo, "dynamodb", lambda: _FailingTransactions(real, error))
    status, body = call(
        "PUT",
        "/cases/{caseId}/status",
        f"{path}/status",
        who=LAB_TECH,
        body={"status": "Received", "version": case["version"]},
    )

    # Then contention and throttling are a 503 to retry, anything else a 500; the log names the
    # AWS error code but never its message, and the case is unchanged
    assert_error(status, body, expected_status, code)
    logged = [vars(record) for record in caplog.records]
    assert any(entry.get("aws_error_code") == error["Error"]["Code"] for entry in logged)
    assert SECRET_NAME not in repr(logged)
    monkeypatch.setattr(dynamo, "dynamodb", lambda: real)
    stored = call("GET", "/cases/{caseId}", path)[1]
    assert (stored["status"], stored["version"]) == (case["status"], case["version"])
