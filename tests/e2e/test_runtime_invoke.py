"""`python -m local invoke <function> <event.json>`: one handler, one event, a fresh moto."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FAKE_HANDLER = "tests.local.fake_functions"


def invoke(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CASEROOM_", "AWS_"))}
    return subprocess.run(
        [sys.executable, "-m", "local", "--log-level", "WARNING", "invoke", *args],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.e2e
def test_invoke_prints_the_handler_result() -> None:
    done = invoke("cases_api", "events/samples/http_api_v2_get_case.json", "--handler-module", FAKE_HANDLER)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["statusCode"] == 200
    event = json.loads(result["body"])["event"]
    sample = json.loads((REPO_ROOT / "events/samples/http_api_v2_get_case.json").read_text())
    assert event == sample


@pytest.mark.e2e
def test_invoke_reports_mistakes_clearly() -> None:
    unknown = invoke("no_such_function", "events/samples/http_api_v2_get_case.json")
    assert unknown.returncode == 2
    assert "cases_api" in unknown.stderr
    missing = invoke("cases_api", "events/samples/does_not_exist.json")
    assert missing.returncode == 2
    assert "Cannot read the event file" in missing.stderr
