"""Part 4, workflow: events through publish -> bus -> rule -> consumer, and the end-to-end
latency of a status change to a clinic's webhook receiver and to the clinician's WebSocket.

Everything runs in this process: the local runtime (aiohttp gateway, moto server, stream relay,
rule dispatcher with moto's real EventBridge pattern matching), a webhook receiver on 127.0.0.1
and a WebSocket client. Throughput is measured with the relay and dispatcher pumped
back-to-back (no idle polling); latency with their background loops running as in
`python -m local`, so it includes their polling (50 ms after work, backing off to 500 ms when
idle). Numbers are for spotting regressions of the local stack, not a prediction of AWS.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.stats import median, percentile
from client.api import Api

EVENTS = 200
STATUS_CHANGES = 40
TIMEOUT_S = 30.0
CROWN = {
    "patientName": "Bench Patient",
    "rxDescription": "Zirconia crown, shade A2",
    "teeth": ["11"],
    "caseType": "crown",
    "attachments": [{"kind": "scan", "fileName": "upper.stl"}],
}


@dataclass
class Arrivals:
    times: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def add(self, payload: dict[str, Any]) -> None:
        with self.changed:
            self.times.append((time.perf_counter(), payload))
            self.changed.notify_all()

    def wait_count(self, count: int, timeout_s: float = TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        with self.changed:
            while len(self.times) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.times)} of {count} arrived")
                self.changed.wait(left)


def _receiver(arrivals: Arrivals) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            arrivals.add(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _websocket(url: str, arrivals: Arrivals, ready: threading.Event, stop: threading.Event) -> None:
    import aiohttp

    async def run() -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as socket:
            ready.set()
            while not stop.is_set():
                try:
                    message = await asyncio.wait_for(socket.receive(), 0.1)
                except TimeoutError:
                    continue
                if message.type == aiohttp.WSMsgType.TEXT:
                    arrivals.add(json.loads(message.data))
                elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    return

    asyncio.run(run())


def _api(base_url: str, token: str, method: str, path: str, body: Any = None) -> Any:
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base_url + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        return json.loads(response.read() or b"null")


def _outbox_item(case_id: str, actor: str) -> dict[str, Any]:
    from caseroom import dynamo
    from caseroom.clock import SystemClock, iso
    from caseroom.events import DomainEvent, EventType, outbox_attributes

    now = SystemClock().now()
    event = DomainEvent(
        id=secrets.token_hex(16),
        type=EventType.FILE_ADDED,
        time=iso(now),
        case_id=case_id,
        actor=actor,
        correlation_id="bench",
        subject_id="file-" + secrets.token_hex(4),
    )
    return dynamo.to_item(outbox_attributes(event, int(now.timestamp()) + 3600))


def run(events: int = EVENTS, status_changes: int = STATUS_CHANGES) -> dict[str, Any]:
    from local.runtime import LocalRuntime

    hooks, pushes = Arrivals(), Arrivals()
    server = _receiver(hooks)
    stop, ready = threading.Event(), threading.Event()
    try:
        with LocalRuntime(background=False, retry_delay_s=0) as runtime:
            clinician, lab = runtime.sign_in("clinician"), runtime.sign_in("lab")
            base = runtime.base_url
            hook_url = f"http://127.0.0.1:{server.server_port}/hook"
            _api(
                base,
                clinician,
                "POST",
                "/webhooks",
                {"url": hook_url, "eventTypes": ["FileAdded", "CaseStatusChanged"]},
            )
            case = _api(base, clinician, "POST", "/cases", CROWN)
            runtime.pump()

            # -- throughput: N events written to the outbox, pumped through bus, rules, consumers
            client = runtime.backend.client("dynamodb")
            table = runtime.backend.names.table
            for _ in range(events):
                client.put_item(TableName=table, Item=_outbox_item(case["caseId"], case["ownerId"]))
            started = time.perf_counter()
            moved = runtime.pump(max_rounds=10_000)
            elapsed = time.perf_counter() - started
            hooks.wait_count(events)
            throughput = {
                "events": events,
                "consumers_per_event": 2,  # FileAdded -> notifications (lab feed) and webhook_sender
                "relayed_and_delivered": moved,
                "seconds": round(elapsed, 2),
                "events_per_s": round(events / elapsed, 1),
                "deliveries_per_s": round((moved - events) / elapsed, 1),
            }

            # -- latency: status change -> webhook receiver and -> WebSocket push
            for loop in (runtime.relay, runtime.dispatcher, runtime.scheduler):
                loop.start()
            listener = threading.Thread(
                target=_websocket,
                args=(Api(runtime.base_url, clinician).socket_url(), pushes, ready, stop),
                daemon=True,
            )
            listener.start()
            if not ready.wait(10):
                raise TimeoutError("WebSocket did not connect")
            webhook_ms: list[float] = []
            push_ms: list[float] = []
            version = int(case["version"])
            for index in range(status_changes):
                seen_hooks, seen_pushes = len(hooks.times), len(pushes.times)
                # A lab move and back that the state machine allows: Received <-> Missing CBCT/Models.
                status = ("Received", "Missing CBCT/Models")[index % 2]
                sent = time.perf_counter()
                version = int(
                    _api(
                        base,
                        lab,
                        "PUT",
                        f"/cases/{case['caseId']}/status",
                        {"status": status, "version": version},
                    )["version"]
                )
                hooks.wait_count(seen_hooks + 1)
                pushes.wait_count(seen_pushes + 1)
                webhook_ms.append((hooks.times[seen_hooks][0] - sent) * 1000)
                push_ms.append((pushes.times[seen_pushes][0] - sent) * 1000)
            stop.set()
            listener.join(5)
    finally:
        server.shutdown()
        server.server_close()

    def summary(values: list[float]) -> dict[str, float]:
        return {
            "samples": len(values),
            "p50_ms": round(percentile(values, 0.5), 1),
            "p99_ms": round(percentile(values, 0.99), 1),
            "median_ms": round(median(values), 1),
            "max_ms": round(max(values), 1),
        }

    return {
        "runtime": (
            "in-process local runtime (moto server, gateway, relay, dispatcher) + receiver + WebSocket client"
        ),
        "throughput": throughput,
        "latency": {
            "status_change_to_webhook": summary(webhook_ms),
            "status_change_to_websocket_push": summary(push_ms),
        },
    }
