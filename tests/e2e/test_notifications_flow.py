"""A clinic's systems hear about a case through the running local runtime: a signed webhook
to a receiver on 127.0.0.1, a live WebSocket push, an email in the mailbox and a feed item."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from tests.e2e.test_cases_flow import RX, base_url, eventually, sign_in
from tests.support.webhook_receiver import verify, webhook_receiver
from tests.support.ws_tickets import socket_url

pytestmark = pytest.mark.e2e
__all__ = ["base_url"]


def test_a_status_change_reaches_webhook_websocket_mailbox_and_feed(base_url: str) -> None:
    clinician, lab = sign_in(base_url, "clinician"), sign_in(base_url, "lab")
    with webhook_receiver() as receiver:
        # Given an endpoint on the clinic's own system and a case
        status, endpoint = clinician.call(
            "POST", "/webhooks", {"url": receiver.url, "eventTypes": ["CaseStatusChanged"]}
        )
        assert status == 201, endpoint
        status, case = clinician.call("POST", "/cases", {**RX, "caseType": "crown"})
        assert status == 201, case

        async def scenario() -> dict[str, Any]:
            ws_url = await asyncio.to_thread(socket_url, base_url, str(clinician.token))
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(ws_url) as socket,
            ):
                # When the lab puts the case on hold
                status, _ = await asyncio.to_thread(
                    lab.call,
                    "PUT",
                    f"/cases/{case['caseId']}/status",
                    {"status": "On Hold", "version": case["version"], "reason": "Waiting for a new scan"},
                )
                assert status == 200
                while True:
                    message = await asyncio.wait_for(socket.receive_json(), 30)
                    if message.get("kind") == "CaseOnHold":
                        return dict(message)

        # Then the clinician's open WebSocket gets a thin push
        push = asyncio.run(scenario())
        assert push["caseId"] == case["caseId"] and push["eventType"] == "CaseStatusChanged"

        # And the receiver gets a signed Standard Webhooks delivery
        [hook] = receiver.wait_for(1, timeout_s=30)
        assert verify(endpoint["secret"], hook.headers, hook.body, time.time())
        assert json.loads(hook.body)["data"]["caseId"] == case["caseId"]
        assert b"Maria" not in hook.body

    # And the critical email is in the mailbox, without the patient's name
    def on_hold_email() -> dict[str, Any] | None:
        messages = clinician.call("GET", "/_local/mailbox.json")[1]["messages"]
        return next(
            (m for m in messages if case["caseId"] in m["subject"] and "on hold" in m["subject"]), None
        )

    email = eventually(on_hold_email, "the on-hold email")
    assert "Maria Garcia" not in email["body"]

    # And the feed shows it unread until marked read
    status, feed = clinician.call("GET", "/me/notifications")
    assert feed["items"][0]["kind"] == "CaseOnHold" and feed["unreadCount"] >= 1
    assert clinician.call("POST", "/me/notifications/read-all")[1]["unreadCount"] == 0
    status, page = clinician.call("GET", f"/webhooks/{endpoint['endpointId']}/deliveries")
    assert page["items"][0]["status"] == "succeeded"
