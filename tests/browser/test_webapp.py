"""The web app end to end in headless Chromium against the running local runtime: a clinician
signs in, opens a case on the tooth chart and uploads a file; the lab moves the case along an
allowed transition; the clinician's open page hears about it live over the WebSocket. Every
screen passes an axe-core accessibility check; a phone-sized viewport gets the same list."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WAIT_MS = (
    90_000  # generous: the first request to each function is a sandbox cold start, slow on a loaded machine
)
# A valid 1x1 PNG: the server checks the upload's type from its bytes.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201a4e6b7b00000000049454e44ae426082"
)


def signed_in_page(browser: Any, base_url: str, user: str, **context_options: Any) -> Any:
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Paris", **context_options)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(base_url + "/")
    page.click(f"button[data-user='{user}']")
    page.wait_for_selector("nav[aria-label='Main']")
    return page


def assert_accessible(page: Any, screen: str) -> None:
    results = Axe().run(
        page,
        options={"resultTypes": ["violations"], "runOnly": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]},
    )
    assert results.violations_count == 0, f"{screen}: {results.generate_report()}"


def shoot(page: Any, directory: Path, name: str) -> None:
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def flow(browser: Any, base_url: str, screenshot_dir: Path) -> dict[str, Any]:
    """The clinician's page stays open through the module so the live push can reach it."""
    clinician = signed_in_page(browser, base_url, "clinician", viewport={"width": 1280, "height": 900})
    return {"clinician": clinician}


def test_the_app_is_served_at_the_root_with_a_strict_csp(browser: Any, base_url: str) -> None:
    # Given a fresh browser
    context = browser.new_context()
    page = context.new_page()
    # When it opens the root URL
    response = page.goto(base_url + "/")
    # Then the app shell comes back with a strict CSP and the dev sign-in offers the seeded users
    assert response is not None and response.status == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    page.wait_for_selector("button[data-user='clinician']")
    assert page.locator("button[data-user='lab']").count() == 1
    assert_accessible(page, "sign-in")
    context.close()


def test_clinician_opens_a_case_on_the_tooth_chart(flow: dict[str, Any], screenshot_dir: Path) -> None:
    page = flow["clinician"]
    # Given the clinician's case list
    page.wait_for_selector("h1:has-text('My cases')")
    assert_accessible(page, "my cases")
    shoot(page, screenshot_dir, "cases")
    # When she opens a new case: patient, Rx, teeth 11 and 21 on the FDI chart
    page.click("nav >> text=New case")
    page.fill("label:has-text('Patient name') >> input", "Browser Patient")
    page.fill("label:has-text('Prescription') >> textarea", "Zirconia crown, shade A2")
    page.click("button[data-fdi='11']")
    page.click("button[data-fdi='21']")
    assert page.locator("button[data-fdi='11']").get_attribute("aria-pressed") == "true"
    # (the Universal chart shows the same teeth as 8 and 9)
    page.check("input[value='UNIVERSAL']")
    assert page.locator("button[data-fdi='11']").inner_text() == "8"
    assert_accessible(page, "new case")
    shoot(page, screenshot_dir, "new-case")
    page.click("button[type='submit']")
    # Then the case page shows the new case with its teeth in both notations
    heading = page.wait_for_selector("h1:has-text('Browser Patient')")
    case_id = heading.inner_text().split(" · ")[0].strip()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", case_id), case_id
    assert "FDI 11, 21" in page.inner_text(".details")
    assert "Universal 8, 9" in page.inner_text(".details")
    flow["case_id"] = case_id


def test_a_new_case_whose_answer_is_lost_is_created_once(browser: Any, base_url: str) -> None:
    from tests.e2e.test_cases_flow import sign_in

    page = signed_in_page(browser, base_url, "clinician")
    keys: list[str] = []

    def lose_the_first_answer(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.headers.get("idempotency-key", ""))
        if len(keys) == 1:
            route.fetch()  # the server creates the case...
            route.abort("connectionreset")  # ...and its answer is lost on the way back
        else:
            route.continue_()

    page.route(re.compile(r"/cases$"), lose_the_first_answer)
    # When the clinician opens a case and the connection drops before the answer arrives
    page.click("nav >> text=New case")
    page.fill("label:has-text('Patient name') >> input", "Lost Answer Patient")
    page.fill("label:has-text('Prescription') >> textarea", "Night guard")
    page.click("button[data-fdi='16']")
    page.click("button[type='submit']")
    # Then the app sent it again with the same Idempotency-Key and shows the case it made
    page.wait_for_selector("h1:has-text('Lost Answer Patient')")
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    # ...and there is one such case, not two
    status, listed = sign_in(base_url, "clinician").call("GET", "/cases?limit=50")
    assert status == 200
    assert [c["patientName"] for c in listed["items"]].count("Lost Answer Patient") == 1
    page.context.close()


def test_clinician_uploads_a_photo_with_progress(
    flow: dict[str, Any], tmp_path: Path, screenshot_dir: Path
) -> None:
    page = flow["clinician"]
    assert "case_id" in flow, "needs the case opened by the previous test"
    # Given a photo on disk
    photo = tmp_path / "smile.png"
    photo.write_bytes(PNG)
    # When she adds it to the case's files
    page.set_input_files("input[data-testid='file-input']", str(photo))
    # Then the upload finishes and the file is listed in the gallery
    page.wait_for_selector("li.transfer[data-state='done']")
    row = page.wait_for_selector("ul.files li:has-text('smile.png')")
    assert row is not None
    assert_accessible(page, "case page")
    shoot(page, screenshot_dir, "case")
    # And the server holds exactly those bytes (the checksum it verified is the file's)
    file_id = row.get_attribute("data-file-id")
    token = page.evaluate("sessionStorage.getItem('caseroom.idToken')")
    response = page.request.get(
        f"{page.url.split('#')[0].rstrip('/')}/cases/{flow['case_id']}/files/{file_id}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.ok
    assert response.json()["sha256"] == hashlib.sha256(PNG).hexdigest()


def test_a_large_upload_resumes_after_a_dropped_connection(flow: dict[str, Any], tmp_path: Path) -> None:
    page = flow["clinician"]
    assert "case_id" in flow, "needs the case opened by an earlier test"
    # Given an 11 MiB CBCT export (three 5 MiB parts: a multipart upload)
    data = (b"\x00" * 128 + b"DICM" + hashlib.sha256(b"seed").digest() * (11 * 2**20 // 32))[: 11 * 2**20 + 5]
    scan = tmp_path / "cbct.dcm"
    scan.write_bytes(data)
    # and a connection that drops while the first part is on its way (once)
    dropped: list[str] = []

    def drop_first_part(route: Any) -> None:
        if not dropped and route.request.method == "PUT":
            dropped.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(r".*[?&]uploadId=.*"), drop_first_part)
    page.select_option("label:has-text('Kind') >> select", "cbct")
    # When the upload starts, it stops with a resumable failure
    page.set_input_files("input[data-testid='file-input']", str(scan))
    page.wait_for_selector("li.transfer[data-state='failed']:has-text('cbct.dcm')")
    assert dropped and "partNumber=" in dropped[0], "no part upload went out"
    # and the user resumes it
    page.click("li.transfer[data-state='failed'] >> text=Resume upload")
    # Then it completes and the file is listed with the whole file's checksum
    page.wait_for_selector("li.transfer[data-state='done']:has-text('cbct.dcm')")
    row = page.wait_for_selector("ul.files li:has-text('cbct.dcm')")
    token = page.evaluate("sessionStorage.getItem('caseroom.idToken')")
    file_id = row.get_attribute("data-file-id") if row else None
    response = page.request.get(
        f"{page.url.split('#')[0].rstrip('/')}/cases/{flow['case_id']}/files/{file_id}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.ok
    assert response.json()["sizeBytes"] == len(data)
    assert response.json()["sha256"] == hashlib.sha256(data).hexdigest()
    page.unroute(re.compile(r".*[?&]uploadId=.*"))


def test_lab_moves_the_case_and_the_clinician_hears_it_live(
    browser: Any, base_url: str, flow: dict[str, Any], screenshot_dir: Path
) -> None:
    clinician = flow["clinician"]
    case_id = flow["case_id"]
    # Given the uploads' events have settled the case (the scan moved it to Processing: the
    # lab's move must not race that system change and lose to it with a version conflict)
    for _ in range(60):
        clinician.reload()
        clinician.wait_for_selector(".details dd")
        if clinician.inner_text(".details dd >> nth=0").strip() == "Processing":
            break
        clinician.wait_for_timeout(1000)
    # And the lab's queue lists the new case
    lab = signed_in_page(browser, base_url, "lab", viewport={"width": 1280, "height": 900})
    lab.wait_for_selector(f"li[data-case-id='{case_id}']")
    assert_accessible(lab, "lab queue")
    shoot(lab, screenshot_dir, "lab-queue")
    # When the lab opens it, the status control offers only the allowed moves
    lab.click(f"li[data-case-id='{case_id}'] >> a")
    lab.wait_for_selector("select[name='status']")
    offered = lab.eval_on_selector_all("select[name='status'] option", "options => options.map(o => o.value)")
    current = clinician.inner_text(".details dd >> nth=0")
    assert "Shipped" not in offered and "Finished" not in offered, (current, offered)
    assert "Received" in offered
    assert_accessible(lab, "lab case page")
    # and it moves the case to Received
    lab.select_option("select[name='status']", "Received")
    lab.click("text=Change status")
    lab.wait_for_selector("text=Status changed to Received")
    shoot(lab, screenshot_dir, "lab-case")
    # Then the clinician's open page gets a live notification about that case, without a reload
    toast = clinician.wait_for_selector(f"[data-testid='live-toast']:has-text('{case_id}')")
    assert toast is not None
    badge = clinician.locator("[data-testid='bell'] .badge")
    clinician.wait_for_function("el => Number(el.textContent) > 0", arg=badge.element_handle())
    # And the feed lists it
    clinician.click("[data-testid='bell']")
    clinician.wait_for_selector("li[data-notification-id]")
    assert_accessible(clinician, "notifications")
    shoot(clinician, screenshot_dir, "notifications")
    lab.context.close()


def test_phone_viewport_shows_cases_as_cards_and_stays_accessible(
    browser: Any, base_url: str, flow: dict[str, Any], screenshot_dir: Path
) -> None:
    # Given a phone-sized screen (iPhone 13: 390 x 844, touch)
    phone = signed_in_page(
        browser, base_url, "clinician", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    # When the case list shows
    row = phone.wait_for_selector("tr[data-case-id]")
    # Then each case is a card (the table's header row is moved off screen) and nothing scrolls sideways
    assert row is not None
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    header_box = phone.locator("table.cases thead").bounding_box()
    assert header_box is None or header_box["x"] < 0
    assert_accessible(phone, "phone cases")
    shoot(phone, screenshot_dir, "phone-cases")
    # And the French interface formats dates the French way
    phone.select_option("header select", "fr")
    phone.wait_for_selector("h1:has-text('Mes dossiers')")
    modified = phone.inner_text("tr[data-case-id] td[data-label='Modifié le']")
    french_months = (
        "janv.",
        "févr.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juil.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    )
    assert any(month in modified for month in french_months), modified
    assert_accessible(phone, "phone cases (fr)")
    phone.context.close()
