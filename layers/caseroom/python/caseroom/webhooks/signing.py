"""Standard Webhooks signatures (https://www.standardwebhooks.com).

signed content  = f"{webhook-id}.{webhook-timestamp}.{body}"
signature       = base64(HMAC-SHA256(key = base64-decoded secret without "whsec_", content))
header          = "v1,<signature>" entries separated by spaces (one per valid secret)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - the spec's prefix, not a secret
SECRET_BYTES = 32  # the spec asks for 24-64 random bytes


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_in_use: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """During a rotation's overlap both the new and the previous secret sign the message."""
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets_in_use)
