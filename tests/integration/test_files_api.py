"""Case files through the files_api and file_verifier handlers, against moto (in-process).

The bytes are written with boto3 the way a client's presigned POST / part PUT would land them
(the running-runtime e2e test uploads over real HTTP); the verifier gets the S3 Object Created
event EventBridge would deliver. Every bad input asserts its exact code or quarantine reason
and that nothing stored changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from caseroom import aws, dynamo
from caseroom.auth import Principal
from caseroom.cases import routes as case_routes
from caseroom.cases.logic import CaseService
from caseroom.clock import FixedClock
from caseroom.events import DomainEvent
from caseroom.files import dal
from caseroom.files import routes as file_routes
from caseroom.files.expiry import on_upload_requested
from caseroom.files.logic import FileService
from caseroom.files.records import FileStatus
from caseroom.files.verification import expire_upload
from caseroom.settings import get_settings
from tests.conftest import CLINICIAN, CLINICIAN_2, LAB_TECH, OTHER_LAB, PATIENT, http_event, lambda_context

MiB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.4\n" + b"x" * 300 + b"\n%%EOF\n"

Call = Callable[..., tuple[int, Any]]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dicom(size: int) -> bytes:
    return (b"\x00" * 128 + b"DICM" + b"\x01" * size)[:size]


@pytest.fixture
def call(aws_backend: None, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Call]:
    from functions.cases_api.handler import lambda_handler as cases_handler
    from functions.files_api.handler import lambda_handler as files_handler

    # Small multipart uploads in tests: anything above 5 MiB goes multipart.
    monkeypatch.setenv("CASEROOM_MULTIPART_THRESHOLD_BYTES", str(5 * MiB))
    get_settings.cache_clear()
    case_routes.use_service(CaseService(clock=clock))
    file_routes.use_service(FileService(clock=clock))
    counter = iter(range(1_000_000))

    def invoke(
        method: str, route: str, path: str | None = None, who: Principal | None = CLINICIAN, **kwargs: Any
    ) -> tuple[int, Any]:
        event = http_event(method, route, path or route, who, request_id=f"req-{next(counter)}", **kwargs)
        handler = cases_handler if route in ("/cases", "/cases/{caseId}") else files_handler
        response = handler(event, lambda_context("files_api"))
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else None

    yield invoke
    case_routes.use_service(None)
    file_routes.use_service(None)
    get_settings.cache_clear()


def new_case(call: Call) -> str:
    status, body = call(
        "POST",
        "/cases",
        body={"patientName": "Maria Garcia", "rxDescription": "Crown", "teeth": ["11"], "caseType": "crown"},
    )
    assert status == 201, body
    return str(body["caseId"])


def request_upload(
    call: Call, case_id: str, data: bytes, who: Principal = CLINICIAN, **overrides: Any
) -> tuple[int, Any]:
    body = {
        "fileName": "Maria Garcia smile.png",
        "kind": "photo",
        "sizeBytes": len(data),
        "contentType": "image/png",
        "sha256": sha(data),
        **overrides,
    }
    return call("POST", "/cases/{caseId}/uploads", f"/cases/{case_id}/uploads", who=who, body=body)


def s3() -> Any:
    return aws.client("s3")


def bucket() -> str:
    return get_settings().files_bucket


def land(key: str, data: bytes, content_type: str) -> str:
    """What the client's presigned POST does (moto ignores the policy anyway)."""
    return str(s3().put_object(Bucket=bucket(), Key=key, Body=data, ContentType=content_type)["VersionId"])


def object_created(key: str, version_id: str | None = None) -> dict[str, Any]:
    head = s3().head_object(Bucket=bucket(), Key=key, **({"VersionId": version_id} if version_id else {}))
    return {
        "version": "0",
        "id": f"s3-event-{key}-{head['VersionId']}",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-11-02T09:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket()}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket()},
            "object": {"key": key, "size": head["ContentLength"], "version-id": head["VersionId"]},
            "reason": "PutObject",
        },
    }


def verify(key: str) -> str:
    from functions.file_verifier.handler import lambda_handler

    return str(lambda_handler(object_created(key), lambda_context("file_verifier"))["outcome"])


def table_items(prefix: str) -> list[dict[str, Any]]:
    items = dynamo.dynamodb().scan(TableName=get_settings().table_name)["Items"]  # test only
    return [
        dynamo.from_item(i)
        for i in items
        if i["sk"]["S"].startswith(prefix) or i["pk"]["S"].startswith(prefix)
    ]


def outbox(event_type: str) -> list[dict[str, Any]]:
    return [i for i in table_items("OUTBOX#") if i.get("eventType") == event_type]


def stored_state() -> tuple[int, int]:
    """(file records, objects in the bucket): what a refused request must leave unchanged."""
    objects = s3().list_object_versions(Bucket=bucket()).get("Versions", [])
    return len(table_items("FILE#")), len(objects)


def key_of(case_id: str, file_id: str) -> str:
    return f"files/{case_id}/{file_id}"


# --- small files: presigned POST ---------------------------------------------------------------


def test_post_upload_is_verified_listed_and_downloadable(call: Call) -> None:
    # Given a clinician's case and a PNG photo
    case_id = new_case(call)
    status, ticket = request_upload(call, case_id, PNG)
    # Then the upload is a presigned POST pinning key, content type, exact size and checksum
    assert status == 201, ticket
    assert (ticket["mode"], ticket["status"], ticket["multipart"]) == ("post", "pending", None)
    fields = ticket["post"]["fields"]
    key = key_of(case_id, ticket["fileId"])
    assert fields["key"] == key and "smile" not in key
    policy = json.loads(__import__("base64").b64decode(fields["policy"]))
    assert ["content-length-range", len(PNG), len(PNG)] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]
    # When the bytes land and S3 reports Object Created
    land(key, PNG, "image/png")
    assert verify(key) == "available"
    # Then it is listed newest first in its gallery with kind, size, uploader, status
    status, page = call(
        "GET",
        "/cases/{caseId}/galleries/{galleryId}/files",
        f"/cases/{case_id}/galleries/initial-documentation/files",
    )
    assert status == 200
    [item] = page["items"]
    assert (item["status"], item["kind"], item["sizeBytes"]) == ("available", "photo", len(PNG))
    assert item["uploadedBy"]["userId"] == CLINICIAN.user_id
    assert item["thumbnailUrl"] is None
    # And FileAdded names the file as its subject
    [added] = outbox("FileAdded")
    assert (added["caseId"], added["subjectId"]) == (case_id, ticket["fileId"])
    # And a download is a short presigned GET of the verified version with the original name
    status, link = call(
        "GET",
        "/cases/{caseId}/files/{fileId}/download",
        f"/cases/{case_id}/files/{ticket['fileId']}/download",
    )
    assert status == 200 and link["expiresInSeconds"] <= 900
    assert "versionId=" in link["url"]
    assert "filename%2A%3DUTF-8%27%27Maria%2520Garcia%2520smile.png" in link["url"]
    actions = [r["action"] for r in table_items("AUDIT#CASE#") if r.get("caseId") == case_id]
    assert "file.download" in actions and "file.upload.request" in actions


def test_the_lab_may_upload_and_strangers_get_404(call: Call) -> None:
    case_id = new_case(call)
    assert request_upload(call, case_id, PNG, who=LAB_TECH)[0] == 201
    before = stored_state()
    for stranger in (CLINICIAN_2, OTHER_LAB, PATIENT):
        status, body = request_upload(call, case_id, PNG, who=stranger)
        assert (status, body["code"]) == (404, "CASE_NOT_FOUND")
    status, body = request_upload(call, "ZZZZ-ZZZZ-ZZZZ", PNG)
    assert (status, body["code"]) == (404, "CASE_NOT_FOUND")
    assert stored_state() == before


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"sizeBytes": 51 * MiB}, 400, "FILE_TOO_LARGE"),
        ({"sizeBytes": 0}, 400, "EMPTY_FILE"),
        ({"contentType": "application/x-msdownload"}, 400, "CONTENT_TYPE_NOT_ALLOWED"),
        ({"galleryId": "no-such-gallery"}, 404, "GALLERY_NOT_FOUND"),
        ({"sha256": "not-hex"}, 422, "VALIDATION_FAILED"),
        ({"fileName": "../../etc/passwd"}, 422, "VALIDATION_FAILED"),
    ],
)
def test_bad_upload_requests_are_refused_and_store_nothing(
    call: Call, overrides: dict[str, Any], status: int, code: str
) -> None:
    case_id = new_case(call)
    before = stored_state()
    got, body = request_upload(call, case_id, PNG, **overrides)
    assert (got, body["code"]) == (status, code)
    assert "passwd" not in json.dumps(body) and "smile" not in json.dumps(body)  # never echoed
    assert stored_state() == before


@pytest.mark.parametrize(
    ("landed", "reason"),
    [
        (PNG + b"\x00" * 500, "SIZE_MISMATCH"),  # oversize: more bytes than declared
        (PDF[: len(PNG)], "WRONG_FILE_TYPE"),  # a PDF declared as a PNG photo
        (PNG[:-1] + b"\x01", "CHECKSUM_MISMATCH"),  # corrupted: one byte differs
    ],
    ids=["oversize", "wrong-type", "corrupted"],
)
def test_bad_uploads_are_quarantined_with_a_reason(call: Call, landed: bytes, reason: str) -> None:
    case_id = new_case(call)
    _, ticket = request_upload(call, case_id, PNG)
    key = key_of(case_id, ticket["fileId"])
    land(key, landed, "image/png")
    assert verify(key) == "quarantined"
    status, view = call("GET", "/cases/{caseId}/files/{fileId}", f"/cases/{case_id}/files/{ticket['fileId']}")
    assert (view["status"], view["quarantineReason"]) == ("quarantined", reason)
    [event] = outbox("FileQuarantined")
    assert event["subjectId"] == ticket["fileId"] and not outbox("FileAdded")
    status, body = call(
        "GET",
        "/cases/{caseId}/files/{fileId}/download",
        f"/cases/{case_id}/files/{ticket['fileId']}/download",
    )
    assert (status, body["code"]) == (409, "FILE_NOT_AVAILABLE")


def test_content_type_other_than_declared_is_quarantined(call: Call) -> None:
    case_id = new_case(call)
    _, ticket = request_upload(call, case_id, PNG)
    key = key_of(case_id, ticket["fileId"])
    land(key, PNG, "text/html")
    assert verify(key) == "quarantined"
    _, view = call("GET", "/cases/{caseId}/files/{fileId}", f"/cases/{case_id}/files/{ticket['fileId']}")
    assert view["quarantineReason"] == "CONTENT_TYPE_MISMATCH"


def test_a_replayed_post_never_replaces_the_verified_file(call: Call) -> None:
    case_id = new_case(call)
    _, ticket = request_upload(call, case_id, PNG)
    key = key_of(case_id, ticket["fileId"])
    land(key, PNG, "image/png")
    assert verify(key) == "available"
    # When the same presigned POST is replayed with other bytes (moto ignores the policy)
    land(key, PDF, "image/png")
    assert verify(key) == "discarded"
    # Then the stray version is removed and downloads stay pinned to the verified version
    _, link = call(
        "GET",
        "/cases/{caseId}/files/{fileId}/download",
        f"/cases/{case_id}/files/{ticket['fileId']}/download",
    )
    versions = [v["VersionId"] for v in s3().list_object_versions(Bucket=bucket(), Prefix=key)["Versions"]]
    assert len(versions) == 1 and versions[0] in link["url"]
    body = s3().get_object(Bucket=bucket(), Key=key, VersionId=versions[0])["Body"].read()
    assert body == PNG
    # And a duplicate delivery of the verified version's event changes nothing
    from functions.file_verifier.handler import lambda_handler

    duplicate = object_created(key, versions[0])
    assert lambda_handler(duplicate, lambda_context("file_verifier"))["outcome"] == "ignored"


def test_bytes_that_arrive_after_an_upload_expired_are_removed(call: Call, clock: FixedClock) -> None:
    # Given a small upload that expired before its POST arrived
    case_id = new_case(call)
    _, ticket = request_upload(call, case_id, PNG)
    key = key_of(case_id, ticket["fileId"])
    clock.advance(hours=25)
    assert expire_upload({"caseId": case_id, "fileId": ticket["fileId"]}, "timer-2", clock) is True

    # When the bytes land anyway (a presigned POST used late; moto ignores its expiry)
    land(key, PNG, "image/png")

    # Then the verifier deletes them and the file stays expired
    assert verify(key) == "discarded"
    assert not s3().list_object_versions(Bucket=bucket(), Prefix=key).get("Versions")
    status, file = call("GET", "/cases/{caseId}/files/{fileId}", f"/cases/{case_id}/files/{ticket['fileId']}")
    assert (status, file["status"]) == (200, "expired")


# --- large files: multipart ---------------------------------------------------------------------


def start_multipart(call: Call, case_id: str, data: bytes) -> dict[str, Any]:
    status, ticket = request_upload(
        call,
        case_id,
        data,
        fileName="cbct.dcm",
        kind="cbct",
        contentType="application/dicom",
        partSizeBytes=5 * MiB,
    )
    assert status == 201, ticket
    assert ticket["mode"] == "multipart"
    return dict(ticket)


def parts_of(data: bytes, part_size: int = 5 * MiB) -> list[bytes]:
    return [data[i : i + part_size] for i in range(0, len(data), part_size)]


def upload_id_of(case_id: str, file_id: str) -> str:
    [upload] = s3().list_multipart_uploads(Bucket=bucket(), Prefix=key_of(case_id, file_id))["Uploads"]
    return str(upload["UploadId"])


def put_part(case_id: str, file_id: str, number: int, data: bytes) -> str:
    response = s3().upload_part(
        Bucket=bucket(),
        Key=key_of(case_id, file_id),
        UploadId=upload_id_of(case_id, file_id),
        PartNumber=number,
        Body=data,
    )
    return str(response["ETag"]).strip('"')


def test_multipart_upload_resumes_completes_once_and_is_verified(call: Call) -> None:
    case_id = new_case(call)
    data = dicom(11 * MiB + 7)
    ticket = start_multipart(call, case_id, data)
    file_id, chunks = ticket["fileId"], parts_of(data)
    assert ticket["multipart"] == {"partSizeBytes": 5 * MiB, "partCount": 3}
    base = f"/cases/{case_id}/uploads/{file_id}"
    # Part URLs carry each part's checksum as a signed header
    status, urls = call(
        "POST",
        "/cases/{caseId}/uploads/{fileId}/part-urls",
        f"{base}/part-urls",
        body={"parts": [{"partNumber": n, "sha256": sha(c)} for n, c in enumerate(chunks, 1)]},
    )
    assert status == 200 and len(urls["parts"]) == 3
    assert "x-amz-checksum-sha256" in urls["parts"][0]["url"].lower()
    # Out-of-range part numbers are refused
    status, body = call(
        "POST",
        "/cases/{caseId}/uploads/{fileId}/part-urls",
        f"{base}/part-urls",
        body={"parts": [{"partNumber": 4, "sha256": sha(b"x")}]},
    )
    assert (status, body["code"]) == (400, "PART_OUT_OF_RANGE")
    # Two parts arrive, then the connection drops: the state lists what S3 has
    etags = {1: put_part(case_id, file_id, 1, chunks[0]), 2: put_part(case_id, file_id, 2, chunks[1])}
    status, state = call("GET", "/cases/{caseId}/uploads/{fileId}", base)
    assert [p["partNumber"] for p in state["receivedParts"]] == [1, 2]
    # Completing now is refused: a part is missing, and nothing was completed
    done = [{"partNumber": n, "etag": etags[n], "sha256": sha(chunks[n - 1])} for n in (1, 2)]
    status, body = call(
        "POST", "/cases/{caseId}/uploads/{fileId}/complete", f"{base}/complete", body={"parts": done}
    )
    assert (status, body["code"]) == (400, "UPLOAD_PARTS_MISSING")
    claimed = [*done, {"partNumber": 3, "etag": "0" * 32, "sha256": sha(chunks[2])}]
    status, body = call(
        "POST", "/cases/{caseId}/uploads/{fileId}/complete", f"{base}/complete", body={"parts": claimed}
    )
    assert (status, body["code"]) == (400, "UPLOAD_PARTS_MISSING")
    status, body = call(
        "POST",
        "/cases/{caseId}/uploads/{fileId}/complete",
        f"{base}/complete",
        body={"parts": [*claimed[:2], {"partNumber": 5, "etag": "0" * 32, "sha256": sha(b"")}]},
    )
    assert (status, body["code"]) == (400, "PART_OUT_OF_RANGE")
    assert not s3().list_object_versions(Bucket=bucket(), Prefix=key_of(case_id, file_id)).get("Versions")
    # Resume: the missing part, then complete
    etags[3] = put_part(case_id, file_id, 3, chunks[2])
    wrong = [*done, {"partNumber": 3, "etag": etags[1], "sha256": sha(chunks[2])}]
    status, body = call(
        "POST", "/cases/{caseId}/uploads/{fileId}/complete", f"{base}/complete", body={"parts": wrong}
    )
    assert (status, body["code"]) == (400, "PART_MISMATCH")
    parts = [{"partNumber": n, "etag": etags[n], "sha256": sha(chunks[n - 1])} for n in (1, 2, 3)]
    status, state = call(
        "POST", "/cases/{caseId}/uploads/{fileId}/complete", f"{base}/complete", body={"parts": parts}
    )
    assert status == 200 and state["completed"] is True
    # A second complete is refused and changes nothing
    status, body = call(
        "POST", "/cases/{caseId}/uploads/{fileId}/complete", f"{base}/complete", body={"parts": parts}
    )
    assert (status, body["code"]) == (409, "UPLOAD_ALREADY_COMPLETED")
    # S3's composite checksum matches the declared parts: available
    assert verify(key_of(case_id, file_id)) == "available"
    stored = s3().get_object(Bucket=bucket(), Key=key_of(case_id, file_id))["Body"].read()
    assert stored == data


@pytest.mark.parametrize(
    ("s3_error", "status", "code"),
    [("InvalidPart", 400, "PART_MISMATCH"), ("InternalError", 503, "STORAGE_UNAVAILABLE")],
)
def test_a_complete_s3_refuses_is_released_for_a_retry(
    call: Call, monkeypatch: pytest.MonkeyPatch, s3_error: str, status: int, code: str
) -> None:
    from botocore.exceptions import ClientError

    from caseroom.files import storage

    # Given every part of a multipart upload received
    case_id = new_case(call)
    data = dicom(6 * MiB)
    ticket = start_multipart(call, case_id, data)
    file_id, chunks = ticket["fileId"], parts_of(data)
    parts = [
        {"partNumber": n, "etag": put_part(case_id, file_id, n, c), "sha256": sha(c)}
        for n, c in enumerate(chunks, 1)
    ]
    complete = (
        "POST",
        "/cases/{caseId}/uploads/{fileId}/complete",
        f"/cases/{case_id}/uploads/{file_id}/complete",
    )

    # When S3 answers CompleteMultipartUpload with an error
    real_s3 = storage._s3

    class RefusingS3:
        def __getattr__(self, name: str) -> Any:
            return getattr(real_s3(), name)

        def complete_multipart_upload(self, **_: Any) -> None:
            raise ClientError({"Error": {"Code": s3_error, "Message": "no"}}, "CompleteMultipartUpload")

    monkeypatch.setattr(storage, "_s3", RefusingS3)
    got, body = call(*complete, body={"parts": parts})

    # Then the client gets a stable 4xx/5xx code, not a 500, and the claim is released
    assert (got, body["code"]) == (status, code)
    monkeypatch.setattr(storage, "_s3", real_s3)
    got, state = call(*complete, body={"parts": parts})
    assert got == 200 and state["completed"] is True


def test_multipart_with_a_corrupted_part_is_quarantined(call: Call) -> None:
    case_id = new_case(call)
    data = dicom(6 * MiB)
    ticket = start_multipart(call, case_id, data)
    file_id, chunks = ticket["fileId"], parts_of(data)
    corrupted = chunks[1][:-1] + b"\xff"
    etags = [put_part(case_id, file_id, 1, chunks[0]), put_part(case_id, file_id, 2, corrupted)]
    # The client declares the checksums of the bytes it meant to send
    parts = [{"partNumber": n, "etag": etags[n - 1], "sha256": sha(chunks[n - 1])} for n in (1, 2)]
    base = f"/cases/{case_id}/uploads/{file_id}"
    assert (
        call("POST", "/cases/{caseId}/uploads/{fileId}/complete", f"{base}/complete", body={"parts": parts})[
            0
        ]
        == 200
    )
    assert verify(key_of(case_id, file_id)) == "quarantined"
    _, view = call("GET", "/cases/{caseId}/files/{fileId}", f"/cases/{case_id}/files/{file_id}")
    assert view["quarantineReason"] == "CHECKSUM_MISMATCH"


def test_invalid_part_size_is_refused(call: Call) -> None:
    case_id = new_case(call)
    data = dicom(6 * MiB)
    before = stored_state()
    status, body = request_upload(
        call, case_id, data, kind="cbct", contentType="application/dicom", partSizeBytes=1 * MiB
    )
    assert (status, body["code"]) == (400, "INVALID_PART_SIZE")
    assert stored_state() == before
    assert not s3().list_multipart_uploads(Bucket=bucket()).get("Uploads")


def upload_requested(file_id: str) -> DomainEvent:
    """The upload's FileUploadRequested as the outbox relay puts it on the bus."""
    [item] = [i for i in outbox("FileUploadRequested") if i["subjectId"] == file_id]
    return DomainEvent.from_detail(
        {
            "id": item["eventId"],
            "type": item["eventType"],
            "version": item["eventVersion"],
            "time": item["eventTime"],
            "caseId": item["caseId"],
            "actor": item["actor"],
            "correlationId": item["correlationId"],
            "subjectId": item["subjectId"],
        }
    )


def deliver_upload_requested(file_id: str, clock: FixedClock) -> str:
    """What the upload_expiry function does with the event (at the test's time)."""
    return on_upload_requested(upload_requested(file_id), clock)


def test_the_upload_expiry_function_routes_events_and_timers(call: Call) -> None:
    from functions.upload_expiry.handler import lambda_handler

    case_id = new_case(call)
    _, ticket = request_upload(call, case_id, PNG)
    event = upload_requested(ticket["fileId"])
    bus_event = {"source": "caseroom", "detail-type": event.type.value, "id": "bus-1"}
    # A FileUploadRequested or an UploadExpired for a file nobody has: no timer, no change
    unknown = {**event.to_detail(), "subjectId": "0" * 32}
    result = lambda_handler({**bus_event, "detail": unknown}, lambda_context("upload_expiry"))
    assert result["timer"] == "unknown-file"
    timer = {"source": "caseroom.scheduler", "detail-type": "UploadExpired", "id": "t-1"}
    detail = {"caseId": case_id, "fileId": "0" * 32}
    assert lambda_handler({**timer, "detail": detail}, lambda_context("upload_expiry")) == {"expired": False}
    assert expiry_timers() == {}
    status, view = call("GET", "/cases/{caseId}/files/{fileId}", f"/cases/{case_id}/files/{ticket['fileId']}")
    assert (status, view["status"]) == (200, "pending")


def expiry_timers() -> dict[str, dict[str, Any]]:
    scheduler = aws.client("scheduler")
    group = get_settings().schedule_group
    names = [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]]
    return {name: scheduler.get_schedule(GroupName=group, Name=name) for name in names}


def test_the_expiry_timer_is_set_from_the_upload_event_not_the_request(call: Call, clock: FixedClock) -> None:
    # Given an upload request: the pending file and its event commit together, no timer yet
    case_id = new_case(call)
    _, ticket = request_upload(call, case_id, PNG)
    file_id = ticket["fileId"]
    assert expiry_timers() == {}
    [event] = outbox("FileUploadRequested")
    assert (event["caseId"], event["actor"]) == (case_id, CLINICIAN.user_id)

    # When the event arrives (twice: delivery is at-least-once)
    assert deliver_upload_requested(file_id, clock) == "scheduled"
    assert deliver_upload_requested(file_id, clock) == "scheduled"

    # Then one timer fires UploadExpired for this file at its deadline, 24 h after the request
    [(name, timer)] = expiry_timers().items()
    assert name == f"upload-expiry-{file_id}"
    assert timer["ScheduleExpression"] == f"at({(clock.now() + timedelta(hours=24)):%Y-%m-%dT%H:%M:%S})"
    assert timer["Target"]["EventBridgeParameters"]["DetailType"] == "UploadExpired"
    assert json.loads(timer["Target"]["Input"]) == {"caseId": case_id, "fileId": file_id}


def test_an_upload_no_longer_pending_gets_no_timer(call: Call, clock: FixedClock) -> None:
    case_id = new_case(call)
    _, ticket = request_upload(call, case_id, PNG)
    land(key_of(case_id, ticket["fileId"]), PNG, "image/png")
    assert verify(key_of(case_id, ticket["fileId"])) == "available"

    assert deliver_upload_requested(ticket["fileId"], clock) == "not-pending"
    assert expiry_timers() == {}


def test_a_timer_never_fires_before_the_deadline(call: Call, clock: FixedClock) -> None:
    # Given a request at a time with milliseconds (timers have whole seconds)
    clock.advance(milliseconds=250)
    case_id = new_case(call)
    _, ticket = request_upload(call, case_id, PNG)

    assert deliver_upload_requested(ticket["fileId"], clock) == "scheduled"

    # Then the timer is the next whole second after the deadline, not the second before it
    [timer] = expiry_timers().values()
    deadline = clock.now() + timedelta(hours=24)
    assert timer["ScheduleExpression"] == f"at({deadline + timedelta(seconds=1):%Y-%m-%dT%H:%M:%S})"


def test_an_upload_event_that_arrives_after_the_deadline_expires_the_upload(
    call: Call, clock: FixedClock
) -> None:
    # Given a pending upload whose event was held up past its deadline (the bus was down)
    case_id = new_case(call)
    ticket = start_multipart(call, case_id, dicom(6 * MiB))
    clock.advance(hours=25)

    # When the event finally arrives, the upload expires at once, with no timer in the past
    assert deliver_upload_requested(ticket["fileId"], clock) == "expired"
    assert expiry_timers() == {}
    assert not s3().list_multipart_uploads(Bucket=bucket()).get("Uploads")
    stored = dal.get_file(case_id, ticket["fileId"])
    assert stored is not None and stored.file_status is FileStatus.EXPIRED
    # A second copy of the event changes nothing
    assert deliver_upload_requested(ticket["fileId"], clock) == "not-pending"


def test_pending_upload_expires_and_is_cleaned_up(call: Call, clock: FixedClock) -> None:
    case_id = new_case(call)
    ticket = start_multipart(call, case_id, dicom(6 * MiB))
    file_id = ticket["fileId"]
    assert deliver_upload_requested(file_id, clock) == "scheduled"
    detail = {"caseId": case_id, "fileId": file_id}
    # A timer that fires early (or twice) changes nothing
    assert expire_upload(detail, "timer-1", clock) is False
    clock.advance(hours=25)
    assert expire_upload(detail, "timer-1", clock) is True
    assert expire_upload(detail, "timer-1", clock) is False
    assert not s3().list_multipart_uploads(Bucket=bucket()).get("Uploads")
    status, body = call(
        "POST",
        "/cases/{caseId}/uploads/{fileId}/part-urls",
        f"/cases/{case_id}/uploads/{file_id}/part-urls",
        body={"parts": [{"partNumber": 1, "sha256": sha(b"x")}]},
    )
    assert (status, body["code"]) == (409, "UPLOAD_NOT_PENDING")
    # A late FileUploadRequested (the bus was down a day) sets no timer for an expired file
    assert deliver_upload_requested(file_id, clock) == "not-pending"


# --- galleries, move, rename, delete ----------------------------------------------------------


def test_galleries_move_rename_and_soft_delete_are_audited(call: Call, clock: FixedClock) -> None:
    case_id = new_case(call)
    status, galleries = call("GET", "/cases/{caseId}/galleries", f"/cases/{case_id}/galleries")
    assert [g["name"] for g in galleries["items"]] == [
        "Initial Documentation",
        "Rx",
        "Smile Design",
        "Video Simulation",
    ]
    status, gallery = call(
        "POST", "/cases/{caseId}/galleries", f"/cases/{case_id}/galleries", body={"name": "Try-in"}
    )
    assert status == 201 and gallery["fixed"] is False
    ids = []
    for _ in range(3):
        clock.advance(seconds=1)
        _, ticket = request_upload(call, case_id, PNG)
        land(key_of(case_id, ticket["fileId"]), PNG, "image/png")
        verify(key_of(case_id, ticket["fileId"]))
        ids.append(ticket["fileId"])
    listing = f"/cases/{case_id}/galleries/initial-documentation/files"
    route = "/cases/{caseId}/galleries/{galleryId}/files"
    _, first = call("GET", route, listing, query={"limit": "2"})
    _, second = call("GET", route, listing, query={"limit": "2", "cursor": first["nextCursor"]})
    assert [f["fileId"] for f in first["items"] + second["items"]] == ids[::-1]  # newest first
    status, body = call(
        "GET", route, f"/cases/{case_id}/galleries/rx/files", query={"cursor": first["nextCursor"]}
    )
    assert (status, body["code"]) == (400, "INVALID_CURSOR")
    # Move one to the new gallery and rename it
    file_route = "/cases/{caseId}/files/{fileId}"
    path = f"/cases/{case_id}/files/{ids[0]}"
    status, moved = call(
        "PATCH", file_route, path, body={"galleryId": gallery["galleryId"], "fileName": "try-in.png"}
    )
    assert status == 200 and (moved["galleryId"], moved["fileName"]) == (gallery["galleryId"], "try-in.png")
    status, body = call("PATCH", file_route, path, body={"galleryId": "nope"})
    assert (status, body["code"]) == (404, "GALLERY_NOT_FOUND")
    # The lab may not delete the clinician's file; the owner may
    status, body = call("DELETE", file_route, path, who=LAB_TECH)
    assert (status, body["code"]) == (403, "ROLE_NOT_ALLOWED")
    assert call("DELETE", file_route, path)[0] == 204
    _, page = call("GET", route, f"/cases/{case_id}/galleries/{gallery['galleryId']}/files")
    assert page["items"] == []
    status, body = call("GET", "/cases/{caseId}/files/{fileId}/download", f"{path}/download")
    assert (status, body["code"]) == (404, "FILE_NOT_FOUND")
    # Soft: the record stays (with a TTL) and the bytes stay as a noncurrent version
    [record] = [r for r in table_items("FILE#") if r["fileId"] == ids[0]]
    assert record["status"] == "deleted" and record["deletedBy"] == CLINICIAN.user_id and record["ttl"] > 0
    versions = s3().list_object_versions(Bucket=bucket(), Prefix=key_of(case_id, ids[0]))
    assert len(versions["Versions"]) == 1 and len(versions["DeleteMarkers"]) == 1
    actions = {r["action"] for r in table_items("AUDIT#CASE#") if r.get("objectId") == ids[0]}
    assert {"file.move+file.rename", "file.delete"} <= actions


def _complete(call: Call, case_id: str, file_id: str, chunks: list[bytes], etags: dict[int, str]) -> Any:
    parts = [{"partNumber": n, "etag": etags[n], "sha256": sha(c)} for n, c in enumerate(chunks, 1)]
    return call(
        "POST",
        "/cases/{caseId}/uploads/{fileId}/complete",
        f"/cases/{case_id}/uploads/{file_id}/complete",
        body={"parts": parts},
    )


def test_a_completion_that_died_between_claim_and_revert_still_expires(
    call: Call, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from caseroom.files import storage

    # Given a multipart upload with every part in S3
    case_id = new_case(call)
    data = dicom(6 * MiB)
    ticket = start_multipart(call, case_id, data)
    file_id, chunks = ticket["fileId"], parts_of(data)
    etags = {n: put_part(case_id, file_id, n, c) for n, c in enumerate(chunks, 1)}

    # When the complete call claims the completion and then dies before S3 completes or the
    # claim is released (a timeout, an out-of-memory kill: no revert runs)
    def dies(*_: Any, **__: Any) -> None:
        raise SystemExit("the function was killed")

    monkeypatch.setattr(storage, "complete_multipart", dies)
    with pytest.raises(SystemExit):
        _complete(call, case_id, file_id, chunks, etags)
    monkeypatch.undo()
    stuck = dal.get_file(case_id, file_id)
    assert stuck is not None and stuck.completed_at is not None and stuck.file_status is FileStatus.PENDING

    # Then at its deadline the expiry sees the upload still open in S3 and expires it
    detail = {"caseId": case_id, "fileId": file_id}
    clock.advance(hours=25)
    assert expire_upload(detail, "timer-1", clock) is True
    stored = dal.get_file(case_id, file_id)
    assert stored is not None and stored.file_status is FileStatus.EXPIRED
    assert not s3().list_multipart_uploads(Bucket=bucket()).get("Uploads")


def test_a_completed_upload_awaiting_its_verifier_is_not_expired(call: Call, clock: FixedClock) -> None:
    # Given a multipart upload S3 completed, whose verification event has not arrived yet
    case_id = new_case(call)
    data = dicom(6 * MiB)
    ticket = start_multipart(call, case_id, data)
    file_id, chunks = ticket["fileId"], parts_of(data)
    etags = {n: put_part(case_id, file_id, n, c) for n, c in enumerate(chunks, 1)}
    assert _complete(call, case_id, file_id, chunks, etags)[0] == 200
    # When its deadline passes, the expiry leaves it to the verifier
    clock.advance(hours=25)
    assert expire_upload({"caseId": case_id, "fileId": file_id}, "timer-1", clock) is False
    stored = dal.get_file(case_id, file_id)
    assert stored is not None and stored.file_status is FileStatus.PENDING
