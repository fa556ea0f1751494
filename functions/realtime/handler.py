"""Realtime function: the WebSocket API's $connect, $disconnect and $default routes."""

import json
from typing import Any

from caseroom import realtime
from caseroom.clock import SystemClock
from caseroom.errors import Unauthenticated
from caseroom.observability import lambda_entrypoint, logger

_clock = SystemClock()


def _handle(event: dict[str, Any], context: object) -> dict[str, Any]:
    request = event.get("requestContext", {})
    route, connection_id = request.get("routeKey"), request.get("connectionId", "")
    if route == "$connect":
        token = (event.get("queryStringParameters") or {}).get("token")
        try:
            who = realtime.authenticate(token, _clock)
        except Unauthenticated:
            return {"statusCode": 401, "body": json.dumps({"code": "UNAUTHENTICATED"})}
        realtime.remember(connection_id, who, _clock)
        logger.info("connected", extra={"connection_id": connection_id})
        return {"statusCode": 200}
    if route == "$disconnect":
        realtime.forget(connection_id)
        return {"statusCode": 200}
    # $default: the chat issue adds actions; until then answer pings and name the problem.
    try:
        message = json.loads(event.get("body") or "{}")
    except json.JSONDecodeError:
        message = {}
    if isinstance(message, dict) and message.get("action") == "ping":
        return {"statusCode": 200, "body": json.dumps({"type": "pong"})}
    return {"statusCode": 400, "body": json.dumps({"code": "UNKNOWN_ACTION", "message": "Unknown action."})}


lambda_handler = lambda_entrypoint(_handle)
