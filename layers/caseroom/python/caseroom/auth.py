"""Who is calling.

HTTP routes: API Gateway's JWT authorizer (Cognito in the cloud, the local gateway here)
has already verified the token; handlers read its claims from the request context.
WebSocket $connect: browsers cannot send headers, so the realtime function verifies the
token from the query string itself with JwtVerifier, the same checks the authorizer makes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from caseroom.errors import Unauthenticated


class Role(StrEnum):
    CLINICIAN = "clinician"
    LAB = "lab"
    PATIENT = "patient"
    # No account and no JWT: someone holding a share link (caseroom.sharing builds this principal
    # from the link's token on public routes; no Cognito group maps to it).
    GUEST = "guest"


# Cognito group name -> role. A user in several groups takes the first match in this order.
GROUP_ROLES: dict[str, Role] = {"clinicians": Role.CLINICIAN, "lab": Role.LAB, "patients": Role.PATIENT}


ROLE_GROUPS: dict[Role, str] = {role: group for group, role in GROUP_ROLES.items()}


@dataclass(frozen=True)
class Principal:
    user_id: str  # Cognito sub: unique, never reused (HIPAA 164.312(a)(2)(i))
    email: str
    name: str
    role: Role
    lab_id: str | None = None
    # Cognito's email_verified claim: a patient's Passport and Team-Up invitations are matched
    # on a verified address only.
    email_verified: bool = False
    # A guest: the share link (id) whose token they presented, and the hash of the session a
    # confirmed email code gave them (caseroom.sharing). Never set for signed-in users.
    share_link_id: str | None = None
    share_session: str | None = None


def _parse_groups(raw: object) -> list[str]:
    # API Gateway flattens array claims to "[a b]"; a verified token gives a real list.
    if isinstance(raw, list):
        return [str(g) for g in raw]
    if isinstance(raw, str):
        return [g for g in raw.strip("[]").replace(",", " ").split() if g]
    return []


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    sub = claims.get("sub")
    if not sub:
        raise Unauthenticated()
    role = next(
        (GROUP_ROLES[g] for g in GROUP_ROLES if g in _parse_groups(claims.get("cognito:groups"))), None
    )
    if role is None:
        raise Unauthenticated("Your account has no CaseRoom role yet.")
    return Principal(
        user_id=str(sub),
        email=str(claims.get("email", "")),
        name=str(claims.get("name", claims.get("email", ""))),
        role=role,
        lab_id=str(claims["custom:lab_id"]) if claims.get("custom:lab_id") else None,
        # A verified token gives a boolean; API Gateway hands claims to the function as strings.
        email_verified=str(claims.get("email_verified", "")).lower() == "true",
    )


def claims_for(who: Principal) -> dict[str, Any]:
    """The ID-token claims that identify `who`: the inverse of principal_from_claims, used by
    the local runtime's tooling, the tests and the benchmarks to stand in for Cognito."""
    claims: dict[str, Any] = {
        "sub": who.user_id,
        "email": who.email,
        "name": who.name,
        "cognito:groups": [ROLE_GROUPS[who.role]],
        "email_verified": who.email_verified,
    }
    if who.lab_id:
        claims["custom:lab_id"] = who.lab_id
    return claims


def principal_from_http_event(event: Mapping[str, Any]) -> Principal:
    claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get("claims")
    if not claims:
        raise Unauthenticated()
    return principal_from_claims(claims)


CLOCK_SKEW_SECONDS = 60


class JwtVerifier:
    """Verifies an ID token the way API Gateway's JWT authorizer does: RS256 signature over a
    JWKS, issuer, audience, expiry. PyJWT is imported on first use (only $connect pays for it)."""

    def __init__(
        self, issuer: str, audience: str, jwks: Mapping[str, Any] | None = None, jwks_url: str = ""
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._jwks = dict(jwks) if jwks is not None else None
        self._jwks_url = jwks_url

    def _keys(self) -> Mapping[str, Any]:
        if self._jwks is None:
            if not self._jwks_url.startswith(("https://", "http://127.0.0.1")):
                raise Unauthenticated()
            import urllib.request  # only the local authorizer fetches keys; HTTP functions never do

            with urllib.request.urlopen(self._jwks_url, timeout=5) as response:  # noqa: S310 - https or loopback only
                self._jwks = json.loads(response.read())
        return self._jwks

    def verify(self, token: str, now: float | None = None) -> dict[str, Any]:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
            key_data = next(k for k in self._keys().get("keys", []) if k.get("kid") == header.get("kid"))
            key = jwt.PyJWK.from_dict(dict(key_data)).key
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=["RS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require": ["exp", "iat", "sub", "iss", "aud"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
            # Time claims checked against the injected clock so tests never sleep.
            current = now if now is not None else time.time()
            expired = float(claims["exp"]) <= current
            not_yet = max(float(claims["iat"]), float(claims.get("nbf", 0))) > current + CLOCK_SKEW_SECONDS
        except (jwt.PyJWTError, StopIteration, ValueError, KeyError, TypeError) as exc:
            raise Unauthenticated() from exc
        if expired:
            raise Unauthenticated("The token has expired; sign in again.")
        if not_yet:
            raise Unauthenticated()
        return claims
