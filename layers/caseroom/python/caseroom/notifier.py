"""Live pushes to WebSocket clients: the one place anything posts to a connection.

    push_to_users(["<userId>"], {"type": "notification", ...})   every connection of those users
    push_to_lab("<labId>", message)                              every connection of the lab's members
    publish("<caseId>", message)                                 every connection subscribed to the case
    push_to_room("<caseId>", "team", message)                    every connection that joined the room

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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from caseroom import aws, realtime
from caseroom.clock import Clock, SystemClock
from caseroom.observability import logger
from caseroom.settings import get_settings

MAX_MESSAGE_BYTES = 32 * 1024
# Posts to many connections run in parallel (one management API call each; boto3 clients are
# thread-safe): a room of 100 is 100 posts, which one after the other cost 100 round trips.
# 10 = botocore's default connection pool per client: more threads would open and drop sockets.
POST_WORKERS = 10


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


@dataclass(frozen=True)
class Delivery:
    """What a push reached: connections posted to and the users they belong to."""

    delivered: int = 0
    users: frozenset[str] = field(default_factory=frozenset)
    gone: int = 0


def push_to_room(case_id: str, room: str, message: Mapping[str, Any], clock: Clock | None = None) -> Delivery:
    """Every connection that joined the room: one Query for them, one post per connection."""
    return push_to_audiences_reaching([realtime.room_audience(case_id, room)], message, clock)


def push_to_audiences(
    audiences: Iterable[str], message: Mapping[str, Any], clock: Clock | None = None
) -> int:
    """Posts `message` once to every live connection of these audiences; returns how many got it."""
    return push_to_audiences_reaching(audiences, message, clock).delivered


def push_to_audiences_reaching(
    audiences: Iterable[str], message: Mapping[str, Any], clock: Clock | None = None
) -> Delivery:
    """Posts `message` once to every live connection of these audiences (one Query per audience,
    one post per connection). A connection that answers 410 Gone loses its own records."""
    data = encode(message)
    endpoint = get_settings().websocket_endpoint
    if not endpoint:
        return Delivery()  # no WebSocket API in this environment (unit tests)
    now = int((clock or SystemClock()).now().timestamp())
    targets: dict[str, tuple[str, str]] = {}  # connection id -> (audience it was found under, user)
    for audience in dict.fromkeys(audiences):
        for connection_id, user_id in realtime.members_of(audience, now).items():
            targets.setdefault(connection_id, (audience, user_id))
    if not targets:
        return Delivery()
    client = aws.client("apigatewaymanagementapi", endpoint_url=endpoint)

    def post(connection_id: str) -> str:
        audience = targets[connection_id][0]
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=data)
            return "ok"
        except client.exceptions.GoneException:
            realtime.forget(connection_id, also_audiences=[audience])
            logger.info("stale connection removed", extra={"connection_id": connection_id})
            return "gone"
        except ClientError as error:  # one bad connection must not cost the others their push
            logger.warning(
                "push failed",
                extra={"connection_id": connection_id, "error": error.response.get("Error", {}).get("Code")},
            )
            return "failed"

    ids = list(targets)
    if len(ids) == 1:
        outcomes = [post(ids[0])]
    else:
        with ThreadPoolExecutor(max_workers=min(POST_WORKERS, len(ids))) as pool:
            outcomes = list(pool.map(post, ids))
    reached = [c for c, outcome in zip(ids, outcomes, strict=True) if outcome == "ok"]
    return Delivery(
        delivered=len(reached),
        users=frozenset(targets[c][1] for c in reached if targets[c][1]),
        gone=outcomes.count("gone"),
    )


def close_connections(connection_ids: Iterable[str]) -> int:
    """Closes connections from the server side (@connections DELETE) and forgets their records;
    returns how many were open."""
    ids = list(dict.fromkeys(connection_ids))
    endpoint = get_settings().websocket_endpoint
    closed = 0
    client = aws.client("apigatewaymanagementapi", endpoint_url=endpoint) if endpoint and ids else None
    for connection_id in ids:
        if client is not None:
            try:
                client.delete_connection(ConnectionId=connection_id)
                closed += 1
            except client.exceptions.GoneException:
                pass
            except ClientError as error:
                logger.warning(
                    "close failed",
                    extra={
                        "connection_id": connection_id,
                        "error": error.response.get("Error", {}).get("Code"),
                    },
                )
        realtime.forget(connection_id)
    return closed
