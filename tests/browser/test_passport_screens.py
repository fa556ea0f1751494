"""The Passport and share-link screens end to end in headless Chromium against the running local
runtime: the clinician connects the patient (told first what that shares) and creates share
links; the patient sees the shared files with previews (a photo, a PDF, an STL scan in the 3D
viewer), who saw them, and exports them; a guest opens a link without an account (the token
leaves the address bar), confirms an email code when the link asks, and gets a clear page once
the link is revoked or expired (the runtime's clock moved past it). axe-core on every screen."""

from __future__ import annotations

import json
import re
import struct
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from client.api import Api
from client.uploads import StateFile, Uploader
from tests.browser.test_webapp import PNG, WAIT_MS, assert_accessible, shoot, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PATIENT_EMAIL = "pat.doe@mail.example.com"  # the seeded patient's verified address
EVENTUAL_S = 60
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def tetrahedron_stl() -> bytes:
    """A binary STL: four triangles of a tetrahedron."""
    a, b, c, d = (0.0, 0.0, 0.0), (10.0, 0.0, 0.0), (0.0, 10.0, 0.0), (0.0, 0.0, 10.0)
    faces = [(a, c, b), (a, b, d), (a, d, c), (b, c, d)]
    body = b"".join(struct.pack("<12fH", 0, 0, 0, *p, *q, *r, 0) for p, q, r in faces)
    return b"\0" * 80 + struct.pack("<I", len(faces)) + body


def tetrahedron_ply() -> bytes:
    """A binary little-endian PLY: the same tetrahedron as four indexed faces."""
    header = (
        b"ply\nformat binary_little_endian 1.0\nelement vertex 4\nproperty float x\nproperty float y\n"
        b"property float z\nelement face 4\nproperty list uchar int vertex_indices\nend_header\n"
    )
    vertices = struct.pack("<12f", 0, 0, 0, 10, 0, 0, 0, 10, 0, 0, 0, 10)
    faces = b"".join(struct.pack("<B3i", 3, *face) for face in ((0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3)))
    return header + vertices + faces


# An OBJ with one quad (two triangles once fanned) and one triangle given by a negative index.
OBJ = b"# crown\nv 0 0 0\nv 4 0 0\nv 4 4 0\nv 0 4 0\nv 2 2 3\nf 1 2 3 4\nf 1 2 -1\n"


def settled(api: Api, case_id: str, file_id: str) -> None:
    deadline = time.monotonic() + EVENTUAL_S
    while time.monotonic() < deadline:
        if api.call("GET", f"/cases/{case_id}/files/{file_id}")["status"] == "available":
            return
        time.sleep(0.3)
    raise AssertionError("the upload never became available")


def guest_page(browser: Any, url: str, **options: Any) -> tuple[Any, list[str]]:
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Paris", **options)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    errors = console_errors(page)
    page.goto(url)
    return page, errors


def console_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def mailbox_code(base_url: str, email: str) -> str:
    with urllib.request.urlopen(f"{base_url}/_local/mailbox.json", timeout=30) as response:
        messages = json.loads(response.read())["messages"]
    for message in messages:  # newest first
        if email in message["to"]:
            found = re.search(r"\b(\d{6})\b", message["body"])
            if found:
                return found.group(1)
    raise AssertionError(f"no code emailed to {email}")


@pytest.fixture(scope="module")
def world(base_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A case of the seeded clinician with a photo, a PDF and an STL scan in Initial Documentation."""
    api = Api(base_url)
    api.sign_in_local("clinician")
    body = {
        "patientName": "Pat Doe",
        "rxDescription": "Night guard",
        "teeth": ["16"],
        "caseType": "night_guard",
    }
    case_id = str(api.call("POST", "/cases", body)["caseId"])
    folder = tmp_path_factory.mktemp("files")
    uploader = Uploader(api=api, state=StateFile(folder / "state"))
    files = {}
    for name, data, kind in (
        ("smile.png", PNG, "photo"),
        ("plan.pdf", PDF, "pdf"),
        ("upper-jaw.stl", tetrahedron_stl(), "scan"),
        ("lower-jaw.ply", tetrahedron_ply(), "scan"),
        ("crown.obj", OBJ, "scan"),
    ):
        path = folder / name
        path.write_bytes(data)
        files[name] = uploader.upload(case_id, path, "initial-documentation", kind)
    for file_id in files.values():
        settled(api, case_id, file_id)
    return {"api": api, "case_id": case_id, "files": files}


def test_the_clinician_connects_the_patient_and_creates_a_share_link(
    browser: Any, base_url: str, world: dict[str, Any], screenshot_dir: Path
) -> None:
    page = signed_in_page(browser, base_url, "clinician", viewport={"width": 1280, "height": 900})
    page.goto(f"{base_url}/#/cases/{world['case_id']}")
    page.click("[data-testid='sharing-toggle']")
    panel = page.wait_for_selector("[data-testid='passport-panel']")
    assert panel is not None
    # Given the warning of what connecting shares, before anything is shared
    warning = page.wait_for_selector("[data-testid='connect-warning']:has-text('5 files')")
    assert (
        warning is not None
        and "smile.png" in warning.inner_text()
        and "upper-jaw.stl" in warning.inner_text()
    )
    assert_accessible(page, "case page with sharing")
    # When she connects the patient by email
    page.fill('label:has-text("Patient\'s email address") >> input', PATIENT_EMAIL)
    page.click("button:has-text('Connect the patient')")
    # Then the API's list of what is now shared is shown, and the galleries the patient sees
    shared = page.wait_for_selector("text=Now shared with the patient")
    assert shared is not None and "plan.pdf" in shared.inner_text()
    assert page.is_checked("[data-testid='passport-panel'] input[data-gallery='initial-documentation']")
    # When she creates a share link with a note, showing the patient's name
    page.fill("label:has-text('Note for the guest') >> input", "For Dr. Lee")
    page.check("input[name='show-patient-name']")
    page.click("button:has-text('Create the link')")
    url = page.wait_for_selector("[data-testid='share-url']").input_value()
    # Then the link is the app's guest page with the token after '#'
    assert re.fullmatch(re.escape(base_url) + r"/#/guest/[A-Za-z0-9_-]{43}", url), url
    page.wait_for_selector("li.link-row[data-state='active']")
    assert_accessible(page, "case page with a new share link")
    shoot(page, screenshot_dir, "sharing")
    world["clinician"] = page
    world["link_url"] = url


def test_a_guest_opens_the_link_without_an_account(
    browser: Any, world: dict[str, Any], screenshot_dir: Path
) -> None:
    assert "link_url" in world, "needs the link of the previous test"
    # When a guest opens the link in a browser with no session
    page, errors = guest_page(browser, world["link_url"], viewport={"width": 390, "height": 844})
    page.wait_for_selector("h1:has-text('Shared records of Pat Doe')")
    # Then the token has left the address bar (and this tab's history)
    assert page.evaluate("location.hash") == "#/guest"
    token = world["link_url"].split("/guest/")[1]
    assert token not in page.url
    assert page.inner_text("[data-testid='guest-note']") == "For Dr. Lee"
    for name in ("smile.png", "plan.pdf", "upper-jaw.stl"):
        assert page.locator(f"ul.files li:has-text('{name}')").count() == 1
    assert_accessible(page, "guest view (phone)")
    shoot(page, screenshot_dir, "guest-phone")
    # When the guest downloads the photo
    with page.expect_download() as download:
        page.click("button[aria-label='Download smile.png']")
    assert download.value.suggested_filename == "smile.png"
    assert Path(download.value.path()).read_bytes() == PNG
    # And previews it
    page.click("ul.files li:has-text('smile.png') >> [data-testid='preview-button']")
    image = page.wait_for_selector(".preview[data-preview='image'] img")
    assert image is not None and image.evaluate("(img) => img.complete && img.naturalWidth") == 1
    # And a reload keeps the view (the token is in this tab's sessionStorage, not the address)
    page.reload()
    page.wait_for_selector("h1:has-text('Shared records of Pat Doe')")
    assert errors == []
    world["guest"] = page


def test_the_clinician_sees_the_links_access_log(world: dict[str, Any]) -> None:
    page = world.get("clinician")
    assert page is not None, "needs the clinician of the first test"
    page.reload()
    page.click("[data-testid='sharing-toggle']")
    row = page.wait_for_selector("li.link-row[data-state='active']")
    assert row is not None and "first opened" in row.inner_text()
    page.click("li.link-row >> button:has-text('Access log')")
    log = page.wait_for_selector("[data-testid='link-log']")
    assert log is not None
    text = log.inner_text()
    assert "opened" in text and "download" in text and world["files"]["smile.png"] in text
    assert_accessible(page, "share link access log")


def test_the_patient_sees_the_shared_files_previews_and_who_saw_them(
    browser: Any, base_url: str, world: dict[str, Any], screenshot_dir: Path
) -> None:
    page = signed_in_page(browser, base_url, "patient", viewport={"width": 1280, "height": 900})
    errors = console_errors(page)
    # Then the Passport is the patient's home: their case from the clinic
    item = page.wait_for_selector(f"li[data-case-id='{world['case_id']}']")
    assert item is not None and "Dr. Ana Ortiz" in item.inner_text()
    assert_accessible(page, "passport: my records")
    shoot(page, screenshot_dir, "passport")
    # When they open it: the shared files
    page.click(f"li[data-case-id='{world['case_id']}'] a")
    page.wait_for_selector("h1:has-text('Records from Dr. Ana Ortiz')")
    assert page.locator("ul.files li").count() == 5
    # And each scan (STL, PLY, OBJ) opens in the 3D viewer (a lazily loaded chunk), drawn on a canvas
    for name, triangles in (("upper-jaw.stl", "4"), ("lower-jaw.ply", "4"), ("crown.obj", "3")):
        row = page.locator(f"ul.files li:has-text('{name}')")
        row.locator("[data-testid='preview-button']").click()
        row.locator(".viewer[data-state='ready']").wait_for()
        canvas = row.locator(".viewer canvas")
        assert canvas.get_attribute("data-triangles") == triangles, name
        drawn = canvas.evaluate(
            """(canvas) => {
              const gl = canvas.getContext('webgl');
              const pixels = new Uint8Array(canvas.width * canvas.height * 4);
              gl.readPixels(0, 0, canvas.width, canvas.height, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
              let lit = 0;
              for (let i = 0; i < pixels.length; i += 4) if (pixels[i] > 120) lit++;
              return lit;
            }"""
        )
        assert drawn > 100, f"the triangles of {name} were not drawn"
    canvas.focus()
    page.keyboard.press("ArrowLeft")  # turns by keyboard without an error
    # And the PDF previews in a frame
    page.click("ul.files li:has-text('plan.pdf') >> [data-testid='preview-button']")
    assert page.wait_for_selector(".preview[data-preview='pdf'] iframe[src^='blob:']") is not None
    assert_accessible(page, "passport: a case with previews")
    shoot(page, screenshot_dir, "passport-case")
    # And "who saw my records" names the people who read them
    who = page.wait_for_selector("[data-testid='who-saw']")
    assert who is not None and "Guest" in who.inner_text()
    # When they export everything: a ZIP is built in the background, then offered
    page.click("button:has-text('Prepare the archive')")
    page.wait_for_selector("[data-testid='export-status'][data-status='ready']")
    assert "5 files" in page.inner_text("[data-testid='export-status']")
    with page.expect_download() as download:
        page.click("button:has-text('Download the archive')")
    assert Path(download.value.path()).read_bytes()[:2] == b"PK"
    assert errors == []


def test_a_link_with_an_email_code_and_a_revoked_link(
    browser: Any, base_url: str, world: dict[str, Any], screenshot_dir: Path
) -> None:
    api: Api = world["api"]
    link = api.call(
        "POST",
        f"/cases/{world['case_id']}/share-links",
        {"requireEmailCode": True, "galleryIds": ["initial-documentation"]},
    )
    # When a guest opens a link that asks for an email code
    page, errors = guest_page(browser, link["url"])
    page.wait_for_selector("h1:has-text('Confirm your email address')")
    assert_accessible(page, "guest: email code")
    page.fill("label:has-text('Your email address') >> input", "lee@ortho.example")
    page.click("button:has-text('Send me a code')")
    page.wait_for_selector("label:has-text('6-digit code')")
    assert_accessible(page, "guest: enter the code")
    page.fill("label:has-text('6-digit code') >> input", mailbox_code(base_url, "lee@ortho.example"))
    page.click("button:has-text('Confirm')")
    # Then the files show, with no patient name (the owner did not choose it)
    page.wait_for_selector("h1:has-text('Shared records')")
    assert "Pat Doe" not in page.inner_text("h1")
    assert page.locator("ul.files li").count() == 5
    # When the clinician revokes that link, the guest's next request says so clearly
    api.call("POST", f"/cases/{world['case_id']}/share-links/{link['linkId']}/revoke")
    page.reload()
    ended = page.wait_for_selector("[data-testid='link-ended']")
    assert ended is not None and ended.get_attribute("data-reason") == "revoked"
    assert "This link was revoked" in page.inner_text("h1")
    assert_accessible(page, "guest: revoked link")
    # (the browser itself logs the answers the page expects: 403 code required, 410 revoked)
    expected = re.compile(r"Failed to load resource: .* status of (403|410)\b")
    assert [e for e in errors if not expected.match(e)] == []


def test_a_member_makes_links_once_allowed_and_the_owner_disconnects_the_patient(
    browser: Any, base_url: str, screenshot_dir: Path
) -> None:
    from tests.e2e.test_cases_flow import sign_in
    from tests.e2e.test_chat_flow import _team_case

    owner_api, member_api = sign_in(base_url, "clinician"), sign_in(base_url, "clinician2")
    patient_api = sign_in(base_url, "patient")
    case_id, _ = _team_case(owner_api, member_api)
    assert owner_api.call("POST", f"/cases/{case_id}/passport", {"email": PATIENT_EMAIL})[0] == 201
    owner = signed_in_page(browser, base_url, "clinician", viewport={"width": 1280, "height": 900})
    member = signed_in_page(browser, base_url, "clinician2", viewport={"width": 1280, "height": 900})
    for page in (owner, member):
        page.goto(f"{base_url}/#/cases/{case_id}")
        page.click("[data-testid='sharing-toggle']")
    # Given a member, who may not create links until the owner allows it (and has no Passport panel)
    member.wait_for_selector("[data-testid='links-not-allowed']")
    assert member.locator("[data-testid='passport-panel']").count() == 0
    assert member.locator("[data-testid='share-policy']").count() == 0
    # When the owner allows members to create links
    owner.check("input[name='members-may-create']")
    # (the box is disabled until the server has answered)
    owner.wait_for_selector("input[name='members-may-create']:checked:enabled")
    status, policy = owner_api.call("GET", f"/cases/{case_id}/share-links/policy")
    assert (status, policy["membersMayCreate"]) == (200, True)
    # Then the member, reloading, creates a link and sees it in their list
    member.reload()
    member.click("[data-testid='sharing-toggle']")
    member.click("[data-testid='share-links'] button[type='submit']")
    url = member.wait_for_selector("[data-testid='share-url']")
    assert url is not None and "/#/guest/" in (url.input_value() or "")
    member.wait_for_selector("[data-testid='share-links'] li.link-row[data-state='active']")
    assert_accessible(member, "member's share links")
    # When the owner disconnects the patient, confirming first
    owner.click("[data-testid='disconnect-patient']")
    confirm = owner.wait_for_selector("[data-testid='disconnect-confirm']")
    assert confirm is not None and PATIENT_EMAIL in confirm.inner_text()
    assert_accessible(owner, "disconnect the patient")
    shoot(owner, screenshot_dir, "disconnect-patient")
    owner.click("[data-testid='disconnect-confirm'] button:has-text('Disconnect now')")
    # Then the panel offers to connect a patient again, and the patient's access has ended
    owner.wait_for_selector("[data-testid='connect-warning']")
    status, _ = patient_api.call("GET", f"/me/passport/cases/{case_id}")
    assert status in (403, 404)
    for page in (owner, member):
        page.context.close()


def test_the_guest_link_before_and_after_expiry(
    browser: Any, base_url: str, world: dict[str, Any], screenshot_dir: Path
) -> None:
    api: Api = world["api"]
    link = api.call("POST", f"/cases/{world['case_id']}/share-links", {"expiresInMinutes": 5})
    # Before expiry the guest sees the files
    page, _ = guest_page(browser, link["url"])
    page.wait_for_selector("ul.files li:has-text('smile.png')")
    # When the runtime's clock moves 10 minutes on (every process reads it)
    request = urllib.request.Request(
        f"{base_url}/_local/clock",
        data=b'{"advanceSeconds": 600}',
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    # Then the same page, reloaded, says the link has expired
    page.reload()
    ended = page.wait_for_selector("[data-testid='link-ended']")
    assert ended is not None and ended.get_attribute("data-reason") == "expired"
    assert "This link has expired" in page.inner_text("h1")
    assert_accessible(page, "guest: expired link")
    shoot(page, screenshot_dir, "guest-expired")
    # And in French
    page.select_option("select", "fr")
    assert "Ce lien a expiré" in page.inner_text("h1")
