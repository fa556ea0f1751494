"""One paging helper for every list: a DynamoDB Query of one page and its authenticated cursor.

A cursor is the page's LastEvaluatedKey, index sort keys included, sealed with AES-256-GCM:
  - authenticated: any change to it (a flipped bit, a cut, an extension) fails the tag check;
  - bound to the reader (user id, role, lab), the list, its partition, filters and sort, which
    are the AEAD's associated data: the same bytes presented by someone else, for another list,
    or with other filters, do not open;
  - encrypted: index sort keys can hold patient names (the by-patient ordering), and a URL is
    logged in many places, so nothing of the key is readable in it;
  - short-lived but long enough for real use: CURSOR_LIFETIME after it was issued.
Carrying the index keys as they were (rather than rebuilding them from the item's current
state) is what keeps paging stable while items move: the next page starts right after the
position the last item had when the page was read, wherever that item is now, so every item
that did not itself move is seen exactly once.

Any cursor that does not open is 400 INVALID_CURSOR and a denied audit record under the
reader's name, written here: the one place every list passes through.

The key, first configured wins: a Secrets Manager secret in the cloud
(CASEROOM_CURSOR_KEY_SECRET_ARN, read once on first use), a file the local runtime keeps in its
data directory (CASEROOM_CURSOR_KEY_FILE, created 0600 with a random key when missing), or a
literal (CASEROOM_CURSOR_KEY, tests).
With none of them, only the local stage falls back, to a random key of this process (cursors
then die with the process); any other stage refuses to serve a cursor.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from caseroom import aws, dynamo
from caseroom.audit import Outcome, RequestMeta, user_record
from caseroom.clock import iso
from caseroom.errors import InvalidCursor
from caseroom.observability import logger
from caseroom.settings import Settings, get_settings

if TYPE_CHECKING:
    from caseroom.auth import Principal
    from caseroom.table_schema import GlobalIndex

CURSOR_LIFETIME = timedelta(hours=12)
# Lambdas' clocks may disagree a little: a cursor issued "in the future" by this much still opens.
CLOCK_SKEW = timedelta(minutes=5)
MAX_CURSOR_LENGTH = 2048
AUDIT_ACTION = "list.page"

_FORMAT = 1  # first byte of every cursor; a new format gets a new number
_NONCE_BYTES = 12
_TAG_BYTES = 16
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_KEY_CONTEXT = b"caseroom/list-cursor/aes-256-gcm/v1"
_MIN_SECRET_CHARS = 32


# --- what a list call passes -------------------------------------------------------------------


@dataclass(frozen=True)
class PageRequest:
    """Who reads which page: the reader and request (for the binding and the audit record), the
    page size, the cursor of the previous page (None for the first) and the time of the request."""

    who: Principal
    meta: RequestMeta
    limit: int
    cursor: str | None
    now: datetime


@dataclass(frozen=True)
class Listing:
    """One list as the data layer queries it.

    name: stable id of the list ("owner-cases", "lab-queue", ...).
    key_names: the attributes of the query's LastEvaluatedKey (the table key, plus the index
        keys when the query reads an index).
    pinned: key attributes whose value is fixed for this list (its partition); a start key
        must carry exactly these values.
    filters: every other parameter that shapes the result (sort, order, archive filter, ...).
    """

    name: str
    key_names: Sequence[str]
    pinned: Mapping[str, str]
    filters: Mapping[str, str] = field(default_factory=dict)


TABLE_KEY = ("pk", "sk")


def index_key(index: GlobalIndex) -> tuple[str, ...]:
    """The attributes of a LastEvaluatedKey of a query on `index`: table key and index key."""
    return (*TABLE_KEY, index.partition_key, index.sort_key)


def query_page(
    query: Mapping[str, Any], listing: Listing, page: PageRequest
) -> tuple[list[dict[str, Any]], str | None]:
    """Runs one Query of `page.limit` items from where `page.cursor` left off. Returns the items
    (plain values) and the next page's cursor, or None on the last page. A cursor that does not
    open for this reader and list is InvalidCursor, audited as denied."""
    request = dict(query)
    request["TableName"] = dynamo.table_name()
    request["Limit"] = page.limit
    if page.cursor:  # an empty cursor asks for the first page, as no cursor does
        request["ExclusiveStartKey"] = _start_key(page.cursor, page, listing)
    response = dynamo.dynamodb().query(**request)
    items = [dynamo.from_item(item) for item in response.get("Items", [])]
    last = response.get("LastEvaluatedKey")
    return items, (seal(last, listing, page.who, page.now) if last else None)


def _start_key(cursor: str, page: PageRequest, listing: Listing) -> dict[str, Any]:
    try:
        return open_cursor(cursor, listing, page.who, page.now)
    except InvalidCursor:
        from caseroom import audit_store  # which pages its own reads through here

        audit_store.append(
            user_record(
                page.who,
                page.meta,
                AUDIT_ACTION,
                case_id=None,
                object_type="cursor",
                object_id=listing.name,
                at=iso(page.now),
                outcome=Outcome.DENIED,
            )
        )
        raise


# --- sealing and opening ----------------------------------------------------------------------


def seal(last_key: Mapping[str, Any], listing: Listing, who: Principal, now: datetime) -> str:
    """The cursor of a page that ended at `last_key` (a DynamoDB LastEvaluatedKey)."""
    values = {name: value["S"] for name, value in last_key.items()}
    issued = int(now.timestamp())
    plain = json.dumps(
        {"k": values, "iat": issued, "exp": issued + int(CURSOR_LIFETIME.total_seconds())},
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = _cipher().encrypt(nonce, plain, _binding(listing, who))
    return base64.urlsafe_b64encode(bytes([_FORMAT]) + nonce + sealed).decode().rstrip("=")


def open_cursor(cursor: str, listing: Listing, who: Principal, now: datetime) -> dict[str, Any]:
    """The ExclusiveStartKey a cursor stands for, or InvalidCursor: malformed, altered, issued
    to someone else or for another list / filters / sort, or expired."""
    raw = _decode(cursor)
    if raw is None or len(raw) < 1 + _NONCE_BYTES + _TAG_BYTES or raw[0] != _FORMAT:
        raise InvalidCursor()
    nonce, sealed = raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :]
    from cryptography.exceptions import InvalidTag

    try:
        plain = _cipher().decrypt(nonce, sealed, _binding(listing, who))
    except InvalidTag:
        raise InvalidCursor() from None
    # Authentic from here on: the checks below guard against our own mistakes and old formats.
    try:
        payload = json.loads(plain)
    except ValueError:
        raise InvalidCursor() from None
    if not isinstance(payload, dict):
        raise InvalidCursor()
    issued, expires, start = payload.get("iat"), payload.get("exp"), payload.get("k")
    moment = int(now.timestamp())
    if not isinstance(issued, int) or not isinstance(expires, int):
        raise InvalidCursor()
    if not issued - int(CLOCK_SKEW.total_seconds()) <= moment < expires:
        raise InvalidCursor()
    if not isinstance(start, dict) or sorted(start) != sorted(listing.key_names):
        raise InvalidCursor()
    if not all(isinstance(v, str) and 0 < len(v) <= 1024 for v in start.values()):
        raise InvalidCursor()
    if any(start.get(name) != value for name, value in listing.pinned.items()):
        raise InvalidCursor()
    return {name: {"S": value} for name, value in start.items()}


def _decode(cursor: str) -> bytes | None:
    """Strict unpadded base64url: one spelling per byte string (a flipped spare bit is refused)."""
    if not 0 < len(cursor) <= MAX_CURSOR_LENGTH or not _BASE64URL.fullmatch(cursor):
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        return None
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != cursor:
        return None
    return raw


def _binding(listing: Listing, who: Principal) -> bytes:
    """The associated data: what the cursor is valid for, never stored in it."""
    return json.dumps(
        {
            "list": listing.name,
            "pinned": dict(listing.pinned),
            "filters": dict(listing.filters),
            "reader": [who.user_id, who.role.value, who.lab_id or ""],
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


# --- the key -----------------------------------------------------------------------------------


class CursorKeyNotConfigured(RuntimeError):
    """A deployed stage without a cursor key: a deployment error, never papered over."""


_keys: dict[tuple[str, str, str, str], Any] = {}
_key_lock = threading.Lock()


def _cipher() -> Any:
    """AESGCM with the configured key; the key is read once per process and configuration."""
    settings = get_settings()
    source = (settings.stage, settings.cursor_key, settings.cursor_key_file, settings.cursor_key_secret_arn)
    cipher = _keys.get(source)
    if cipher is None:
        with _key_lock:
            cipher = _keys.get(source)
            if cipher is None:
                from cryptography.hazmat.primitives.ciphers.aead import AESGCM

                cipher = AESGCM(_derive(_secret(settings)))
                _keys[source] = cipher
    return cipher


def _derive(secret: str) -> bytes:
    # Whatever the secret's form (generated text, hex), the cipher gets 32 uniform bytes.
    if len(secret) < _MIN_SECRET_CHARS:
        raise CursorKeyNotConfigured(f"the cursor key must have at least {_MIN_SECRET_CHARS} characters")
    return hmac.new(secret.encode(), _KEY_CONTEXT, hashlib.sha256).digest()


def _secret(settings: Settings) -> str:
    if settings.cursor_key_secret_arn:
        response = aws.client("secretsmanager").get_secret_value(SecretId=settings.cursor_key_secret_arn)
        return str(response["SecretString"])
    if settings.cursor_key_file:
        return key_file_secret(settings.cursor_key_file)
    if settings.cursor_key:
        return settings.cursor_key
    if settings.stage == "local":
        logger.warning("no cursor key configured: using a key of this process only")
        return secrets.token_hex(32)
    raise CursorKeyNotConfigured(
        "set CASEROOM_CURSOR_KEY_SECRET_ARN (cloud) or CASEROOM_CURSOR_KEY_FILE (local runtime)"
    )


def key_file_secret(path: str) -> str:
    """The key kept in `path`, created (0600, random) when the file does not exist yet. The new
    key is written to a private temporary file first and linked into place, so a reader never
    sees a half-written key and two processes starting together end up with the same one."""
    if not os.path.exists(path):
        temporary = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as stream:
                stream.write(secrets.token_hex(32) + "\n")
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        finally:
            os.unlink(temporary)
    with open(path) as stream:
        return stream.read().strip()


def forget_keys() -> None:
    """Tests that change the key configuration call this."""
    with _key_lock:
        _keys.clear()
