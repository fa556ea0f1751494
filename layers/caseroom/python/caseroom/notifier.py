"""Live pushes to WebSocket clients: the one place anything posts to a connection.

    push_to_users(["<userId>"], {"type": "notification", ...})   every connection of those users
    push_to_lab("<labId>", message)                              every connection of the lab's members
    publish("<caseId>", message)                                 every connection subscribed to the case

Connections are found with a Query per audience (caseroom.realtime's key design), never a
Scan. publish() reaches the CASE#<caseId> audience, which is empty until the chat feature
subscribes connections to cases (it writes the membership items realtime documents); callers
do not change when it does. A connection that answers 410 Gone is stale: THAT connection's
records are deleted, and the others still get the message.

Messages carry ids and types only (no patient data) and must stay under 32 KB (one frame).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from caseroom import aws, realtime
from caseroom.clock import Clock, SystemClock
from caseroom.observability import logger
from caseroom.settings import get_settings

MAX_MESSAGE_BYTES = 32 * 1024


class MessageTooLarge(ValueError):
    pass


def push_to_users(user_ids: Iterable[str], message: Mapping[str, Any], clock: Clock | None = None) -> int:
    return push_to_audiences([realtime.user_audience(u) for u in user_ids], message, clock)


def push_to_lab(lab_id: str, message: Mapping[str, Any], clock: Clock | None = None) -> int:
    return push_to_audiences([realtime.lab_audience(lab_id)], message, clock)


def publish(case_id: str, message: Mapping[str, Any], clock: Clock | None = None) -> int:
    return push_to_audiences([realtime.case_audience(case_id)], message, clock)


def encode(message: Mapping[str, Any]) -> bytes:
    data = json.dumps(message, separators=(",", ":"), sort_keys=True).encode()
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"push messages must stay under {MAX_MESSAGE_BYTES} bytes")
    return data


def push_to_audiences(
    audiences: Iterable[str], message: Mapping[str, Any], clock: Clock | None = None
) -> int:
    """Posts `message` once to every live connection of these audiences; returns how many got it."""
    data = encode(message)
    endpoint = get_settings().websocket_endpoint
    if not endpoint:
        return 0  # no WebSocket API in this environment (unit tests)
    now = int((clock or SystemClock()).now().timestamp())
    targets: dict[str, str] = {}  # connection id -> the audience it was found under
    for audience in dict.fromkeys(audiences):
        for connection_id in realtime.connections_of(audience, now):
            targets.setdefault(connection_id, audience)
    client = aws.client("apigatewaymanagementapi", endpoint_url=endpoint)
    delivered = 0
    for connection_id, audience in targets.items():
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=data)
            delivered += 1
        except client.exceptions.GoneException:
            realtime.forget(connection_id, also_audiences=[audience])
            logger.info("stale connection removed", extra={"connection_id": connection_id})
        except ClientError as error:  # one bad connection must not cost the others their push
            logger.warning(
                "push failed",
                extra={"connection_id": connection_id, "error": error.response.get("Error", {}).get("Code")},
            )
    return delivered
