"""Browser tests: the built web app, served by a real local runtime process on a free port,
driven in Debian's headless Chromium. Chromium missing is a failure, never a skip."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.runtime_process import REPO_ROOT, start_runtime_process

STARTUP_TIMEOUT_S = 60
CHROMIUM = os.environ.get("CASEROOM_CHROMIUM", "/usr/bin/chromium")
# Set CASEROOM_SCREENSHOT_DIR=docs/screenshots to refresh the README's pictures.
SCREENSHOT_DIR_ENV = "CASEROOM_SCREENSHOT_DIR"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed:
        runtime = getattr(getattr(item, "module", None), "_RUNTIME", None)
        if runtime is not None:  # the runtime's console around the failure, to tell why in CI
            report.sections.append(("runtime console (last 60 lines)", "\n".join(runtime.recent_lines(60))))
    return report


@pytest.fixture(scope="module")
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if not (REPO_ROOT / "web" / "dist" / "index.html").is_file():
        pytest.fail("web/dist is not built: run `make setup` (npm ci + vite build in web/)")
    # Multipart above 5 MiB, so the resumed-upload test stays small.
    runtime = start_runtime_process(extra_args=("--multipart-threshold-mb", "5"))
    request.module._RUNTIME = runtime
    try:
        url = runtime.wait_for_line(r"API base URL\s+(http://127\.0\.0\.1:\d+)", STARTUP_TIMEOUT_S)[1]
        runtime.wait_for_line(r"^Ready\.$", STARTUP_TIMEOUT_S)
        yield url
    finally:
        runtime.process.terminate()
        runtime.process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (make test does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get(SCREENSHOT_DIR_ENV)
    directory = (REPO_ROOT / configured) if configured else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory
