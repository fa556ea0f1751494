"""Realtime function: the WebSocket API's $connect, $disconnect and $default routes.

$connect redeems a single-use ticket (POST /realtime/tickets; the ID token never goes into a
URL); $default carries the rooms' frames (caseroom.chat.socket), whose replies go back through
the route response."""

import json
from typing import Any

from caseroom import realtime
from caseroom.audit import RequestMeta
from caseroom.chat.logic import ChatService
from caseroom.chat.socket import handle
from caseroom.clock import SystemClock
from caseroom.errors import DomainError
from caseroom.observability import lambda_entrypoint, logger

_clock = SystemClock()
_service: ChatService | None = None


def use_clock(clock: Any) -> None:
    """Tests inject time (ticket expiry, edit windows); None restores the system clock."""
    global _clock, _service
    _clock = clock or SystemClock()
    _service = None


def _chat() -> ChatService:
    global _service
    if _service is None:
        _service = ChatService(clock=_clock)
    return _service


def _meta(request: dict[str, Any]) -> RequestMeta:
    identity = request.get("identity") or {}
    return RequestMeta(
        request_id=str(request.get("requestId", "")),
        source_ip=str(identity.get("sourceIp", "")),
        user_agent=str(identity.get("userAgent", "")),
    )


def _handle(event: dict[str, Any], context: object) -> dict[str, Any]:
    request = event.get("requestContext", {})
    route, connection_id = request.get("routeKey"), request.get("connectionId", "")
    if route == "$connect":
        ticket = (event.get("queryStringParameters") or {}).get("ticket")
        try:
            who = realtime.redeem_ticket(ticket, _clock)
            realtime.remember(connection_id, who, _clock)
        except DomainError as error:
            body = {"code": error.code, "message": error.message}
            return {"statusCode": error.status, "body": json.dumps(body)}
        logger.info("connected", extra={"connection_id": connection_id})
        return {"statusCode": 200}
    if route == "$disconnect":
        realtime.forget(connection_id)
        return {"statusCode": 200}
    reply = handle(connection_id, event.get("body") or "", _meta(request), _clock, _chat())
    return {"statusCode": 200, "body": json.dumps(reply)}


lambda_handler = lambda_entrypoint(_handle)
