"""`python -m local` keeps its data directory across a kill -9: the demo clinic is seeded once,
its cases and their files' bytes come back after the process was killed mid-run, DynamoDB Local
dies with its runtime, and --fresh starts empty."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import urllib.request
from pathlib import Path

import pytest

from client.api import Api, ApiError
from tests.support.runtime_process import STARTUP_TIMEOUT_S, RuntimeProcess, start_runtime_process

pytestmark = pytest.mark.e2e
STOP_TIMEOUT_S = 15


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # a thread that just ended
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except (FileNotFoundError, ProcessLookupError):  # a child that just ended
        return ""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def ready(runtime: RuntimeProcess) -> Api:
    url = runtime.wait_for_line(r"API base URL\s+(http://127\.0\.0\.1:\d+)", STARTUP_TIMEOUT_S)[1]
    runtime.wait_for_line(r"^Ready\.$", STARTUP_TIMEOUT_S * 2)
    api = Api(url)
    api.sign_in_local("clinician")
    return api


def rx_script_link(api: Api, case_id: str) -> str:
    """The Rx script is rendered by an event consumer: wait for it."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return str(api.call("GET", f"/cases/{case_id}/rx-script")["url"])
        except ApiError as error:
            if error.code != "DOCUMENT_NOT_READY" or time.monotonic() > deadline:
                raise
        time.sleep(0.3)


def mailbox(api: Api) -> list[dict[str, object]]:
    """The local mailbox, oldest first."""
    with urllib.request.urlopen(f"{api.base_url}/_local/mailbox.json", timeout=30) as response:
        return list(reversed(json.loads(response.read())["messages"]))


def test_data_survives_a_kill_and_the_demo_clinic_is_seeded_only_into_an_empty_directory(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    # Given a first run that seeded the demo clinic
    first = start_runtime_process(extra_args=("--seed",), data_dir=data_dir)
    try:
        api = ready(first)
        assert any("(empty, new)" in line for line in first.lines)
        cases = api.call("GET", "/cases?limit=100")["items"]
        assert cases
        with urllib.request.urlopen(rx_script_link(api, cases[0]["caseId"]), timeout=30) as response:
            script = response.read()
        assert script.startswith(b"%PDF")
        java = [
            pid for pid in children(first.process.pid) if "java" in Path(f"/proc/{pid}/cmdline").read_text()
        ]
        assert len(java) == 1
        emails = mailbox(api)
        assert emails  # the seeded cases' notifications
    finally:
        # When it is killed without a chance to clean up
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=STOP_TIMEOUT_S)
    # Then DynamoDB Local does not outlive it
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while alive(java[0]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(java[0])

    # And the next run keeps the cases and the files' bytes, and does not seed again
    second = start_runtime_process(extra_args=("--seed",), data_dir=data_dir)
    try:
        api = ready(second)
        printed = "\n".join(second.lines)
        assert "Demo clinic not seeded" in printed
        assert "kept from the last run" in printed
        assert api.call("GET", "/cases?limit=100")["items"] == cases
        with urllib.request.urlopen(rx_script_link(api, cases[0]["caseId"]), timeout=30) as response:
            assert response.read() == script
        # The mailbox survived the kill too (and every seeded case's events were delivered,
        # before the kill or after the restart: each case gets its Rx script)
        kept = mailbox(api)
        assert kept[-len(emails) :] == emails
        for case in cases:
            assert rx_script_link(api, case["caseId"])
    finally:
        second.process.send_signal(signal.SIGINT)
        assert second.process.wait(timeout=STOP_TIMEOUT_S) == 0

    # And --fresh starts with nothing
    third = start_runtime_process(extra_args=("--fresh",), data_dir=data_dir)
    try:
        api = ready(third)
        assert any("(empty, new)" in line for line in third.lines)
        assert api.call("GET", "/cases?limit=100")["items"] == []
    finally:
        third.process.send_signal(signal.SIGINT)
        assert third.process.wait(timeout=STOP_TIMEOUT_S) == 0
    assert os.path.isdir(data_dir / "dynamodb")
