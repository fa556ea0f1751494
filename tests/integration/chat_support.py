"""Calling the realtime function in process, as the WebSocket gateway would: $connect with a
ticket, frames on $default, $disconnect; and a recording stand-in for the @connections API."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from caseroom.auth import Principal
from tests.conftest import lambda_context

Api = Callable[..., tuple[int, Any]]


def _context(route: str, connection_id: str) -> dict[str, Any]:
    return {
        "routeKey": route,
        "connectionId": connection_id,
        "requestId": f"ws-{secrets.token_hex(4)}",
        "identity": {"sourceIp": "203.0.113.9"},
    }


def realtime(event: dict[str, Any]) -> dict[str, Any]:
    from functions.realtime.handler import lambda_handler

    return dict(lambda_handler(event, lambda_context("realtime")))


def ticket(api: Api, who: Principal | None) -> str:
    status, body = api("POST", "/realtime/tickets", who=who)
    assert status == 201, body
    return str(body["ticket"])


def connect_with(ticket_value: str | None, connection_id: str | None = None) -> tuple[int, str, Any]:
    connection_id = connection_id or secrets.token_urlsafe(11)
    event: dict[str, Any] = {"requestContext": _context("$connect", connection_id)}
    if ticket_value is not None:
        event["queryStringParameters"] = {"ticket": ticket_value}
    result = realtime(event)
    body = json.loads(result["body"]) if result.get("body") else None
    return int(result["statusCode"]), connection_id, body


def connect(api: Api, who: Principal) -> str:
    status, connection_id, body = connect_with(ticket(api, who))
    assert status == 200, body
    return connection_id


def frame(connection_id: str, message: dict[str, Any] | str) -> dict[str, Any]:
    body = message if isinstance(message, str) else json.dumps(message)
    result = realtime({"requestContext": _context("$default", connection_id), "body": body})
    assert result["statusCode"] == 200
    return dict(json.loads(result["body"]))


def disconnect(connection_id: str) -> None:
    realtime({"requestContext": _context("$disconnect", connection_id)})


@dataclass
class Connections:
    """Stands in for API Gateway's @connections API: records posts and deletes; ids in `gone`
    answer 410 like a connection that went away without a $disconnect."""

    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)

    class exceptions:
        class GoneException(Exception):
            pass

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> None:
        if ConnectionId in self.gone:
            raise self.exceptions.GoneException()
        self.posts.append((ConnectionId, json.loads(Data)))

    def delete_connection(self, ConnectionId: str) -> None:
        if ConnectionId in self.gone:
            raise self.exceptions.GoneException()
        self.deleted.append(ConnectionId)

    def to(self, connection_id: str) -> list[dict[str, Any]]:
        return [message for target, message in self.posts if target == connection_id]
