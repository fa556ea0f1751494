"""A share link's 24 hours, end to end through the runtime process: real HTTP, the file uploaded
to the runtime's S3 and verified by its verifier function, and time moved with the runtime's
clock (POST /_local/clock), which every handler process reads. The guest downloads at
24 h - 1 s and is refused with 410 at 24 h + 1 s; a revoked link is refused at once. (One request
at 24 h - 1 s: on a loaded machine a second one could arrive after the boundary.)

Its own runtime process: moving the clock would age every other test's tokens and links."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from client.api import Api
from client.uploads import StateFile, Uploader
from tests.e2e.test_cases_flow import Client
from tests.support.runtime_process import STARTUP_TIMEOUT_S, start_runtime_process

pytestmark = pytest.mark.e2e
EVENTUAL_S = 30
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
SHARED = "/shared"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    runtime = start_runtime_process()
    try:
        url = runtime.wait_for_line(r"API base URL\s+(http://127\.0\.0\.1:\d+)", STARTUP_TIMEOUT_S)[1]
        runtime.wait_for_line(r"^Ready\.$", STARTUP_TIMEOUT_S)
        yield url
    finally:
        runtime.process.terminate()
        runtime.process.wait(timeout=20)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _runtime_now(base_url: str) -> datetime:
    status, clock = Client(base_url).call("GET", "/_local/clock")
    assert status == 200, clock
    return _at(clock["now"])


def _advance_to(base_url: str, target: datetime) -> datetime:
    """Moves the runtime's clock so that it reads `target` now; returns what it then read."""
    seconds = (target - _runtime_now(base_url)).total_seconds()
    status, clock = Client(base_url).call("POST", "/_local/clock", {"advanceSeconds": seconds})
    assert status == 200, clock
    return _at(clock["now"])


def _guest(base_url: str, token: str) -> Client:
    return _GuestClient(base_url, token)


class _GuestClient(Client):
    def __init__(self, base_url: str, token: str) -> None:
        super().__init__(base_url)
        self.share_token = token

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        return super().call(method, path, body, {"x-share-token": self.share_token, **(headers or {})})


def _available_photo(api: Api, case_id: str, tmp_path: Path) -> str:
    path = tmp_path / "smile.png"
    path.write_bytes(PNG)
    file_id = Uploader(api=api, state=StateFile(tmp_path / "state")).upload(
        case_id, path, "initial-documentation"
    )
    deadline = time.monotonic() + EVENTUAL_S
    while time.monotonic() < deadline:
        if api.call("GET", f"/cases/{case_id}/files/{file_id}")["status"] == "available":
            return file_id
        time.sleep(0.2)
    raise AssertionError("the upload was never verified")


def test_a_guest_is_served_until_24_hours_and_refused_after(base_url: str, tmp_path: Path) -> None:
    # Given a case with a verified photo in Initial Documentation, and a 24-hour link to it
    api = Api(base_url)
    api.sign_in_local("clinician")
    case = api.call(
        "POST",
        "/cases",
        {"patientName": "Maria Garcia", "rxDescription": "Crown", "teeth": ["11"], "caseType": "crown"},
    )
    case_id = str(case["caseId"])
    file_id = _available_photo(api, case_id, tmp_path)
    link = api.call("POST", f"/cases/{case_id}/share-links", {"galleryIds": ["initial-documentation"]})
    revoked = api.call("POST", f"/cases/{case_id}/share-links", {})
    assert _at(link["expiresAt"]) - _at(link["createdAt"]) == timedelta(hours=24)
    guest, late_guest = _guest(base_url, link["token"]), _guest(base_url, revoked["token"])

    # A revoked link is refused at once, whatever the clock says
    assert late_guest.call("GET", SHARED)[0] == 200
    api.call("POST", f"/cases/{case_id}/share-links/{revoked['linkId']}/revoke")
    status, body = late_guest.call("GET", SHARED)
    assert (status, body["code"]) == (410, "SHARE_LINK_REVOKED")

    # When the runtime's clock reads a minute before the link's 24 hours end: the guest's view
    expires = _at(link["expiresAt"])
    _advance_to(base_url, expires - timedelta(minutes=1))
    status, view = guest.call("GET", SHARED)
    assert status == 200, view
    assert [f["fileId"] for g in view["galleries"] for f in g["files"]] == [file_id]
    # When it reads 24 h - 1 s: the guest still downloads the photo (the link re-checked), bytes intact
    moved = _advance_to(base_url, expires - timedelta(seconds=1))
    assert expires - timedelta(seconds=2) < moved < expires
    status, download = guest.call("GET", f"/shared/files/{file_id}/download")
    assert status == 200, download
    assert download["expiresInSeconds"] <= 15 * 60
    with urllib.request.urlopen(download["url"], timeout=30) as response:
        assert response.read() == PNG

    # When the clock reads 24 h + 1 s
    moved = _advance_to(base_url, expires + timedelta(seconds=1))
    assert moved > expires
    # Then the link is refused with 410, for the view and for any download, and says why
    for path in (SHARED, f"/shared/files/{file_id}/download"):
        status, body = guest.call("GET", path)
        assert (status, body["code"]) == (410, "SHARE_LINK_EXPIRED"), (path, body)
        assert link["token"] not in str(body)
    # ...while a made-up token is still just unknown
    status, body = _guest(base_url, "x" * 43).call("GET", SHARED)
    assert (status, body["code"]) == (404, "SHARE_LINK_NOT_FOUND")
