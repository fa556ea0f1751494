"""A clinician and a lab use CaseRoom through the running local runtime: real HTTP, real
WebSocket, the outbox relayed to the bus, rules invoking the event-driven functions."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from tests.support.runtime_process import STARTUP_TIMEOUT_S, start_runtime_process
from tests.support.ws_tickets import socket_url

pytestmark = pytest.mark.e2e
EVENTUAL_S = 30  # the relay and rule dispatcher run in the background of the runtime process


class Client:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url, self.token = base_url, token

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        all_headers = {"content-type": "application/json", **(headers or {})}
        if self.token:
            all_headers["authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, headers=all_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            raw, status = error.read(), error.code
        return status, json.loads(raw) if raw else None


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


def sign_in(base_url: str, user: str) -> Client:
    status, body = Client(base_url).call("POST", "/_local/sign-in", {"user": user})
    assert status == 200
    return Client(base_url, body["idToken"])


def eventually(check: Any, what: str) -> Any:
    deadline = time.monotonic() + EVENTUAL_S
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


RX = {
    "patientName": "Maria Garcia",
    "rxDescription": "Zirconia crown, shade A2",
    "teeth": ["8", "9"],
    "toothNotation": "UNIVERSAL",
    "caseType": "crown",
    "attachments": [{"kind": "scan", "fileName": "u.stl"}],
}


def test_clinician_and_lab_work_a_case_end_to_end(base_url: str) -> None:
    ana, lab, ben = sign_in(base_url, "clinician"), sign_in(base_url, "lab"), sign_in(base_url, "clinician2")

    # A clinician opens a case; a retry with the same Idempotency-Key returns the same case
    status, case = ana.call("POST", "/cases", RX, headers={"Idempotency-Key": "e2e-1"})
    assert status == 201, case
    assert ana.call("POST", "/cases", RX, headers={"Idempotency-Key": "e2e-1"})[1]["caseId"] == case["caseId"]
    case_path = f"/cases/{case['caseId']}"
    assert case["teeth"] == ["11", "21"]

    # The outbox event reaches the Rx script function: the PDF becomes downloadable
    eventually(lambda: ana.call("GET", case_path)[1]["rxScript"]["status"] == "ready", "the Rx script")
    status, link = ana.call("GET", f"{case_path}/rx-script")
    assert status == 200
    assert link["url"].startswith("http://127.0.0.1:")
    with urllib.request.urlopen(link["url"], timeout=30) as response:
        assert response.read().startswith(b"%PDF")

    # ... and the confirmation email, which never names the patient
    def confirmation() -> dict[str, Any] | None:
        mailbox = Client(base_url).call("GET", "/_local/mailbox.json")[1]["messages"]
        return next((m for m in mailbox if case["caseId"] in m["subject"]), None)

    email = eventually(confirmation, "the confirmation email")
    assert "Maria Garcia" not in json.dumps(email)

    # The lab moves it; Last Modified stays the clinician's date, the colour follows
    status, moved = lab.call(
        "PUT", f"{case_path}/status", {"status": "Missing CBCT/Models", "version": case["version"]}
    )
    assert status == 200, moved
    assert (moved["attention"], moved["lastModified"]) == ("red", case["lastModified"])
    listed = ana.call("GET", "/cases?limit=100")[1]["items"]
    assert listed[0]["caseId"] == case["caseId"]  # red sorts first

    # A stale write loses; another clinician cannot see the case at all
    status, conflict = ana.call("PATCH", case_path, {"version": case["version"], "rxDescription": "x"})
    assert (status, conflict["code"]) == (409, "VERSION_CONFLICT")
    assert ben.call("GET", case_path)[0] == 404

    # Every read and write is in the audit trail, including the lab's
    trail = ana.call("GET", f"{case_path}/audit?limit=100")[1]["items"]
    actions = {record["action"] for record in trail}
    assert {
        "case.create",
        "case.read",
        "case.status.set",
        "rx_script.generate",
        "rx_script.download",
    } <= actions

    # Without a token the gateway answers like API Gateway's JWT authorizer
    assert Client(base_url).call("GET", "/cases")[0] == 401


def test_websocket_needs_a_valid_ticket_and_answers_ping(base_url: str) -> None:
    token = sign_in(base_url, "clinician").token
    ws_url = base_url.replace("http://", "ws://") + "/ws"

    async def scenario() -> tuple[int, dict[str, Any]]:
        async with aiohttp.ClientSession() as session:
            try:  # an ID token in the URL opens nothing any more, nor a forged ticket
                await session.ws_connect(f"{ws_url}?token={token}")
                refused = 0
            except aiohttp.WSServerHandshakeError as error:
                refused = error.status
            url = await asyncio.to_thread(socket_url, base_url, token)
            async with session.ws_connect(url) as ws:
                await ws.send_str(json.dumps({"action": "ping"}))
                reply = await ws.receive_json(timeout=15)
        return refused, reply

    refused, reply = asyncio.run(scenario())
    assert refused == 401
    assert reply == {"type": "pong"}


def test_a_sydney_clinician_sends_cases_to_the_lab_she_chooses(base_url: str) -> None:
    # The seeded directory (local/seed.py): Dr. Ortiz's clinic is in Sydney; she works with
    # Pacific Crown Lab (Los Angeles, her default) and Harbour Dental Ceramics (Sydney).
    ana, la_lab, syd_lab = sign_in(base_url, "clinician"), sign_in(base_url, "lab"), sign_in(base_url, "lab2")
    status, labs = ana.call("GET", "/labs")
    assert status == 200
    assert [(lab["labId"], lab["timezone"]) for lab in labs["items"]] == [
        ("lab-1", "America/Los_Angeles"),
        ("lab-2", "Australia/Sydney"),
    ]
    assert (labs["defaultLabId"], labs["clinic"]["timezone"]) == ("lab-1", "Australia/Sydney")

    status, to_sydney = ana.call("POST", "/cases", {**RX, "labId": "lab-2"})
    assert (status, to_sydney["labId"]) == (201, "lab-2")
    status, to_default = ana.call("POST", "/cases", RX)
    assert (status, to_default["labId"]) == (201, "lab-1")
    # Each lab's queue has its own case only; the other lab gets 404 for it
    assert to_sydney["caseId"] in {
        c["caseId"] for c in syd_lab.call("GET", "/lab/cases?limit=100")[1]["items"]
    }
    assert to_sydney["caseId"] not in {
        c["caseId"] for c in la_lab.call("GET", "/lab/cases?limit=100")[1]["items"]
    }
    assert la_lab.call("GET", f"/cases/{to_sydney['caseId']}")[0] == 404
    # The Sydney lab does not make aligners: refused, nothing created
    status, refused = ana.call("POST", "/cases", {**RX, "caseType": "aligners", "labId": "lab-2"})
    assert (status, refused["code"]) == (422, "CASE_TYPE_NOT_OFFERED")
    status, refused = ana.call("POST", "/cases", {**RX, "labId": "lab-9"})
    assert (status, refused["code"]) == (422, "LAB_NOT_AVAILABLE")
