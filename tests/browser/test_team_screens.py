"""The clinician's and the lab's team, planning and settings screens in headless Chromium against
the running local runtime: a colleague follows the invitation email's link into the app and
accepts; the case team is managed from the case page (invite by email and from the network,
cancel, hand over, leave, remove); the network screen; the lab publishes a planning block on its
calendar and the clinician books it in her own time zone with calendar links; notification
preferences; a webhook endpoint with its delivery log; the printable confirmation. Every new
screen passes axe-core; a phone-sized viewport in French gets the team and planning screens."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_webapp import WAIT_MS, assert_accessible, shoot, signed_in_page
from tests.e2e.test_cases_flow import RX, Client, sign_in
from tests.support.webhook_receiver import webhook_receiver

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ANA, BEN = "clinician", "clinician2"  # Dr. Ana Ortiz and Dr. Ben Osei, seeded clinicians


def read(client: Client, path: str) -> Any:
    """A GET through the API, tried again on a 5xx: on a loaded machine a cold sandbox may miss
    Lambda's 10 s init limit (the gateway's 500). Only reads are repeated."""
    for _ in range(5):
        status, body = client.call("GET", path)
        if status < 500:
            assert status == 200, (path, status, body)
            return body
        time.sleep(2)
    raise AssertionError(f"GET {path} kept failing: {status} {body}")


# The elements whose right edge passes a 390 px phone screen (with their text, to say which).
WIDER_THAN_PHONE = """() => [...document.querySelectorAll('body *')]
  .filter((el) => el.getBoundingClientRect().right > 391 && el.getClientRects().length)
  .map((el) => el.tagName + '.' + el.className + ': ' + (el.textContent || '').slice(0, 40))"""


def accept_dialogs(page: Any) -> Any:
    """The app asks confirm() before removing, leaving or handing over: say yes."""
    page.on("dialog", lambda dialog: dialog.accept())
    return page


def open_case(page: Any, base_url: str, case_id: str) -> None:
    """Opens (or reloads: the same hash is no navigation) the case page and waits for its team."""
    page.goto(f"{base_url}/#/cases/{case_id}")
    page.reload()
    page.wait_for_selector("[data-testid='team-panel'] li[data-user-id]")


def team_panel(page: Any) -> Any:
    return page.locator("[data-testid='team-panel']")


@pytest.fixture(scope="module")
def world(browser: Any, base_url: str) -> dict[str, Any]:
    """Two cases of Ana's (one for the team, one for planning), her and Ben's pages, API clients."""
    ana_api, ben_api, lab_api = sign_in(base_url, ANA), sign_in(base_url, BEN), sign_in(base_url, "lab")
    # Warm each function the screens write through (a cold start on a loaded machine can miss
    # Lambda's 10 s init limit, and writes are not retried): cases, planning, notifications, webhooks.
    warm = ("/cases", "/me/network", "/me/notification-preferences", "/webhooks")
    for client, path in ((lab_api, "/lab/planning/blocks"), *((ana_api, p) for p in warm)):
        read(client, path)
    status, team_case = ana_api.call(
        "POST", "/cases", {**RX, "caseType": "crown", "patientName": "Team Patient"}
    )
    assert status == 201, team_case
    status, plan_case = ana_api.call(
        "POST", "/cases", {**RX, "caseType": "crown", "patientName": "Plan Patient"}
    )
    assert status == 201, plan_case
    ana = accept_dialogs(signed_in_page(browser, base_url, ANA, viewport={"width": 1280, "height": 900}))
    ben = accept_dialogs(signed_in_page(browser, base_url, BEN, viewport={"width": 1280, "height": 900}))
    return {
        "ana": ana,
        "ben": ben,
        "ana_api": ana_api,
        "ben_api": ben_api,
        "lab_api": lab_api,
        "ben_email": "ben.osei@clinic.example.com",
        "team_case": team_case["caseId"],
        "plan_case": plan_case["caseId"],
    }


def test_owner_invites_by_email_and_the_email_link_opens_the_request(
    world: dict[str, Any], base_url: str, screenshot_dir: Path
) -> None:
    ana, ben, case_id = world["ana"], world["ben"], world["team_case"]
    # Given Ana on her case page, whose team panel names her as the owner
    open_case(ana, base_url, case_id)
    assert "Dr. Ana Ortiz" in team_panel(ana).inner_text()
    # When she invites Ben by email as a surgeon
    ana.select_option("[data-testid='team-panel'] select[name='professionalRole']", "surgeon")
    ana.fill("input[name='inviteEmail']", world["ben_email"])
    ana.click("text=Send invitation")
    # Then the invitation is listed as pending, with its role
    pending = ana.wait_for_selector(
        f"[data-testid='team-panel'] li[data-invitation-id]:has-text('{world['ben_email']}')"
    )
    assert pending is not None and "Surgeon" in pending.inner_text()
    invitation_id = pending.get_attribute("data-invitation-id")
    assert_accessible(ana, "case page with team and planning")
    shoot(ana, screenshot_dir, "case-team")
    # And the email Ben gets links into the app's Team-Up request (a hash route)
    mailbox = read(Client(base_url), "/_local/mailbox.json")["messages"]
    mail = next(m for m in mailbox if world["ben_email"] in m["to"] and "case team" in m["subject"])
    link = re.search(r"(http://127\.0\.0\.1:\d+/#/team-requests/[\w-]+)", mail["body"])
    assert link is not None, mail["body"]
    assert link[1].endswith(f"/#/team-requests/{invitation_id}")
    # When Ben (signed in) follows that link
    ben.goto(link[1])
    card = ben.wait_for_selector(f"li[data-invitation-id='{invitation_id}']")
    # Then the app opens on that request, highlighted, saying who invites him to which case as what
    assert card is not None and card.get_attribute("aria-current") == "true"
    assert (
        case_id in card.inner_text()
        and "Dr. Ana Ortiz" in card.inner_text()
        and "Surgeon" in card.inner_text()
    )
    assert_accessible(ben, "team requests")
    shoot(ben, screenshot_dir, "team-requests")
    # When he accepts, the case is his to open and is listed among the cases shared with him
    ben.click(f"li[data-invitation-id='{invitation_id}'] >> text=Accept")
    ben.wait_for_selector(f"text=Open case {case_id}")
    ben.click("nav >> text=Shared with me")
    ben.wait_for_selector(f"tr[data-case-id='{case_id}']")
    assert ben.locator("h1").inner_text() == "Shared with me"
    assert_accessible(ben, "shared with me")
    shoot(ben, screenshot_dir, "shared-with-me")


def test_owner_cancels_an_invitation_and_hands_the_case_over(world: dict[str, Any], base_url: str) -> None:
    ana, ben, case_id = world["ana"], world["ben"], world["team_case"]
    # Given Ben is a member (the previous test), shown with his role on Ana's team panel
    open_case(ana, base_url, case_id)
    ana.wait_for_selector("[data-testid='team-panel'] li[data-user-id]:has-text('Dr. Ben Osei')")
    assert "Surgeon" in ana.inner_text("[data-testid='team-panel'] li[data-user-id]:has-text('Dr. Ben Osei')")
    # When she invites someone else and then cancels that invitation
    ana.fill("input[name='inviteEmail']", "nobody.yet@clinic.example.com")
    ana.click("text=Send invitation")
    ana.wait_for_selector("li[data-invitation-id]:has-text('nobody.yet@clinic.example.com')")
    ana.click("text=Cancel the invitation to nobody.yet@clinic.example.com")
    # Then it is no longer pending (and the server agrees)
    ana.wait_for_selector("text=The invitation to nobody.yet@clinic.example.com was cancelled.")
    ana.wait_for_selector(
        "li[data-invitation-id]:has-text('nobody.yet@clinic.example.com')", state="detached"
    )
    team = read(world["ana_api"], f"/cases/{case_id}/team")
    assert all(i["email"] != "nobody.yet@clinic.example.com" for i in team.get("pending") or [])
    # When she hands the case over to Ben, staying on as a prosthodontist
    ana.select_option("select[name='newOwner']", label="Dr. Ben Osei")
    ana.select_option("select[name='myRole']", "prosthodontist")
    ana.click("form.handover >> button[type='submit']")
    ana.wait_for_selector("text=Dr. Ben Osei now owns the case.")
    # Then Ben owns it and Ana is a member who may leave (and no longer sees the audit trail)
    team = read(world["ben_api"], f"/cases/{case_id}/team")
    assert team["owner"]["name"] == "Dr. Ben Osei"
    assert [(m["name"], m["professionalRole"]) for m in team["members"]] == [
        ("Dr. Ana Ortiz", "prosthodontist")
    ]
    open_case(ana, base_url, case_id)
    ana.wait_for_selector("text=Leave this case team")
    assert ana.locator("#audit-title").count() == 0
    # When Ana leaves, she lands on her shared cases, which no longer list it
    ana.click("text=Leave this case team")
    ana.wait_for_selector("h1:has-text('Shared with me')")
    ana.wait_for_selector("table.cases")
    ana.wait_for_load_state("networkidle")
    assert ana.locator(f"tr[data-case-id='{case_id}']").count() == 0
    assert ben.url  # Ben's page stays open for the next test


def test_owner_invites_from_the_network_then_removes_the_member(
    world: dict[str, Any], base_url: str, screenshot_dir: Path
) -> None:
    ana, ben, case_id = world["ana"], world["ben"], world["team_case"]
    # Given Ben, now the owner, searching his network from the team panel (Ana is in it since they
    # shared a team)
    open_case(ben, base_url, case_id)
    ben.fill("input[name='networkQuery']", "Dr. Ana")
    ben.click("[data-testid='team-panel'] form[role='search'] >> button[type='submit']")
    contact = ben.wait_for_selector(
        "[data-testid='team-panel'] li[data-contact-id]:has-text('Dr. Ana Ortiz')"
    )
    assert contact is not None
    # When he invites her from there as a dentist
    ben.select_option("[data-testid='team-panel'] select[name='professionalRole']", "dentist")
    ben.click("text=Invite Dr. Ana Ortiz")
    ben.wait_for_selector(
        "[data-testid='team-panel'] li[data-invitation-id]:has-text('ana.ortiz@clinic.example.com')"
    )
    # And Ana accepts it from her Team requests screen (reached from the navigation)
    ana.click("nav >> text=Team requests")
    ana.wait_for_selector(f"li[data-invitation-id]:has-text('{case_id}')")
    ana.click(f"li[data-invitation-id]:has-text('{case_id}') >> text=Accept")
    ana.wait_for_selector(f"text=You joined the team of case {case_id}.")
    # Then Ben's panel lists her as a dentist; when he removes her, she is gone from the team
    open_case(ben, base_url, case_id)
    member = "[data-testid='team-panel'] li[data-user-id]:has-text('Dr. Ana Ortiz')"
    ben.wait_for_selector(member)
    assert "Dentist" in ben.inner_text(member)
    ben.click("text=Remove Dr. Ana Ortiz")
    ben.wait_for_selector("text=Dr. Ana Ortiz was removed from the team.")
    ben.wait_for_selector(member, state="detached")
    status, body = world["ana_api"].call("GET", f"/cases/{case_id}")
    assert (status, body["code"]) == (404, "CASE_NOT_FOUND")


def test_network_screen_searches_and_removes(world: dict[str, Any], screenshot_dir: Path) -> None:
    ana = world["ana"]
    # Given Ana's network (Ben is in it)
    ana.click("nav >> text=Network")
    ana.wait_for_selector("li[data-contact-id]:has-text('Dr. Ben Osei')")
    assert_accessible(ana, "network")
    shoot(ana, screenshot_dir, "network")
    # When she searches a prefix that matches nobody, then Ben's email
    ana.fill("input[name='q']", "zzz")
    ana.click("form[role='search'] >> button[type='submit']")
    ana.wait_for_selector("text=Nobody found.")
    ana.fill("input[name='q']", world["ben_email"][:12])  # an email prefix has its @
    ana.click("form[role='search'] >> button[type='submit']")
    ana.wait_for_selector("li[data-contact-id]:has-text('Dr. Ben Osei')")
    # And removes him
    ana.click("text=Remove Dr. Ben Osei")
    ana.wait_for_selector("text=Dr. Ben Osei was removed from your network.")
    # Then the API no longer lists him
    contacts = read(world["ana_api"], "/me/network")["items"]
    assert "Dr. Ben Osei" not in [c["name"] for c in contacts]


def test_lab_publishes_a_block_and_the_clinician_books_it_with_calendar_links(
    browser: Any, base_url: str, world: dict[str, Any], screenshot_dir: Path
) -> None:
    ana, case_id, lab_api = world["ana"], world["plan_case"], world["lab_api"]
    # Given the case is Ready to Plan (the lab moves it there through the API)
    for target in ("Received", "Ready to Plan"):
        version = read(lab_api, f"/cases/{case_id}")["version"]
        status, body = lab_api.call("PUT", f"/cases/{case_id}/status", {"status": target, "version": version})
        assert status == 200, body
    # When the lab publishes a free block on its planning calendar (a wall time of the lab's zone)
    lab = signed_in_page(browser, base_url, "lab", viewport={"width": 1280, "height": 900})
    lab.click("nav >> text=Planning")
    lab.wait_for_selector("h1:has-text('Planning calendar')")
    # (the zone field starts with the lab's zone, from GET /labs)
    lab.wait_for_function("() => document.querySelector(\"input[name='timezone']\").value !== ''")
    lab.fill("input[name='start']", "2030-03-12T10:00")
    lab.select_option("select[name='duration']", "45")
    lab.fill("input[name='meetingUrl']", "https://meet.example.com/lab-planning")
    lab.click("text=Publish block")
    lab.wait_for_selector("text=Block published")
    block = lab.wait_for_selector("li.block[data-status='free']")
    assert block is not None and "45 min" in block.inner_text()
    assert_accessible(lab, "lab planning calendar")
    shoot(lab, screenshot_dir, "lab-planning")
    # Then Ana (in Paris) sees it among the free blocks on the case page, in her time zone
    ana.goto(f"{base_url}/#/cases/{case_id}")
    ana.reload()
    panel = ana.locator("[data-testid='planning-panel']")
    ana.wait_for_selector("[data-testid='planning-panel'] li.block[data-status='free']")
    assert "Europe/Paris" in panel.inner_text()
    published = read(world["lab_api"], "/lab/planning/blocks")["items"]
    [mine] = [b for b in published if b["localStart"].startswith("2030-03-12T10:00")]
    expected_time = ana.evaluate(
        "iso => new Intl.DateTimeFormat('en-GB', {hour: '2-digit', minute: '2-digit',"
        " timeZone: 'Europe/Paris'}).format(new Date(iso))",
        mine["start"],
    )
    assert expected_time in panel.inner_text()
    # When she books it
    ana.click(f"[data-testid='planning-panel'] button[data-block-id='{mine['blockId']}']")
    ana.wait_for_selector("text=Booked for")
    # Then the session shows with a Google Calendar link and an .ics download of that session
    ana.wait_for_selector("[data-testid='planning-session']")
    google = ana.get_attribute("text=Google Calendar", "href")
    assert google is not None and google.startswith("https://")
    with ana.expect_download() as download_info:
        ana.click("text=Add to calendar (.ics)")
    ics = Path(download_info.value.path()).read_text()
    assert "BEGIN:VCALENDAR" in ics and "meet.example.com/lab-planning" in ics
    assert ana.inner_text(".details dd >> nth=0").strip() == "Planning scheduled"
    assert_accessible(ana, "case page with a booked session")
    shoot(ana, screenshot_dir, "planning")
    # And the lab's calendar shows the block booked, and its case page offers the session's actions
    lab.reload()
    lab.wait_for_selector(f"li.block[data-block-id='{mine['blockId']}'][data-status='booked']")
    lab.goto(f"{base_url}/#/cases/{case_id}")
    lab.wait_for_selector("text=Mark the session held")
    assert_accessible(lab, "lab case page with a session")
    lab.context.close()


def test_notification_preferences_and_a_webhook_with_its_delivery_log(
    world: dict[str, Any], base_url: str, screenshot_dir: Path
) -> None:
    ana = world["ana"]
    # Given Ana's settings
    ana.click("nav >> text=Settings")
    ana.wait_for_selector("tr[data-kind='CaseShipped'] select")
    # When she turns shipping emails into the daily digest and saves
    ana.select_option("tr[data-kind='CaseShipped'] select", "digest")
    ana.click("text=Save preferences")
    ana.wait_for_selector("text=Preferences saved.")
    # Then the API holds it
    prefs = read(world["ana_api"], "/me/notification-preferences")["preferences"]
    assert {p["kind"]: p["email"] for p in prefs}["CaseShipped"] == "digest"
    # And a critical kind cannot be changed here
    critical = [p["kind"] for p in prefs if p["critical"]]
    if critical:
        assert ana.locator(f"tr[data-kind='{critical[0]}'] select").is_disabled()
    with webhook_receiver() as receiver:
        # When she registers an endpoint (a receiver on loopback, which only the local stage allows)
        ana.fill("input[name='url']", receiver.url)
        ana.fill("input[name='description']", "Practice system")
        ana.click("text=Register endpoint")
        secret = ana.wait_for_selector("[data-testid='webhook-secret'] code")
        assert secret is not None and secret.inner_text().startswith("whsec_")
        assert_accessible(ana, "settings")
        shoot(ana, screenshot_dir, "settings")
        # and sends it a test event
        endpoint = ana.wait_for_selector(f"li[data-endpoint-id]:has-text('{receiver.url}')")
        assert endpoint is not None
        endpoint_id = endpoint.get_attribute("data-endpoint-id")
        ana.click(f"li[data-endpoint-id='{endpoint_id}'] >> text=Send a test event")
        ana.wait_for_selector("text=A test event is on its way.")
        # Then the receiver gets it, and the delivery log lists it
        receiver.wait_for(1, timeout_s=WAIT_MS / 1000)
        ana.click(f"li[data-endpoint-id='{endpoint_id}'] >> text=Delivery log")
        ana.wait_for_selector("h1:has-text('Deliveries to')")
        for _ in range(60):
            if ana.locator("tr[data-delivery-id]").count():
                break
            ana.wait_for_timeout(1000)
            ana.reload()
            ana.wait_for_selector("h1:has-text('Deliveries to')")
        row = ana.wait_for_selector("tr[data-delivery-id]")
        assert row is not None and "WebhookTest" in row.inner_text()
        assert_accessible(ana, "webhook delivery log")
        shoot(ana, screenshot_dir, "webhook-deliveries")


def test_printable_confirmation_drops_the_app_chrome(
    world: dict[str, Any], base_url: str, screenshot_dir: Path
) -> None:
    ana, case_id = world["ana"], world["plan_case"]
    # Given the case page's printable confirmation link
    ana.goto(f"{base_url}/#/cases/{case_id}")
    ana.click("text=Printable confirmation")
    ana.wait_for_selector(f"h1:has-text('Case {case_id}: confirmation')")
    # Then it carries the patient, the teeth and the Rx summary
    sheet = ana.inner_text("article.print-sheet")
    assert "Plan Patient" in sheet and RX["rxDescription"] in sheet and "FDI" in sheet
    assert_accessible(ana, "printable confirmation")
    # And printed, the header, navigation and buttons are gone
    ana.emulate_media(media="print")
    try:
        assert not ana.is_visible("header.top")
        assert not ana.is_visible("article.print-sheet button")
        assert ana.is_visible("article.print-sheet h1")
    finally:
        ana.emulate_media(media="screen")


def test_phone_viewport_in_french_for_the_team_and_planning_screens(
    browser: Any, base_url: str, world: dict[str, Any], screenshot_dir: Path
) -> None:
    # Given Ben on a phone, in French
    phone = signed_in_page(
        browser, base_url, BEN, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    phone.select_option("header select", "fr")
    # When he opens the case he owns (team panel and planning) and his team requests
    phone.goto(f"{base_url}/#/cases/{world['team_case']}")
    phone.wait_for_selector("h2:has-text('Équipe du dossier')")
    phone.wait_for_selector("h2:has-text('Séance de planification')")
    phone.wait_for_selector("#audit-title")
    phone.wait_for_load_state("networkidle")
    # Then nothing is wider than the phone (a mobile browser would widen its layout viewport to fit,
    # so the check is against the device's 390 px) and every screen stays accessible
    wide = phone.evaluate(WIDER_THAN_PHONE)
    assert wide == [], wide
    assert_accessible(phone, "phone case page (fr)")
    shoot(phone, screenshot_dir, "phone-team")
    for route, heading in (
        ("#/team-requests", "Invitations d\u2019équipe"),
        ("#/shared", "Partagés avec moi"),
        ("#/network", "Mon réseau"),
        ("#/settings", "Paramètres"),
    ):
        phone.goto(f"{base_url}/{route}")
        phone.wait_for_selector(f"h1:has-text('{heading}')")
        phone.wait_for_load_state("networkidle")
        assert phone.evaluate(WIDER_THAN_PHONE) == [], route
        assert_accessible(phone, f"phone {route} (fr)")
    phone.context.close()
