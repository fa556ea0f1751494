"""`python -m local --port 0` as a developer runs it: a real process, real HTTP, Ctrl-C to stop."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request

import pytest

from tests.support.runtime_process import STARTUP_TIMEOUT_S, RuntimeProcess

STOP_TIMEOUT_S = 15


def get(url: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read()


@pytest.mark.e2e
def test_the_runtime_serves_until_ctrl_c(runtime_process: RuntimeProcess) -> None:
    banner = runtime_process.wait_for_line(r"API base URL\s+(http://127\.0\.0\.1:\d+)", STARTUP_TIMEOUT_S)
    base_url = banner[1]
    runtime_process.wait_for_line(r"^Ready\.$", STARTUP_TIMEOUT_S)
    printed = "\n".join(runtime_process.lines)
    for expected in ("/docs", "/openapi.json", "/_local/sign-in", "/_local/mailbox", "ws://127.0.0.1:"):
        assert expected in printed

    status, _, body = get(f"{base_url}/_local/users")
    assert status == 200
    assert "clinician" in [user["user"] for user in json.loads(body)["users"]]

    status, _, body = get(f"{base_url}/_local/sign-in", body=b'{"user": "clinician"}')
    assert status == 200
    token = json.loads(body)["idToken"]
    assert token.count(".") == 2

    status, _, body = get(f"{base_url}/cases")
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    status, _, body = get(f"{base_url}/cases", headers={"Authorization": "Bearer not-a-token"})
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})

    status, content_type, body = get(f"{base_url}/docs")
    assert (status, content_type.split(";")[0]) == (200, "text/html")
    assert b"swagger-ui" in body
    status, content_type, _ = get(f"{base_url}/_local/mailbox")
    assert (status, content_type.split(";")[0]) == (200, "text/html")

    runtime_process.process.send_signal(signal.SIGINT)
    assert runtime_process.process.wait(timeout=STOP_TIMEOUT_S) == 0
    runtime_process.wait_for_line(r"^Stopped\.$", 5)


@pytest.mark.e2e
def test_ctrl_c_stops_within_3_s_with_work_queued_and_prints_one_line_per_request(
    runtime_process: RuntimeProcess,
) -> None:
    import threading
    import time

    banner = runtime_process.wait_for_line(r"API base URL\s+(http://127\.0\.0\.1:\d+)", STARTUP_TIMEOUT_S)
    base_url = banner[1]
    runtime_process.wait_for_line(r"^Ready\.$", STARTUP_TIMEOUT_S)
    _, _, body = get(f"{base_url}/_local/sign-in", body=b'{"user": "clinician"}')
    headers = {"Authorization": f"Bearer {json.loads(body)['idToken']}", "content-type": "application/json"}
    status, _, _ = get(f"{base_url}/me", headers=headers)
    assert status == 200
    # The calm console: this request is one line (method, path, status, function, duration, start).
    line = runtime_process.wait_for_line(r"GET /me 200 cases_api \d+ ms (cold|warm)$", 10)
    assert line[1] == "cold"

    # Queue far more work than the sandboxes can take at once, then Ctrl-C in the middle of it.
    case = json.dumps(
        {
            "patientName": "Queued Patient",
            "rxDescription": "Zirconia crown",
            "teeth": ["11"],
            "caseType": "crown",
            "attachments": [{"kind": "scan", "fileName": "u.stl"}],
        }
    ).encode()
    for _ in range(40):
        threading.Thread(target=get, args=(f"{base_url}/cases", headers, case), daemon=True).start()
    time.sleep(1.0)
    started = time.monotonic()
    runtime_process.process.send_signal(signal.SIGINT)
    runtime_process.process.wait(timeout=STOP_TIMEOUT_S)
    assert time.monotonic() - started < 3.0
    runtime_process.wait_for_line(r"^Stopped\.$", 5)
    # No handler log noise, no Powertools metrics JSON without --verbose.
    assert not [text for text in runtime_process.lines if text.startswith("{")]
