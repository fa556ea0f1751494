"""WebSocket connections: authenticated on $connect, remembered, forgotten on $disconnect.

Key design (single table; all reads are Queries or GetItems on the base table, consistent):
  connection        pk=CONN#<connectionId>  sk=CONN         userId, audiences, ttl
  audience member   pk=WS#<audience>        sk=CONN#<connectionId>  ttl
An audience is who a push is addressed to: USER#<userId> (every connection of a user),
LAB#<labId> (every connection of a lab's members) and, once the chat feature subscribes
connections to cases, CASE#<caseId>. caseroom.notifier Queries WS#<audience> to find the
connections to post to. The connection item lists its audiences so forgetting it removes
every membership in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from caseroom import dynamo
from caseroom.auth import JwtVerifier, Principal, Role, principal_from_claims
from caseroom.clock import Clock
from caseroom.errors import Unauthenticated
from caseroom.settings import get_settings

MAX_CONNECTION_SECONDS = 2 * 3600  # API Gateway closes WebSocket connections after 2 h
CONNECTION_SK = "CONN"


@cache
def _verifier() -> JwtVerifier:
    settings = get_settings()
    if not (settings.jwt_issuer and settings.jwt_audience and settings.jwks_url):
        raise Unauthenticated()
    return JwtVerifier(settings.jwt_issuer, settings.jwt_audience, jwks_url=settings.jwks_url)


def authenticate(token: str | None, clock: Clock) -> Principal:
    if not token:
        raise Unauthenticated()
    claims = _verifier().verify(token, now=clock.now().timestamp())
    return principal_from_claims(claims)


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
    now = int(clock.now().timestamp())
    expires = now + MAX_CONNECTION_SECONDS
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
                        "userId": who.user_id,
                        "audiences": audiences,
                        "connectedAt": now,
                        "ttl": expires,
                    }
                ),
            }
        }
    ]
    actions += [
        {
            "Put": {
                "TableName": table,
                "Item": dynamo.to_item(
                    {
                        "pk": audience_pk(audience),
                        "sk": member_sk(connection_id),
                        "kind": "connection-member",
                        "connectionId": connection_id,
                        "ttl": expires,
                    }
                ),
            }
        }
        for audience in audiences
    ]
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


def connections_of(audience: str, now_epoch: int) -> list[str]:
    """Connection ids of one audience: a Query sized by the page, expired members skipped
    (TTL deletion lags by up to two days)."""
    request: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": audience_pk(audience)}},
        "ConsistentRead": True,
        "Limit": 100,
    }
    return [
        str(values["connectionId"])
        for values in dynamo.query_all(request)
        if int(values.get("ttl", 0)) > now_epoch
    ]
