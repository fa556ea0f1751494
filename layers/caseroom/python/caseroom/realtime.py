"""WebSocket connections. The chat and workflow features push through these; for now a
connection is authenticated on $connect, remembered, and forgotten on $disconnect."""

from __future__ import annotations

from functools import cache

from caseroom import dynamo
from caseroom.auth import JwtVerifier, Principal, principal_from_claims
from caseroom.clock import Clock
from caseroom.errors import Unauthenticated
from caseroom.settings import get_settings

MAX_CONNECTION_SECONDS = 2 * 3600  # API Gateway closes WebSocket connections after 2 h


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


def remember(connection_id: str, who: Principal, clock: Clock) -> None:
    now = int(clock.now().timestamp())
    dynamo.dynamodb().put_item(
        TableName=dynamo.table_name(),
        Item=dynamo.to_item(
            {
                "pk": f"CONN#{connection_id}",
                "sk": "CONN",
                "kind": "connection",
                "userId": who.user_id,
                "connectedAt": now,
                "ttl": now + MAX_CONNECTION_SECONDS,
            }
        ),
    )


def forget(connection_id: str) -> None:
    dynamo.dynamodb().delete_item(
        TableName=dynamo.table_name(), Key=dynamo.key(f"CONN#{connection_id}", "CONN")
    )
