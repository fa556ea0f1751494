"""Idempotency-Key works on every POST that creates something.

The creating POSTs are read from openapi.json (every POST answering 201 or 202): each must
declare the header, so a new one fails here until it supports the key. Each is then retried
with the same key (the same answer, nothing created twice) and with the same key on another
request (refused with IDEMPOTENCY_KEY_REUSED). The webhook test/redeliver POSTs send HTTP to
the subscriber, which these in-process tests do not do: they are covered by the contract check
and by the shared helper (caseroom.route_support.create_once) they call like the others.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LAB_TECH
from tests.integration.test_cases_api import CROWN
from tests.integration.test_planning import BLOCK, Api, api, publish, ready_to_plan_case

__all__ = ["api"]

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


# A guest's request for an email code: a retry is a resend (a new code), by design. A WebSocket
# ticket is single-use: a retry must get a fresh one, never the one a first attempt may have used.
NOT_REPLAYED = {"/shared/email-code", "/realtime/tickets"}


def creating_posts() -> set[str]:
    doc = json.loads((ROOT / "openapi.json").read_text())
    return {
        path
        for path, operations in doc["paths"].items()
        if "post" in operations and {"201", "202"} & set(operations["post"]["responses"])
    } - NOT_REPLAYED


def test_every_creating_post_declares_the_idempotency_key() -> None:
    doc = json.loads((ROOT / "openapi.json").read_text())
    posts = creating_posts()
    assert "/cases" in posts and "/lab/planning/blocks" in posts
    for path in posts:
        parameters = doc["paths"][path]["post"].get("parameters", [])
        headers = {p["name"].lower() for p in parameters if p["in"] == "header"}
        assert "idempotency-key" in headers, path


def _upload(api: Api) -> tuple[str, str, dict[str, Any], Any]:
    case_id = str(api("POST", "/cases", body=CROWN)[1]["caseId"])
    body = {"fileName": "smile.png", "kind": "photo", "sizeBytes": len(PNG), "contentType": "image/png",
            "sha256": "0" * 64}  # fmt: skip
    return "/cases/{caseId}/uploads", f"/cases/{case_id}/uploads", body, None


def _gallery(api: Api) -> tuple[str, str, dict[str, Any], Any]:
    case_id = str(api("POST", "/cases", body=CROWN)[1]["caseId"])
    return "/cases/{caseId}/galleries", f"/cases/{case_id}/galleries", {"name": "Try-in photos"}, None


def _block(api: Api) -> tuple[str, str, dict[str, Any], Any]:
    return "/lab/planning/blocks", "/lab/planning/blocks", dict(BLOCK), LAB_TECH


def _booking(api: Api) -> tuple[str, str, dict[str, Any], Any]:
    case_id = ready_to_plan_case(api)
    block_id = publish(api, start="2026-11-09T10:00")[1]["blockId"]
    return "/cases/{caseId}/planning", f"/cases/{case_id}/planning", {"blockId": block_id}, None


def _webhook(api: Api) -> tuple[str, str, dict[str, Any], Any]:
    # An address literal: nothing is resolved or contacted when an endpoint is registered
    body = {"url": "https://93.184.216.34/caseroom-hook", "eventTypes": ["CaseCreated"]}
    return "/webhooks", "/webhooks", body, None


def _different(route: str, body: dict[str, Any], api: Api) -> dict[str, Any]:
    if route == "/cases/{caseId}/planning":
        return {"blockId": publish(api, start="2026-11-10T10:00")[1]["blockId"]}
    if route == "/lab/planning/blocks":
        return {**body, "durationMinutes": 30}
    if route == "/webhooks":
        return {**body, "description": "another"}
    if route == "/cases/{caseId}/uploads":
        return {**body, "fileName": "other.png"}
    if route == "/cases/{caseId}/share-links":
        return {**body, "note": "another"}
    if route == "/cases/{caseId}/passport":
        return {"email": "someone.else@mail.test"}
    if route == "/cases/{caseId}/rooms/{room}/messages":
        return {"text": "Another message"}
    if route == "/cases/{caseId}/team/invitations":
        return {**body, "email": "another.colleague@mail.test"}
    return {**body, "name": "Other gallery"}


def _share_link(api: Api) -> tuple[str, str, dict[str, Any], Any]:
    case_id = str(api("POST", "/cases", body=CROWN)[1]["caseId"])
    body = {"galleryIds": ["initial-documentation"], "note": "For the surgeon"}
    return "/cases/{caseId}/share-links", f"/cases/{case_id}/share-links", body, None


def _connect(api: Api) -> tuple[str, str, dict[str, Any], Any]:
    case_id = str(api("POST", "/cases", body=CROWN)[1]["caseId"])
    return "/cases/{caseId}/passport", f"/cases/{case_id}/passport", {"email": "pat@mail.test"}, None


def _invitation(api: Api) -> tuple[str, str, dict[str, Any], Any]:
    case_id = str(api("POST", "/cases", body=CROWN)[1]["caseId"])
    body = {"email": "colleague@mail.test", "professionalRole": "surgeon"}
    return "/cases/{caseId}/team/invitations", f"/cases/{case_id}/team/invitations", body, None


def _message(api: Api) -> tuple[str, str, dict[str, Any], Any]:
    case_id = str(api("POST", "/cases", body=CROWN)[1]["caseId"])
    body = {"text": "Margins look short on 11"}
    return "/cases/{caseId}/rooms/{room}/messages", f"/cases/{case_id}/rooms/team/messages", body, None


CASES: dict[str, Callable[[Api], tuple[str, str, dict[str, Any], Any]]] = {
    "/cases/{caseId}/share-links": _share_link,
    "/cases/{caseId}/passport": _connect,
    "/cases/{caseId}/team/invitations": _invitation,
    "/cases/{caseId}/rooms/{room}/messages": _message,
    "/cases/{caseId}/uploads": _upload,
    "/cases/{caseId}/galleries": _gallery,
    "/lab/planning/blocks": _block,
    "/cases/{caseId}/planning": _booking,
    "/webhooks": _webhook,
}
# Covered elsewhere: POST /cases (tests/integration/test_cases_api.py); the webhook sends (module doc).
ELSEWHERE = {
    "/cases",
    "/me/passport/cases/{caseId}/exports",  # tests/integration/test_passport.py (export retry)
    "/webhooks/{endpointId}/test",
    "/webhooks/{endpointId}/deliveries/{deliveryId}/redeliver",
}


def test_every_creating_post_is_exercised_here_or_elsewhere() -> None:
    assert creating_posts() == set(CASES) | ELSEWHERE


@pytest.mark.parametrize("route", sorted(CASES))
def test_a_retry_with_the_same_key_creates_once(api: Api, route: str) -> None:
    template, path, body, who = CASES[route](api)
    kwargs = {"who": who} if who is not None else {}
    headers = {"Idempotency-Key": f"retry-{route}"}
    # When the same request is sent twice with one key
    first = api("POST", template, path, body=body, headers=headers, **kwargs)
    again = api("POST", template, path, body=body, headers=headers, **kwargs)
    # Then the second answer is the first one (nothing was created twice)
    assert first[0] in (201, 202), first
    assert again == first
    # And the key on another request is refused, never silently answered with the first result
    other = _different(route, body, api)
    status, refused = api("POST", template, path, body=other, headers=headers, **kwargs)
    assert (status, refused["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    # Without a key, the same request creates again (or is refused by the domain's own rules)
    status, _ = api("POST", template, path, body=body, **kwargs)
    assert status != 500
