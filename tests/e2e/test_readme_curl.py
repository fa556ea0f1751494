"""Every curl example in README.md, run as written against a running runtime: `localhost:8000`
becomes the test runtime's address and `<caseId>` the case the "open a case" example created.
An example that answers an HTTP error (curl --fail-with-body) fails the test."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.runtime_process import STARTUP_TIMEOUT_S, start_runtime_process

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"
EVENTUAL_S = 30  # e.g. the Rx script PDF is built by an event-driven function after the case opens


def readme_curl_commands(text: str) -> list[str]:
    """The shell commands in ```bash blocks that call curl, continuation lines and quotes joined."""
    commands: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        pending = ""
        for line in block.splitlines():
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            pending = f"{pending}\n{line}" if pending else line
            if pending.endswith("\\"):
                continue
            try:
                shlex.split(pending, comments=True)
            except ValueError:  # a quote still open: the command goes on
                continue
            commands.append(pending)
            pending = ""
    return [command for command in commands if re.search(r"(^|\$\()curl ", command)]


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    runtime = start_runtime_process()
    try:
        url = runtime.wait_for_line(r"API base URL\s+(http://127\.0\.0\.1:\d+)", STARTUP_TIMEOUT_S)[1]
        runtime.wait_for_line(r"^Ready\.$", STARTUP_TIMEOUT_S)
        yield url.removeprefix("http://")
    finally:
        runtime.process.terminate()
        runtime.process.wait(timeout=20)


def run(command: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], env=environment, capture_output=True, text=True, timeout=60
    )


def test_the_readme_has_the_curl_examples_this_test_runs() -> None:
    commands = readme_curl_commands(README.read_text())
    assert any(c.startswith("TOKEN=$(curl -s -X POST localhost:8000/_local/sign-in") for c in commands)
    assert any("-X POST localhost:8000/cases " in c for c in commands)
    assert any("localhost:8000/_local/clock" in c for c in commands)
    assert len(commands) >= 10


def test_every_readme_curl_example_works_against_the_running_runtime(address: str) -> None:
    environment = dict(os.environ)
    case_id = ""
    for command in readme_curl_commands(README.read_text()):
        runnable = command.replace("localhost:8000", address).replace("<caseId>", case_id)
        runnable = re.sub(r"(^|\$\()curl -s ", r"\1curl -s --fail-with-body ", runnable)
        if runnable.startswith("TOKEN="):
            result = run(f'{runnable}\necho "$TOKEN"', environment)
            assert result.returncode == 0, (command, result.stdout, result.stderr)
            environment["TOKEN"] = result.stdout.strip()
            assert environment["TOKEN"].count(".") == 2, result.stdout  # a JWT
            continue
        assert "<caseId>" not in command or case_id, f"no case opened before: {command}"
        deadline = time.monotonic() + EVENTUAL_S
        while True:
            result = run(runnable, environment)
            if result.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        if " -X POST " in command and "/cases " in command:
            opened = json.loads(result.stdout)
            case_id = opened["caseId"]
            assert opened["status"] == "Processing"
