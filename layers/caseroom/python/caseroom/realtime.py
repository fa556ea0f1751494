"""WebSocket connections: authorized on $connect by a single-use ticket, remembered, forgotten
on $disconnect.

Key design (single table; all reads are Queries or GetItems on the base table, consistent):
  ticket            pk=WSTICKET#<sha256(ticket)> sk=TICKET   the principal, expiresAt, ttl
  connection        pk=CONN#<connectionId>  sk=CONN         the principal, audiences, rate bucket, ttl
  audience member   pk=WS#<audience>        sk=CONN#<connectionId>  userId, ttl
An audience is who a push is addressed to: USER#<userId> (every connection of a user),
LAB#<labId> (every connection of a lab's members) and CASE#<caseId>#<room> (the connections
that joined a chat room, caseroom.chat). caseroom.notifier Queries WS#<audience> to find the
connections to post to. The connection item lists its audiences so forgetting it removes
every membership in one transaction.

The long-lived ID token never goes into a URL: the client asks POST /realtime/tickets (HTTPS,
authenticated) for a ticket that lives TICKET_SECONDS and opens one connection
(`$connect?ticket=...`). Redeeming deletes the ticket with a condition that it still exists
(consistent: a second use finds nothing), and an expired ticket is refused even while TTL has
not removed it yet.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from caseroom import dynamo
from caseroom.auth import Principal, Role
from caseroom.clock import Clock
from caseroom.errors import TicketExpired, TicketInvalid, TooManyConnections

MAX_CONNECTION_SECONDS = 2 * 3600  # API Gateway closes WebSocket connections after 2 h
CONNECTION_SK = "CONN"
TICKET_SK = "TICKET"
TICKET_SECONDS = 60
MAX_CONNECTIONS_PER_USER = 10


def _ticket_pk(ticket: str) -> str:
    return "WSTICKET#" + hashlib.sha256(ticket.encode()).hexdigest()


def _principal_values(who: Principal) -> dict[str, Any]:
    values: dict[str, Any] = {
        "userId": who.user_id,
        "email": who.email,
        "name": who.name,
        "role": who.role.value,
        "emailVerified": who.email_verified,
    }
    if who.lab_id:
        values["labId"] = who.lab_id
    return values


def _principal(values: dict[str, Any]) -> Principal:
    return Principal(
        user_id=str(values["userId"]),
        email=str(values.get("email", "")),
        name=str(values.get("name", "")),
        role=Role(str(values["role"])),
        lab_id=str(values["labId"]) if values.get("labId") else None,
        email_verified=bool(values.get("emailVerified", False)),
    )


def issue_ticket(who: Principal, clock: Clock) -> tuple[str, int]:
    """A random single-use ticket (256 bits; only its hash is stored) and its lifetime in seconds."""
    ticket = secrets.token_urlsafe(32)
    now = int(clock.now().timestamp())
    dynamo.put(
        {
            "TableName": dynamo.table_name(),
            "Item": dynamo.to_item(
                {
                    "pk": _ticket_pk(ticket),
                    "sk": TICKET_SK,
                    "kind": "ws-ticket",
                    **_principal_values(who),
                    "expiresAt": now + TICKET_SECONDS,
                    "ttl": now + TICKET_SECONDS,
                }
            ),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    )
    return ticket, TICKET_SECONDS


def redeem_ticket(ticket: str | None, clock: Clock) -> Principal:
    """The principal a ticket was issued to. The ticket is deleted by this call whatever the
    outcome; unknown or already used: TicketInvalid; past its lifetime: TicketExpired."""
    if not ticket or len(ticket) > 128:
        raise TicketInvalid()
    try:
        response = dynamo.delete(
            {
                "TableName": dynamo.table_name(),
                "Key": dynamo.key(_ticket_pk(ticket), TICKET_SK),
                "ConditionExpression": "attribute_exists(pk)",
                "ReturnValues": "ALL_OLD",
            }
        )
    except dynamo.ConditionFailed as exc:
        raise TicketInvalid() from exc
    values = dynamo.from_item(response.get("Attributes", {}))
    if int(values.get("expiresAt", 0)) <= int(clock.now().timestamp()):
        raise TicketExpired()
    return _principal(values)


def user_audience(user_id: str) -> str:
    return f"USER#{user_id}"


def patient_audience(email: str) -> str:
    """A patient's feed and pushes, by their (verified) address: the clinic that shares with a
    patient knows the address, not the account (which may not exist yet). Hashed: no email in keys."""
    import hashlib

    return "PATIENT#" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def lab_audience(lab_id: str) -> str:
    return f"LAB#{lab_id}"


def case_audience(case_id: str) -> str:
    return f"CASE#{case_id}"


def room_audience(case_id: str, room: str) -> str:
    """The connections that joined one chat room of a case."""
    return f"CASE#{case_id}#{room}"


def audiences_of(who: Principal) -> list[str]:
    audiences = [user_audience(who.user_id)]
    if who.role is Role.LAB and who.lab_id:
        audiences.append(lab_audience(who.lab_id))
    if who.role is Role.PATIENT and who.email_verified and who.email:
        audiences.append(patient_audience(who.email))
    return audiences


def connection_pk(connection_id: str) -> str:
    return f"CONN#{connection_id}"


def audience_pk(audience: str) -> str:
    return f"WS#{audience}"


def member_sk(connection_id: str) -> str:
    return f"CONN#{connection_id}"


def remember(connection_id: str, who: Principal, clock: Clock) -> None:
    """Stores the connection under the caller's audiences; TooManyConnections when the user
    already holds MAX_CONNECTIONS_PER_USER live connections (one consistent Query)."""
    now = int(clock.now().timestamp())
    expires = now + MAX_CONNECTION_SECONDS
    if len(connections_of(user_audience(who.user_id), now)) >= MAX_CONNECTIONS_PER_USER:
        raise TooManyConnections()
    audiences = audiences_of(who)
    table = dynamo.table_name()
    actions: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": table,
                "Item": dynamo.to_item(
                    {
                        "pk": connection_pk(connection_id),
                        "sk": CONNECTION_SK,
                        "kind": "connection",
                        **_principal_values(who),
                        "audiences": audiences,
                        "connectedAt": now,
                        "ttl": expires,
                    }
                ),
            }
        }
    ]
    actions += [_member_put(table, audience, connection_id, who.user_id, expires) for audience in audiences]
    dynamo.transact(actions)


def _member_put(table: str, audience: str, connection_id: str, user_id: str, expires: int) -> dict[str, Any]:
    """The action that puts a connection among an audience's members (what the fan-out queries)."""
    return {
        "Put": {
            "TableName": table,
            "Item": dynamo.to_item(
                {
                    "pk": audience_pk(audience),
                    "sk": member_sk(connection_id),
                    "kind": "connection-member",
                    "connectionId": connection_id,
                    "userId": user_id,
                    "ttl": expires,
                }
            ),
        }
    }


def connection(connection_id: str, now_epoch: int) -> tuple[Principal, dict[str, Any]] | None:
    """Who holds a live connection (consistent read), with the connection's stored values."""
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(),
        Key=dynamo.key(connection_pk(connection_id), CONNECTION_SK),
        ConsistentRead=True,
    )
    if "Item" not in response:
        return None
    values = dynamo.from_item(response["Item"])
    if int(values.get("ttl", 0)) <= now_epoch or "role" not in values:
        return None
    return _principal(values), values


def subscribe(connection_id: str, audience: str, user_id: str, expires_epoch: int) -> bool:
    """Adds the connection to an audience (a chat room). False when the connection is gone."""
    table = dynamo.table_name()
    try:
        dynamo.transact(
            [
                {
                    "Update": {
                        "TableName": table,
                        "Key": dynamo.key(connection_pk(connection_id), CONNECTION_SK),
                        "UpdateExpression": "SET audiences = list_append(audiences, :a)",
                        "ConditionExpression": "attribute_exists(pk) AND NOT contains(audiences, :s)",
                        "ExpressionAttributeValues": {":a": {"L": [{"S": audience}]}, ":s": {"S": audience}},
                    }
                },
                _member_put(table, audience, connection_id, user_id, expires_epoch),
            ]
        )
    except dynamo.ConditionFailed:
        found = connection(connection_id, 0)
        return found is not None and audience in found[1].get("audiences", [])
    return True


def unsubscribe(connection_id: str, audience: str) -> None:
    """Removes the connection from an audience (leaving a room); a no-op when not in it."""
    table = dynamo.table_name()
    found = connection(connection_id, 0)
    audiences = [a for a in (found[1].get("audiences", []) if found else []) if a != audience]
    actions: list[dict[str, Any]] = [
        {"Delete": {"TableName": table, "Key": dynamo.key(audience_pk(audience), member_sk(connection_id))}}
    ]
    if found is not None:
        actions.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": dynamo.key(connection_pk(connection_id), CONNECTION_SK),
                    "UpdateExpression": "SET audiences = :a",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": {":a": dynamo.to_attribute(audiences)},
                }
            }
        )
    # The connection may go meanwhile ($disconnect removes its memberships itself).
    with contextlib.suppress(dynamo.ConditionFailed):
        dynamo.transact(actions)


def forget(connection_id: str, also_audiences: Iterable[str] = ()) -> None:
    """Removes the connection and its audience memberships (plus any named in also_audiences,
    for a membership found without its connection item)."""
    table = dynamo.table_name()
    response = dynamo.dynamodb().get_item(
        TableName=table, Key=dynamo.key(connection_pk(connection_id), CONNECTION_SK), ConsistentRead=True
    )
    stored = dynamo.from_item(response["Item"]).get("audiences", []) if "Item" in response else []
    audiences = sorted({*stored, *also_audiences})
    actions = [
        {"Delete": {"TableName": table, "Key": dynamo.key(connection_pk(connection_id), CONNECTION_SK)}}
    ]
    actions += [
        {"Delete": {"TableName": table, "Key": dynamo.key(audience_pk(a), member_sk(connection_id))}}
        for a in audiences
    ]
    for start in range(0, len(actions), 100):  # TransactWriteItems takes 100 actions
        dynamo.transact(actions[start : start + 100])


def members_of(audience: str, now_epoch: int) -> dict[str, str]:
    """Connection id -> user id of one audience: one consistent Query (a page holds up to 1 MB,
    thousands of members; no Limit, so a room of 100 costs exactly one call), expired members
    skipped (TTL deletion lags by up to two days)."""
    request: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": audience_pk(audience)}},
        "ConsistentRead": True,
    }
    return {
        str(values["connectionId"]): str(values.get("userId", ""))
        for values in dynamo.query_all(request)
        if int(values.get("ttl", 0)) > now_epoch
    }


def connections_of(audience: str, now_epoch: int) -> list[str]:
    """Connection ids of one audience (members_of without the users)."""
    return list(members_of(audience, now_epoch))
