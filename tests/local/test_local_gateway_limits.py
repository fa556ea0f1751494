"""The gateway's own limits and answers, with a runtime of small limits: throttling, the
integration timeout, CORS as the stage declares it, the movable clock and the console lines."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator

import pytest

from infra import manifest
from local import gateway as gateway_module
from local.runtime import LocalRuntime
from local.sandboxes import SandboxSettings
from tests.local import fake_functions
from tests.local.support import http

ALLOWED_ORIGIN = manifest.LOCAL_STAGE.cors_allowed_origins[0]


@pytest.fixture(scope="module")
def runtime(_fake_state_dir: None) -> Iterator[LocalRuntime]:
    overrides = {fn.name: "tests.local.fake_functions" for fn in manifest.FUNCTIONS}
    settings = SandboxSettings(max_sandboxes=1, reserved_concurrency=1)
    with LocalRuntime(
        module_overrides=overrides, background=False, retry_delay_s=0, sandboxes=settings
    ) as started:
        yield started


def wait_for_invocations(count: int, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while len(fake_functions.invocations()) < count:
        assert time.monotonic() < deadline
        time.sleep(0.01)


class TestThrottlingAndTimeouts:
    def test_a_throttled_invocation_is_api_gateways_500(self, runtime: LocalRuntime) -> None:
        token = runtime.sign_in("clinician")
        busy = threading.Thread(
            target=http, args=(runtime.base_url, "GET", "/cases/SLEEP-1"), kwargs={"token": token}
        )
        busy.start()
        wait_for_invocations(1)
        reply = http(runtime.base_url, "GET", "/cases/OTHER", token=token)
        busy.join()
        assert reply.status == 500
        assert reply.json() == {"message": "Internal Server Error"}
        assert len(fake_functions.invocations()) == 2  # the busy one and its after-sleep mark only

    def test_the_gateway_answers_503_at_its_integration_timeout_and_the_function_runs_on(
        self, runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(gateway_module, "HTTP_INTEGRATION_TIMEOUT_S", 0.5)
        reply = http(runtime.base_url, "GET", "/cases/SLEEP-1.5", token=runtime.sign_in("clinician"))
        assert reply.status == 503
        assert reply.json() == {"message": "Service Unavailable"}
        # As in AWS, the gateway's timeout does not stop the function (its own timeout would).
        deadline = time.monotonic() + 10
        while not any(e.get("caseId") == "SLEEP-1.5" for e in fake_functions.invocations("after-sleep")):
            assert time.monotonic() < deadline
            time.sleep(0.05)

    def test_a_function_timeout_is_a_500_and_its_sandbox_is_gone(self, runtime: LocalRuntime) -> None:
        sandboxes = runtime.functions.sandboxes
        assert sandboxes is not None
        pool = sandboxes.pool("cases_api")
        deadline = time.monotonic() + 20
        while pool.in_flight:  # an earlier test's invocation may still run
            assert time.monotonic() < deadline
            time.sleep(0.05)
        fake_functions.reset()
        timeout_s = manifest.function("cases_api").timeout_s
        case_id = f"SLEEP-{timeout_s + 5}"
        reply = http(runtime.base_url, "GET", f"/cases/{case_id}", token=runtime.sign_in("clinician"))
        assert reply.status == 500
        [event] = fake_functions.invocations("cases_api")
        assert event["pathParameters"] == {"caseId": case_id}  # it ran, and was stopped
        assert pool.sandbox_count == 0  # killed, not returned to the pool
        assert fake_functions.invocations("after-sleep") == []


class TestCors:
    def test_the_gateway_answers_an_allowed_preflight_itself(self, runtime: LocalRuntime) -> None:
        reply = http(
            runtime.base_url,
            "OPTIONS",
            "/cases",
            headers={
                "Origin": ALLOWED_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert reply.status == 204
        assert reply.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
        assert set(reply.headers["access-control-allow-methods"].split(",")) == set(
            manifest.cors_allowed_methods()
        )
        assert reply.headers["access-control-allow-headers"] == "authorization,content-type,idempotency-key"
        assert reply.headers["access-control-max-age"] == str(manifest.CORS_MAX_AGE_S)
        assert fake_functions.invocations() == []

    def test_a_preflight_from_another_origin_gets_no_cors_headers(self, runtime: LocalRuntime) -> None:
        reply = http(
            runtime.base_url,
            "OPTIONS",
            "/cases",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert reply.status == 204
        assert not [name for name in reply.headers if name.startswith("access-control-")]

    def test_responses_to_an_allowed_origin_carry_the_declared_headers(self, runtime: LocalRuntime) -> None:
        allowed = http(runtime.base_url, "GET", "/health", headers={"Origin": ALLOWED_ORIGIN})
        assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
        assert allowed.headers["access-control-expose-headers"] == "retry-after"
        other = http(runtime.base_url, "GET", "/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers

    def test_an_options_request_that_is_not_a_preflight_goes_to_the_routes(
        self, runtime: LocalRuntime
    ) -> None:
        assert http(runtime.base_url, "OPTIONS", "/cases").status == 404


class TestClock:
    def test_moving_the_clock_moves_every_sandbox_and_the_runtime(self, runtime: LocalRuntime) -> None:
        before = runtime.clock.now()
        reply = http(
            runtime.base_url,
            "POST",
            "/_local/clock",
            body=json.dumps({"advanceSeconds": 3 * 86400}).encode(),
            headers={"content-type": "application/json"},
        )
        assert reply.status == 200
        assert reply.json()["offsetSeconds"] >= 3 * 86400
        assert (runtime.clock.now() - before).total_seconds() >= 3 * 86400
        # A fresh token (the old one expired three days ago), and the function's event time moved too.
        event = json.loads(
            http(runtime.base_url, "GET", "/cases/X", token=runtime.sign_in("clinician")).body
        )["event"]
        assert event["requestContext"]["timeEpoch"] / 1000 >= before.timestamp() + 3 * 86400

    @pytest.mark.parametrize(
        "payload", [{"advanceSeconds": -5}, {"advanceSeconds": "1"}, {}, {"advanceSeconds": True}]
    )
    def test_the_clock_only_moves_forward_by_a_number(self, runtime: LocalRuntime, payload: object) -> None:
        reply = http(
            runtime.base_url,
            "POST",
            "/_local/clock",
            body=json.dumps(payload).encode(),
            headers={"content-type": "application/json"},
        )
        assert reply.status == 400
        assert reply.json()["code"] == "VALIDATION_ERROR"


class TestConsole:
    def test_one_line_per_request_with_status_function_duration_and_start(
        self, runtime: LocalRuntime, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.INFO, logger="local.console"):
            http(runtime.base_url, "GET", "/health")
            http(runtime.base_url, "GET", "/nowhere")
        lines = [r.getMessage() for r in caplog.records if r.name == "local.console"]
        assert len(lines) == 2
        assert lines[0].startswith("GET /health 200 cases_api ")
        assert lines[0].endswith((" ms cold", " ms warm"))
        assert lines[1].startswith("GET /nowhere 404 - ")
