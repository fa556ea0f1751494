"""A stand-in handler for the local runtime's own tests, so they never depend on functions/.

Every manifest function is pointed at this module (LocalRuntime(module_overrides=...)); it
records what it received and behaves according to the event it gets:

- HTTP API events: echoes the event back; path parameter caseId picks special behaviour.
- WebSocket events: $connect accepts only ?token=let-me-in; messages act on their "action".
- EventBridge events: succeeds, unless FAILURES says the function must fail a few times.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from typing import Any

import boto3

WEBSOCKET_TOKEN = "let-me-in"

_lock = threading.Lock()
INVOCATIONS: list[tuple[str, dict[str, Any], dict[str, Any]]] = []  # (function, event, context facts)
FAILURES: dict[str, int] = {}  # function name -> how many of its next invocations raise


def reset() -> None:
    with _lock:
        INVOCATIONS.clear()
        FAILURES.clear()


def invocations(function_name: str | None = None) -> list[dict[str, Any]]:
    with _lock:
        return [event for name, event, _ in INVOCATIONS if function_name in (None, name)]


def contexts() -> list[dict[str, Any]]:
    with _lock:
        return [context for _, _, context in INVOCATIONS]


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    with _lock:
        INVOCATIONS.append(
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
                },
            )
        )
        failures_left = FAILURES.get(context.function_name, 0)
        if failures_left:
            FAILURES[context.function_name] = failures_left - 1
    if failures_left:
        raise RuntimeError(f"{context.function_name}: planned failure")
    if event.get("version") == "2.0":
        return _http(event)
    if "eventType" in event.get("requestContext", {}):
        return _websocket(event)
    return {"handled": event.get("detail-type")}


def _http(event: dict[str, Any]) -> Any:
    case_id = (event.get("pathParameters") or {}).get("caseId")
    if case_id == "BOOM":
        raise RuntimeError("handler crashed")
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
        reply.update(caseId=f"FAKE-{len(INVOCATIONS):04d}-CASE", version=1)
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
