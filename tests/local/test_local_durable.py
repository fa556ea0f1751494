"""The durable local runtime: DynamoDB Local for the table, files, uploads in progress, timers
and webhook endpoints kept in a data directory across a restart; --fresh; DynamoDB Local's
transaction cancellations mapped to the same domain errors as moto's.

Real functions over real HTTP, background loops off: the tests pump events themselves."""

from __future__ import annotations

import hashlib
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from client.api import Api, ApiError
from client.uploads import Interrupted, StateFile, Uploader
from local.data_dir import DataDir, DataDirError
from local.runtime import LocalRuntime

MiB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
RX = {"patientName": "Maria Garcia", "rxDescription": "Implant guide", "teeth": ["36"], "caseType": "crown"}


def durable(data_dir: Path, **options: Any) -> LocalRuntime:
    return LocalRuntime(
        data_dir=data_dir, background=False, retry_delay_s=0, multipart_threshold_bytes=5 * MiB, **options
    )


def signed_in(runtime: LocalRuntime, user: str) -> Api:
    api = Api(runtime.base_url)
    api.sign_in_local(user)
    return api


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return bytes(response.read())


def file_status(api: Api, case_id: str, file_id: str) -> str:
    return str(api.call("GET", f"/cases/{case_id}/files/{file_id}")["status"])


@pytest.mark.e2e
def test_a_restart_keeps_cases_file_bytes_uploads_in_progress_webhooks_and_timers(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    photo = tmp_path / "smile.png"
    photo.write_bytes(PNG)
    cbct = tmp_path / "cbct.dcm"
    cbct.write_bytes((b"\x00" * 128 + b"DICM" + hashlib.sha256(b"x").digest() * (6 * MiB // 32))[: 6 * MiB])
    uploads = StateFile(tmp_path / "upload-state")

    # Given a runtime with a case, a verified photo, a multipart upload stopped after one part,
    # a webhook endpoint and the upload's pending expiry timer
    with durable(data_dir) as first:
        assert first.started_empty
        ana = signed_in(first, "clinician")
        case = ana.call("POST", "/cases", RX)
        case_id = case["caseId"]
        photo_id = Uploader(api=ana, state=uploads).upload(case_id, photo, "initial-documentation")
        first.pump()
        assert file_status(ana, case_id, photo_id) == "available"
        with pytest.raises(Interrupted):
            Uploader(api=ana, state=uploads, stop_after_parts=1).upload(
                case_id, cbct, "initial-documentation", "cbct", 5 * MiB
            )
        endpoint = ana.call(
            "POST", "/webhooks", {"url": "http://127.0.0.1:9/hooks", "eventTypes": ["CaseStatusChanged"]}
        )
        first.pump()
        timers = sorted(str(timer["Name"]) for timer in first.scheduler.pending())
        assert any(name.startswith("upload-expiry-") for name in timers)  # the multipart upload's
        case = ana.call("GET", f"/cases/{case_id}")

    # When it starts again on the same data directory
    with durable(data_dir) as second:
        # Then it did not start empty, and everything is there
        assert not second.started_empty
        ana = signed_in(second, "clinician")
        assert ana.call("GET", f"/cases/{case_id}") == case
        link = ana.call("GET", f"/cases/{case_id}/files/{photo_id}/download")
        assert fetch(link["url"]) == PNG
        hooks = ana.call("GET", "/webhooks")["items"]
        assert endpoint["endpointId"] in [hook["endpointId"] for hook in hooks]
        assert sorted(str(timer["Name"]) for timer in second.scheduler.pending()) == timers
        # And the interrupted multipart upload resumes from its stored part and completes
        cbct_id = Uploader(api=ana, state=uploads).upload(
            case_id, cbct, "initial-documentation", "cbct", 5 * MiB
        )
        second.pump()
        assert file_status(ana, case_id, cbct_id) == "available"
        link = ana.call("GET", f"/cases/{case_id}/files/{cbct_id}/download")
        assert fetch(link["url"]) == cbct.read_bytes()

    # And --fresh starts empty again
    with durable(data_dir, fresh=True) as third:
        assert third.started_empty
        ana = signed_in(third, "clinician")
        with pytest.raises(ApiError) as gone:
            ana.call("GET", f"/cases/{case_id}")
        assert gone.value.status == 404
        assert third.scheduler.pending() == []


@pytest.fixture(scope="module", params=["moto", "dynamodb-local"])
def table_runtime(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalRuntime]:
    data_dir = tmp_path_factory.mktemp("data") if request.param == "dynamodb-local" else None
    with LocalRuntime(data_dir=data_dir, background=False, retry_delay_s=0) as runtime:
        assert (runtime.store is not None) == (request.param == "dynamodb-local")
        yield runtime


@pytest.mark.e2e
def test_a_stale_write_is_the_same_409_on_moto_and_dynamodb_local(table_runtime: LocalRuntime) -> None:
    ana = signed_in(table_runtime, "clinician")
    case = ana.call("POST", "/cases", RX)
    ana.call("PATCH", f"/cases/{case['caseId']}", {"version": case["version"], "rxDescription": "Crown"})
    with pytest.raises(ApiError) as conflict:
        ana.call("PATCH", f"/cases/{case['caseId']}", {"version": case["version"], "rxDescription": "x"})
    assert (conflict.value.status, conflict.value.code) == (409, "VERSION_CONFLICT")


@pytest.mark.e2e
def test_a_taken_block_is_the_same_409_on_moto_and_dynamodb_local(table_runtime: LocalRuntime) -> None:
    # Given two cases ready to plan and one free block
    ana, lab = signed_in(table_runtime, "clinician"), signed_in(table_runtime, "lab")
    cases = []
    for _ in range(2):
        case = ana.call("POST", "/cases", RX)
        version = case["version"]
        for status in ("Received", "Ready to Plan"):
            version = lab.call(
                "PUT", f"/cases/{case['caseId']}/status", {"status": status, "version": version}
            )["version"]
        cases.append(case["caseId"])
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    block = lab.call(
        "POST",
        "/lab/planning/blocks",
        {
            "start": f"{day.isoformat()}T10:00",
            "durationMinutes": 45,
            "timezone": "Europe/Madrid",
            "meetingUrl": "https://meet.lab.example/room-3",
        },
    )
    # When both book it, one after the other
    ana.call("POST", f"/cases/{cases[0]}/planning", {"blockId": block["blockId"]})
    with pytest.raises(ApiError) as taken:
        ana.call("POST", f"/cases/{cases[1]}/planning", {"blockId": block["blockId"]})
    # Then the transaction's cancelled condition is the domain's 409
    assert (taken.value.status, taken.value.code) == (409, "BLOCK_TAKEN")


def test_a_data_directory_is_used_by_one_runtime_at_a_time(tmp_path: Path) -> None:
    first = DataDir.open(tmp_path / "data")
    try:
        with pytest.raises(DataDirError, match="in use"):
            DataDir.open(tmp_path / "data")
    finally:
        first.close()
    DataDir.open(tmp_path / "data").close()  # free again once closed


def test_fresh_never_empties_a_directory_that_is_not_a_data_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DataDirError, match="not a CaseRoom data directory"):
        DataDir.open(tmp_path, fresh=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_moto_memory_is_trimmed_of_what_nothing_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws
    from moto.core.model_instances import model_data
    from moto.ses.models import ses_backends

    from local import aws_backend
    from local.aws_backend import ACCOUNT_ID, REGION

    monkeypatch.setattr(aws_backend, "MAILBOX_LIMIT", 2)
    with mock_aws():
        import boto3

        ses = boto3.client("ses", region_name=REGION)
        ses.verify_email_identity(EmailAddress="a@caseroom.local")
        for subject in ("one", "two", "three"):
            ses.send_email(
                Source="a@caseroom.local",
                Destination={"ToAddresses": ["b@example.com"]},
                Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": "x"}}},
            )

        def tracked() -> int:
            return sum(
                len(getattr(model, "instances_tracked", []))
                for models in model_data.values()
                for model in models.values()
            )

        assert tracked() > 0
        aws_backend.trim_moto_memory()
        assert tracked() == 0
        kept = ses_backends[ACCOUNT_ID][REGION].sent_messages
        assert [message.subject for message in kept] == ["two", "three"]


@pytest.mark.e2e
def test_queued_rule_events_and_the_mailbox_are_files_and_survive_a_restart(tmp_path: Path) -> None:
    from local.mailbox import sent_emails

    data_dir = tmp_path / "data"
    events_dir = data_dir / "events"
    # Given a case whose events were matched by the rules but not delivered yet
    with durable(data_dir) as first:
        ana = signed_in(first, "clinician")
        case_id = ana.call("POST", "/cases", RX)["caseId"]
        assert first.relay.pump_once() >= 1
        # Then each matched event is a file as soon as EventBridge queued it, not at a clean stop
        # (a kill -9 from here on loses none of them)
        queued = sorted(path.relative_to(events_dir) for path in events_dir.rglob("*.json"))
        assert queued
        assert not (data_dir / "events.json").exists()

    # When the runtime starts again, every one of them is queued again and delivered
    with durable(data_dir) as second:
        assert second.store is not None
        assert second.store.restored["events"] == len(queued)
        second.pump()
        ana = signed_in(second, "clinician")
        assert ana.call("GET", f"/cases/{case_id}/rx-script")["url"]
        # A delivered event's file is gone; the emails its handlers sent are in the mailbox
        assert list(events_dir.rglob("*.json")) == []
        emails = sent_emails()
        assert emails

    # And the mailbox is still there after another restart
    with durable(data_dir) as third:
        assert third.store is not None
        assert third.store.restored["emails"] == len(emails)
        assert sent_emails() == emails
