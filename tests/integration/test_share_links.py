"""Share links end to end through the handlers: the owner creates, lists, revokes and reads the
access log; a guest with no account opens the view and downloads, within the link's galleries
only, and gets 410 once the link expired (at 24 h, even before TTL) or was revoked."""

from __future__ import annotations

import re
from typing import Any

import pytest

from caseroom.clock import FixedClock
from tests.conftest import CLINICIAN, CLINICIAN_2, LAB_TECH, SOURCE_IP
from tests.integration.test_access_matrix import Api, _available_photo, _ok, api, build_world

__all__ = ["api"]  # the fixture


def _create(api: Api, case_id: str, **body: Any) -> dict[str, Any]:
    path = f"/cases/{case_id}/share-links"
    return _ok(api("POST", "/cases/{caseId}/share-links", path, who=CLINICIAN, body=body), 201)


def _guest(
    api: Api, token: str | None, route: str = "/shared", path: str | None = None, **kw: Any
) -> tuple[int, Any]:
    headers = {"x-share-token": token} if token is not None else {}
    headers.update(kw.pop("headers", {}))
    return api(kw.pop("method", "GET"), route, path or route, who=None, headers=headers, **kw)


def _download(api: Api, token: str, file_id: str, **kw: Any) -> tuple[int, Any]:
    route = "/shared/files/{fileId}/download"
    return _guest(api, token, route, f"/shared/files/{file_id}/download", **kw)


def test_a_guest_sees_the_chosen_galleries_and_downloads_within_them(api: Api) -> None:
    # Given a case with a photo in Initial Documentation and another in a surgery gallery
    world = build_world(api, "GET /cases/{caseId}/files/{fileId}")
    gallery = _ok(
        api(
            "POST", "/cases/{caseId}/galleries", f"/cases/{world.case_id}/galleries", body={"name": "Surgery"}
        ),
        201,
    )["galleryId"]
    surgery_photo = _available_photo(api, world.case_id, CLINICIAN)
    path = f"/cases/{world.case_id}/files/{surgery_photo}"
    _ok(api("PATCH", "/cases/{caseId}/files/{fileId}", path, body={"galleryId": gallery}))
    # When the owner shares Initial Documentation only, without the patient's name
    link = _create(api, world.case_id, galleryIds=["initial-documentation"], note="For Dr. Lee")
    assert link["state"] == "active" and len(link["token"]) == 43
    # (the link to hand over is the web app's guest page, the token after `#`: never sent to a server)
    assert link["url"] == f"https://app.caseroom.example/#/guest/{link['token']}"
    assert link["expiresAt"] == "2026-11-03T09:00:00.000Z"  # 24 h from creation by default
    # Then the guest sees that gallery and its file, never the patient's name, Rx or the other gallery
    view = _ok(_guest(api, link["token"]))
    assert view["caseId"] == world.case_id and view.get("patientName") is None
    assert [g["galleryId"] for g in view["galleries"]] == ["initial-documentation"]
    assert [f["fileId"] for f in view["galleries"][0]["files"]] == [world.file_id]
    assert "rxDescription" not in str(view) and "Maria" not in str(view)
    download = _ok(_download(api, link["token"], world.file_id))
    assert download["expiresInSeconds"] == 600 and "X-Amz-Expires=600" in download["url"]
    # ...and a file outside the link's galleries is refused
    status, body = _download(api, link["token"], surgery_photo)
    assert (status, body["code"]) == (403, "ROLE_NOT_ALLOWED")
    # The owner sees who opened and downloaded what, from where
    log_path = f"/cases/{world.case_id}/share-links/{link['linkId']}/access-log"
    log = _ok(api("GET", "/cases/{caseId}/share-links/{linkId}/access-log", log_path))["items"]
    assert [(e["action"], e.get("fileId")) for e in log][:2] == [
        ("downloaded", world.file_id),
        ("opened", None),
    ]
    assert all(e["sourceIp"] == SOURCE_IP for e in log)
    links = _ok(api("GET", "/cases/{caseId}/share-links", f"/cases/{world.case_id}/share-links"))["items"]
    assert links[0]["firstOpenedAt"] == "2026-11-02T09:00:00.000Z" and "token" not in links[0]


def test_the_patient_name_only_when_the_owner_chose(api: Api) -> None:
    world = build_world(api)
    link = _create(api, world.case_id, showPatientName=True)
    view = _ok(_guest(api, link["token"]))
    assert view["patientName"] == "Maria Garcia"
    assert [g["galleryId"] for g in view["galleries"]][:4] == [
        "initial-documentation",
        "rx",
        "smile-design",
        "video-simulation",
    ]


@pytest.mark.parametrize(
    ("moved_seconds", "status", "code"),
    [(24 * 3600 - 1, 200, ""), (24 * 3600 + 1, 410, "SHARE_LINK_EXPIRED")],
)
def test_the_24_hour_boundary(
    api: Api, clock: FixedClock, moved_seconds: int, status: int, code: str
) -> None:
    world = build_world(api, "GET /cases/{caseId}/files/{fileId}")
    link = _create(api, world.case_id)
    clock.advance(seconds=moved_seconds)
    for result in (_guest(api, link["token"]), _download(api, link["token"], world.file_id)):
        assert result[0] == status, result
        if code:
            assert result[1]["code"] == code


def test_a_request_that_straddles_the_expiry_is_judged_by_when_it_arrived(
    api: Api, clock: FixedClock
) -> None:
    from datetime import datetime, timedelta

    from caseroom.sharing import routes as sharing_routes
    from caseroom.sharing.logic import ShareService

    class Ticking:
        """Each reading is 300 ms after the last: a slow request crosses the boundary inside."""

        def __init__(self, start: datetime) -> None:
            self.at = start

        def now(self) -> datetime:
            self.at += timedelta(milliseconds=300)
            return self.at

    world = build_world(api, "GET /cases/{caseId}/files/{fileId}")
    link = _create(api, world.case_id)
    expires = datetime.fromisoformat(link["expiresAt"].replace("Z", "+00:00"))
    # Given a request arriving 400 ms before the link expires, whose later readings are past it
    sharing_routes.use_service(ShareService(clock=Ticking(expires - timedelta(milliseconds=700))))
    # Then it is served as a whole (not refused half way as an unknown case)
    status, body = _download(api, link["token"], world.file_id)
    assert status == 200, body
    # ...and one arriving after the expiry is refused as expired
    sharing_routes.use_service(ShareService(clock=Ticking(expires)))
    status, body = _download(api, link["token"], world.file_id)
    assert (status, body["code"]) == (410, "SHARE_LINK_EXPIRED")
    sharing_routes.use_service(ShareService(clock=clock))


def test_a_link_cannot_live_longer_than_24_hours(api: Api) -> None:
    world = build_world(api)
    path = f"/cases/{world.case_id}/share-links"
    status, body = api("POST", "/cases/{caseId}/share-links", path, body={"expiresInMinutes": 24 * 60 + 1})
    assert (status, body["code"]) == (422, "VALIDATION_FAILED")


def test_revocation_is_immediate_and_final(api: Api) -> None:
    world = build_world(api, "GET /cases/{caseId}/files/{fileId}")
    link = _create(api, world.case_id)
    _ok(_guest(api, link["token"]))
    path = f"/cases/{world.case_id}/share-links/{link['linkId']}/revoke"
    revoked = _ok(api("POST", "/cases/{caseId}/share-links/{linkId}/revoke", path))
    assert revoked["state"] == "revoked"
    for result in (_guest(api, link["token"]), _download(api, link["token"], world.file_id)):
        assert (result[0], result[1]["code"]) == (410, "SHARE_LINK_REVOKED")
    # Revoking again changes nothing; a new link works
    assert (
        _ok(api("POST", "/cases/{caseId}/share-links/{linkId}/revoke", path))["revokedAt"]
        == revoked["revokedAt"]
    )
    _ok(_guest(api, _create(api, world.case_id)["token"]))


def test_unknown_malformed_and_tampered_tokens_answer_alike_and_guessing_is_throttled(api: Api) -> None:
    world = build_world(api)
    token = _create(api, world.case_id)["token"]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    answers = [_guest(api, t) for t in (tampered, "x" * 43, "short", token + "x")]
    assert {(s, b["code"], b["message"]) for s, b in answers} == {
        (404, "SHARE_LINK_NOT_FOUND", "No such share link.")
    }
    status, body = _guest(api, None)
    assert (status, body["code"]) == (401, "UNAUTHENTICATED")
    for _ in range(20):
        _guest(api, "y" * 43)
    status, body = _guest(api, token)  # the same address is now refused even with a good token
    assert (status, body["code"]) == (429, "TOO_MANY_ATTEMPTS")


def test_only_the_owner_manages_links(api: Api) -> None:
    world = build_world(api)
    path = f"/cases/{world.case_id}/share-links"
    assert api("POST", "/cases/{caseId}/share-links", path, who=CLINICIAN_2, body={})[0] == 404
    assert api("POST", "/cases/{caseId}/share-links", path, who=LAB_TECH, body={})[0] == 403
    status, body = api("POST", "/cases/{caseId}/share-links", path, body={"galleryIds": ["g-000000000000"]})
    assert (status, body["code"]) == (404, "GALLERY_NOT_FOUND")


def test_an_email_code_opens_the_view_and_names_the_guest(api: Api) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    world = build_world(api)
    link = _create(api, world.case_id, requireEmailCode=True)
    status, body = _guest(api, link["token"])
    assert (status, body["code"]) == (403, "EMAIL_CODE_REQUIRED")
    sent = _ok(
        _guest(api, link["token"], "/shared/email-code", method="POST", body={"email": "Lee@Ortho.test"}), 201
    )
    message = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages[-1]
    code = re.search(r"\b(\d{6})\b", message.body).group(1)  # type: ignore[union-attr]
    confirm = "/shared/email-code/confirm"
    wrong = "000000" if code != "000000" else "111111"
    status, body = _guest(
        api, link["token"], confirm, method="POST", body={"challengeId": sent["challengeId"], "code": wrong}
    )
    assert (status, body["code"]) == (400, "EMAIL_CODE_INVALID")
    session = _ok(
        _guest(
            api,
            link["token"],
            confirm,
            method="POST",
            body={"challengeId": sent["challengeId"], "code": code},
        )
    )["session"]
    # The code is used up; the session opens the view, and the log names the guest
    status, _ = _guest(
        api, link["token"], confirm, method="POST", body={"challengeId": sent["challengeId"], "code": code}
    )
    assert status == 400
    _ok(_guest(api, link["token"], headers={"x-share-session": session}))
    log_path = f"/cases/{world.case_id}/share-links/{link['linkId']}/access-log"
    log = _ok(api("GET", "/cases/{caseId}/share-links/{linkId}/access-log", log_path))["items"]
    assert log[0]["action"] == "opened" and log[0]["guestEmail"] == "lee@ortho.test"


def test_email_code_attempts_are_limited(api: Api) -> None:
    world = build_world(api)
    link = _create(api, world.case_id, requireEmailCode=True)
    sent = _ok(
        _guest(api, link["token"], "/shared/email-code", method="POST", body={"email": "a@b.test"}), 201
    )
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    message = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages[-1]
    code = re.search(r"\b(\d{6})\b", message.body).group(1)  # type: ignore[union-attr]
    wrong = "000000" if code != "000000" else "111111"
    body = {"challengeId": sent["challengeId"], "code": wrong}
    for _ in range(5):
        assert _guest(api, link["token"], "/shared/email-code/confirm", method="POST", body=body)[0] == 400
    right = {"challengeId": sent["challengeId"], "code": code}
    status, answer = _guest(api, link["token"], "/shared/email-code/confirm", method="POST", body=right)
    assert (status, answer["code"]) == (400, "EMAIL_CODE_INVALID")  # attempts used up: even the right code


def _owner_notices(api: Api) -> list[tuple[str, str]]:
    items = _ok(api("GET", "/me/notifications", who=CLINICIAN))["items"]
    return [(n["kind"], n["subjectId"]) for n in items if n["kind"].startswith("ShareLink")]


def test_the_owner_is_told_when_a_link_is_first_opened(api: Api) -> None:
    world = build_world(api)
    link = _create(api, world.case_id)
    assert _owner_notices(api) == []
    _ok(_guest(api, link["token"]))
    _ok(_guest(api, link["token"]))
    assert _owner_notices(api) == [("ShareLinkFirstOpened", link["linkId"])]  # once


def test_the_owner_is_told_an_hour_before_a_link_expires_unless_revoked(api: Api, clock: FixedClock) -> None:
    from caseroom import aws
    from caseroom.settings import get_settings
    from caseroom.sharing.notices import on_expiry_timer

    world = build_world(api)
    kept, revoked = _create(api, world.case_id), _create(api, world.case_id)
    # The timer is set at expiry - 1 h
    schedule = aws.client("scheduler").get_schedule(
        Name=f"share-expiry-{kept['linkId']}", GroupName=get_settings().schedule_group
    )
    assert schedule["ScheduleExpression"] == "at(2026-11-03T08:00:00)"
    path = f"/cases/{world.case_id}/share-links/{revoked['linkId']}/revoke"
    _ok(api("POST", "/cases/{caseId}/share-links/{linkId}/revoke", path))
    clock.advance(hours=23)
    # When the timers fire (twice: timers are at least once)
    for _ in range(2):
        on_expiry_timer({"caseId": world.case_id, "linkId": kept["linkId"]}, clock)
        assert not on_expiry_timer({"caseId": world.case_id, "linkId": revoked["linkId"]}, clock)
    # Then the owner is told once, about the link still alive
    assert _owner_notices(api) == [("ShareLinkExpiring", kept["linkId"])]


def test_active_members_make_links_only_when_the_owner_allows_and_revoke_their_own(api: Api) -> None:
    from tests.conftest import PENDING_COLLEAGUE, REMOVED_COLLEAGUE, SURGEON

    # Given a case whose team has an active member (and a pending and a removed one)
    world = build_world(api, "GET /cases/{caseId}/team")
    links = "/cases/{caseId}/share-links"
    path = f"/cases/{world.case_id}/share-links"
    policy_route = "/cases/{caseId}/share-links/policy"
    policy_path = f"/cases/{world.case_id}/share-links/policy"
    owners = _create(api, world.case_id)
    # When the policy is as it starts: members may not create links
    assert _ok(api("GET", policy_route, policy_path, who=SURGEON))["membersMayCreate"] is False
    status, body = api("POST", links, path, who=SURGEON, body={})
    assert (status, body["code"]) == (403, "ROLE_NOT_ALLOWED")
    # ...and only the owner changes the policy
    allow = {"membersMayCreate": True}
    status, body = api("PUT", policy_route, policy_path, who=SURGEON, body=allow)
    assert (status, body["code"]) == (403, "ROLE_NOT_ALLOWED")
    assert _ok(api("PUT", policy_route, policy_path, who=CLINICIAN, body=allow))["membersMayCreate"] is True
    # Then the active member creates a link; pending and removed colleagues still cannot
    made = _ok(api("POST", links, path, who=SURGEON, body={"galleryIds": ["initial-documentation"]}), 201)
    assert made["createdBy"] == SURGEON.user_id
    for who in (PENDING_COLLEAGUE, REMOVED_COLLEAGUE):
        status, body = api("POST", links, path, who=who, body={})
        assert (status, body["code"]) == (404, "CASE_NOT_FOUND")
    # ...the member lists only their own links; the owner lists every link
    mine = _ok(api("GET", links, path, who=SURGEON))["items"]
    assert [link["linkId"] for link in mine] == [made["linkId"]]
    assert {link["linkId"] for link in _ok(api("GET", links, path))["items"]} == {
        made["linkId"],
        owners["linkId"],
    }
    # ...the member reads their link's log, but not the owner's link's, nor revokes it
    log = "/cases/{caseId}/share-links/{linkId}/access-log"
    revoke = "/cases/{caseId}/share-links/{linkId}/revoke"
    for route in (log, revoke):
        method = "GET" if route == log else "POST"
        theirs = route.format(caseId=world.case_id, linkId=owners["linkId"])
        status, body = api(method, route, theirs, who=SURGEON)
        assert (status, body["code"]) == (403, "ROLE_NOT_ALLOWED"), route
    _ok(api("GET", log, log.format(caseId=world.case_id, linkId=made["linkId"]), who=SURGEON))
    # When the owner stops members making links, the member still revokes their own link
    _ok(api("PUT", policy_route, policy_path, who=CLINICIAN, body={"membersMayCreate": False}))
    assert api("POST", links, path, who=SURGEON, body={})[0] == 403
    revoked = _ok(
        api("POST", revoke, revoke.format(caseId=world.case_id, linkId=made["linkId"]), who=SURGEON)
    )
    assert revoked["state"] == "revoked"
    status, body = _guest(api, made["token"])
    assert (status, body["code"]) == (410, "SHARE_LINK_REVOKED")
    # ...and the owner revokes any link, a member's included
    second = _ok(api("POST", links, path, who=CLINICIAN, body={}), 201)
    _ok(api("POST", revoke, revoke.format(caseId=world.case_id, linkId=second["linkId"])))
    # ...while the lab, which is not a member, neither reads nor sets the policy, nor makes links
    assert api("GET", policy_route, policy_path, who=LAB_TECH)[0] == 403
    assert api("PUT", policy_route, policy_path, who=LAB_TECH, body=allow)[0] == 403
    assert api("POST", links, path, who=LAB_TECH, body={})[0] == 403


def test_bad_input_on_the_owner_side_has_stable_codes_and_echoes_nothing(api: Api) -> None:
    world = build_world(api)
    policy = "/cases/{caseId}/share-links/policy"
    path = policy.format(caseId=world.case_id)
    # Not a JSON boolean, an unknown key, no body: 422, and the value sent is not echoed
    for body in ({"membersMayCreate": "yes-please"}, {"membersMayCreate": 1}, {"everyone": True}, {}):
        status, answer = api("PUT", policy, path, body=body)
        assert (status, answer["code"]) == (422, "VALIDATION_FAILED"), body
        assert "yes-please" not in str(answer) and "everyone" not in str(answer)
    status, answer = api(
        "POST",
        "/cases/{caseId}/share-links",
        f"/cases/{world.case_id}/share-links",
        body={"showPatientName": "yes"},
    )
    assert (status, answer["code"]) == (422, "VALIDATION_FAILED")
    # Unknown, malformed and another case's link ids under my case: 404 SHARE_LINK_NOT_FOUND
    other_case = _ok(
        api(
            "POST",
            "/cases",
            body={"patientName": "Ana Ruiz", "rxDescription": "Crown", "teeth": ["11"], "caseType": "crown"},
        ),
        201,
    )["caseId"]
    theirs = _create(api, other_case)["linkId"]
    revoke = "/cases/{caseId}/share-links/{linkId}/revoke"
    for link_id in ("0" * 16, "not-a-link-id", theirs):
        status, answer = api("POST", revoke, revoke.format(caseId=world.case_id, linkId=link_id))
        assert (status, answer["code"]) == (404, "SHARE_LINK_NOT_FOUND"), link_id
        assert link_id not in str(answer)
    # A case I do not own: 404 CASE_NOT_FOUND, the same as a case that does not exist
    for case_id in (world.case_id, "ZZZZ-ZZZZ-ZZZZ"):
        status, answer = api(
            "PUT", policy, policy.format(caseId=case_id), who=CLINICIAN_2, body={"membersMayCreate": True}
        )
        assert (status, answer["code"]) == (404, "CASE_NOT_FOUND")


def test_a_members_links_end_with_their_membership(api: Api) -> None:
    from tests.conftest import SURGEON

    # Given a member who made a link while the owner allowed it, and the owner's own link
    world = build_world(api, "GET /cases/{caseId}/team")
    policy = "/cases/{caseId}/share-links/policy"
    _ok(api("PUT", policy, policy.format(caseId=world.case_id), body={"membersMayCreate": True}))
    links = "/cases/{caseId}/share-links"
    path = links.format(caseId=world.case_id)
    members = _ok(api("POST", links, path, who=SURGEON, body={"galleryIds": ["initial-documentation"]}), 201)
    owners = _create(api, world.case_id)
    _ok(_guest(api, members["token"]))
    # When the member leaves the team
    _ok(api("POST", "/cases/{caseId}/team/leave", f"/cases/{world.case_id}/team/leave", who=SURGEON))
    # Then their link is refused at once as revoked (TTL or a job would be late), the owner's lives
    status, body = _guest(api, members["token"])
    assert (status, body["code"]) == (410, "SHARE_LINK_REVOKED")
    assert str(members["token"]) not in str(body)
    _ok(_guest(api, owners["token"]))
    # ...and the refusal is in the link's access log for the owner
    log = "/cases/{caseId}/share-links/{linkId}/access-log"
    entries = _ok(api("GET", log, log.format(caseId=world.case_id, linkId=members["linkId"])))["items"]
    assert any(entry.get("action") == "refused-revoked" for entry in entries), entries
