"""Case files end to end through the running local runtime: the CLI's upload code over real HTTP,
bytes straight to moto's S3, S3 -> default bus Object Created -> verifier, download; a resumed
multipart upload; and oversize / wrong-type / corrupted uploads each quarantined."""

from __future__ import annotations

import hashlib
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from client.api import Api, ApiError, post_form
from client.uploads import Interrupted, StateFile, Uploader
from tests.support.runtime_process import STARTUP_TIMEOUT_S, start_runtime_process

pytestmark = pytest.mark.e2e
MiB = 1024 * 1024
EVENTUAL_S = 30
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    # Multipart above 5 MiB, so a resumed multipart upload stays small (5 MiB parts: S3's minimum).
    runtime = start_runtime_process(extra_args=("--multipart-threshold-mb", "5"))
    try:
        url = runtime.wait_for_line(r"API base URL\s+(http://127\.0\.0\.1:\d+)", STARTUP_TIMEOUT_S)[1]
        runtime.wait_for_line(r"^Ready\.$", STARTUP_TIMEOUT_S)
        yield url
    finally:
        runtime.process.terminate()
        runtime.process.wait(timeout=20)


@pytest.fixture(scope="module")
def api(base_url: str) -> Api:
    client = Api(base_url)
    client.sign_in_local("clinician")
    return client


@pytest.fixture(scope="module")
def case_id(api: Api) -> str:
    body = {
        "patientName": "Maria Garcia",
        "rxDescription": "Implant guide",
        "teeth": ["36"],
        "caseType": "implant_guide",
    }
    return str(api.call("POST", "/cases", body)["caseId"])


def settled(api: Api, case_id: str, file_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + EVENTUAL_S
    while time.monotonic() < deadline:
        view = api.call("GET", f"/cases/{case_id}/files/{file_id}")
        if view["status"] != "pending":
            return dict(view)
        time.sleep(0.2)
    raise AssertionError("the upload was never verified")


def fetch(url: str) -> tuple[bytes, str]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read(), str(response.headers.get("Content-Disposition", ""))


def test_small_upload_is_verified_and_downloaded_with_its_name(
    api: Api, case_id: str, tmp_path: Path
) -> None:
    # Given a photo on disk, uploaded with the CLI's uploader (one presigned POST)
    path = tmp_path / "Ñandú smile.png"
    path.write_bytes(PNG)
    uploader = Uploader(api=api, state=StateFile(tmp_path / "state"))
    file_id = uploader.upload(case_id, path, "initial-documentation")
    # Then S3's Object Created reaches the verifier and the file becomes available
    assert settled(api, case_id, file_id)["status"] == "available"
    # And the download link serves the same bytes under the original name
    link = api.call("GET", f"/cases/{case_id}/files/{file_id}/download")
    body, disposition = fetch(link["url"])
    assert body == PNG
    assert "filename*=UTF-8''%C3%91and%C3%BA%20smile.png" in disposition


def test_interrupted_multipart_upload_resumes_and_completes(api: Api, case_id: str, tmp_path: Path) -> None:
    # Given an 11 MiB CBCT (three 5 MiB parts) whose upload stops after one part
    data = (b"\x00" * 128 + b"DICM" + hashlib.sha256(b"seed").digest() * (11 * MiB // 32))[: 11 * MiB + 5]
    path = tmp_path / "cbct.dcm"
    path.write_bytes(data)
    state = StateFile(tmp_path / "state")
    first = Uploader(api=api, state=state, stop_after_parts=1)
    with pytest.raises(Interrupted):
        first.upload(case_id, path, "initial-documentation", "cbct", 5 * MiB)
    # When the upload runs again (a new process would read the same state file)
    file_id = Uploader(api=api, state=state, parallel=2).upload(
        case_id, path, "initial-documentation", "cbct", 5 * MiB
    )
    # Then the file is verified and downloadable
    view = settled(api, case_id, file_id)
    assert (view["status"], view["sizeBytes"], view["kind"]) == ("available", len(data), "cbct")
    link = api.call("GET", f"/cases/{case_id}/files/{file_id}/download")
    assert fetch(link["url"])[0] == data
    # And completing it again is refused
    parts = [{"partNumber": n, "etag": "0" * 32, "sha256": "0" * 64} for n in (1, 2, 3)]
    with pytest.raises(ApiError) as refused:
        api.call("POST", f"/cases/{case_id}/uploads/{file_id}/complete", {"parts": parts})
    assert refused.value.code == "UPLOAD_ALREADY_COMPLETED"


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        (PNG + b"\x00" * 4096, "SIZE_MISMATCH"),  # oversize: moto ignores content-length-range
        (b"%PDF-1.4\n" + PNG[9:], "WRONG_FILE_TYPE"),
        (PNG[:-1] + b"\x00", "CHECKSUM_MISMATCH"),  # corrupted
    ],
    ids=["oversize", "wrong-type", "corrupted"],
)
def test_bad_uploads_are_quarantined(
    api: Api, case_id: str, tmp_path: Path, sent: bytes, reason: str
) -> None:
    ticket = api.call(
        "POST",
        f"/cases/{case_id}/uploads",
        {
            "fileName": "photo.png",
            "kind": "photo",
            "sizeBytes": len(PNG),
            "contentType": "image/png",
            "sha256": hashlib.sha256(PNG).hexdigest(),
        },
    )
    path = tmp_path / "sent.bin"
    path.write_bytes(sent)
    post_form(ticket["post"]["url"], ticket["post"]["fields"], str(path), len(sent), "image/png")
    view = settled(api, case_id, ticket["fileId"])
    assert (view["status"], view["quarantineReason"]) == ("quarantined", reason)
    with pytest.raises(ApiError) as refused:
        api.call("GET", f"/cases/{case_id}/files/{ticket['fileId']}/download")
    assert refused.value.code == "FILE_NOT_AVAILABLE"
