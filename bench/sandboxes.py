"""Part 5, sandboxes: the local runtime under concurrency, with functions in Lambda-like sandbox
processes (local/sandboxes.py). The runtime runs in its own process (bench.runtime_host), the
clients are threads of this one.

- 100 concurrent case creations and 50 concurrent bookings of one planning block: every answer's
  status; targets: no 5xx, exactly one booking wins.
- A status change to its signed webhook (signature verified) and to the clinician's WebSocket
  push: p50 / p99, target p99 under 1 s.
- create / get / list requests per second through the gateway at 1, 4 and 16 clients, next to
  the same handler called in this process (same backends, same client counts), measured in one
  run: the ratio is the gateway's and the sandboxes' own cost.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from bench import aws_env
from bench.stats import percentile

CREATIONS = 100
BOOKINGS = 50
STATUS_CHANGES = 40
CLIENT_COUNTS = (1, 4, 16)
DEFAULT_DURATION_S = 5.0  # per operation, client count and mode
LATENCY_TARGET_MS = 1000.0
STARTUP_TIMEOUT_S = 120.0
REQUEST_TIMEOUT_S = 60.0
CROWN = {
    "patientName": "Bench Patient",
    "rxDescription": "Zirconia crown, shade A2",
    "teeth": ["11"],
    "caseType": "crown",
    "attachments": [{"kind": "scan", "fileName": "upper.stl"}],
}


# -- HTTP ----------------------------------------------------------------------------------------


class Api:
    """One keep-alive connection (one client)."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        parts = urlsplit(base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self.token = token
        self._connection: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=REQUEST_TIMEOUT_S
                )
            try:
                self._connection.request(method, path, body=data, headers=headers)
                response = self._connection.getresponse()
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
            except (ConnectionError, http.client.HTTPException):
                self._connection.close()
                self._connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def sign_in(base_url: str, user: str) -> str:
    status, body = Api(base_url).call("POST", "/_local/sign-in", {"user": user})
    if status != 200:
        raise RuntimeError(f"sign-in answered {status}")
    return str(body["idToken"])


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def all_at_once(calls: list[Callable[[], tuple[int, Any]]]) -> list[tuple[int, Any]]:
    """Runs every call in its own thread, released together."""
    results: list[tuple[int, Any]] = [(0, None)] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as exc:  # noqa: BLE001 - a failed request is a result to report
            results[index] = (-1, f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def status_counts(results: list[tuple[int, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status, _ in results:
        counts[str(status)] = counts.get(str(status), 0) + 1
    return dict(sorted(counts.items()))


# -- the runtime process -------------------------------------------------------------------------


@dataclass
class Runtime:
    process: subprocess.Popen[bytes]
    base_url: str
    environment: dict[str, str]


def start_runtime() -> Runtime:
    aws_env.WORK_DIR.mkdir(parents=True, exist_ok=True)
    ready_file = aws_env.WORK_DIR / "sandboxes-runtime.ready.json"
    ready_file.unlink(missing_ok=True)
    log = (aws_env.WORK_DIR / "sandboxes-runtime.log").open("wb")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CASEROOM_", "AWS_"))}
    environment.update(PYTHONPATH=aws_env.python_path(), PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.runtime_host", str(ready_file)],
        cwd=aws_env.REPO_ROOT,
        env=environment,
        stdin=subprocess.PIPE,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not ready_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the runtime did not start; see bench/.work/sandboxes-runtime.log")
        time.sleep(0.1)
    ready = json.loads(ready_file.read_text())
    return Runtime(process, ready["baseUrl"], ready["environment"])


def stop_runtime(runtime: Runtime) -> float:
    """Closes the host's stdin (it then stops the runtime); returns the seconds the stop took."""
    started = time.perf_counter()
    assert runtime.process.stdin is not None
    runtime.process.stdin.close()
    try:
        runtime.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        runtime.process.kill()
        runtime.process.wait()
    return time.perf_counter() - started


# -- 1. concurrency ------------------------------------------------------------------------------


def concurrent_creations(base_url: str, clinician: str) -> dict[str, Any]:
    started = time.perf_counter()
    results = all_at_once(
        [lambda: Api(base_url, clinician).call("POST", "/cases", CROWN) for _ in range(CREATIONS)]
    )
    seconds = time.perf_counter() - started
    counts = status_counts(results)
    return {
        "requests": CREATIONS,
        "statuses": counts,
        "server_errors": sum(n for status, n in counts.items() if status.startswith("5") or status == "-1"),
        "distinct_case_ids": len({body["caseId"] for status, body in results if status == 201}),
        "seconds": round(seconds, 2),
    }


def drain(base_url: str, quiet_s: float = 3.0, limit_s: float = 180.0) -> float:
    """Waits until the event consumers are done (no new email for quiet_s): the next phase then
    measures its own work, not the backlog of the previous one. Returns the seconds waited."""
    started = time.monotonic()
    api = Api(base_url)
    count, changed_at = -1, time.monotonic()
    while time.monotonic() - started < limit_s:
        status, body = api.call("GET", "/_local/mailbox.json")
        current = len(body["messages"]) if status == 200 else count
        if current != count:
            count, changed_at = current, time.monotonic()
        elif time.monotonic() - changed_at >= quiet_s:
            break
        time.sleep(0.5)
    return round(time.monotonic() - started, 1)


def with_retries(call: Callable[[], tuple[int, Any]], attempts: int = 5) -> tuple[int, Any]:
    """Setup steps only (not measured): a 5xx is retried after a pause."""
    for attempt in range(attempts):
        status, body = call()
        if status < 500:
            return status, body
        time.sleep(1.0 + attempt)
    return status, body


def walk_to_ready_to_plan(lab_api: Api, case_id: str) -> None:
    """Received, then Ready to Plan, from wherever the case is (a retried step may have landed)."""
    for _ in range(10):
        status, case = with_retries(lambda: lab_api.call("GET", f"/cases/{case_id}"))
        if status != 200:
            raise RuntimeError(f"setup: GET case answered {status}: {case}")
        if case["status"] == "Ready to Plan":
            return
        move = {"status": "Received" if case["status"] == "Processing" else "Ready to Plan"}
        move["version"] = case["version"]
        path = f"/cases/{case_id}/status"
        with_retries(functools.partial(lab_api.call, "PUT", path, move))
    raise RuntimeError(f"setup: case {case_id} did not reach Ready to Plan")


def concurrent_bookings(base_url: str, clinicians: list[str], lab: str) -> dict[str, Any]:
    lab_api = Api(base_url, lab)
    cases: list[tuple[str, str]] = []  # (token, case id)
    for index in range(BOOKINGS):
        token = clinicians[index % len(clinicians)]
        status, case = with_retries(functools.partial(Api(base_url, token).call, "POST", "/cases", CROWN))
        if status != 201:
            raise RuntimeError(f"setup: POST /cases answered {status}")
        walk_to_ready_to_plan(lab_api, case["caseId"])
        cases.append((token, case["caseId"]))
    drained_s = drain(base_url)
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 5 * 86400))
    status, block = lab_api.call(
        "POST",
        "/lab/planning/blocks",
        {
            "start": f"{day}T09:00",
            "durationMinutes": 45,
            "timezone": "UTC",
            "meetingUrl": "https://meet.example/b",
        },
    )
    if status != 201:
        raise RuntimeError(f"setup: POST /lab/planning/blocks answered {status}: {block}")

    def book(token: str, case_id: str) -> Callable[[], tuple[int, Any]]:
        return lambda: Api(base_url, token).call(
            "POST", f"/cases/{case_id}/planning", {"blockId": block["blockId"]}
        )

    started = time.perf_counter()
    results = all_at_once([book(token, case_id) for token, case_id in cases])
    seconds = time.perf_counter() - started
    counts = status_counts(results)
    refusals: dict[str, int] = {}
    for status, body in results:
        if 400 <= status < 500 and isinstance(body, dict):
            refusals[str(body.get("code"))] = refusals.get(str(body.get("code")), 0) + 1
    return {
        "requests": BOOKINGS,
        "setup_backlog_drained_in_s": drained_s,
        "statuses": counts,
        "refusal_codes": refusals,
        "server_errors": sum(n for status, n in counts.items() if status.startswith("5") or status == "-1"),
        "winners": counts.get("201", 0),
        "seconds": round(seconds, 2),
    }


# -- 2. latency ----------------------------------------------------------------------------------


@dataclass
class Arrivals:
    times: list[float] = field(default_factory=list)
    bad_signatures: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)

    def add(self, valid: bool = True) -> None:
        with self.changed:
            self.times.append(time.perf_counter())
            if not valid:
                self.bad_signatures += 1
            self.changed.notify_all()

    def wait_count(self, count: int, timeout_s: float = 30.0) -> float:
        deadline = time.monotonic() + timeout_s
        with self.changed:
            while len(self.times) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.times)} of {count} arrived")
                self.changed.wait(left)
            return self.times[count - 1]


def verify_signature(secret: str, headers: Any, body: bytes) -> bool:
    """Standard Webhooks: HMAC-SHA256 over "{id}.{timestamp}.{body}" with the decoded secret."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    entries = str(headers["webhook-signature"]).split(" ")
    return any(hmac.compare_digest(f"v1,{expected}", entry) for entry in entries)


def receiver(arrivals: Arrivals, secret: list[str]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            arrivals.add(valid=bool(secret) and verify_signature(secret[0], self.headers, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def websocket_listener(url: str, arrivals: Arrivals, ready: threading.Event, stop: threading.Event) -> None:
    import aiohttp

    async def run() -> None:
        for attempt in range(5):  # $connect runs the realtime function, cold at first
            try:
                async with aiohttp.ClientSession() as session, session.ws_connect(url) as socket:
                    await listen(socket)
                    return
            except aiohttp.WSServerHandshakeError:
                await asyncio.sleep(1.0 + attempt)

    async def listen(socket: Any) -> None:
        ready.set()
        while not stop.is_set():
            try:
                message = await asyncio.wait_for(socket.receive(), 0.1)
            except TimeoutError:
                continue
            if message.type == aiohttp.WSMsgType.TEXT:
                arrivals.add()
            elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                return

    asyncio.run(run())


def notification_latency(base_url: str, clinician: str, lab: str) -> dict[str, Any]:
    hooks, pushes = Arrivals(), Arrivals()
    secret: list[str] = []
    server = receiver(hooks, secret)
    stop, ready = threading.Event(), threading.Event()
    from client.api import Api as TicketApi

    ws_url = TicketApi(base_url, clinician).socket_url()
    listener = threading.Thread(target=websocket_listener, args=(ws_url, pushes, ready, stop), daemon=True)
    try:
        api, lab_api = Api(base_url, clinician), Api(base_url, lab)
        status, endpoint = api.call(
            "POST",
            "/webhooks",
            {"url": f"http://127.0.0.1:{server.server_port}/hook", "eventTypes": ["CaseStatusChanged"]},
        )
        if status != 201:
            raise RuntimeError(f"POST /webhooks answered {status}: {endpoint}")
        secret.append(endpoint["secret"])
        status, case = api.call("POST", "/cases", CROWN)
        if status != 201:
            raise RuntimeError(f"POST /cases answered {status}: {case}")
        time.sleep(2.0)  # let the case's own events (Rx script, CaseCreated notices) pass first
        listener.start()
        if not ready.wait(60):
            raise TimeoutError("the WebSocket did not connect")
        pushes_before = len(pushes.times)
        webhook_ms: list[float] = []
        push_ms: list[float] = []
        version = int(case["version"])
        for index in range(STATUS_CHANGES):
            seen_hooks, seen_pushes = len(hooks.times), len(pushes.times)
            target = ("Received", "Missing CBCT/Models")[index % 2]
            sent = time.perf_counter()
            status, moved = lab_api.call(
                "PUT", f"/cases/{case['caseId']}/status", {"status": target, "version": version}
            )
            if status != 200:
                raise RuntimeError(f"status change answered {status}: {moved}")
            version = int(moved["version"])
            webhook_ms.append((hooks.wait_count(seen_hooks + 1) - sent) * 1000)
            push_ms.append((pushes.wait_count(seen_pushes + 1) - sent) * 1000)
            time.sleep(0.3)  # one change at a time, as a lab works; idle loops back off meanwhile
        stop.set()
        listener.join(5)
    finally:
        server.shutdown()
        server.server_close()

    def summary(values: list[float]) -> dict[str, Any]:
        p99 = percentile(values, 0.99)
        return {
            "samples": len(values),
            "p50_ms": round(percentile(values, 0.5), 1),
            "p99_ms": round(p99, 1),
            "max_ms": round(max(values), 1),
            "target_p99_ms": LATENCY_TARGET_MS,
            "passed": p99 < LATENCY_TARGET_MS,
        }

    return {
        "status_change_to_signed_webhook": summary(webhook_ms),
        "status_change_to_websocket_push": summary(push_ms),
        "bad_signatures": hooks.bad_signatures,
        "pushes_before_the_first_change": pushes_before,
    }


# -- 3. throughput -------------------------------------------------------------------------------


def run_clients(
    clients: int, duration_s: float, make_call: Callable[[int], Callable[[], int]]
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + duration_s

    def client(index: int) -> None:
        call = make_call(index)
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            status = call()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if 200 <= status < 300:
                    latencies.append(elapsed)
                else:
                    errors[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return {
        "clients": clients,
        "ok": len(latencies),
        "errors": errors[0],
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(percentile(latencies, 0.5), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
    }


def in_process_handler(environment: dict[str, str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """cases_api's handler in this process, against the runtime's backends."""
    os.environ.update({k: v for k, v in environment.items() if k != "CASEROOM_LOCAL_CLOCK_FILE"})
    from caseroom import aws, settings

    settings.get_settings.cache_clear()
    aws.reset_clients()
    from functions.cases_api.handler import lambda_handler
    from local.functions import LambdaContext

    def call(event: dict[str, Any]) -> dict[str, Any]:
        context = LambdaContext(function_name="cases_api", memory_limit_in_mb=512, timeout_s=10)
        return dict(lambda_handler(event, context))

    return call


def throughput(
    base_url: str, clinician: str, environment: dict[str, str], duration_s: float
) -> dict[str, Any]:
    from local.apigw_http import event_for

    _, case = Api(base_url, clinician).call("POST", "/cases", CROWN)
    case_id = case["caseId"]
    claims = claims_of(clinician)
    handler = in_process_handler(environment)
    operations: dict[str, tuple[str, str, Any]] = {
        "create": ("POST", "/cases", CROWN),
        "get": ("GET", f"/cases/{case_id}", None),
        "list": ("GET", "/cases?limit=25", None),
    }
    rows: list[dict[str, Any]] = []
    for name, (method, path, body) in operations.items():
        for clients in CLIENT_COUNTS:

            def through_gateway(
                _: int, method: str = method, path: str = path, body: Any = body
            ) -> Callable[[], int]:
                api = Api(base_url, clinician)
                return lambda: api.call(method, path, body)[0]

            def in_process(
                _: int, method: str = method, path: str = path, body: Any = body
            ) -> Callable[[], int]:
                route_path, _separator, query = path.partition("?")
                parameters = dict(pair.split("=") for pair in query.split("&")) if query else None

                def call() -> int:
                    event = event_for(
                        method,
                        route_path,
                        claims=claims,
                        body=json.dumps(body) if body is not None else None,
                        query=parameters,
                    )
                    return int(handler(event)["statusCode"])

                return call

            gateway = run_clients(clients, duration_s, through_gateway)
            direct = run_clients(clients, duration_s, in_process)
            rows.append(
                {
                    "operation": name,
                    "clients": clients,
                    "gateway": gateway,
                    "in_process": direct,
                    "gateway_rps_over_in_process": round(gateway["rps"] / direct["rps"], 2)
                    if direct["rps"]
                    else None,
                }
            )
    return {"duration_s_per_cell": duration_s, "rows": rows}


# -- the part ------------------------------------------------------------------------------------


def run(duration_s: float = DEFAULT_DURATION_S) -> dict[str, Any]:
    runtime = start_runtime()
    results: dict[str, Any] = {
        "runtime": "bench.runtime_host: LocalRuntime with sandbox processes (4 per function at most)"
    }

    def phase(name: str, measure: Callable[[], dict[str, Any]]) -> None:
        """A phase that fails is reported as such; the next phases still run."""
        print(f"[bench] sandboxes: {name} ...", file=sys.stderr, flush=True)
        try:
            results[name] = measure()
        except Exception as exc:  # noqa: BLE001 - a failed phase is a result to report
            results[name] = {"error": f"{type(exc).__name__}: {exc}"[:500]}

    try:
        base = runtime.base_url
        clinician, clinician2, lab = (sign_in(base, user) for user in ("clinician", "clinician2", "lab"))
        phase(
            "concurrent_creations",
            lambda: {**concurrent_creations(base, clinician), "drained_s": drain(base)},
        )
        phase("concurrent_bookings", lambda: concurrent_bookings(base, [clinician, clinician2], lab))
        drain(base)
        phase("latency", lambda: notification_latency(base, sign_in(base, "clinician"), sign_in(base, "lab")))
        drain(base)
        phase(
            "throughput",
            lambda: throughput(base, sign_in(base, "clinician"), runtime.environment, duration_s),
        )
    finally:
        results["runtime_process_peak_rss_mb"] = peak_rss_mb(runtime.process.pid)
        results["stop_seconds"] = round(stop_runtime(runtime), 2)
    return results


def peak_rss_mb(pid: int) -> float | None:
    """The runtime process's high-water mark (VmHWM: gateway, relay, dispatcher and moto)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None
