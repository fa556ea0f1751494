"""The movable clock, end to end: a booked planning session that nobody holds turns into
Planning No Show once the runtime's clock passes the session's end (+ grace), with no waiting.
Its own runtime process: moving the clock would age every other test's tokens and blocks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.test_cases_flow import RX, Client, eventually, sign_in
from tests.support.runtime_process import STARTUP_TIMEOUT_S, start_runtime_process

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    runtime = start_runtime_process()
    try:
        url = runtime.wait_for_line(r"API base URL\s+(http://127\.0\.0\.1:\d+)", STARTUP_TIMEOUT_S)[1]
        runtime.wait_for_line(r"^Ready\.$", STARTUP_TIMEOUT_S)
        yield url
    finally:
        runtime.process.terminate()
        runtime.process.wait(timeout=20)


def test_moving_the_clock_past_a_booked_session_makes_it_a_no_show(base_url: str) -> None:
    ana, lab = sign_in(base_url, "clinician"), sign_in(base_url, "lab")
    status, case = ana.call("POST", "/cases", RX)
    assert status == 201, case
    case_id = case["caseId"]
    for version, target in ((1, "Received"), (2, "Ready to Plan")):
        status, moved = lab.call("PUT", f"/cases/{case_id}/status", {"status": target, "version": version})
        assert status == 200, moved

    day = (datetime.now(UTC) + timedelta(days=2)).date()
    status, block = lab.call(
        "POST",
        "/lab/planning/blocks",
        {
            "start": f"{day.isoformat()}T10:00",
            "durationMinutes": 45,
            "timezone": "UTC",
            "meetingUrl": "https://meet.lab.example/room-1",
        },
    )
    assert status == 201, block
    status, booking = ana.call("POST", f"/cases/{case_id}/planning", {"blockId": block["blockId"]})
    assert status == 201, booking
    assert booking["caseStatus"] == "Planning Scheduled"

    # Nothing happens in real time: the session is two days away.
    status, _ = Client(base_url).call("GET", "/_local/clock")
    assert status == 200

    # Move every process's clock to an hour after the block ended (grace is 30 minutes).
    session_end = datetime.fromisoformat(f"{day.isoformat()}T10:45:00+00:00")
    advance = (session_end + timedelta(hours=1) - datetime.now(UTC)).total_seconds()
    status, clock = Client(base_url).call("POST", "/_local/clock", {"advanceSeconds": advance})
    assert status == 200, clock
    assert clock["now"] > session_end.isoformat().replace("+00:00", "Z")

    ana = sign_in(base_url, "clinician")  # the old token expired two days ago, on the new clock
    status, _ = Client(base_url, lab.token).call("GET", f"/cases/{case_id}")
    assert status == 401  # the gateway's authorizer reads the same clock

    def no_show() -> dict[str, object] | None:
        status, found = ana.call("GET", f"/cases/{case_id}")
        assert status == 200, found
        return found if found["status"] == "Planning No Show" else None

    found = eventually(no_show, "the missed session to become Planning No Show")
    assert found["status"] == "Planning No Show"
