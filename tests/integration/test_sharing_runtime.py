"""Issue 14's "done when", through the local runtime over real HTTP: a clinician uploads, connects
the patient and shares a gallery; the patient signs in and downloads exactly those files; a guest
opens a share link with no account, downloads, and is refused at 24 h + 1 s (not at 24 h - 1 s)
and after revocation. Time is the runtime's injected clock, moved by the test."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import functions.share_link_notices.handler as share_link_notices
from caseroom.clock import FixedClock, SystemClock
from caseroom.passport import routes as passport_routes
from caseroom.passport.logic import PassportService
from caseroom.sharing import routes as sharing_routes
from caseroom.sharing.logic import ShareService
from client.api import Api, ApiError
from client.uploads import StateFile, Uploader
from local.runtime import LocalRuntime

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
CROWN = {"patientName": "Maria Garcia", "rxDescription": "Crown", "teeth": ["11"], "caseType": "crown"}


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    with LocalRuntime(clock=clock, background=False, retry_delay_s=0, inline=True) as started:
        sharing_routes.use_service(ShareService(clock=clock))
        passport_routes.use_service(PassportService(clock=clock))
        share_link_notices._clock = clock  # type: ignore[assignment]
        yield started
    sharing_routes.use_service(None)
    passport_routes.use_service(None)
    share_link_notices._clock = SystemClock()


def signed_in(runtime: LocalRuntime, user: str) -> Api:
    return Api(runtime.base_url, token=runtime.sign_in(user))


def guest(runtime: LocalRuntime, path: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(runtime.base_url + path, headers={"X-Share-Token": token})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return bytes(response.read())


def upload(runtime: LocalRuntime, api: Api, case_id: str, tmp_path: Path, name: str, gallery: str) -> str:
    path = tmp_path / name
    path.write_bytes(PNG)
    file_id = Uploader(api=api, state=StateFile(tmp_path / f"state-{name}")).upload(case_id, path, gallery)
    runtime.pump()  # S3 Object Created -> the verifier
    assert api.call("GET", f"/cases/{case_id}/files/{file_id}")["status"] == "available"
    return file_id


def test_patient_and_guest_get_exactly_what_they_are_given(runtime: LocalRuntime, tmp_path: Path) -> None:
    assert isinstance(runtime.clock, FixedClock)
    clinic = signed_in(runtime, "clinician")
    case_id = clinic.call("POST", "/cases", CROWN)["caseId"]
    initial = upload(runtime, clinic, case_id, tmp_path, "smile.png", "initial-documentation")
    design = upload(runtime, clinic, case_id, tmp_path, "design.png", "smile-design")
    surgery = upload(runtime, clinic, case_id, tmp_path, "surgery.png", "rx")

    # The clinician connects the seeded patient and shares Smile Design too
    patient_email = "pat.doe@mail.example.com"  # the seeded patient (local/tokens.py)
    connected = clinic.call("POST", f"/cases/{case_id}/passport", {"email": patient_email})
    assert [f["fileId"] for f in connected["nowSharedFiles"]] == [initial]
    clinic.call("PUT", f"/cases/{case_id}/passport/galleries/smile-design")

    # The patient signs in: the case is in their Passport; they download exactly those files
    patient = signed_in(runtime, "patient")
    assert case_id in [c["caseId"] for c in patient.call("GET", "/me/passport/cases")["items"]]
    view = patient.call("GET", f"/me/passport/cases/{case_id}")
    assert sorted(f["fileId"] for g in view["galleries"] for f in g["files"]) == sorted([initial, design])
    for file_id in (initial, design):
        link = patient.call("GET", f"/me/passport/cases/{case_id}/files/{file_id}/download")
        assert fetch(link["url"]) == PNG
    with pytest.raises(ApiError) as refused:
        patient.call("GET", f"/me/passport/cases/{case_id}/files/{surgery}/download")
    assert (refused.value.status, refused.value.code) == (403, "ROLE_NOT_ALLOWED")
    # ...and exports them as one ZIP, built by the export function from the bus
    export_id = patient.call("POST", f"/me/passport/cases/{case_id}/exports")["exportId"]
    runtime.pump()
    export = patient.call("GET", f"/me/passport/cases/{case_id}/exports/{export_id}")
    archive = zipfile.ZipFile(io.BytesIO(fetch(export["url"])))
    assert sorted(archive.namelist()) == ["initial-documentation/smile.png", "smile-design/design.png"]

    # A guest opens a link for Initial Documentation and downloads its file
    created = clinic.call("POST", f"/cases/{case_id}/share-links", {"galleryIds": ["initial-documentation"]})
    status, shared = guest(runtime, "/shared", created["token"])
    assert status == 200 and [g["galleryId"] for g in shared["galleries"]] == ["initial-documentation"]
    status, link = guest(runtime, f"/shared/files/{initial}/download", created["token"])
    assert status == 200 and fetch(link["url"]) == PNG
    assert guest(runtime, f"/shared/files/{surgery}/download", created["token"])[0] == 403

    # An hour before expiry the local scheduler fires the link's timer: the owner is told,
    # as they were when the guest first opened it
    runtime.clock.advance(hours=23)
    assert runtime.scheduler.fire_due(runtime.clock.now()) >= 1
    runtime.pump()
    clinic = signed_in(runtime, "clinician")  # a fresh token at the moved time
    notices = [(n["kind"], n["subjectId"]) for n in clinic.call("GET", "/me/notifications")["items"]]
    assert ("ShareLinkFirstOpened", created["linkId"]) in notices
    assert ("ShareLinkExpiring", created["linkId"]) in notices

    # 24 h - 1 s: still open; 24 h + 1 s: 410, for the view and the download alike
    runtime.clock.advance(hours=1, seconds=-1)
    assert guest(runtime, "/shared", created["token"])[0] == 200
    runtime.clock.advance(seconds=2)
    for path in ("/shared", f"/shared/files/{initial}/download"):
        status, body = guest(runtime, path, created["token"])
        assert (status, body["code"]) == (410, "SHARE_LINK_EXPIRED")

    # A new link works until the owner revokes it
    clinic = signed_in(runtime, "clinician")  # a fresh token at the moved time
    second = clinic.call("POST", f"/cases/{case_id}/share-links", {})
    assert guest(runtime, "/shared", second["token"])[0] == 200
    clinic.call("POST", f"/cases/{case_id}/share-links/{second['linkId']}/revoke")
    status, body = guest(runtime, f"/shared/files/{initial}/download", second["token"])
    assert (status, body["code"]) == (410, "SHARE_LINK_REVOKED")
    log = clinic.call("GET", f"/cases/{case_id}/share-links/{created['linkId']}/access-log")["items"]
    assert [e["action"] for e in log][:2] == ["refused-expired", "refused-expired"]
    assert {"opened", "downloaded"} <= {e["action"] for e in log}

    # The patient was told of the connection and of Smile Design, without the case's id
    patient = signed_in(runtime, "patient")  # a fresh token at the moved time
    feed = patient.call("GET", "/me/notifications")["items"]
    assert sorted(n["kind"] for n in feed) == ["PassportConnected", "PassportShared"]
    assert case_id not in json.dumps(feed)
    # The clinic disconnects the patient: the case is gone from the Passport at once
    clinic.call("DELETE", f"/cases/{case_id}/passport")
    assert case_id not in [c["caseId"] for c in patient.call("GET", "/me/passport/cases")["items"]]
    with pytest.raises(ApiError) as gone:
        patient.call("GET", f"/me/passport/cases/{case_id}/files/{initial}/download")
    assert (gone.value.status, gone.value.code) == (404, "CASE_NOT_FOUND")
