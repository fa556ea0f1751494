"""The room screens in headless Chromium against the running local runtime: the case owner and a
colleague member, each in their own browser context, exchange messages live in the team room
(reply, mention, edit, delete, typing, the unread badge of the other room, an error frame shown
by its code); the connected patient and the clinic exchange messages in the patient room, and the
patient is never offered the team room. axe-core checks the room screens, one on a phone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_webapp import WAIT_MS, assert_accessible, shoot, signed_in_page
from tests.e2e.test_cases_flow import Client, sign_in
from tests.e2e.test_chat_flow import _team_case

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def room(browser: Any, base_url: str) -> dict[str, Any]:
    """A case of clinician's with clinician2 as a member and the seeded patient connected; both
    clinicians have its page open, each in their own browser context."""
    owner_api, colleague_api = sign_in(base_url, "clinician"), sign_in(base_url, "clinician2")
    case_id, member_id = _team_case(owner_api, colleague_api)
    patient_api = sign_in(base_url, "patient")
    patient_email = patient_api.call("GET", "/me")[1]["email"]
    assert owner_api.call("POST", f"/cases/{case_id}/passport", {"email": patient_email})[0] == 201
    owner = signed_in_page(browser, base_url, "clinician", viewport={"width": 1280, "height": 900})
    colleague = signed_in_page(browser, base_url, "clinician2", viewport={"width": 1280, "height": 900})
    for page in (owner, colleague):
        page.goto(f"{base_url}/#/cases/{case_id}")
        page.wait_for_selector("[data-testid=rooms] [role=tab][data-room=team][aria-selected=true]")
    return {
        "case_id": case_id,
        "member_id": member_id,
        "owner": owner,
        "colleague": colleague,
        "owner_api": owner_api,
        "patient_api": patient_api,
        "owner_name": owner_api.call("GET", "/me")[1]["name"],
        "colleague_name": colleague_api.call("GET", "/me")[1]["name"],
    }


def _message(page: Any, text: str) -> Any:
    return page.locator("[data-testid=messages] li.message", has_text=text)


def _send(page: Any, room_name: str, text: str) -> None:
    box = page.get_by_test_id("rooms").get_by_label(room_name)
    box.fill(text)
    box.press("Enter")


def test_two_clinicians_exchange_messages_live_in_the_team_room(
    room: dict[str, Any], screenshot_dir: Path
) -> None:
    owner, colleague = room["owner"], room["colleague"]
    # Given both have the case page open on the team room
    # When the colleague sends a message with Enter
    _send(colleague, "Message to the team", "Margins look short on 11")
    # Then it arrives on the owner's open page over the WebSocket, newest at the bottom, and the
    # colleague's draft is cleared once the server accepted it
    _message(owner, "Margins look short on 11").wait_for()
    expect(colleague.get_by_test_id("rooms").get_by_label("Message to the team")).to_have_value(
        "", timeout=WAIT_MS
    )
    # When the owner replies to it and mentions the colleague
    reply_button = f"Reply to {room['colleague_name']}"
    _message(owner, "Margins look short on 11").get_by_role("button", name=reply_button).click()
    owner.get_by_test_id("rooms").get_by_label("Mention a member").select_option(room["member_id"])
    box = owner.get_by_test_id("rooms").get_by_label("Message to the team")
    assert f"@{room['colleague_name']}" in box.input_value()
    box.type("agreed, rescan please")
    owner.get_by_test_id("rooms").get_by_role("button", name="Send", exact=True).click()
    # Then the colleague sees the reply, quoting the message and saying it mentions them
    reply = _message(colleague, "agreed, rescan please")
    reply.wait_for()
    assert "In reply to" in reply.inner_text() and "Margins look short" in reply.inner_text()
    assert "mentions you" in reply.inner_text()
    last = colleague.locator("[data-testid=messages] li.message").last
    assert "agreed, rescan please" in last.inner_text()
    shoot(owner, screenshot_dir, "room")


def test_typing_edit_and_delete_reach_the_other_member(room: dict[str, Any]) -> None:
    owner, colleague = room["owner"], room["colleague"]
    # Given a message of the owner's
    _send(owner, "Message to the team", "Shade A3")
    mine = _message(owner, "Shade A3")
    mine.wait_for()
    _message(colleague, "Shade A3").wait_for()
    # When the owner starts typing, the colleague sees the indicator
    owner.get_by_test_id("rooms").get_by_label("Message to the team").type("x")
    colleague.wait_for_selector(f"[data-testid=typing]:has-text('{room['owner_name']} is typing')")
    owner.get_by_test_id("rooms").get_by_label("Message to the team").fill("")
    # When the owner edits it within the window
    mine.get_by_role("button", name="Edit", exact=True).click()
    owner.get_by_test_id("rooms").get_by_label("Edit your message").fill("Shade A2")
    owner.get_by_test_id("rooms").get_by_role("button", name="Save", exact=True).click()
    # Then the server accepted it (the owner's page shows the answer)...
    _message(owner, "Shade A2").wait_for()
    # ...and the colleague's page shows the new text, marked edited
    edited = _message(colleague, "Shade A2")
    edited.wait_for()
    assert "(edited)" in edited.inner_text()
    # When the owner deletes it, the colleague sees it deleted, its text gone
    _message(owner, "Shade A2").get_by_role("button", name="Delete", exact=True).click()
    _message(colleague, "Shade A2").wait_for(state="detached")
    assert colleague.locator("[data-testid=messages] [data-testid=deleted]").count() >= 1
    # A colleague's message offers no edit or delete to the owner
    theirs = _message(owner, "Margins look short on 11").first  # (the owner's reply quotes it)
    assert theirs.get_by_role("button", name="Edit", exact=True).count() == 0
    assert theirs.get_by_role("button", name="Delete", exact=True).count() == 0


def test_too_long_a_message_shows_the_error_by_its_code_and_keeps_the_draft(room: dict[str, Any]) -> None:
    owner = room["owner"]
    # When the owner sends 4001 characters
    text = "Z" * 4001
    _send(owner, "Message to the team", text)
    # Then the server's error frame shows as an alert that says why, without the text
    alert = owner.locator("[data-testid=room-error]")
    alert.wait_for()
    assert "too long" in alert.inner_text()
    assert "ZZZZ" not in alert.inner_text()
    assert owner.get_by_test_id("rooms").get_by_label("Message to the team").input_value() == text
    # ...and nothing was posted
    assert _message(owner, "ZZZZ").count() == 0
    alert.get_by_role("button", name="Dismiss").click()
    owner.get_by_test_id("rooms").get_by_label("Message to the team").fill("")
    assert_accessible(owner, "team room")


def test_unread_badge_of_the_other_room_counts_live(room: dict[str, Any]) -> None:
    colleague = room["colleague"]
    # Given the colleague looks at the team room, their patient-room badge at 0
    badge = colleague.locator("[data-testid=unread-patient]")
    assert badge.inner_text() == "0"
    # When the owner posts in the patient room (over HTTPS)
    status, _ = room["owner_api"].call(
        "POST", f"/cases/{room['case_id']}/rooms/patient/messages", {"text": "Your plan is ready"}
    )
    assert status == 201
    # Then the badge counts it live; opening the tab shows it and clears the badge
    colleague.wait_for_selector("[data-testid=unread-patient]:has-text('1')")
    colleague.get_by_test_id("rooms").get_by_role("tab", name="Patient room").click()
    _message(colleague, "Your plan is ready").wait_for()
    colleague.wait_for_selector("[data-testid=unread-patient]:has-text('0')")


def test_patient_and_clinic_exchange_messages_in_the_patient_room(
    browser: Any, base_url: str, room: dict[str, Any], screenshot_dir: Path
) -> None:
    owner = room["owner"]
    owner.get_by_test_id("rooms").get_by_role("tab", name="Patient room").click()
    # Given the patient on a phone opens the chat with the clinic in the Passport
    patient = signed_in_page(browser, base_url, "patient", viewport=PHONE, is_mobile=True, has_touch=True)
    patient.goto(f"{base_url}/#/passport/cases/{room['case_id']}/room")
    patient.wait_for_selector("[data-testid=rooms] [role=tab][data-room=patient]")
    _message(patient, "Your plan is ready").wait_for()
    # Then only the patient room is offered, never the team room nor its messages
    assert patient.locator("[role=tab][data-room=team]").count() == 0
    assert _message(patient, "Margins look short").count() == 0
    # When the patient writes, the clinic's open page receives it live
    _send(patient, "Message to the patient room", "Thank you, see you Tuesday")
    _message(owner, "Thank you, see you Tuesday").wait_for()
    # And the clinic's answer reaches the patient live
    _send(owner, "Message to the patient room", "Tuesday 9:00 confirmed")
    _message(patient, "Tuesday 9:00 confirmed").wait_for()
    # The phone layout does not scroll sideways and passes axe
    assert patient.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(patient, "patient room (phone)")
    assert_accessible(owner, "patient room (clinic)")
    shoot(patient, screenshot_dir, "phone-patient-room")
    # In French the room speaks French (labels, tabs) and still passes axe
    patient.get_by_label("Language").select_option("fr")
    patient.get_by_test_id("rooms").get_by_label("Message au salon du patient").wait_for()
    assert patient.get_by_test_id("rooms").get_by_role("tab", name="Salon du patient").count() == 1
    assert_accessible(patient, "patient room (phone, French)")


def test_the_patient_cannot_read_the_team_room(room: dict[str, Any]) -> None:
    # The screen only offers the patient room; the server refuses the team room itself
    patient_api: Client = room["patient_api"]
    status, body = patient_api.call("GET", f"/cases/{room['case_id']}/rooms/team/messages")
    assert status in (403, 404) and "Margins" not in str(body)


def _ok_message(room: dict[str, Any], path: str, text: str) -> str:
    status, body = room["owner_api"].call("POST", path, {"text": text})
    assert status == 201, body
    return str(body["messageId"])


def test_a_dropped_socket_resumes_after_the_last_message_without_gaps_or_duplicates(
    browser: Any, base_url: str, room: dict[str, Any]
) -> None:
    # Given the colleague's page whose WebSocket goes through a proxy the test controls
    sockets: list[Any] = []
    blocked = {"now": False}

    def proxy(ws: Any) -> None:
        if blocked["now"]:
            ws.close()  # the network is still down: the app retries with backoff
            return
        server = ws.connect_to_server()
        # Frames the server sends once the drop began are lost with the link (closing the page's
        # side is asynchronous: without this a push racing the close could still arrive)
        server.on_message(lambda message: None if blocked["now"] else ws.send(message))
        sockets.append(ws)

    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.route_web_socket(re.compile(r"/ws\?ticket="), proxy)
    page.goto(base_url + "/")
    page.click("button[data-user='clinician2']")
    page.wait_for_selector("nav[aria-label='Main']")
    page.goto(f"{base_url}/#/cases/{room['case_id']}")
    page.wait_for_selector("[data-testid=rooms] [role=tab][data-room=team][aria-selected=true]")
    path = f"/cases/{room['case_id']}/rooms/team/messages"

    def owner_sends(text: str) -> None:
        assert room["owner_api"].call("POST", path, {"text": text})[0] == 201

    page.get_by_test_id("rooms").get_by_label("Message to the team").wait_for()
    earlier = _ok_message(room, path, "Shade check before the drop")
    _message(page, "Shade check before the drop").wait_for()
    owner_sends("Live before the drop")
    _message(page, "Live before the drop").last.wait_for()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "/messages?" in request.url else None)
    # When the connection drops and stays down while the owner sends two messages and edits one
    # the colleague had already seen
    blocked["now"] = True
    sockets[-1].close()
    for text in ("Sent during the drop 1", "Sent during the drop 2"):
        owner_sends(text)
    edit = f"{path}/{earlier}"
    assert room["owner_api"].call("PATCH", edit, {"text": "Edited during the drop"})[0] == 200
    # Then once the network is back the app reconnects with a fresh ticket, joins again and
    # fetches what it missed after the last id it saw: each message once, in order...
    blocked["now"] = False
    _message(page, "Sent during the drop 2").wait_for()
    texts = page.locator("[data-testid=messages] li.message .text").all_inner_texts()
    assert texts.count("Sent during the drop 1") == 1 and texts.count("Sent during the drop 2") == 1
    assert texts.count("Live before the drop") == 1
    assert (
        texts.index("Live before the drop")
        < texts.index("Sent during the drop 1")
        < texts.index("Sent during the drop 2")
    )
    # ...through the history over HTTPS (the pushes of the drop were lost with the link)...
    assert any("after=" in url for url in asked)
    # ...and the edit made meanwhile shows too: messages still inside the edit window are fetched again
    _message(page, "Edited during the drop").wait_for()
    assert _message(page, "Shade check before the drop").count() == 0
    # ...and the live channel works again on the new connection
    owner_sends("Live after the drop")
    _message(page, "Live after the drop").wait_for()
    assert len(sockets) >= 2
    context.close()
