"""Lighthouse on the built web app, in Debian's Chromium, against a local runtime of its own:
the sign-in screen (what every user opens first) and a guest's share-link page (the one public
screen with data: a case with a photo, shared by a link). Signed-in screens are checked by
axe-core in tests/browser. Writes bench/results/webapp-lighthouse.{json,md}; exit 1 when a score
is below 90.

    .venv/bin/python -m bench.webapp_lighthouse

Needs `npx` (Node) and Chromium at /usr/bin/chromium (or CASEROOM_CHROMIUM); `npx -y
lighthouse@12` comes from the npm registry on first use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from client.api import Api, ApiError
from client.uploads import StateFile, Uploader
from tests.support.runtime_process import REPO_ROOT, start_runtime_process

RESULTS = REPO_ROOT / "bench" / "results"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
METRICS = (
    "first-contentful-paint",
    "largest-contentful-paint",
    "total-blocking-time",
    "cumulative-layout-shift",
    "speed-index",
)
TARGET = 90
# A valid 1x1 PNG: the server checks an upload's type from its bytes.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201a4e6b7b00000000049454e44ae426082"
)


def _guest_link(base_url: str, folder: Path) -> str:
    api = Api(base_url)
    api.sign_in_local("clinician")
    body = {
        "patientName": "Pat Doe",
        "rxDescription": "Night guard",
        "teeth": ["16"],
        "caseType": "night_guard",
    }
    case_id = str(api.call("POST", "/cases", body)["caseId"])
    photo = folder / "smile.png"
    photo.write_bytes(PNG)
    uploader = Uploader(api=api, state=StateFile(folder / "state"))
    for attempt in range(3):  # a first call may meet a sandbox cold start on a loaded machine (500)
        try:
            file_id = uploader.upload(case_id, photo, "initial-documentation")
            break
        except ApiError:
            if attempt == 2:
                raise
            time.sleep(2)
    deadline = time.monotonic() + 60
    while api.call("GET", f"/cases/{case_id}/files/{file_id}")["status"] != "available":
        if time.monotonic() > deadline:
            raise RuntimeError("the photo never became available")
        time.sleep(0.3)
    link = api.call("POST", f"/cases/{case_id}/share-links", {"note": "For Dr. Lee"})
    return str(link["url"])


def _lighthouse(url: str, out: Path) -> dict[str, Any]:
    environment = {**os.environ, "CHROME_PATH": os.environ.get("CASEROOM_CHROMIUM", "/usr/bin/chromium")}
    subprocess.run(
        [
            "npx",
            "-y",
            "lighthouse@12",
            url,
            "--quiet",
            "--chrome-flags=--headless=new --no-sandbox",
            f"--only-categories={','.join(CATEGORIES)}",
            "--output=json",
            f"--output-path={out}",
        ],
        check=True,
        env=environment,
    )
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def _summary(name: str, report: dict[str, Any]) -> dict[str, Any]:
    audits = report["audits"]
    return {
        "page": name,
        "scores": {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES},
        "metrics": {m: audits[m]["displayValue"] for m in METRICS},
        "failedBinaryAudits": sorted(
            key
            for key, audit in audits.items()
            if audit.get("scoreDisplayMode") == "binary" and audit["score"] == 0
        ),
        "fetchTime": report["fetchTime"],
    }


def main() -> int:
    runtime = start_runtime_process()
    try:
        base_url = runtime.wait_for_line(r"API base URL\s+(http://127\.0\.0\.1:\d+)", 90)[1]
        runtime.wait_for_line(r"^Ready\.$", 90)
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            pages = {
                "sign-in screen (/)": base_url + "/",
                # The token is in the fragment: the page moves it out of the address bar at once.
                "guest share-link page (#/guest/<token>)": _guest_link(base_url, folder),
            }
            reports = {
                name: _lighthouse(url, folder / f"{i}.json") for i, (name, url) in enumerate(pages.items())
            }
    finally:
        runtime.process.terminate()
        runtime.process.wait(timeout=30)
    first = next(iter(reports.values()))
    size = (
        subprocess.run(
            ["npm", "run", "--silent", "--prefix", "web", "size"],
            check=True,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
        )
        .stdout.strip()
        .splitlines()[-1]
        .replace("\t", ": ")
    )
    result = {
        "tool": f"Lighthouse {first['lighthouseVersion']}",
        "browser": first["environment"]["hostUserAgent"],
        "formFactor": first["configSettings"]["formFactor"],
        "throttling": first["configSettings"]["throttlingMethod"],
        "pages": [_summary(name, report) for name, report in reports.items()],
        "initialJs": size,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "webapp-lighthouse.json").write_text(json.dumps(result, indent=2) + "\n")
    markdown = _markdown(result)
    (RESULTS / "webapp-lighthouse.md").write_text(markdown)
    print(markdown)
    low = [(p["page"], c, s) for p in result["pages"] for c, s in p["scores"].items() if s < TARGET]
    return 1 if low else 0


def _markdown(result: dict[str, Any]) -> str:
    pages = result["pages"]
    lines = [
        "# Web app: Lighthouse",
        "",
        f"{result['tool']}, Debian Chromium headless, {result['formFactor']} emulation, "
        f"{result['throttling']} throttling, against a local runtime serving the built app "
        "(`.venv/bin/python -m bench.webapp_lighthouse`). Signed-in screens need a sign-in that "
        "Lighthouse cannot do: axe-core checks them in tests/browser.",
        "",
        "| Category | " + " | ".join(p["page"] for p in pages) + " |",
        "|---|" + "---|" * len(pages),
    ]
    lines += [f"| {c} | " + " | ".join(str(p["scores"][c]) for p in pages) + " |" for c in CATEGORIES]
    lines += ["", "| Metric | " + " | ".join(p["page"] for p in pages) + " |", "|---|" + "---|" * len(pages)]
    lines += [f"| {m} | " + " | ".join(p["metrics"][m] for p in pages) + " |" for m in METRICS]
    lines += [""]
    for page in pages:
        failed = ", ".join(page["failedBinaryAudits"]) or "none"
        lines.append(f"Failed binary audits, {page['page']}: {failed} (fetched {page['fetchTime']}).")
    lines += [
        "",
        f"Target: every score >= {TARGET}. {result['initialJs']} (`npm run --prefix web size`).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
