"""Part 3, load: requests per second and p50/p99 latency of create/get/list through the local
runtime, with two keep-alive HTTP clients, each operation for a fixed duration.

The runtime (aiohttp gateway + in-process handlers + moto server) runs in its own process, the
clients are threads of this one: on two cores that is one core each, and no shared GIL. The
numbers are for spotting regressions of the local stack; they are not a prediction of Lambda
throughput (the local runtime serializes invocations of one function, like a single warm
container, and moto is far slower than DynamoDB).
"""

from __future__ import annotations

import http.client
import importlib.util
import itertools
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from bench import aws_env
from bench.events import CREATE_CASE_BODY
from bench.stats import percentile

DEFAULT_DURATION_S = 10.0  # per operation
CLIENTS = 2
PAGE_SIZE = 25
STARTUP_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 20.0
REQUEST_TIMEOUT_S = 35.0  # above the HTTP API's 30 s integration timeout the gateway enforces
ERROR_SAMPLES = 5
DRAIN_TIMEOUT_S = 60.0
DRAIN_POLL_S = 0.5
_URL_IN_OUTPUT = re.compile(r"http://127\.0\.0\.1:\d+")

Request = tuple[str, str, bytes | None]  # method, path, body


class RuntimeUnavailable(Exception):
    """The local runtime could not be started here; the part reports it as skipped."""


@dataclass
class RunningRuntime:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    how: str


@dataclass
class OperationStats:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, latency_ms: float, error: str | None) -> None:
        with self.lock:
            if error is None:
                self.latencies_ms.append(latency_ms)
                return
            self.errors += 1
            if len(self.error_samples) < ERROR_SAMPLES:
                self.error_samples.append(error)

    def as_dict(self) -> dict[str, Any]:
        ok = len(self.latencies_ms)
        return {
            "requests": ok + self.errors,
            "ok": ok,
            "errors": self.errors,
            "error_samples": self.error_samples,
            "duration_s": round(self.elapsed_s, 2),
            "rps": round(ok / self.elapsed_s, 1) if self.elapsed_s else None,
            "p50_ms": round(percentile(self.latencies_ms, 0.50), 1) if ok else None,
            "p99_ms": round(percentile(self.latencies_ms, 0.99), 1) if ok else None,
            "max_ms": round(max(self.latencies_ms), 1) if ok else None,
        }


# -- the runtime process -------------------------------------------------------------------


def _child_environment() -> dict[str, str]:
    import os

    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CASEROOM_", "AWS_"))}
    return {**environment, "PYTHONPATH": aws_env.python_path(), "PYTHONUNBUFFERED": "1"}


def _wait_until(ready: Callable[[], str | None], process: subprocess.Popen[bytes], log_path: Path) -> str:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        found = ready()
        if found:
            return found
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeUnavailable(f"the runtime exited with {process.returncode}: {' | '.join(tail)}")
        time.sleep(0.1)
    _stop(process)
    raise RuntimeUnavailable(f"the runtime did not report its URL within {STARTUP_TIMEOUT_S:.0f} s")


def start_runtime() -> RunningRuntime:
    """LocalRuntime (local/runtime.py) in a host process of ours; else `python -m local start --port 0`."""
    aws_env.WORK_DIR.mkdir(parents=True, exist_ok=True)
    log_path = aws_env.WORK_DIR / "load-runtime.log"
    ready_file = aws_env.WORK_DIR / "load-runtime.ready.json"
    ready_file.unlink(missing_ok=True)
    if importlib.util.find_spec("local.runtime") is not None:
        command, how = (
            [sys.executable, "-m", "bench.runtime_host", str(ready_file)],
            "LocalRuntime (bench.runtime_host)",
        )
    elif importlib.util.find_spec("local.__main__") is not None:
        command, how = (
            [sys.executable, "-m", "local", "start", "--port", "0"],
            "python -m local start --port 0",
        )
    else:
        raise RuntimeUnavailable("no local runtime yet (neither local/runtime.py nor local/__main__.py)")

    log: IO[bytes] = log_path.open("wb")
    process = subprocess.Popen(
        command,
        cwd=aws_env.REPO_ROOT,
        env=_child_environment(),
        stdin=subprocess.PIPE,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()  # the child holds its own handle

    def ready() -> str | None:
        if how.startswith("LocalRuntime"):
            return str(json.loads(ready_file.read_text())["baseUrl"]) if ready_file.exists() else None
        found = _URL_IN_OUTPUT.search(log_path.read_text(errors="replace"))
        return found.group(0) if found else None

    base_url = _wait_until(ready, process, log_path)
    return RunningRuntime(base_url=base_url, process=process, log_path=log_path, how=how)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Asks our runtime process to stop (stdin closed); terminates it if it does not."""
    if process.stdin is not None and not process.stdin.closed:
        process.stdin.close()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- HTTP clients --------------------------------------------------------------------------


class KeepAliveClient:
    """One persistent HTTP/1.1 connection; reconnects after a failure."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        parts = urlsplit(base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._headers = {"content-type": "application/json"}
        if token:
            self._headers["authorization"] = f"Bearer {token}"
        self._connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self._host, self._port, timeout=REQUEST_TIMEOUT_S)
        try:
            self._connection.request(method, path, body=body, headers=self._headers)
            response = self._connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def sign_in(base_url: str, user: str) -> str:
    status, body = KeepAliveClient(base_url).request(
        "POST", "/_local/sign-in", json.dumps({"user": user}).encode()
    )
    if status != 200:
        raise RuntimeUnavailable(f"sign-in as {user!r} failed: HTTP {status}")
    return str(json.loads(body)["idToken"])


def drive(
    base_url: str,
    token: str,
    name: str,
    next_request: Callable[[], Request],
    duration_s: float,
    expected_status: int,
    on_success: Callable[[bytes], None] | None = None,
    clients: int = CLIENTS,
) -> OperationStats:
    """`clients` threads send `next_request()` back to back for `duration_s` seconds."""
    stats = OperationStats(name)
    start = threading.Barrier(clients + 1)

    def client_loop() -> None:
        client = KeepAliveClient(base_url, token)
        start.wait()
        deadline = time.perf_counter() + duration_s
        try:
            while time.perf_counter() < deadline:
                method, path, body = next_request()
                sent = time.perf_counter()
                try:
                    status, data = client.request(method, path, body)
                except (OSError, http.client.HTTPException) as exc:
                    stats.record(0.0, f"{type(exc).__name__}")
                    continue
                latency_ms = (time.perf_counter() - sent) * 1000
                if status != expected_status:
                    stats.record(latency_ms, f"HTTP {status}: {data[:120]!r}")
                    continue
                stats.record(latency_ms, None)
                if on_success is not None:
                    on_success(data)
        finally:
            client.close()

    threads = [
        threading.Thread(target=client_loop, name=f"bench-{name}-{i}", daemon=True) for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=duration_s + REQUEST_TIMEOUT_S + 5)
    stats.elapsed_s = time.perf_counter() - began
    return stats


def _wait_for_event_backlog(base_url: str, expected_emails: int) -> float | None:
    """Waits until the notifications consumer has sent one email per created case (the rule
    pipeline is then through the create phase's events); None if that cannot be observed."""
    client = KeepAliveClient(base_url)
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < DRAIN_TIMEOUT_S:
            status, data = client.request("GET", "/_local/mailbox.json")
            if status != 200:
                return None
            if len(json.loads(data).get("messages", [])) >= expected_emails:
                return round(time.perf_counter() - started, 1)
            time.sleep(DRAIN_POLL_S)
    finally:
        client.close()
    return None


def run(duration_s: float = DEFAULT_DURATION_S) -> dict[str, Any]:
    try:
        runtime = start_runtime()
    except RuntimeUnavailable as exc:
        return {"skipped": str(exc)}
    try:
        return _measure(runtime, duration_s)
    except RuntimeUnavailable as exc:
        return {"skipped": str(exc), "runtime_log": str(runtime.log_path)}
    finally:
        _stop(runtime.process)


def _measure(runtime: RunningRuntime, duration_s: float) -> dict[str, Any]:
    token = sign_in(runtime.base_url, "clinician")
    create_body = json.dumps(CREATE_CASE_BODY).encode()
    list_path = f"/cases?limit={PAGE_SIZE}"
    case_ids: list[str] = []
    ids_lock = threading.Lock()

    def remember_case(data: bytes) -> None:
        with ids_lock:
            case_ids.append(json.loads(data)["caseId"])

    # Warm-up, not timed: the first request of each route imports the handler (a cold start).
    warm = KeepAliveClient(runtime.base_url, token)
    for method, path, body, expected in (("POST", "/cases", create_body, 201), ("GET", list_path, None, 200)):
        status, data = warm.request(method, path, body)
        if status != expected:
            raise RuntimeUnavailable(f"warm-up {method} {path} answered HTTP {status}: {data[:200]!r}")
        if method == "POST":
            remember_case(data)
    warm.close()

    results: dict[str, Any] = {}
    created = drive(
        runtime.base_url,
        token,
        "create",
        lambda: ("POST", "/cases", create_body),
        duration_s,
        201,
        on_success=remember_case,
    )
    results["create (POST /cases)"] = created.as_dict()

    drained_s = _wait_for_event_backlog(runtime.base_url, expected_emails=len(case_ids))

    ids = itertools.cycle(list(case_ids))  # itertools.cycle's next() is atomic under the GIL
    results["get (GET /cases/{id})"] = drive(
        runtime.base_url, token, "get", lambda: ("GET", f"/cases/{next(ids)}", None), duration_s, 200
    ).as_dict()
    results[f"list (GET /cases?limit={PAGE_SIZE})"] = drive(
        runtime.base_url, token, "list", lambda: ("GET", list_path, None), duration_s, 200
    ).as_dict()
    return {
        "runtime": runtime.how,
        "clients": CLIENTS,
        "duration_s_per_operation": duration_s,
        "cases_in_table_at_list": len(case_ids),
        # Seconds after the create phase until every CaseCreated had its email (None: not observed);
        # get and list run after that, so the event consumers' work does not land in their numbers.
        "event_backlog_drained_after_s": drained_s,
        "operations": results,
        "runtime_log": str(runtime.log_path.relative_to(aws_env.REPO_ROOT)),
    }
