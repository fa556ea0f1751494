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
        ({"patientName": ""}, "patientName"),  # empty
        ({"attachments": [{"kind": "scan", "fileName": "a\u202egpj.exe"}]}, "fileName"),  # bidi override
        ({"rxDescription": "crown\u2029A2"}, "rxDescription"),  # paragraph separator
    ],
)
def test_invalid_fields_are_422_with_location_only(call: Call, change: dict[str, Any], where: str) -> None:
    status, body = call("POST", "/cases", body={**CROWN, "patientName": SECRET_NAME, **change})
    assert_error(status, body, 422, "VALIDATION_FAILED")
    assert any(where in d["loc"] for d in body["details"])
    assert call("GET", "/cases")[1]["items"] == []  # nothing was created


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({**CROWN, SECRET_NAME: "x"}, ["body"]),
        (
            {**CROWN, "attachments": [{"kind": "scan", "fileName": "a.stl", SECRET_NAME: 1}]},
            ["body", "attachments", 0],
        ),
    ],
)
def test_unknown_keys_are_reported_where_not_by_name(
    call: Call, body: dict[str, Any], loc: list[Any]
) -> None:
    # An unknown key may itself be patient data: the error names where it is, never the key
    status, answer = call("POST", "/cases", body=body)
    assert_error(status, answer, 422, "VALIDATION_FAILED")
    assert {"loc": loc, "type": "extra_forbidden"} in answer["details"]


@pytest.mark.parametrize(
    "name",
    [
        "Maria\u202eaicraG",  # right-to-left override
        "Maria\u2066Garcia",  # isolate
        "\u200bMaria Garcia",  # zero-width space leading
        "Maria Garcia\ufeff",  # zero-width no-break space trailing
        "Maria\x85Garcia",  # C1 next line
        "Maria\u2028Garcia",  # line separator
    ],
)
def test_patient_names_refuse_invisible_and_reordering_characters(call: Call, name: str) -> None:
    status, body = call("POST", "/cases", body={**CROWN, "patientName": name})
    assert_error(status, body, 422, "VALIDATION_FAILED")
    assert body["details"][0]["loc"] == ["body", "patientName"]
    assert name not in json.dumps(body, ensure_ascii=False)


def test_a_joiner_inside_a_name_is_kept(call: Call) -> None:
    # ZWJ / ZWNJ are part of some scripts' words (and of emoji): only the edges are refused
    status, body = call("POST", "/cases", body={**CROWN, "patientName": "Mehr\u200cdad Karimi"})
    assert (status, body.get("patientName")) == (201, "Mehr\u200cdad Karimi")


@pytest.mark.parametrize("value", ["1", True, 1.0])
def test_integers_are_integers(call: Call, value: Any) -> None:
    case = create(call)
    path = f"/cases/{case['caseId']}"
    status, body = call("POST", "/cases/{caseId}/archive", f"{path}/archive", body={"version": value})
    assert_error(status, body, 422, "VALIDATION_FAILED")
    assert body["details"][0]["loc"] == ["body", "version"]


def _invoke_raw(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    from functions.cases_api.handler import lambda_handler
    from tests.conftest import lambda_context

    response = lambda_handler(event, lambda_context())
    return response["statusCode"], json.loads(response["body"])


def _create_event(raw: bytes, content_type: str | None) -> dict[str, Any]:
    from tests.conftest import CLINICIAN, http_event

    event = http_event("POST", "/cases", "/cases", CLINICIAN)
    event["headers"].pop("content-type", None)
    if content_type is not None:
        event["headers"]["content-type"] = content_type
    event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    return event


CROWN_JSON = json.dumps(CROWN).encode()


@pytest.mark.parametrize(
    "content_type",
    [None, "application/x-www-form-urlencoded", "application/json; charset=UTF-8", "application/merge+json"],
)
def test_json_without_a_json_content_type_is_read_as_json(call: Call, content_type: str | None) -> None:
    # `curl -d '{...}'` sends application/x-www-form-urlencoded; no content type at all is JSON too
    status, body = _invoke_raw(_create_event(CROWN_JSON, content_type))
    assert (status, body.get("patientName")) == (201, CROWN["patientName"]), body


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"patientName=" + SECRET_NAME.encode() + b"&teeth=11", "application/x-www-form-urlencoded"),
        (CROWN_JSON, "text/plain"),
        (CROWN_JSON, "application/xml"),
        (CROWN_JSON, "multipart/form-data; boundary=x"),
        (CROWN_JSON, "application/json; charset=latin-1"),
    ],
)
def test_other_media_types_are_415(call: Call, raw: bytes, content_type: str) -> None:
    status, body = _invoke_raw(_create_event(raw, content_type))
    assert_error(status, body, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert call("GET", "/cases")[1]["items"] == []


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b'{"patientName": "Mar\xeda Garc\xeda"}', 400, "BODY_NOT_UTF8"),  # latin-1 bytes
        (b'{"patientName": "\\ud800' + SECRET_NAME.encode() + b'"}', 400, "BODY_NOT_UTF8"),  # lone surrogate
        (b"[" * 33 + b"]" * 33, 400, "JSON_TOO_DEEP"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "JSON_TOO_DEEP"),  # deeper than Python's recursion limit
        (b'{"teeth": [NaN]}', 400, "MALFORMED_JSON"),
        (b"", 422, "VALIDATION_FAILED"),
        (b"[" * 32 + b"]" * 32, 422, "VALIDATION_FAILED"),  # as deep as allowed, but not a case
    ],
)
def test_bodies_that_are_not_sound_json_are_4xx(call: Call, raw: bytes, status: int, code: str) -> None:
    answer_status, body = _invoke_raw(_create_event(raw, "application/json"))
    assert_error(answer_status, body, status, code)


def test_a_planning_block_in_year_9999_is_a_validation_error() -> None:
    from caseroom.planning.models import PublishBlockRequest

    request = {"durationMinutes": 60, "timezone": "UTC", "meetingUrl": "https://meet.example/x"}
    for start in ("9999-12-31T23:30:00", "1970-01-01T00:00:00"):
        with pytest.raises(ValueError, match="date_out_of_range"):
            PublishBlockRequest.model_validate({**request, "start": start})
    assert PublishBlockRequest.model_validate({**request, "start": "2026-11-05T14:00"}).start.year == 2026


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


@pytest.mark.parametrize("limit", ["1.0", "+1", " 1", "true", "1e1", "\uff11"])
def test_query_integers_are_decimal_digits(call: Call, limit: str) -> None:
    status, body = call("GET", "/cases", query={"limit": limit})
    assert_error(status, body, 422, "VALIDATION_FAILED")
    assert body["details"] == [{"loc": ["query", "limit"], "type": "int_parsing"}]
    assert call("GET", "/cases", query={"limit": "10"})[0] == 200
