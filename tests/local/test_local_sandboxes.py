"""Lambda-like sandboxes: warm reuse, cold starts, parallel invocations up to the reserved
concurrency, throttling, timeouts that kill the sandbox, idle reaping, the function's environment."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from infra import manifest
from local.apigw_http import event_for
from local.runtime import LocalRuntime
from local.sandboxes import (
    FunctionFailed,
    FunctionTimedOut,
    SandboxBudget,
    SandboxPool,
    SandboxSettings,
    Throttled,
)
from tests.local import fake_functions
from tests.local.conftest import FAKE_MODULE
from tests.local.support import http

FAST = replace(manifest.function("cases_api"), timeout_s=2)


def pid_of(reply: Any) -> int:
    return int(reply.result["pid"]) if isinstance(reply.result, dict) and "pid" in reply.result else 0


def contexts_of(function_name: str) -> list[dict[str, Any]]:
    return [c for c in fake_functions.contexts() if c.get("function_name") == function_name]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child not yet reaped is a zombie: it runs nothing any more.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


@pytest.fixture
def pool() -> Iterator[SandboxPool]:
    started = SandboxPool(FAST, FAKE_MODULE, {}, SandboxSettings(max_sandboxes=2, reserved_concurrency=2))
    yield started
    started.close()


def wait_until(condition: Any, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


class TestSandboxPool:
    def test_a_sandbox_starts_cold_once_then_serves_warm(self, pool: SandboxPool) -> None:
        first = pool.invoke(event_for("GET", "/cases/ANY"))
        second = pool.invoke(event_for("GET", "/cases/ANY"))
        assert (first.cold, second.cold) == (True, False)
        pids = {c["pid"] for c in contexts_of("cases_api")}
        assert len(pids) == 1 and os.getpid() not in pids  # one process, not this one
        assert pool.cold_starts == 1 and pool.sandbox_count == 1

    def test_concurrent_invocations_run_in_parallel_sandboxes(self, pool: SandboxPool) -> None:
        threads = [
            threading.Thread(target=pool.invoke, args=(event_for("GET", "/cases/SLEEP-0.5"),))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len({c["pid"] for c in contexts_of("cases_api")}) == 2
        assert pool.cold_starts == 2

    def test_one_more_than_the_reserved_concurrency_is_throttled(self) -> None:
        pool = SandboxPool(FAST, FAKE_MODULE, {}, SandboxSettings(max_sandboxes=1, reserved_concurrency=1))
        try:
            busy = threading.Thread(target=pool.invoke, args=(event_for("GET", "/cases/SLEEP-1"),))
            busy.start()
            wait_until(lambda: len(contexts_of("cases_api")) == 1)
            with pytest.raises(Throttled):
                pool.invoke(event_for("GET", "/cases/ANY"))
            busy.join()
            assert pool.invoke(event_for("GET", "/cases/ANY")).cold is False  # capacity is back
        finally:
            pool.close()

    def test_over_the_machine_cap_an_invocation_waits_instead_of_failing(self) -> None:
        pool = SandboxPool(FAST, FAKE_MODULE, {}, SandboxSettings(max_sandboxes=1, reserved_concurrency=5))
        try:
            busy = threading.Thread(target=pool.invoke, args=(event_for("GET", "/cases/SLEEP-0.5"),))
            busy.start()
            wait_until(lambda: len(contexts_of("cases_api")) == 1)
            waited = pool.invoke(event_for("GET", "/cases/ANY"))
            busy.join()
            assert waited.cold is False and pool.cold_starts == 1
        finally:
            pool.close()

    def test_over_the_cap_of_all_functions_the_least_recently_used_idle_sandbox_makes_room(self) -> None:
        budget = SandboxBudget(2)
        settings = SandboxSettings(max_sandboxes=2, reserved_concurrency=5)
        other_function = replace(FAST, name="files_api")
        pools = [SandboxPool(fn, FAKE_MODULE, {}, settings, budget) for fn in (FAST, other_function, FAST)]
        first, second, third = pools
        try:
            # Given two functions with one idle sandbox each, at the cap of all functions together
            first.invoke(event_for("GET", "/cases/ANY"))
            second.invoke(event_for("GET", "/cases/ANY"))
            assert budget.used == 2
            [older] = [c["pid"] for c in fake_functions.contexts()][:1]
            # When a third function needs a sandbox
            reply = third.invoke(event_for("GET", "/cases/ANY"))
            # Then the least recently used idle one was stopped for it, and the cap holds
            assert reply.cold is True
            assert budget.used == 2
            assert (first.sandbox_count, second.sandbox_count, third.sandbox_count) == (0, 1, 1)
            assert not alive(older)
        finally:
            for started in pools:
                started.close()
        assert budget.used == 0

    def test_a_timed_out_sandbox_is_killed_so_no_work_continues(self, pool: SandboxPool) -> None:
        started = time.monotonic()
        with pytest.raises(FunctionTimedOut):
            pool.invoke(event_for("GET", "/cases/SLEEP-30"))
        assert time.monotonic() - started < 10
        [context] = contexts_of("cases_api")
        assert not alive(context["pid"])
        assert pool.sandbox_count == 0
        # The next invocation gets a fresh sandbox.
        assert pool.invoke(event_for("GET", "/cases/ANY")).cold is True

    def test_the_timeout_counts_from_handler_start_not_from_the_cold_start(self, pool: SandboxPool) -> None:
        reply = pool.invoke(event_for("GET", "/cases/ANY"))
        [context] = contexts_of("cases_api")
        assert reply.cold is True
        assert context["remaining_ms"] > (FAST.timeout_s * 1000) - 500

    def test_idle_sandboxes_are_reaped(self, pool: SandboxPool) -> None:
        pool.invoke(event_for("GET", "/cases/ANY"))
        [context] = contexts_of("cases_api")
        assert pool.reap(now=time.monotonic()) == 0  # not idle long enough yet
        assert pool.reap(now=time.monotonic() + SandboxSettings().idle_s + 1) == 1
        assert not alive(context["pid"]) and pool.sandbox_count == 0

    def test_closing_stops_busy_sandboxes_at_once(self, pool: SandboxPool) -> None:
        errors: list[BaseException] = []

        def call() -> None:
            try:
                pool.invoke(event_for("GET", "/cases/SLEEP-30"))
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

        busy = threading.Thread(target=call)
        busy.start()
        wait_until(lambda: len(contexts_of("cases_api")) == 1)
        started = time.monotonic()
        pool.close()
        busy.join(timeout=5)
        assert not busy.is_alive() and time.monotonic() - started < 3
        assert isinstance(errors[0], FunctionFailed)

    def test_a_handler_error_reaches_the_caller_and_the_sandbox_stays_warm(self, pool: SandboxPool) -> None:
        with pytest.raises(FunctionFailed) as failure:
            pool.invoke(event_for("GET", "/cases/BOOM"))
        assert failure.value.error_type == "RuntimeError"
        # As in Lambda, an invocation error leaves the execution environment in place.
        after = pool.invoke(event_for("GET", "/cases/ANY"))
        assert after.cold is False and after.result["statusCode"] == 200


class TestSandboxesInTheRuntime:
    def test_each_sandbox_gets_the_function_environment(self, runtime: LocalRuntime) -> None:
        http(runtime.base_url, "GET", "/health")
        [context] = fake_functions.contexts()
        environment = context["environment"]
        assert context["pid"] != os.getpid()
        assert environment["AWS_LAMBDA_FUNCTION_NAME"] == "cases_api"
        assert environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == str(manifest.function("cases_api").memory_mb)
        assert environment["CASEROOM_TABLE_NAME"] == manifest.TABLE.name
        assert environment["CASEROOM_AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert environment["CASEROOM_STAGE"] == "local"
        assert "CASEROOM_LOCAL_CLOCK_FILE" in environment


def test_an_injected_clock_needs_inline_handlers() -> None:
    from datetime import UTC, datetime

    from caseroom.clock import FixedClock

    with pytest.raises(ValueError, match="inline=True"):
        LocalRuntime(clock=FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))


def test_the_command_line_defaults_are_the_sandboxes_defaults() -> None:
    import local.__main__ as cli
    from local import sandboxes

    assert cli.DEFAULT_MAX_SANDBOXES == sandboxes.DEFAULT_MAX_SANDBOXES
    assert cli.DEFAULT_MAX_TOTAL_SANDBOXES == sandboxes.DEFAULT_MAX_TOTAL_SANDBOXES
