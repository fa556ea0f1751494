"""Event-driven functions: Rx script PDF and the confirmation email, against moto."""

from __future__ import annotations

import io
from typing import Any

import pypdf
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from caseroom import aws, dynamo
from caseroom.cases import dal
from caseroom.clock import FixedClock
from caseroom.settings import get_settings
from tests.conftest import CLINICIAN, lambda_context
from tests.integration.test_cases_api import Call, call, create

__all__ = ["call"]


def outbox_events(case_id: str) -> list[dict[str, Any]]:
    """The outbox items the case's writes produced, as the Pipe would publish them.
    Outbox items are keyed by event id, so the test reads the (tiny) moto table whole."""
    client = dynamo.dynamodb()
    items = client.scan(TableName=get_settings().table_name)["Items"]  # test only, never on a request path
    events = [dynamo.from_item(i) for i in items if i.get("kind", {}).get("S") == "outbox"]
    return sorted((e for e in events if e["caseId"] == case_id), key=lambda e: e["eventTime"])


def as_eventbridge(outbox: dict[str, Any]) -> dict[str, Any]:
    detail = {
        "id": outbox["eventId"],
        "type": outbox["eventType"],
        "version": outbox["eventVersion"],
        "time": outbox["eventTime"],
        "caseId": outbox["caseId"],
        "actor": outbox["actor"],
        "correlationId": outbox["correlationId"],
        "subjectId": outbox.get("subjectId", ""),
    }
    return {
        "version": "0",
        "id": "eb-" + outbox["eventId"],
        "detail-type": outbox["eventType"],
        "source": "caseroom",
        "account": "123456789012",
        "time": outbox["eventTime"],
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def sent_emails() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def test_every_write_leaves_an_outbox_event(call: Call, clock: FixedClock) -> None:
    case = create(call)
    clock.advance(seconds=1)
    call("PATCH", "/cases/{caseId}", f"/cases/{case['caseId']}", body={"version": 1, "rxDescription": "v2"})
    types = [e["eventType"] for e in outbox_events(case["caseId"])]
    assert types == ["CaseCreated", "CaseRxModified"]
    event = outbox_events(case["caseId"])[0]
    assert event["actor"] == CLINICIAN.user_id
    assert "patientName" not in event  # thin events, no PHI on the bus


def test_rx_script_pdf_is_generated_and_downloadable(call: Call) -> None:
    from functions.rx_script.handler import lambda_handler

    case = create(call)
    created = as_eventbridge(outbox_events(case["caseId"])[0])
    # When the CaseCreated event reaches the Rx script function (twice: at-least-once delivery)
    for _ in range(2):
        assert lambda_handler(created, lambda_context())["stored"] is True
    # Then the case shows the script as ready and a short-lived link serves a real PDF
    status, view = call("GET", "/cases/{caseId}", f"/cases/{case['caseId']}")
    assert view["rxScript"]["status"] == "ready"
    status, link = call("GET", "/cases/{caseId}/rx-script", f"/cases/{case['caseId']}/rx-script")
    assert status == 200 and link["expiresInSeconds"] <= 900
    assert "response-content-disposition" in link["url"]
    _, rx = dal.get_case_and_rx_script(case["caseId"])
    assert rx is not None and rx.object_key
    pdf = aws.client("s3").get_object(Bucket=get_settings().files_bucket, Key=rx.object_key)["Body"].read()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    for expected in (case["caseId"], "Maria Garcia", "Zirconia crown, shade A2", "11, 21", "Dr. Ana Ortiz"):
        assert expected in text
    # The clinic's and the lab's records are printed too (tests/conftest.py's directory)
    for expected in ("Test Clinic", "1 Test Street", "Test Lab One"):
        assert expected in text


def test_stale_rx_event_never_replaces_a_newer_script(call: Call, clock: FixedClock) -> None:
    from functions.rx_script.handler import lambda_handler

    case = create(call)
    clock.advance(seconds=1)
    call("PATCH", "/cases/{caseId}", f"/cases/{case['caseId']}", body={"version": 1, "rxDescription": "v2"})
    created, modified = (as_eventbridge(e) for e in outbox_events(case["caseId"]))
    lambda_handler(modified, lambda_context())
    lambda_handler(created, lambda_context())  # arrives late: the case is at Rx version 2 anyway
    _, rx = dal.get_case_and_rx_script(case["caseId"])
    assert rx is not None and rx.rx_version == 2 and rx.object_key and rx.object_key.endswith("-v2.pdf")


def test_rx_script_is_pending_until_generated(call: Call) -> None:
    case = create(call)
    status, body = call("GET", "/cases/{caseId}/rx-script", f"/cases/{case['caseId']}/rx-script")
    assert (status, body["code"]) == (409, "DOCUMENT_NOT_READY")


def test_confirmation_email_is_sent_once_without_patient_name(call: Call, clock: FixedClock) -> None:
    from functions.notifications.handler import lambda_handler

    case = create(call)
    created = as_eventbridge(outbox_events(case["caseId"])[0])
    before = len(sent_emails())
    results = [lambda_handler(created, lambda_context())["sent"] for _ in range(3)]
    assert results == [True, False, False]
    emails = sent_emails()[before:]
    assert len(emails) == 1
    assert emails[0].destinations["ToAddresses"] == [CLINICIAN.email]
    assert case["caseId"] in emails[0].subject
    assert "Maria Garcia" not in emails[0].body


@pytest.mark.parametrize("bad_detail", [{}, {"id": "x"}, {"id": "x", "type": "Nope"}])
def test_malformed_events_fail_loudly_for_the_dlq(aws_backend: None, bad_detail: dict[str, Any]) -> None:
    from caseroom.events import MalformedEvent
    from functions.rx_script.handler import lambda_handler

    with pytest.raises(MalformedEvent):
        lambda_handler({"detail": bad_detail, "detail-type": "CaseCreated"}, lambda_context())
