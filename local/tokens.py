"""A stand-in for the Cognito user pool: seeded users and RS256 ID tokens over a JWKS.

Tokens look like Cognito ID tokens (same claim names), so handlers and the realtime
$connect verifier see locally exactly what they see in the cloud.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from caseroom.clock import Clock, SystemClock

AUDIENCE = "caseroom-local"
TOKEN_LIFETIME_S = 3600


@dataclass(frozen=True)
class SeededUser:
    key: str  # what /_local/sign-in takes
    sub: str  # fixed, so data seeded in one run still belongs to the same user in the next
    email: str
    name: str
    group: str
    lab_id: str | None = None

    def public_view(self) -> dict[str, Any]:
        return {
            "user": self.key,
            "sub": self.sub,
            "email": self.email,
            "name": self.name,
            "group": self.group,
            "labId": self.lab_id,
        }


SEEDED_USERS: dict[str, SeededUser] = {
    user.key: user
    for user in (
        SeededUser(
            "clinician",
            "6f1c2a9e-4b7d-4e21-9a3f-8c5d0e7b1a24",
            "ana.ortiz@clinic.example.com",
            "Dr. Ana Ortiz",
            "clinicians",
        ),
        SeededUser(
            "clinician2",
            "b3e8d1f4-2c6a-4f95-8e07-5a9c3d2b6e81",
            "ben.osei@clinic.example.com",
            "Dr. Ben Osei",
            "clinicians",
        ),
        SeededUser(
            "lab",
            "d92a7c35-8e1b-4a6f-b4c8-1f0e9d3a5c72",
            "lea.martin@lab.example.com",
            "Lea Martin",
            "lab",
            "lab-1",
        ),
        SeededUser(
            "lab2",
            "5e0b9c47-1a3d-4f82-9d6e-7c2a8b4f0e35",
            "noah.williams@harbourlab.example.com",
            "Noah Williams",
            "lab",
            "lab-2",
        ),
        SeededUser(
            "patient",
            "47c0e5b9-3d2f-4c81-a6e9-0b8f7d4c2e13",
            "pat.doe@mail.example.com",
            "Pat Doe",
            "patients",
        ),
    )
}


class UnknownUser(KeyError):
    pass


class DevIdentityProvider:
    """Signs ID tokens with a key pair generated at start-up (never persisted: restart = new key)."""

    def __init__(self, issuer: str, clock: Clock | None = None, audience: str = AUDIENCE) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa  # heavy import

        self.issuer = issuer
        self.audience = audience
        self._clock = clock or SystemClock()
        self._private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = self._compute_key_id()

    def _compute_key_id(self) -> str:
        from cryptography.hazmat.primitives import serialization

        public_der = self._private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return "local-" + hashlib.sha256(public_der).hexdigest()[:16]

    def jwks(self) -> dict[str, Any]:
        from jwt.algorithms import RSAAlgorithm

        key = RSAAlgorithm.to_jwk(self._private_key.public_key(), as_dict=True)
        return {"keys": [{**key, "kid": self.key_id, "alg": "RS256", "use": "sig"}]}

    def user(self, key: str) -> SeededUser:
        try:
            return SEEDED_USERS[key]
        except KeyError:
            raise UnknownUser(key) from None

    def issue_id_token(
        self,
        user_key: str,
        lifetime_s: int = TOKEN_LIFETIME_S,
        claim_overrides: Mapping[str, Any] | None = None,
    ) -> str:
        """claim_overrides replaces (or, with None values, removes) claims: tests use it for edge cases."""
        import jwt

        user = self.user(user_key)
        now = int(self._clock.now().timestamp())
        claims: dict[str, Any] = {
            "sub": user.sub,
            "iss": self.issuer,
            "aud": self.audience,
            "token_use": "id",
            "cognito:username": user.sub,
            "cognito:groups": [user.group],
            "email": user.email,
            "email_verified": True,
            "name": user.name,
            "auth_time": now,
            "iat": now,
            "exp": now + lifetime_s,
            "jti": str(uuid.uuid4()),
        }
        if user.lab_id:
            claims["custom:lab_id"] = user.lab_id
        for name, value in (claim_overrides or {}).items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": self.key_id})
