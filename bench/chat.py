"""The room's benchmark (issue 13), on demand: `python -m bench.chat` writes bench/results/chat.{json,md}.

One case, its owner and 9 members (synthetic accounts signed by the runtime's dev identity
provider), each with 10 WebSocket connections (the per-user limit): 100 clients joined to the
team room through the local runtime's real gateway (aiohttp clients over TCP).

Measured:
  - delivery latency: from the moment a client writes a send frame until the LAST of the 100
    clients has the message (p50 and p99 over MESSAGES messages sent one after the other);
  - AWS calls per message: every botocore call the send made, in a second pass with the realtime
    handler inline in this process so they can be counted: the room's connections must be found
    with 1 Query and reached with 100 PostToConnection calls;
  - messages per second one room sustains: BURST messages sent at once from as many connections
    (each connection's own rate limit allows 5/s), until all 100 clients have all of them.
Latency and throughput come from the runtime as `make start` runs it: handlers in sandbox
processes, the gateway in this process, the clients in a process of their own. They share a
2-core machine: what a client waits here includes that contention, which API Gateway and Lambda
would not add.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from bench.report import machine_info
from bench.stats import median, percentile
from caseroom.notifier import POST_WORKERS
from client.api import Api

MEMBERS = 9
CONNECTIONS_PER_USER = 10
MESSAGES = 100
CALL_MESSAGES = 10
WARMUP = 3
BURST = 20
TARGET_P99_MS = 250.0
RESULTS = Path(__file__).resolve().parent / "results"
CROWN = {"patientName": "Bench Patient", "rxDescription": "Crown", "teeth": ["11"], "caseType": "crown"}


class CallCounter:
    """Counts botocore API calls (service, operation) made in this process while enabled."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.enabled = False
        self._lock = threading.Lock()

    def install(self) -> None:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call  # type: ignore[attr-defined]
        counter = self

        def counted(client: Any, operation: str, params: Any) -> Any:
            if counter.enabled:
                with counter._lock:
                    counter.calls[f"{client.meta.service_model.service_name}:{operation}"] += 1
            return original(client, operation, params)

        BaseClient._make_api_call = counted  # type: ignore[attr-defined]

    def take(self) -> dict[str, int]:
        with self._lock:
            found = dict(self.calls)
            self.calls.clear()
        return found


def _post(base: str, token: str, path: str) -> Any:
    request = urllib.request.Request(
        base + path, data=b"", headers={"authorization": f"Bearer {token}"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def _team(runtime: Any) -> tuple[str, list[str]]:
    """A case of the seeded clinician's with MEMBERS active members; (case id, tokens of all)."""
    base = runtime.base_url
    owner = runtime.sign_in("clinician")
    case_id = Api(base, owner).call("POST", "/cases", CROWN)["caseId"]
    tokens = [owner]
    for n in range(MEMBERS):
        email = f"bench.member{n}@clinic.example"
        token = runtime.identity.issue_id_token(
            "clinician2", claim_overrides={"sub": f"bench-member-{n}", "email": email, "name": f"Member {n}"}
        )
        Api(base, owner).call(
            "POST", f"/cases/{case_id}/team/invitations", {"email": email, "professionalRole": "surgeon"}
        )
        [request] = Api(base, token).call("GET", "/me/team-requests")["items"]
        _post(base, token, f"/me/team-requests/{request['invitationId']}/accept")
        tokens.append(token)
    return case_id, tokens


async def _scenario(
    base: str, case_id: str, tokens: list[str], counter: CallCounter | None, messages: int, burst: int
) -> dict[str, Any]:
    import aiohttp

    owners = [token for token in tokens for _ in range(CONNECTIONS_PER_USER)]
    arrivals: dict[str, list[float]] = {}
    replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
    room = {"caseId": case_id, "room": "team"}

    async def listen(socket: aiohttp.ClientWebSocketResponse) -> None:
        async for message in socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                return
            frame = json.loads(message.data)
            if frame.get("type") == "message":
                arrivals.setdefault(frame["message"]["text"], []).append(time.perf_counter())
            elif frame.get("ref") in replies and not replies[frame["ref"]].done():
                replies[frame["ref"]].set_result(frame)

    async with aiohttp.ClientSession() as session:
        sockets = []
        for token in owners:  # a fresh ticket right before each connection (tickets live 60 s)
            for attempt in range(3):  # setup on a loaded machine: a refused connect is retried
                url = await asyncio.to_thread(Api(base, token).socket_url)
                try:
                    sockets.append(await session.ws_connect(url, max_msg_size=0))
                    break
                except aiohttp.WSServerHandshakeError:
                    if attempt == 2:
                        raise
        listeners = [asyncio.create_task(listen(socket)) for socket in sockets]
        for index, socket in enumerate(sockets):  # one after the other: setup, not measured
            replies[f"join{index}"] = asyncio.get_running_loop().create_future()
            await socket.send_str(json.dumps({"action": "join", **room, "ref": f"join{index}"}))
            joined = await asyncio.wait_for(replies[f"join{index}"], 30)
            assert joined["type"] == "joined", joined

        async def send_one(sender: int, text: str) -> tuple[float, dict[str, Any]]:
            replies[text] = asyncio.get_running_loop().create_future()
            started = time.perf_counter()
            await sockets[sender].send_str(json.dumps({"action": "send", **room, "text": text, "ref": text}))
            reply = await asyncio.wait_for(replies[text], 180)
            return started, reply

        async def all_arrived(texts: list[str], timeout_s: float = 60) -> None:
            deadline = time.perf_counter() + timeout_s
            while any(len(arrivals.get(t, [])) < len(sockets) for t in texts):
                if time.perf_counter() > deadline:
                    raise TimeoutError("not every client got every message")
                await asyncio.sleep(0.002)

        owner_sockets = list(range(CONNECTIONS_PER_USER))  # the owner's connections send in turn
        for n in range(WARMUP):
            await send_one(owner_sockets[n % len(owner_sockets)], f"warm {n}")
            await all_arrived([f"warm {n}"])
        # ...and a few at once, so every sandbox the burst will use has had its cold start
        warm = [f"warm burst {n}" for n in range(4)]
        await asyncio.gather(*(send_one(CONNECTIONS_PER_USER + n, text) for n, text in enumerate(warm)))
        await all_arrived(warm)
        if counter is not None:
            counter.take()
        latencies, calls_per_message, replies_ms = [], [], []
        for n in range(messages):
            text = f"bench {n}"
            if counter is not None:
                counter.enabled = True
            started, reply = await send_one(owner_sockets[n % len(owner_sockets)], text)
            assert reply["type"] == "sent", reply
            replies_ms.append((time.perf_counter() - started) * 1000)
            await all_arrived([text])
            if counter is not None:
                counter.enabled = False
                calls_per_message.append(counter.take())
            latencies.append((max(arrivals[text]) - started) * 1000)
            await asyncio.sleep(0.25)  # each owner connection sends every 2.5 s: far under its 5/s
        # Throughput: `burst` messages at once, each from its own connection
        texts = [f"burst {n}" for n in range(burst)]
        started = time.perf_counter()
        results = await asyncio.gather(*(send_one(n, text) for n, text in enumerate(texts)))
        await all_arrived(texts, timeout_s=300)
        elapsed = time.perf_counter() - started
        errors = [reply for _, reply in results if reply["type"] != "sent"]
        for socket in sockets:
            await socket.close()
        for task in listeners:
            task.cancel()
    queries = [c.get("dynamodb:Query", 0) for c in calls_per_message] or [0]
    posts = [c.get("apigatewaymanagementapi:PostToConnection", 0) for c in calls_per_message] or [0]
    return {
        "clients": len(owners),
        "messages": messages,
        "latency_to_last_client_ms": {
            "p50": round(percentile(latencies, 0.50), 1),
            "p99": round(percentile(latencies, 0.99), 1),
            "max": round(max(latencies), 1),
            "samples": [round(v, 1) for v in latencies],
        },
        "sender_reply_ms_p50": round(median(replies_ms), 1),
        "aws_calls_per_message": {
            "query_min_max": [min(queries), max(queries)],
            "post_to_connection_min_max": [min(posts), max(posts)],
            "all_calls_of_one_message": calls_per_message[-1] if calls_per_message else {},
        },
        "throughput": {
            "messages": burst,
            "deliveries": burst * len(owners),
            "seconds": round(elapsed, 2),
            "messages_per_s": round(burst / elapsed, 1) if burst else 0,
            "deliveries_per_s": round(burst * len(owners) / elapsed, 0) if burst else 0,
            "refused": len(errors),
        },
    }


def calls() -> dict[str, Any]:
    """Every AWS call of a message, counted: the handlers run inline, in this process."""
    from local.runtime import LocalRuntime

    counter = CallCounter()
    counter.install()
    # No function timeouts: the setup (100 connects and joins) must not fail on a loaded machine;
    # what is measured is timed here.
    with LocalRuntime(inline=True, background=False, enforce_timeouts=False) as runtime:
        case_id, tokens = _team(runtime)
        return asyncio.run(_scenario(runtime.base_url, case_id, tokens, counter, CALL_MESSAGES, 0))


def timed() -> dict[str, Any]:
    """Latency and throughput as `make start` runs: the handlers in sandbox processes, the gateway
    in this process, the 100 clients in a process of their own (three interpreters, no shared GIL)."""
    import subprocess
    import sys
    import tempfile

    from local.runtime import LocalRuntime

    # A data directory, as make start has: the table is DynamoDB Local's (without one, the
    # runtime keeps it in moto, whose transactions copy the whole table).
    with (
        tempfile.TemporaryDirectory(prefix="caseroom-bench-chat-") as scratch,
        LocalRuntime(data_dir=Path(scratch) / "data", enforce_timeouts=False) as runtime,
    ):
        case_id, tokens = _team(runtime)
        job = {"base": runtime.base_url, "caseId": case_id, "tokens": tokens}
        finished = subprocess.run(
            [sys.executable, "-m", "bench.chat", "--clients"],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            check=True,
            timeout=1800,
        )
        return dict(json.loads(finished.stdout))


def clients_only() -> int:
    """The clients' process of `timed`: the job on stdin, the results on stdout."""
    import sys

    job = json.loads(sys.stdin.read())
    results = asyncio.run(_scenario(job["base"], job["caseId"], job["tokens"], None, MESSAGES, BURST))
    print(json.dumps(results))
    return 0


def run() -> dict[str, Any]:
    counted = calls()
    measured = timed()
    # (the counting pass's latencies are not reported: its table is moto's, not DynamoDB Local)
    measured["aws_calls_per_message"] = counted["aws_calls_per_message"]
    return measured


def to_markdown(results: dict[str, Any]) -> str:
    machine, part = results["machine"], results["chat"]
    latency, calls, burst = (
        part["latency_to_last_client_ms"],
        part["aws_calls_per_message"],
        part["throughput"],
    )
    verdict = "PASS" if latency["p99"] < TARGET_P99_MS else "MISS"
    one = ", ".join(f"{k} {v}" for k, v in sorted(calls["all_calls_of_one_message"].items()))
    return "\n".join(
        [
            "# The room: one message to 100 connected clients (local runtime)",
            "",
            f"{machine['date']} - {machine['cpu_count']} CPUs, Python {machine['python']}, "
            f"load average {machine['load_average_1m_at_start']} at start, commit {machine['git_commit']}.",
            "Run with `python -m bench.chat` (on demand). Latency and throughput: the runtime as",
            "`make start` runs it (handlers in sandbox processes, the gateway in its process, the 100",
            "aiohttp clients in a third). AWS calls: a second pass with the handlers inline, where every",
            "call is counted.",
            "",
            "| Measure | Result | Target |",
            "|---|---|---|",
            f"| Delivery latency to the last of {part['clients']} clients, p50 | {latency['p50']} ms | |",
            f"| Delivery latency to the last client, p99 ({part['messages']} messages) | "
            f"{latency['p99']} ms | < {TARGET_P99_MS:.0f} ms: **{verdict}** |",
            f"| Sender's reply (sent frame), p50 | {part['sender_reply_ms_p50']} ms | |",
            f"| Query calls per message (room's connections) | {calls['query_min_max'][0]}-"
            f"{calls['query_min_max'][1]} | 1 |",
            f"| PostToConnection calls per message | {calls['post_to_connection_min_max'][0]}-"
            f"{calls['post_to_connection_min_max'][1]} | 100 |",
            f"| Messages/s one room sustains ({burst['messages']} at once, all delivered to all) | "
            f"{burst['messages_per_s']} ({burst['deliveries_per_s']:.0f} deliveries/s, "
            f"{burst['refused']} refused) | |",
            "",
            f"Every AWS call of one message: {one}.",
            "The other calls are the sender's own checks (connection item, rate bucket, case, membership)",
            "and the one transaction that stores the message with its audit record and event.",
            "",
            "## Reading these numbers",
            "",
            "The call counts are the design's and hold anywhere: one Query finds the room's 100",
            f"connections and each gets one PostToConnection ({POST_WORKERS} in flight at a time). The",
            "latencies are this machine's: every post is a signed HTTP request from the handler's sandbox",
            "to the local gateway, which writes the frame to a client; handler, gateway and clients share",
            f"2 cores (load average {machine['load_average_1m_at_start']} at the start of this run). In AWS",
            "the posts go to API Gateway and the clients are elsewhere, so none of them competes with the",
            "handler for a CPU.",
            "",
        ]
    )


def main() -> int:
    import sys

    if sys.argv[1:] == ["--clients"]:
        return clients_only()
    if sys.argv[1:] == ["--render"]:  # rewrite chat.md from the committed chat.json
        (RESULTS / "chat.md").write_text(to_markdown(json.loads((RESULTS / "chat.json").read_text())))
        return 0
    started = time.perf_counter()
    machine = machine_info()
    results = {"machine": machine, "chat": run(), "duration_s": round(time.perf_counter() - started, 1)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "chat.json").write_text(json.dumps(results, indent=2) + "\n")
    markdown = to_markdown(results)
    (RESULTS / "chat.md").write_text(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
