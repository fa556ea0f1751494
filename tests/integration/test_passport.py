"""The Passport end to end through the handlers: the clinician connects the patient (Initial
Documentation shared at once, the answer says which files), shares and unshares galleries; the
patient, signed in with the verified address, sees and downloads exactly those files, keeps them
after the case is archived, and sees who saw their records."""

from __future__ import annotations

from typing import Any

from caseroom.auth import Principal, Role
from caseroom.files.logic import FIXED_GALLERIES
from tests.conftest import CLINICIAN, CLINICIAN_2, LAB_TECH, PATIENT
from tests.integration.test_access_matrix import (
    OTHER_PATIENT,
    VERIFIED_PATIENT,
    Api,
    _available_photo,
    _ok,
    api,
    build_world,
)

__all__ = ["api"]  # the fixture

CROWN = {"patientName": "Maria Garcia", "rxDescription": "Crown", "teeth": ["11"], "caseType": "crown"}


def _new_case(api: Api, who: Any = CLINICIAN) -> str:
    return str(_ok(api("POST", "/cases", who=who, body=CROWN), 201)["caseId"])


def _connect(api: Api, case_id: str, email: str = PATIENT.email, who: Any = CLINICIAN) -> tuple[int, Any]:
    return api(
        "POST", "/cases/{caseId}/passport", f"/cases/{case_id}/passport", who=who, body={"email": email}
    )


def _move(api: Api, case_id: str, file_id: str, gallery_id: str) -> None:
    path = f"/cases/{case_id}/files/{file_id}"
    _ok(api("PATCH", "/cases/{caseId}/files/{fileId}", path, body={"galleryId": gallery_id}))


def _my_case(api: Api, case_id: str, who: Any = VERIFIED_PATIENT) -> tuple[int, Any]:
    return api("GET", "/me/passport/cases/{caseId}", f"/me/passport/cases/{case_id}", who=who)


def _download(api: Api, case_id: str, file_id: str, who: Any = VERIFIED_PATIENT) -> tuple[int, Any]:
    route = "/me/passport/cases/{caseId}/files/{fileId}/download"
    return api("GET", route, f"/me/passport/cases/{case_id}/files/{file_id}/download", who=who)


def test_connecting_shares_initial_documentation_and_says_which_files(api: Api) -> None:
    # Given a case with a photo in Initial Documentation and one in Smile Design
    case_id = _new_case(api)
    initial = _available_photo(api, case_id, CLINICIAN)
    design = _available_photo(api, case_id, CLINICIAN)
    _move(api, case_id, design, "smile-design")
    # When the clinician connects the patient
    connected = _ok(_connect(api, case_id, " Pat@Mail.test "), 201)
    # Then Initial Documentation is shared, and the answer lists exactly the file that shares
    assert connected["sharedGalleries"] == ["initial-documentation"]
    assert connected["patientEmail"] == PATIENT.email
    assert [f["fileId"] for f in connected["nowSharedFiles"]] == [initial]
    # ...the patient sees that gallery and downloads its file, not the Smile Design one
    view = _ok(_my_case(api, case_id))
    assert [(g["galleryId"], [f["fileId"] for f in g["files"]]) for g in view["galleries"]] == [
        ("initial-documentation", [initial])
    ]
    assert view["clinicName"] == CLINICIAN.name and "Maria" not in str(view) and "Crown" not in str(view)
    assert "X-Amz-Expires=600" in _ok(_download(api, case_id, initial))["url"]
    status, body = _download(api, case_id, design)
    assert (status, body["code"]) == (403, "ROLE_NOT_ALLOWED")
    # When the clinician shares Smile Design, the patient gets it; unshared again, it is gone
    share = "/cases/{caseId}/passport/galleries/{galleryId}"
    path = f"/cases/{case_id}/passport/galleries/smile-design"
    assert _ok(api("PUT", share, path))["sharedGalleries"] == ["initial-documentation", "smile-design"]
    _ok(_download(api, case_id, design))
    _ok(api("DELETE", share, path))
    assert _download(api, case_id, design)[0] == 403
    # ...and Initial Documentation can be unshared too
    _ok(api("DELETE", share, f"/cases/{case_id}/passport/galleries/initial-documentation"))
    assert _download(api, case_id, initial)[0] == 403
    assert _ok(_my_case(api, case_id))["galleries"] == []


def test_the_invitation_is_emailed(api: Api) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    case_id = _new_case(api)
    _ok(_connect(api, case_id), 201)
    message = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages[-1]
    assert message.destinations["ToAddresses"] == [PATIENT.email]
    assert CLINICIAN.name in message.body and case_id not in message.body
    # And its link opens the web app's Passport screen (a hash route, not an API path)
    assert '<a href="https://app.caseroom.example/#/passport">' in message.body


def test_one_patient_account_holds_cases_of_several_clinics(api: Api) -> None:
    mine, theirs, not_connected = _new_case(api), _new_case(api, CLINICIAN_2), _new_case(api)
    _ok(_connect(api, mine), 201)
    _ok(_connect(api, theirs, who=CLINICIAN_2), 201)
    page = _ok(api("GET", "/me/passport/cases", who=VERIFIED_PATIENT))
    assert {(c["caseId"], c["clinicName"]) for c in page["items"]} == {
        (mine, CLINICIAN.name),
        (theirs, CLINICIAN_2.name),
    }
    assert not_connected not in str(page)
    assert _ok(api("GET", "/me/passport/cases", who=OTHER_PATIENT))["items"] == []


def test_bad_input_and_other_patients(api: Api) -> None:
    case_id = _new_case(api)
    status, body = _connect(api, case_id, "not-an-email")
    assert (status, body["code"]) == (422, "VALIDATION_FAILED") and "not-an-email" not in str(body)
    _ok(_connect(api, case_id), 201)
    status, body = _connect(api, case_id, "someone@else.test")
    assert (status, body["code"]) == (409, "PATIENT_ALREADY_CONNECTED")
    # The lab and other clinicians cannot connect or share
    assert _connect(api, _new_case(api), who=LAB_TECH)[0] == 403
    assert _connect(api, case_id, who=CLINICIAN_2)[0] == 404
    # The unverified account, another patient, and a patient connected to another case: 404
    other_case = _new_case(api)
    _ok(_connect(api, other_case, OTHER_PATIENT.email), 201)
    for who in (PATIENT, OTHER_PATIENT):
        status, body = _my_case(api, case_id, who=who)
        assert (status, body["code"]) == (404, "CASE_NOT_FOUND")
    # A gallery that does not exist cannot be shared; sharing without a connection is 404
    route = "/cases/{caseId}/passport/galleries/{galleryId}"
    status, body = api("PUT", route, f"/cases/{case_id}/passport/galleries/g-000000000000")
    assert (status, body["code"]) == (404, "GALLERY_NOT_FOUND")
    status, body = api("PUT", route, f"/cases/{_new_case(api)}/passport/galleries/rx")
    assert (status, body["code"]) == (404, "PATIENT_NOT_CONNECTED")
    assert set(FIXED_GALLERIES) >= {"initial-documentation", "smile-design", "video-simulation"}


def test_access_survives_archiving(api: Api) -> None:
    world = build_world(api, "GET /cases/{caseId}/files/{fileId}")  # connected to PATIENT
    path = f"/cases/{world.case_id}/archive"
    _ok(api("POST", "/cases/{caseId}/archive", path, body={"version": world.version}))
    _ok(_download(api, world.case_id, world.file_id))


def test_who_saw_my_records_names_staff_and_roles(api: Api) -> None:
    world = build_world(api, "GET /cases/{caseId}/files/{fileId}")
    path = f"/cases/{world.case_id}/files/{world.file_id}/download"
    _ok(api("GET", "/cases/{caseId}/files/{fileId}/download", path, who=LAB_TECH))
    _ok(_download(api, world.case_id, world.file_id))
    route = "/me/passport/cases/{caseId}/access-log"
    log = _ok(api("GET", route, f"/me/passport/cases/{world.case_id}/access-log", who=VERIFIED_PATIENT))
    seen = [(e["who"], e["role"], e["action"]) for e in log["items"]]
    assert (LAB_TECH.name, "lab", "file.download") in seen
    assert (VERIFIED_PATIENT.name, "patient", "patient.file.download") in seen
    assert all(e["action"] != "case.create" for e in log["items"])


def test_an_export_holds_every_shared_file_and_nothing_else(api: Api, clock: Any) -> None:
    import io
    import zipfile

    from caseroom import aws
    from caseroom.passport.export import build
    from caseroom.settings import get_settings
    from tests.integration.test_access_matrix import PNG

    # Given a connected case: a photo shared (Initial Documentation), one not (Rx)
    world = build_world(api, "GET /cases/{caseId}/files/{fileId}")
    hidden = _available_photo(api, world.case_id, CLINICIAN)
    _move(api, world.case_id, hidden, "rx")
    # When the patient asks for an export and the export function builds it
    route = "/me/passport/cases/{caseId}/exports"
    asked = _ok(api("POST", route, f"/me/passport/cases/{world.case_id}/exports", who=VERIFIED_PATIENT), 202)
    assert asked["status"] == "building"
    assert build(world.case_id, asked["exportId"], clock) == "ready"
    assert build(world.case_id, asked["exportId"], clock) == "ready"  # a repeated event: nothing more
    # Then the export is ready with a short-lived link, and the ZIP holds exactly the shared file
    path = f"/me/passport/cases/{world.case_id}/exports/{asked['exportId']}"
    ready = _ok(api("GET", route + "/{exportId}", path, who=VERIFIED_PATIENT))
    assert (ready["status"], ready["fileCount"]) == ("ready", 1)
    assert "X-Amz-Expires=600" in ready["url"]
    key = f"exports/{world.case_id}/{asked['exportId']}.zip"
    data = aws.client("s3").get_object(Bucket=get_settings().files_bucket, Key=key)["Body"].read()
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.namelist() == ["initial-documentation/smile.png"]
    assert archive.read("initial-documentation/smile.png") == PNG
    # ...and another patient cannot read it
    assert api("GET", route + "/{exportId}", path, who=OTHER_PATIENT)[0] == 404


def test_an_export_retried_with_its_idempotency_key_is_asked_once(api: Api) -> None:
    # Given a connected patient
    case_id = _new_case(api)
    _ok(_connect(api, case_id), 201)
    route = "/me/passport/cases/{caseId}/exports"
    path = f"/me/passport/cases/{case_id}/exports"
    headers = {"Idempotency-Key": "export-1"}
    # When the same export is asked twice with one key
    first = api("POST", route, path, who=VERIFIED_PATIENT, headers=headers)
    again = api("POST", route, path, who=VERIFIED_PATIENT, headers=headers)
    # Then the second answer is the first export; without a key a new one is made
    assert first[0] == 202 and again == first
    other = _ok(api("POST", route, path, who=VERIFIED_PATIENT), 202)
    assert other["exportId"] != first[1]["exportId"]


def _disconnect(api: Api, case_id: str, who: Any = CLINICIAN) -> tuple[int, Any]:
    return api("DELETE", "/cases/{caseId}/passport", f"/cases/{case_id}/passport", who=who)


def _sent_to(address: str) -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    return [m for m in sent if address in m.destinations.get("ToAddresses", [])]


def _feed(api: Api, who: Any = VERIFIED_PATIENT) -> list[dict[str, Any]]:
    return list(_ok(api("GET", "/me/notifications", who=who))["items"])


def test_disconnecting_ends_the_patients_access_at_once_and_is_audited(api: Api) -> None:
    # Given a connected patient with a shared photo and an export under way, on an archived case
    world = build_world(api, "GET /cases/{caseId}/files/{fileId}")  # connected to PATIENT
    route = "/me/passport/cases/{caseId}/exports"
    export = _ok(api("POST", route, f"/me/passport/cases/{world.case_id}/exports", who=VERIFIED_PATIENT), 202)
    _ok(api("POST", "/cases/{caseId}/archive", f"/cases/{world.case_id}/archive", body={"version": 1}))
    _ok(_download(api, world.case_id, world.file_id))  # archive does not end access
    # When someone other than the owner tries to disconnect: refused, nothing changes
    assert _disconnect(api, world.case_id, who=LAB_TECH)[0] == 403
    assert _disconnect(api, world.case_id, who=VERIFIED_PATIENT)[0] == 403
    assert _disconnect(api, world.case_id, who=CLINICIAN_2)[0] == 404
    _ok(_my_case(api, world.case_id))
    # When the owner disconnects the patient
    done = _ok(_disconnect(api, world.case_id))
    assert done["caseId"] == world.case_id and done["disconnectedAt"]
    # Then every patient route on that case answers as for a case they never had
    export_path = f"/me/passport/cases/{world.case_id}/exports/{export['exportId']}"
    for status, body in (
        _my_case(api, world.case_id),
        _download(api, world.case_id, world.file_id),
        api("GET", route + "/{exportId}", export_path, who=VERIFIED_PATIENT),
        api("POST", route, f"/me/passport/cases/{world.case_id}/exports", who=VERIFIED_PATIENT),
        api(
            "GET",
            "/me/passport/cases/{caseId}/access-log",
            f"/me/passport/cases/{world.case_id}/access-log",
            who=VERIFIED_PATIENT,
        ),
    ):
        assert (status, body["code"]) == (404, "CASE_NOT_FOUND")
    # ...the case is gone from their Passport, and their feed never named it
    assert _ok(api("GET", "/me/passport/cases", who=VERIFIED_PATIENT))["items"] == []
    assert world.case_id not in str(_feed(api))
    # ...the clinic sees no connection, a second disconnect is 404, and the act is audited
    status, body = api("GET", "/cases/{caseId}/passport", f"/cases/{world.case_id}/passport")
    assert (status, body["code"]) == (404, "PATIENT_NOT_CONNECTED")
    status, body = _disconnect(api, world.case_id)
    assert (status, body["code"]) == (404, "PATIENT_NOT_CONNECTED")
    audit = _ok(api("GET", "/cases/{caseId}/audit", f"/cases/{world.case_id}/audit", who=CLINICIAN))
    assert "passport.disconnect" in [r["action"] for r in audit["items"]]
    # When the clinic connects the patient again, it starts afresh (Initial Documentation only)
    again = _ok(_connect(api, world.case_id), 201)
    assert again["sharedGalleries"] == ["initial-documentation"] and again["version"] == 1
    _ok(_download(api, world.case_id, world.file_id))


def test_the_patient_is_told_when_connected_and_when_something_new_is_shared(api: Api) -> None:
    from dataclasses import replace

    noa = Principal(user_id="u-patient-noa", email="noa@mail.test", name="Noa Levi", role=Role.PATIENT)
    verified_noa = replace(noa, email_verified=True)
    # Given a case with a photo; Noa's address has had no mail and her feed is empty
    case_id = _new_case(api)
    photo = _available_photo(api, case_id, CLINICIAN)
    _move(api, case_id, photo, "smile-design")
    assert _sent_to(noa.email) == [] and _feed(api, verified_noa) == []
    # When the clinic connects her
    _ok(_connect(api, case_id, noa.email), 201)
    # Then the invitation is emailed and the news is in her feed
    assert len(_sent_to(noa.email)) == 1
    assert [n["kind"] for n in _feed(api, verified_noa)] == ["PassportConnected"]
    # When the clinic shares Smile Design
    share = "/cases/{caseId}/passport/galleries/{galleryId}"
    path = f"/cases/{case_id}/passport/galleries/smile-design"
    _ok(api("PUT", share, path))
    # Then one more email and one more notice, neither naming the case, patient, gallery or file
    mails = _sent_to(noa.email)
    assert len(mails) == 2
    feed = _feed(api, verified_noa)
    assert sorted(n["kind"] for n in feed) == ["PassportConnected", "PassportShared"]
    for text in (mails[-1].body, str(feed)):
        for secret in (case_id, "Maria", "smile.png", "Smile Design", "smile-design", "Crown"):
            assert secret not in text, (secret, text)
    assert "/passport" in mails[-1].body
    # When the same gallery is shared again (nothing new) or a gallery is unshared: no notice
    _ok(api("PUT", share, path))
    _ok(api("DELETE", share, path))
    assert len(_sent_to(noa.email)) == 2 and len(_feed(api, verified_noa)) == 2
    # ...and the notices are the verified address's: the unverified account and others see none
    assert _feed(api, noa) == [] and _feed(api, OTHER_PATIENT) == []
