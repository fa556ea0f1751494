from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from caseroom.auth import JwtVerifier, Role, principal_from_claims
from caseroom.errors import Unauthenticated

NOW = 1_800_000_000


def _key_and_jwks(kid: str = "k1") -> tuple[Any, dict[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    public.update(kid=kid, use="sig", alg="RS256")
    return key, {"keys": [public]}


def _token(key: Any, **overrides: Any) -> str:
    claims = {
        "sub": "u1",
        "iss": "https://issuer.test",
        "aud": "client-1",
        "iat": NOW,
        "exp": NOW + 3600,
        "email": "a@b.test",
        "cognito:groups": ["clinicians"],
        "token_use": "id",
    }
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture(scope="module")
def signer() -> tuple[Any, dict[str, Any]]:
    return _key_and_jwks()


def test_valid_token(signer: tuple[Any, dict[str, Any]]) -> None:
    key, jwks = signer
    claims = JwtVerifier("https://issuer.test", "client-1", jwks).verify(_token(key), now=NOW + 10)
    assert principal_from_claims(claims).role is Role.CLINICIAN


@pytest.mark.parametrize(
    ("overrides", "now"),
    [({}, NOW + 3600), ({"aud": "other"}, NOW), ({"iss": "https://evil.test"}, NOW), ({"sub": None}, NOW)],
)
def test_rejected_tokens(signer: tuple[Any, dict[str, Any]], overrides: dict[str, Any], now: int) -> None:
    key, jwks = signer
    claims = {k: v for k, v in overrides.items() if v is not None}
    token = (
        _token(key, **claims)
        if "sub" not in overrides
        else jwt.encode(
            {"iss": "https://issuer.test", "aud": "client-1", "iat": NOW, "exp": NOW + 60},
            key,
            algorithm="RS256",
            headers={"kid": "k1"},
        )
    )
    with pytest.raises(Unauthenticated):
        JwtVerifier("https://issuer.test", "client-1", jwks).verify(token, now=now)


def test_token_signed_by_another_key_is_rejected(signer: tuple[Any, dict[str, Any]]) -> None:
    _, jwks = signer
    other_key, _ = _key_and_jwks()
    with pytest.raises(Unauthenticated):
        JwtVerifier("https://issuer.test", "client-1", jwks).verify(_token(other_key), now=NOW)


def test_garbage_and_alg_none_are_rejected(signer: tuple[Any, dict[str, Any]]) -> None:
    _, jwks = signer
    unsigned = jwt.encode(
        {"sub": "u1", "iss": "https://issuer.test", "aud": "client-1", "exp": NOW + 60, "iat": NOW},
        key=None,
        algorithm="none",
        headers={"kid": "k1"},
    )
    for token in ("not.a.jwt", "", unsigned):
        with pytest.raises(Unauthenticated):
            JwtVerifier("https://issuer.test", "client-1", jwks).verify(token, now=NOW)


def test_api_gateway_flattened_groups_and_no_role() -> None:
    assert principal_from_claims({"sub": "x", "cognito:groups": "[lab patients]"}).role is Role.LAB
    with pytest.raises(Unauthenticated):
        principal_from_claims({"sub": "x", "cognito:groups": "[admins]"})


def test_non_numeric_time_claims_are_401_not_500(signer: tuple[Any, dict[str, Any]]) -> None:
    key, jwks = signer
    with pytest.raises(Unauthenticated):
        JwtVerifier("https://issuer.test", "client-1", jwks).verify(_token(key, exp="soon"), now=NOW)
