"""Random identifiers. Never sequential: ids must not let one user guess another's records."""

from __future__ import annotations

import re
import secrets

# Crockford base32: no I, L, O, U, so an id read aloud over the phone is unambiguous.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CASE_ID_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def _random_chars(count: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(count))


def new_case_id() -> str:
    """12 random characters (60 bits) in three groups: 7KQ2-M9XD-4RTA."""
    raw = _random_chars(12)
    return f"{raw[0:4]}-{raw[4:8]}-{raw[8:12]}"


def normalize_case_id(value: str) -> str | None:
    """Accepts what a person types (lower case, O for 0, I/L for 1); None if it cannot be a case id."""
    cleaned = value.strip().upper().replace("O", "0").replace("I", "1").replace("L", "1")
    if len(cleaned) == 12 and "-" not in cleaned:
        cleaned = f"{cleaned[0:4]}-{cleaned[4:8]}-{cleaned[8:12]}"
    return cleaned if CASE_ID_PATTERN.match(cleaned) else None


def new_event_id() -> str:
    return secrets.token_hex(16)


def new_token(nbytes: int = 16) -> str:
    return secrets.token_urlsafe(nbytes)
