"""The authorization matrix, generated from the routes: every route in the manifest, called by
every relationship (owner, another clinician, the case's lab, another lab, a patient, no token)
with real ids made through the API, against what caseroom.access.RIGHTS allows.

It fails on any 2xx the table does not allow, on a denial with another status or code than the
policy's (404 CASE_NOT_FOUND for a case the caller cannot see, 403 ROLE_NOT_ALLOWED when they see
it but lack the right), on a route with no declared action or no request below, and on id
tampering (another case's file under your case, another endpoint's delivery under yours).
A new route is covered the moment it is declared: without an entry in REQUESTS this test fails.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from caseroom import access, aws, dynamo
from caseroom.access import Action, Relationship, Scope
from caseroom.auth import Principal, Role
from caseroom.cases import routes as case_routes
from caseroom.cases.logic import CaseService
from caseroom.chat import routes as chat_routes
from caseroom.chat.logic import ChatService
from caseroom.clock import FixedClock
from caseroom.files import routes as file_routes
from caseroom.files.logic import FileService
from caseroom.passport import routes as passport_routes
from caseroom.passport.logic import PassportService
from caseroom.planning import routes as planning_routes
from caseroom.planning.logic import PlanningService
from caseroom.route_support import declared_action
from caseroom.settings import get_settings
from caseroom.sharing import routes as sharing_routes
from caseroom.sharing.logic import ShareService
from caseroom.team import routes as team_routes
from caseroom.team.logic import TeamService
from infra import manifest
from tests.conftest import (
    CLINICIAN,
    CLINICIAN_2,
    DECLINED_COLLEAGUE,
    LAB_TECH,
    OTHER_LAB,
    PATIENT,
    PENDING_COLLEAGUE,
    REMOVED_COLLEAGUE,
    START,
    SURGEON,
    lambda_context,
)
from tests.support.route_caller import route_caller

MiB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
CROWN = {"patientName": "Maria Garcia", "rxDescription": "Crown", "teeth": ["11"], "caseType": "crown"}
BLOCK = {"durationMinutes": 60, "timezone": "Europe/Madrid", "meetingUrl": "https://meet.lab.test/room"}

Api = Callable[..., tuple[int, Any]]
VERIFIED_PATIENT = replace(PATIENT, email_verified=True)
OTHER_PATIENT = Principal(
    user_id="u-patient-kim", email="kim@mail.test", name="Kim Lee", role=Role.PATIENT, email_verified=True
)
# A verified patient connected to another case (of the same clinician), never to the world's.
ANOTHER_CASES_PATIENT = Principal(
    user_id="u-patient-lee", email="lee@mail.test", name="Lee Park", role=Role.PATIENT, email_verified=True
)
CONNECT_ROUTE = "POST /cases/{caseId}/passport"

# What each caller holds, named by the test (never computed by the policy under test).
CALLERS: dict[str, tuple[Principal | None, frozenset[Relationship]]] = {
    "owner": (
        CLINICIAN,
        frozenset(
            {
                Relationship.ANYONE,
                Relationship.SIGNED_IN,
                Relationship.CLINICIAN,
                Relationship.OWNER,
                Relationship.ENDPOINT_OWNER,
            }
        ),
    ),
    "other clinician": (
        CLINICIAN_2,
        frozenset({Relationship.ANYONE, Relationship.SIGNED_IN, Relationship.CLINICIAN}),
    ),
    "case's lab": (
        LAB_TECH,
        frozenset(
            {Relationship.ANYONE, Relationship.SIGNED_IN, Relationship.LAB_MEMBER, Relationship.CASE_LAB}
        ),
    ),
    "other lab": (
        OTHER_LAB,
        frozenset({Relationship.ANYONE, Relationship.SIGNED_IN, Relationship.LAB_MEMBER}),
    ),
    # Patients: the world's case is connected to PATIENT's address. The same account with its
    # email not verified holds nothing; another verified patient holds only their account.
    "patient (email not verified)": (PATIENT, frozenset({Relationship.ANYONE, Relationship.SIGNED_IN})),
    "connected patient": (
        VERIFIED_PATIENT,
        frozenset(
            {
                Relationship.ANYONE,
                Relationship.SIGNED_IN,
                Relationship.PATIENT,
                Relationship.CONNECTED_PATIENT,
            }
        ),
    ),
    "unconnected patient": (
        OTHER_PATIENT,
        frozenset({Relationship.ANYONE, Relationship.SIGNED_IN, Relationship.PATIENT}),
    ),
    "patient of another case": (
        ANOTHER_CASES_PATIENT,
        frozenset({Relationship.ANYONE, Relationship.SIGNED_IN, Relationship.PATIENT}),
    ),
    "no token": (None, frozenset({Relationship.ANYONE})),
    # Guests: no JWT, a share link's token in X-Share-Token (on every route; only the /shared
    # routes read it). The world's valid link covers Initial Documentation, where its file is.
    "guest (valid link)": (
        None,
        frozenset({Relationship.ANYONE, Relationship.LINK_HOLDER, Relationship.GUEST}),
    ),
    "guest (expired link)": (None, frozenset({Relationship.ANYONE})),
    "guest (revoked link)": (None, frozenset({Relationship.ANYONE})),
    "guest (another case's link)": (
        None,
        frozenset({Relationship.ANYONE, Relationship.LINK_HOLDER, Relationship.GUEST}),
    ),
    # Team-Up: every world invites these four; only the active member holds MEMBER.
    "active member": (
        SURGEON,
        frozenset({Relationship.ANYONE, Relationship.SIGNED_IN, Relationship.CLINICIAN, Relationship.MEMBER}),
    ),
    "pending member": (
        PENDING_COLLEAGUE,
        frozenset({Relationship.ANYONE, Relationship.SIGNED_IN, Relationship.CLINICIAN}),
    ),
    "declined member": (
        DECLINED_COLLEAGUE,
        frozenset({Relationship.ANYONE, Relationship.SIGNED_IN, Relationship.CLINICIAN}),
    ),
    "removed member": (
        REMOVED_COLLEAGUE,
        frozenset({Relationship.ANYONE, Relationship.SIGNED_IN, Relationship.CLINICIAN}),
    ),
}
GUEST_LINKS = {
    "guest (valid link)": "valid",
    "guest (expired link)": "expired",
    "guest (revoked link)": "revoked",
    "guest (another case's link)": "other",
}
# What a guest whose link is dead gets on the /shared routes, whatever it asks.
DEAD_LINKS = {"expired": (410, "SHARE_LINK_EXPIRED"), "revoked": (410, "SHARE_LINK_REVOKED")}
DENIAL_CODES = {
    "CASE_NOT_FOUND",
    "ROLE_NOT_ALLOWED",
    "UNAUTHENTICATED",
    "WEBHOOK_ENDPOINT_NOT_FOUND",
    "SHARE_LINK_EXPIRED",
    "SHARE_LINK_REVOKED",
    "SHARE_LINK_NOT_FOUND",
    "EMAIL_CODE_REQUIRED",
}


@dataclass
class World:
    """Real objects made through the API, by their rightful owners."""

    api: Api
    case_id: str = ""
    version: int = 1
    file_id: str = ""  # an available photo, uploaded by `made_by`
    upload_id: str = ""  # a pending multipart upload, started by `made_by`
    gallery_id: str = "initial-documentation"
    block_id: str = ""  # a free block of the case's lab
    endpoint_id: str = ""
    delivery_id: str = ""
    invitation_id: str = ""  # the pending colleague's invitation
    made_by: str = "owner"
    extra: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # link state -> token
    link_id: str = ""  # the valid link's id
    export_id: str = ""  # the connected patient's export
    room: str = "team"  # the chat room the path names
    message_id: str = ""  # the owner's message in that room

    def ids(self) -> dict[str, str]:
        return {
            "linkId": self.link_id,
            "exportId": self.export_id,
            "caseId": self.case_id,
            "fileId": self.file_id,
            "galleryId": self.gallery_id,
            "endpointId": self.endpoint_id,
            "deliveryId": self.delivery_id,
            "notificationId": "n" * 32,
            "invitationId": self.invitation_id,
            "userId": SURGEON.user_id,
            "room": self.room,
            "messageId": self.message_id,
        }


def _ok(result: tuple[int, Any], expected: int = 200) -> Any:
    status, body = result
    assert status == expected, body
    return body


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_DAYS = iter(range(3, 10_000, 2))  # every world's blocks on days of their own: never overlapping


def build_world(
    api: Api, route_key: str = "", *, planning: str = "", made_by: str = "owner", room: str = "team"
) -> World:
    """A case of CLINICIAN's sent to LAB_TECH's lab, and what `route_key` names in it.
    planning: "" (none), "ready" (Ready to Plan with a free block), "booked" (a booked session
    and another free block). made_by: who uploads the file and starts the upload. room: the
    chat room the path names (the owner's message is in it)."""
    world = World(api=api, made_by=made_by, room=room)
    case = _ok(api("POST", "/cases", who=CLINICIAN, body=CROWN), 201)
    assert case["labId"] == LAB_TECH.lab_id
    world.case_id, world.version = case["caseId"], case["version"]
    if route_key != CONNECT_ROUTE:
        path = f"/cases/{world.case_id}/passport"
        _ok(api("POST", "/cases/{caseId}/passport", path, who=CLINICIAN, body={"email": PATIENT.email}), 201)
    if "{caseId}" in route_key or route_key.startswith("GET /me/passport/"):
        other_case = _ok(api("POST", "/cases", who=CLINICIAN, body=CROWN), 201)["caseId"]
        body = {"email": ANOTHER_CASES_PATIENT.email}
        path = f"/cases/{other_case}/passport"
        _ok(api("POST", "/cases/{caseId}/passport", path, who=CLINICIAN, body=body), 201)
    if "/share-links" in route_key:  # the owner lets active members make links
        path = f"/cases/{world.case_id}/share-links/policy"
        body = {"membersMayCreate": True}
        _ok(api("PUT", "/cases/{caseId}/share-links/policy", path, who=CLINICIAN, body=body))
    if "{caseId}" in route_key or route_key in TEAM_ACCOUNT_ROUTES:
        _team(api, world)
    uploader = CALLERS[made_by][0]
    if "{fileId}" in route_key and "/uploads/" not in route_key:
        world.file_id = _available_photo(api, world.case_id, uploader)
    if "/uploads/{fileId}" in route_key:
        world.upload_id = _pending_multipart(api, world.case_id, uploader)
    if planning:
        _plan(api, world, booked=planning == "booked")
    if "{endpointId}" in route_key:
        body = {"url": "https://hooks.clinic.test/in", "eventTypes": ["CaseCreated"]}
        world.endpoint_id = _ok(api("POST", "/webhooks", who=CLINICIAN, body=body), 201)["endpointId"]
    if " /shared" in route_key or "{linkId}" in route_key:
        _share(api, world, email_code="/email-code" in route_key)
    if "{exportId}" in route_key:
        path = f"/me/passport/cases/{world.case_id}/exports"
        route = "/me/passport/cases/{caseId}/exports"
        world.export_id = _ok(api("POST", route, path, who=VERIFIED_PATIENT), 202)["exportId"]
    if "{messageId}" in route_key:
        path = f"/cases/{world.case_id}/rooms/{room}/messages"
        body = {"text": "Margin at 0.5 mm"}
        route = "/cases/{caseId}/rooms/{room}/messages"
        world.message_id = _ok(api("POST", route, path, who=CLINICIAN, body=body), 201)["messageId"]
    if "{deliveryId}" in route_key:
        path = f"/webhooks/{world.endpoint_id}/test"
        world.delivery_id = _ok(api("POST", "/webhooks/{endpointId}/test", path, who=CLINICIAN), 202)[
            "deliveryId"
        ]
    return world


def _share(api: Api, world: World, email_code: bool) -> None:
    """The world's links: a valid one (Initial Documentation), an expired one (made 25 h ago), a
    revoked one, and a valid link of another case."""
    from caseroom.audit import RequestMeta
    from caseroom.sharing.models import CreateShareLink

    def create(case_id: str) -> dict[str, Any]:
        body = {"galleryIds": ["initial-documentation"], "requireEmailCode": email_code}
        path = f"/cases/{case_id}/share-links"
        return dict(_ok(api("POST", "/cases/{caseId}/share-links", path, who=CLINICIAN, body=body), 201))

    valid = create(world.case_id)
    world.links["valid"], world.link_id = valid["token"], valid["linkId"]
    revoked = create(world.case_id)
    path = f"/cases/{world.case_id}/share-links/{revoked['linkId']}/revoke"
    _ok(api("POST", "/cases/{caseId}/share-links/{linkId}/revoke", path, who=CLINICIAN))
    world.links["revoked"] = revoked["token"]
    earlier = ShareService(clock=FixedClock(START - timedelta(hours=25)))
    meta = RequestMeta(request_id="req-expired-link", source_ip="198.51.100.1")
    world.links["expired"] = earlier.create_link(
        CLINICIAN, world.case_id, CreateShareLink(require_email_code=email_code), meta
    ).token
    other_case = _ok(api("POST", "/cases", who=CLINICIAN, body=CROWN), 201)["caseId"]
    world.links["other"] = create(other_case)["token"]


# Account routes whose outcome depends on the world's team (requests, shared cases, network).
TEAM_ACCOUNT_ROUTES = {
    "GET /me/team-requests",
    "POST /me/team-requests/{invitationId}/accept",
    "POST /me/team-requests/{invitationId}/decline",
    "GET /shared/cases",
    "GET /me/network",
    "DELETE /me/network/{userId}",
}


def _team(api: Api, world: World) -> None:
    """The four colleagues, each in their state: active, pending, declined, removed."""
    invitations = "/cases/{caseId}/team/invitations"
    path = invitations.format(caseId=world.case_id)
    ids = {}
    for who in (SURGEON, PENDING_COLLEAGUE, DECLINED_COLLEAGUE, REMOVED_COLLEAGUE):
        body = {"email": who.email, "professionalRole": "surgeon"}
        ids[who.user_id] = _ok(api("POST", invitations, path, who=CLINICIAN, body=body), 201)["invitationId"]
    respond = "/me/team-requests/{invitationId}/"
    for who, answer in ((SURGEON, "accept"), (DECLINED_COLLEAGUE, "decline"), (REMOVED_COLLEAGUE, "accept")):
        route = respond + answer
        _ok(api("POST", route, route.format(invitationId=ids[who.user_id]), who=who))
    route = "/cases/{caseId}/team/members/{userId}"
    _ok(api("DELETE", route, route.format(caseId=world.case_id, userId=REMOVED_COLLEAGUE.user_id)))
    world.invitation_id = ids[PENDING_COLLEAGUE.user_id]


def _plan(api: Api, world: World, booked: bool) -> None:
    for target in ("Received", "Ready to Plan"):
        body = {"status": target, "version": world.version}
        path = f"/cases/{world.case_id}/status"
        world.version = _ok(api("PUT", "/cases/{caseId}/status", path, who=LAB_TECH, body=body))["version"]
    day = next(_DAYS)
    starts = [(START.date() + timedelta(days=day + n)).isoformat() + "T10:00" for n in (0, 1)]
    first, second = (
        _ok(api("POST", "/lab/planning/blocks", who=LAB_TECH, body={**BLOCK, "start": start}), 201)["blockId"]
        for start in starts
    )
    world.block_id = first
    if booked:
        path = f"/cases/{world.case_id}/planning"
        _ok(api("POST", "/cases/{caseId}/planning", path, who=CLINICIAN, body={"blockId": first}), 201)
        world.block_id = second
        world.version = _ok(api("GET", "/cases/{caseId}", f"/cases/{world.case_id}", who=CLINICIAN))[
            "version"
        ]


def _pending_multipart(api: Api, case_id: str, who: Principal | None) -> str:
    body = {
        "fileName": "upper.stl",
        "kind": "scan",
        "sizeBytes": 6 * MiB,
        "contentType": "model/stl",
        "sha256": "a" * 64,
    }
    ticket = _ok(api("POST", "/cases/{caseId}/uploads", f"/cases/{case_id}/uploads", who=who, body=body), 201)
    assert ticket["mode"] == "multipart"
    return str(ticket["fileId"])


def _available_photo(api: Api, case_id: str, who: Principal | None) -> str:
    from functions.file_verifier.handler import lambda_handler as verifier
    from tests.integration.test_files_api import object_created

    ticket = _ok(
        api(
            "POST",
            "/cases/{caseId}/uploads",
            f"/cases/{case_id}/uploads",
            who=who,
            body={
                "fileName": "smile.png",
                "kind": "photo",
                "sizeBytes": len(PNG),
                "contentType": "image/png",
                "sha256": _sha(PNG),
            },
        ),
        201,
    )
    key = ticket["post"]["fields"]["key"]
    aws.client("s3").put_object(
        Bucket=get_settings().files_bucket, Key=key, Body=PNG, ContentType="image/png"
    )
    assert verifier(object_created(key), lambda_context("file_verifier"))["outcome"] == "available"
    return str(ticket["fileId"])


@dataclass(frozen=True)
class Request:
    """How to call a route validly: the body (from the world) and the world it needs."""

    body: Callable[[World], dict[str, Any] | None] = lambda w: None
    planning: str = ""
    on_upload: bool = False  # the path's fileId is the pending upload, not the available file
    resource_made_by_matters: bool = False  # run once with the lab as uploader too


REQUESTS: dict[str, Request] = {
    "GET /health": Request(),
    "GET /me": Request(),
    "POST /cases": Request(body=lambda w: CROWN),
    "GET /cases": Request(),
    "GET /cases/{caseId}": Request(),
    "PATCH /cases/{caseId}": Request(body=lambda w: {"rxDescription": "Two crowns", "version": w.version}),
    "POST /cases/{caseId}/archive": Request(body=lambda w: {"version": w.version}),
    "POST /cases/{caseId}/unarchive": Request(body=lambda w: {"version": w.version}),
    "PUT /cases/{caseId}/status": Request(body=lambda w: {"status": "Received", "version": w.version}),
    "GET /cases/{caseId}/audit": Request(),
    "GET /cases/{caseId}/timeline": Request(),
    "GET /cases/{caseId}/rx-script": Request(),
    "GET /lab/cases": Request(),
    "GET /labs": Request(),
    "POST /cases/{caseId}/uploads": Request(
        body=lambda w: {
            "fileName": "smile2.png",
            "kind": "photo",
            "sizeBytes": len(PNG),
            "contentType": "image/png",
            "sha256": _sha(PNG),
        }
    ),
    "GET /cases/{caseId}/uploads/{fileId}": Request(on_upload=True, resource_made_by_matters=True),
    "POST /cases/{caseId}/uploads/{fileId}/part-urls": Request(
        body=lambda w: {"parts": [{"partNumber": 1, "sha256": "b" * 64}]},
        on_upload=True,
        resource_made_by_matters=True,
    ),
    "POST /cases/{caseId}/uploads/{fileId}/complete": Request(
        body=lambda w: {"parts": [{"partNumber": 1, "etag": "abc", "sha256": "b" * 64}]},
        on_upload=True,
        resource_made_by_matters=True,
    ),
    "DELETE /cases/{caseId}/uploads/{fileId}": Request(on_upload=True, resource_made_by_matters=True),
    "GET /cases/{caseId}/galleries": Request(),
    "POST /cases/{caseId}/galleries": Request(body=lambda w: {"name": "Surgery photos"}),
    "GET /cases/{caseId}/galleries/{galleryId}/files": Request(),
    "GET /cases/{caseId}/files/{fileId}": Request(),
    "PATCH /cases/{caseId}/files/{fileId}": Request(body=lambda w: {"fileName": "renamed.png"}),
    "DELETE /cases/{caseId}/files/{fileId}": Request(resource_made_by_matters=True),
    "GET /cases/{caseId}/files/{fileId}/download": Request(),
    "POST /lab/planning/blocks": Request(body=lambda w: {**BLOCK, "start": "2026-11-09T10:00"}),
    "GET /lab/planning/blocks": Request(),
    "GET /cases/{caseId}/planning/blocks": Request(planning="ready"),
    "POST /cases/{caseId}/planning": Request(body=lambda w: {"blockId": w.block_id}, planning="ready"),
    "GET /cases/{caseId}/planning": Request(planning="booked"),
    "GET /cases/{caseId}/planning/ics": Request(planning="booked"),
    "POST /cases/{caseId}/planning/reschedule": Request(
        body=lambda w: {"blockId": w.block_id, "version": w.version}, planning="booked"
    ),
    "POST /cases/{caseId}/planning/cancel": Request(
        body=lambda w: {"reason": "Lab closed", "version": w.version}, planning="booked"
    ),
    "POST /cases/{caseId}/planning/held": Request(body=lambda w: {"version": w.version}, planning="booked"),
    "GET /me/notification-preferences": Request(),
    "PUT /me/notification-preferences": Request(body=lambda w: {"digestHourUtc": 7}),
    "GET /me/notifications": Request(),
    "GET /me/notifications/unread-count": Request(),
    "POST /me/notifications/{notificationId}/read": Request(),
    "POST /me/notifications/read-all": Request(),
    "POST /webhooks": Request(
        body=lambda w: {"url": "https://hooks.clinic.test/b", "eventTypes": ["CaseShipped"]}
    ),
    "GET /webhooks": Request(),
    "GET /webhooks/{endpointId}": Request(),
    "DELETE /webhooks/{endpointId}": Request(),
    "POST /webhooks/{endpointId}/enable": Request(),
    "POST /webhooks/{endpointId}/rotate-secret": Request(body=lambda w: {"overlapMinutes": 0}),
    "POST /webhooks/{endpointId}/test": Request(),
    "GET /webhooks/{endpointId}/deliveries": Request(),
    "POST /webhooks/{endpointId}/deliveries/{deliveryId}/redeliver": Request(),
    "POST /cases/{caseId}/share-links": Request(body=lambda w: {"galleryIds": ["rx"], "note": "For Dr. Lee"}),
    "GET /cases/{caseId}/share-links": Request(),
    "GET /cases/{caseId}/share-links/policy": Request(),
    "PUT /cases/{caseId}/share-links/policy": Request(body=lambda w: {"membersMayCreate": False}),
    "POST /cases/{caseId}/share-links/{linkId}/revoke": Request(),
    "GET /cases/{caseId}/share-links/{linkId}/access-log": Request(),
    "GET /shared": Request(),
    "GET /shared/files/{fileId}/download": Request(),
    "POST /shared/email-code": Request(body=lambda w: {"email": "guest@ortho.test"}),
    "POST /shared/email-code/confirm": Request(body=lambda w: {"challengeId": "0" * 32, "code": "123456"}),
    CONNECT_ROUTE: Request(body=lambda w: {"email": PATIENT.email}),
    "GET /cases/{caseId}/passport": Request(),
    "DELETE /cases/{caseId}/passport": Request(),
    "PUT /cases/{caseId}/passport/galleries/{galleryId}": Request(),
    "DELETE /cases/{caseId}/passport/galleries/{galleryId}": Request(),
    "GET /me/passport/cases": Request(),
    "GET /me/passport/cases/{caseId}": Request(),
    "GET /me/passport/cases/{caseId}/files/{fileId}/download": Request(),
    "GET /me/passport/cases/{caseId}/access-log": Request(),
    "POST /me/passport/cases/{caseId}/exports": Request(),
    "GET /me/passport/cases/{caseId}/exports/{exportId}": Request(),
    "GET /cases/{caseId}/team": Request(),
    "POST /cases/{caseId}/team/invitations": Request(
        body=lambda w: {"email": "new.colleague@clinic.test", "professionalRole": "orthodontist"}
    ),
    "DELETE /cases/{caseId}/team/invitations/{invitationId}": Request(),
    "DELETE /cases/{caseId}/team/members/{userId}": Request(),
    "POST /cases/{caseId}/team/leave": Request(),
    "POST /cases/{caseId}/team/owner": Request(
        body=lambda w: {"userId": SURGEON.user_id, "version": w.version}
    ),
    "GET /me/team-requests": Request(),
    "POST /me/team-requests/{invitationId}/accept": Request(),
    "POST /me/team-requests/{invitationId}/decline": Request(),
    "GET /shared/cases": Request(),
    "GET /me/network": Request(),
    "DELETE /me/network/{userId}": Request(),
    # the room (chat): routes naming {room} run once per room, decided on that room's row
    "POST /realtime/tickets": Request(),
    "GET /cases/{caseId}/rooms": Request(),
    "GET /cases/{caseId}/rooms/{room}/messages": Request(),
    "POST /cases/{caseId}/rooms/{room}/messages": Request(body=lambda w: {"text": "Is the scan in?"}),
    "PATCH /cases/{caseId}/rooms/{room}/messages/{messageId}": Request(body=lambda w: {"text": "0.4 mm"}),
    "DELETE /cases/{caseId}/rooms/{room}/messages/{messageId}": Request(),
}
ROOMS = ("team", "patient")


def _route_functions() -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for fn in manifest.FUNCTIONS:
        app = getattr(importlib.import_module(fn.module), "app", None)
        if isinstance(app, APIGatewayHttpResolver):
            for route in app._static_routes + app._dynamic_routes:  # Powertools keeps them here
                path = re.sub(r"<(\w+)>", r"{\1}", route.path)
                found[f"{route.method} {path}"] = route.func
    return found


def action_of(route_key: str) -> Action:
    action = declared_action(_route_functions()[route_key])
    assert action is not None, f"{route_key} declares no action (caseroom.route_support.declares)"
    return action


@contextmanager
def services_on(clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """Every context's service on the test's clock, and a caller of any route (needs moto)."""
    monkeypatch.setenv("CASEROOM_MULTIPART_THRESHOLD_BYTES", str(5 * MiB))
    # Webhook URLs are resolved to refuse private addresses; a public address, offline.
    monkeypatch.setattr("caseroom.webhooks.urls.resolve", lambda host, port: ["93.184.216.34"])
    monkeypatch.setattr("caseroom.webhooks.api.send_now", lambda delivery, key: None)
    get_settings.cache_clear()
    case_routes.use_service(CaseService(clock=clock))
    file_routes.use_service(FileService(clock=clock))
    planning_routes.use_service(PlanningService(clock=clock))
    sharing_routes.use_service(ShareService(clock=clock))
    passport_routes.use_service(PassportService(clock=clock))
    team_routes.use_service(TeamService(clock=clock))
    chat_routes.use_service(ChatService(clock=clock))
    from functions.realtime import handler as realtime_handler

    realtime_handler.use_clock(clock)
    invoke = route_caller()
    try:
        yield invoke
    finally:
        _restore()


def _restore() -> None:
    from functions.realtime import handler as realtime_handler

    chat_routes.use_service(None)
    realtime_handler.use_clock(None)
    case_routes.use_service(None)
    file_routes.use_service(None)
    planning_routes.use_service(None)
    sharing_routes.use_service(None)
    passport_routes.use_service(None)
    team_routes.use_service(None)
    get_settings.cache_clear()


@pytest.fixture
def api(aws_backend: None, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    with services_on(clock, monkeypatch) as invoke:
        yield invoke


def expected(action: Action, held: frozenset[Relationship], room: str = "") -> tuple[bool, int, str]:
    """(allowed, denial status, denial code) from the table alone. A room family's action is
    decided on the row of the room the request names."""
    if action in access.ROOM_ACTIONS:
        action = access.room_action(action, access.Room(room))
    rule = access.RIGHTS[action]
    if access.allows(action, held):
        return True, 0, ""
    if rule.scope is Scope.LINK:  # public routes: no X-Share-Token (or a dead link: DEAD_LINKS)
        return False, 401, "UNAUTHENTICATED"
    if Relationship.SIGNED_IN not in held and rule.scope is not Scope.PUBLIC:
        return False, 401, "UNAUTHENTICATED"
    if rule.scope is Scope.CASE:
        sees = not access.SEES_CASE.isdisjoint(held)
        return (False, 403, "ROLE_NOT_ALLOWED") if sees else (False, 404, "CASE_NOT_FOUND")
    if rule.scope is Scope.ENDPOINT:
        return False, 404, "WEBHOOK_ENDPOINT_NOT_FOUND"
    return False, 403, "ROLE_NOT_ALLOWED"


def _held(caller: str, made_by: str, route_key: str) -> frozenset[Relationship]:
    held = set(CALLERS[caller][1])
    # The uploader of the file or upload the path names holds that relationship too, if they see
    # the case (the world's objects are made by `made_by`).
    if "{fileId}" in route_key and caller == made_by:
        held.add(Relationship.UPLOADER)
    if route_key == CONNECT_ROUTE:  # that world has no patient connected yet
        held.discard(Relationship.CONNECTED_PATIENT)
    if "/share-links" in route_key and Relationship.MEMBER in held:  # the world's policy allows it
        held.add(Relationship.LINK_MAKER)
    if "{linkId}" in route_key and caller == "owner":  # the owner made the world's links
        held.add(Relationship.LINK_CREATOR)
    if "{messageId}" in route_key and caller == "owner":  # the world's message is the owner's
        held.add(Relationship.AUTHOR)
    return frozenset(held)


def test_every_route_declares_an_action_and_has_a_matrix_entry() -> None:
    declared = {route.route_key for route in manifest.HTTP_ROUTES}
    assert set(REQUESTS) == declared, "add the new route to REQUESTS (and the table) before shipping it"
    for route_key in declared:
        assert action_of(route_key) in access.RIGHTS, route_key


def test_every_action_has_a_row_and_every_row_is_used() -> None:
    assert set(access.RIGHTS) == set(Action)
    used = {action_of(route.route_key) for route in manifest.HTTP_ROUTES}
    consumers = {Action.CASE_NOTICE_RECEIVE, Action.CASE_WEBHOOK_RECEIVE}
    # Room families are decided per room (routes naming {room}, and the WebSocket's frames)
    per_room = {a for family in access.ROOM_ACTIONS.values() for a in family.values()}
    frames = {action for action, _ in WS_FRAMES.values()}
    assert used | consumers | per_room | frames == set(Action)
    assert {action for action, _ in WS_FRAMES.values()} == set(access.ROOM_ACTIONS)


def _cases() -> list[tuple[str, str, str]]:
    runs = []
    for route_key, request in REQUESTS.items():
        for room in ROOMS if "{room}" in route_key else ("",):
            runs.append((route_key, "owner", room))
            if request.resource_made_by_matters:
                runs.append((route_key, "case's lab", room))
    return runs


@pytest.mark.parametrize(("route_key", "made_by", "room"), _cases())
def test_the_matrix(api: Api, route_key: str, made_by: str, room: str) -> None:
    """Every relationship calls the route on a fresh world; denials first, so an allowed call
    that changes something cannot hide a later denial."""
    request = REQUESTS[route_key]
    action = action_of(route_key)
    method, route = route_key.split(" ", 1)
    outcomes: dict[str, tuple[int, str]] = {}
    callers = sorted(CALLERS, key=lambda c: expected(action, _held(c, made_by, route_key), room)[0])
    room_of = {"room": room or "team"}
    shared = build_world(api, route_key, planning=request.planning, made_by=made_by, **room_of)
    for caller in callers:
        allowed, denial_status, denial_code = expected(action, _held(caller, made_by, route_key), room)
        link_state = GUEST_LINKS.get(caller)
        on_link_route = access.RIGHTS[action].scope is Scope.LINK
        if on_link_route and link_state in DEAD_LINKS:
            denial_status, denial_code = DEAD_LINKS[link_state]
        if on_link_route and link_state == "other" and "{fileId}" in route_key:
            # Their link opens their case: the world's file is not in it.
            allowed, denial_status, denial_code = False, 404, "FILE_NOT_FOUND"
        # Denials and reads change nothing, so they share one world; each allowed call that
        # writes gets a fresh one.
        fresh = allowed and method != "GET"
        world = (
            build_world(api, route_key, planning=request.planning, made_by=made_by, **room_of)
            if fresh
            else shared
        )
        ids = world.ids()
        if request.on_upload:
            ids["fileId"] = world.upload_id
        path = route.format(**ids)
        who = CALLERS[caller][0]
        headers = {"x-share-token": world.links[link_state]} if link_state and world.links else {}
        status, body = api(method, route, path, who=who, body=request.body(world), headers=headers)
        code = body.get("code", "") if isinstance(body, dict) else ""
        outcomes[caller] = (status, code)
        if allowed:
            assert status < 500 and code not in DENIAL_CODES, (route_key, caller, status, code)
        else:
            assert (status, code) == (denial_status, denial_code), (route_key, caller, status, body)
            assert not 200 <= status < 300
    allowed_callers = [c for c in CALLERS if expected(action, _held(c, made_by, route_key), room)[0]]
    assert allowed_callers, f"nobody may call {route_key}"
    # An allowed call that never succeeds would hide a broken request in this table.
    assert (
        any(200 <= outcomes[c][0] < 300 for c in allowed_callers) or route_key in EXPECTED_TO_FAIL_FOR_STATE
    ), (
        route_key,
        outcomes,
    )


# The WebSocket's frames, decided like the routes: frame -> (room family, frame body).
WS_FRAMES: dict[str, tuple[Action, Callable[[World], dict[str, Any]]]] = {
    "join": (Action.CHAT_JOIN, lambda w: {}),
    "send": (Action.CHAT_POST, lambda w: {"text": "Is the scan in?"}),
    "typing": (Action.CHAT_POST, lambda w: {}),
    "read": (Action.CHAT_READ, lambda w: {"messageId": w.message_id}),
}


@pytest.mark.parametrize("room", ROOMS)
@pytest.mark.parametrize("frame_action", sorted(WS_FRAMES))
def test_the_websocket_matrix(api: Api, frame_action: str, room: str) -> None:
    """Every caller with an account opens a connection (a ticket) and sends the frame; the
    reply is what the room's row says. Callers without an account cannot get a ticket (the
    POST /realtime/tickets row above), so they never reach a frame."""
    from tests.integration import chat_support as ws

    action, body = WS_FRAMES[frame_action]
    world = build_world(api, "WS /cases/{caseId}/rooms/{room}/messages/{messageId}", room=room)
    for caller, (who, _) in CALLERS.items():
        if who is None:
            continue
        connection_id = ws.connect(api, who)
        frame = {"action": frame_action, "caseId": world.case_id, "room": room, **body(world)}
        reply = ws.frame(connection_id, frame)
        allowed, _status, code = expected(action, _held(caller, "owner", ""), room)
        if allowed:
            assert reply["type"] != "error", (frame_action, room, caller, reply)
        else:
            assert (reply["type"], reply["code"]) == ("error", code), (frame_action, room, caller, reply)


# Allowed callers still get a domain 4xx here because of the object's state, not authorization.
EXPECTED_TO_FAIL_FOR_STATE = {
    "GET /cases/{caseId}/rx-script",  # the script is generated by an event consumer, not run here
    "POST /cases/{caseId}/uploads/{fileId}/complete",  # no part was sent to S3
    "POST /me/notifications/{notificationId}/read",  # no such notification
    "POST /webhooks/{endpointId}/enable",  # enabling an enabled endpoint is a 200 no-op; listed for safety
    "POST /shared/email-code/confirm",  # no code was sent for this challenge id
}


def test_another_cases_file_under_my_case_is_not_found(api: Api) -> None:
    mine = build_world(api, "GET /cases/{caseId}/files/{fileId}")
    # Another clinician's case and file, on the same lab.
    theirs_case = _ok(api("POST", "/cases", who=CLINICIAN_2, body=CROWN), 201)["caseId"]
    theirs_file = _available_photo(api, theirs_case, CLINICIAN_2)
    for route_key in [k for k in REQUESTS if "{fileId}" in k and " /shared/" not in k]:
        method, route = route_key.split(" ", 1)
        path = route.format(**{**mine.ids(), "fileId": theirs_file})
        # The Passport's routes are the connected patient's (the world's case is connected).
        who = VERIFIED_PATIENT if route.startswith("/me/passport/") else CLINICIAN
        status, body = api(method, route, path, who=who, body=REQUESTS[route_key].body(mine))
        assert status == 404 and body["code"] == "FILE_NOT_FOUND", (route_key, status, body)


def test_another_endpoints_delivery_under_my_endpoint_is_not_found(api: Api) -> None:
    mine = build_world(api, "GET /webhooks/{endpointId}")
    theirs = _ok(
        api(
            "POST",
            "/webhooks",
            who=CLINICIAN_2,
            body={"url": "https://hooks.other.test/in", "eventTypes": ["CaseCreated"]},
        ),
        201,
    )
    delivery = _ok(
        api("POST", "/webhooks/{endpointId}/test", f"/webhooks/{theirs['endpointId']}/test", who=CLINICIAN_2),
        202,
    )
    route = "/webhooks/{endpointId}/deliveries/{deliveryId}/redeliver"
    status, body = api(
        "POST", route, route.format(endpointId=mine.endpoint_id, deliveryId=delivery["deliveryId"])
    )
    assert (status, body["code"]) == (404, "WEBHOOK_DELIVERY_NOT_FOUND")
    # ...and their endpoint under my name is as unknown as a made-up one.
    for endpoint_id in (theirs["endpointId"], "ep_" + "0" * 24):
        status, body = api("GET", "/webhooks/{endpointId}", f"/webhooks/{endpoint_id}", who=CLINICIAN)
        assert (status, body["code"]) == (404, "WEBHOOK_ENDPOINT_NOT_FOUND")


def denied_records(actor: Principal) -> list[tuple[str, str | None]]:
    """(action, object id) of the actor's denied records: they live with the actor, not the case."""
    items = dynamo.dynamodb().query(
        TableName=get_settings().table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"AUDIT#ACTOR#{actor.user_id}"}},
    )["Items"]
    values = [dynamo.from_item(item) for item in items]
    return [(v["action"], v.get("objectId")) for v in values if v.get("outcome") == "denied"]


def test_a_denied_case_probe_answers_like_a_missing_case_and_is_audited(api: Api) -> None:
    world = build_world(api)
    probe = api("GET", "/cases/{caseId}", f"/cases/{world.case_id}", who=CLINICIAN_2)
    missing = api("GET", "/cases/{caseId}", "/cases/ZZZZ-ZZZZ-ZZZZ", who=CLINICIAN_2)

    def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k != "requestId"}

    assert probe[0] == missing[0] == 404
    assert without_request_id(probe[1]) == without_request_id(missing[1])
    assert ("case.read", world.case_id) in denied_records(CLINICIAN_2)


def test_a_lab_seeing_the_case_but_lacking_the_right_gets_403_and_is_audited(api: Api) -> None:
    world = build_world(api)
    path = f"/cases/{world.case_id}"
    status, body = api(
        "PATCH", "/cases/{caseId}", path, who=LAB_TECH, body={"rxDescription": "x", "version": 1}
    )
    assert (status, body["code"]) == (403, "ROLE_NOT_ALLOWED")
    assert ("case.modify", world.case_id) in denied_records(LAB_TECH)
