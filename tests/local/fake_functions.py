"""A stand-in handler for the local runtime's own tests, so they never depend on functions/.

Every manifest function is pointed at this module (LocalRuntime(module_overrides=...)); it
records what it received and behaves according to the event it gets:

- HTTP API events: echoes the event back; path parameter caseId picks special behaviour.
- WebSocket events: $connect accepts only ?token=let-me-in; messages act on their "action".
- EventBridge events: succeeds, unless fail_next() said the function must fail a few times.

The runtime calls it in sandbox processes: what it records (and the planned failures) live in
files under $CASEROOM_FAKE_STATE_DIR, which the test process reads. Without that variable
(inline runtimes), the state stays in this process.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3

WEBSOCKET_TOKEN = "let-me-in"
STATE_DIR_ENV = "CASEROOM_FAKE_STATE_DIR"

_lock = threading.Lock()
_INVOCATIONS: list[tuple[str, dict[str, Any], dict[str, Any]]] = []  # (function, event, context facts)
_FAILURES: dict[str, int] = {}  # function name -> how many of its next invocations raise


@contextlib.contextmanager
def _state() -> Iterator[tuple[list[tuple[str, dict[str, Any], dict[str, Any]]], dict[str, int]]]:
    """The recorded invocations and planned failures, locked across processes; written back on exit."""
    directory = os.environ.get(STATE_DIR_ENV)
    if not directory:
        with _lock:
            yield _INVOCATIONS, _FAILURES
        return
    root = Path(directory)
    with _lock, (root / "lock").open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        state_file = root / "state.json"
        state = json.loads(state_file.read_text()) if state_file.exists() else {"calls": [], "failures": {}}
        calls = [tuple(call) for call in state["calls"]]
        failures = state["failures"]
        yield calls, failures
        state_file.write_text(json.dumps({"calls": calls, "failures": failures}))


def reset() -> None:
    with _state() as (calls, failures):
        calls.clear()
        failures.clear()


def fail_next(function_name: str, times: int) -> None:
    """The function's next `times` invocations raise."""
    with _state() as (_, failures):
        failures[function_name] = times


def invocations(function_name: str | None = None) -> list[dict[str, Any]]:
    with _state() as (calls, _):
        return [event for name, event, _ in calls if function_name in (None, name)]


def contexts() -> list[dict[str, Any]]:
    with _state() as (calls, _):
        return [context for _, _, context in calls]


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    with _state() as (calls, failures):
        calls.append(
            (
                context.function_name,
                event,
                {
                    "function_name": context.function_name,
                    "function_version": context.function_version,
                    "invoked_function_arn": context.invoked_function_arn,
                    "memory_limit_in_mb": context.memory_limit_in_mb,
                    "aws_request_id": context.aws_request_id,
                    "log_group_name": context.log_group_name,
                    "log_stream_name": context.log_stream_name,
                    "remaining_ms": context.get_remaining_time_in_millis(),
                    "pid": os.getpid(),
                    "environment": {
                        k: v for k, v in os.environ.items() if k.startswith(("AWS_LAMBDA_", "CASEROOM_"))
                    },
                },
            )
        )
        count = len(calls)
        failures_left = failures.get(context.function_name, 0)
        if failures_left:
            failures[context.function_name] = failures_left - 1
    if failures_left:
        raise RuntimeError(f"{context.function_name}: planned failure")
    if event.get("version") == "2.0":
        return _http(event, count)
    if "eventType" in event.get("requestContext", {}):
        return _websocket(event)
    return {"handled": event.get("detail-type")}


def _http(event: dict[str, Any], count: int) -> Any:
    case_id = (event.get("pathParameters") or {}).get("caseId")
    if case_id == "BOOM":
        raise RuntimeError("handler crashed")
    if case_id and case_id.startswith("SLEEP-"):  # SLEEP-<seconds>: outlive a timeout on purpose
        time.sleep(float(case_id.removeprefix("SLEEP-")))
        with _state() as (calls, _):
            calls.append(("after-sleep", {"caseId": case_id}, {}))
    if case_id == "PLAIN":
        return {"plain": True}  # no statusCode: API Gateway answers 200 with this as JSON
    if case_id == "BINARY":
        return {
            "statusCode": 200,
            "headers": {"content-type": "image/png"},
            "body": "iVBORw0=",
            "isBase64Encoded": True,
        }
    if case_id == "COOKIES":
        return {"statusCode": 204, "cookies": ["a=1; Path=/", "b=2; HttpOnly"]}
    reply: dict[str, Any] = {"event": event}
    status = 200
    if event["routeKey"] == "POST /cases":
        status = 201
        reply.update(caseId=f"FAKE-{count:04d}-CASE", version=1)
    elif event["routeKey"] == "PUT /cases/{caseId}/status":
        reply["version"] = json.loads(event["body"])["version"] + 1
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", "x-fake": "yes"},
        "body": json.dumps(reply),
    }


def _websocket(event: dict[str, Any]) -> Any:
    context = event["requestContext"]
    if context["eventType"] == "CONNECT":
        token = (event.get("queryStringParameters") or {}).get("token")
        return {"statusCode": 200} if token == WEBSOCKET_TOKEN else {"statusCode": 401, "body": "nope"}
    if context["eventType"] == "DISCONNECT":
        return {"statusCode": 200}
    message = json.loads(event["body"])
    action = message.get("action")
    if action == "boom":
        raise RuntimeError("message handler crashed")
    if action == "post-back":
        # What the realtime function does: push through the @connections management API.
        client = boto3.client(
            "apigatewaymanagementapi", endpoint_url=os.environ["CASEROOM_WEBSOCKET_ENDPOINT"]
        )
        client.post_to_connection(ConnectionId=context["connectionId"], Data=b'{"pushed": true}')
        return {"statusCode": 200}
    if action == "silent":
        return {"statusCode": 200}
    return {"statusCode": 200, "body": json.dumps({"echo": message, "routeKey": context["routeKey"]})}


def binary_png() -> bytes:
    return base64.b64decode("iVBORw0=")
