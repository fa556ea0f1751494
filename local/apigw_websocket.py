"""API Gateway WebSocket API semantics: connection ids, route selection and the Lambda events
for $connect / messages / $disconnect (the WebSocket API's own format, not payload 2.0)."""

from __future__ import annotations

import base64
import json
import secrets
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from infra import manifest
from local.apigw_http import apigw_time, new_request_id

WEBSOCKET_API_ID = "local-ws"
WEBSOCKET_STAGE = "local"
MAX_FRAME_BYTES = 32 * 1024
MAX_MESSAGE_BYTES = 128 * 1024
IDLE_TIMEOUT_S = 10 * 60
MESSAGE_TOO_BIG = 1009


def new_connection_id() -> str:
    # Like AWS's "L0SM9cOFvHcCIhw=": 15 base64 characters and '='; no '/' or '+' to keep URLs simple.
    raw = base64.b64encode(secrets.token_bytes(11)).decode()
    return raw.replace("/", "Q").replace("+", "z")


@dataclass(frozen=True)
class ConnectionInfo:
    """What API Gateway remembers about a connection, and repeats in every event."""

    connection_id: str
    connected_at: datetime
    domain_name: str
    source_ip: str
    user_agent: str

    def request_context(self, route_key: str, event_type: str, now: datetime) -> dict[str, Any]:
        request_id = new_request_id()
        identity = {"sourceIp": self.source_ip}
        if self.user_agent:
            identity["userAgent"] = self.user_agent
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": apigw_time(now),
            "messageDirection": "IN",
            "stage": WEBSOCKET_STAGE,
            "connectedAt": int(self.connected_at.timestamp() * 1000),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": identity,
            "requestId": request_id,
            "domainName": self.domain_name,
            "connectionId": self.connection_id,
            "apiId": WEBSOCKET_API_ID,
        }


def connect_event(
    connection: ConnectionInfo, headers: Sequence[tuple[str, str]], raw_query: str, now: datetime
) -> dict[str, Any]:
    """$connect keeps header names as sent (WebSocket APIs do not lowercase them)."""
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        single_headers[name] = value  # the last value wins, as in AWS's single-value map
        multi_headers.setdefault(name, []).append(value)
    event: dict[str, Any] = {"headers": single_headers, "multiValueHeaders": multi_headers}
    query = urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
    if query:
        multi_query: dict[str, list[str]] = {}
        for key, value in query:
            multi_query.setdefault(key, []).append(value)
        event["queryStringParameters"] = {key: values[-1] for key, values in multi_query.items()}
        event["multiValueQueryStringParameters"] = multi_query
    event["requestContext"] = connection.request_context("$connect", "CONNECT", now)
    event["isBase64Encoded"] = False
    return event


def message_event(connection: ConnectionInfo, route_key: str, body: str, now: datetime) -> dict[str, Any]:
    context = connection.request_context(route_key, "MESSAGE", now)
    context["messageId"] = new_request_id()
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def disconnect_event(
    connection: ConnectionInfo, status_code: int, reason: str, now: datetime
) -> dict[str, Any]:
    context = connection.request_context("$disconnect", "DISCONNECT", now)
    context["disconnectStatusCode"] = status_code
    context["disconnectReason"] = reason
    return {
        "headers": {"Host": connection.domain_name, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""},
        "multiValueHeaders": {
            "Host": [connection.domain_name],
            "x-api-key": [""],
            "X-Forwarded-For": [""],
            "x-restapi": [""],
        },
        "requestContext": context,
        "isBase64Encoded": False,
    }


class WebSocketRoutes:
    """Route selection expression `$request.body.action`, falling back to $default."""

    def __init__(self, routes: Sequence[manifest.WebSocketRoute] = manifest.WEBSOCKET_ROUTES) -> None:
        self._functions = {route.route_key: route.function for route in routes}
        self._with_response = {route.route_key for route in routes if route.returns_response}

    def returns_response(self, route_key: str) -> bool:
        """Whether the stack gives this route a route response (the reply reaches the client)."""
        return route_key in self._with_response

    def function_for(self, route_key: str) -> str | None:
        return self._functions.get(route_key)

    def select(self, body: str) -> str | None:
        """The route key for a message, or None when neither its action nor $default exists."""
        try:
            action = json.loads(body).get("action")
        except (ValueError, AttributeError):
            action = None
        if isinstance(action, str) and not action.startswith("$") and action in self._functions:
            return action
        return "$default" if "$default" in self._functions else None
