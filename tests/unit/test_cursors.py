"""Properties of list cursors (caseroom.paging): whatever is done to a cursor, or whoever presents
it for whichever list, it opens only unchanged, for its own reader and list, within its lifetime;
everything else is InvalidCursor (400 INVALID_CURSOR), never another error and never a key."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caseroom import paging
from caseroom.auth import Principal, Role
from caseroom.errors import InvalidCursor
from caseroom.settings import get_settings
from tests.conftest import CLINICIAN, CLINICIAN_2, LAB_TECH, OTHER_LAB, START

PROPERTIES = settings(max_examples=300, derandomize=True, database=None, deadline=None)

LISTING = paging.Listing(
    "owner-cases",
    ("pk", "sk", "ownerList", "sort_patient"),
    pinned={"ownerList": "OWNER#u-clinician-ana#ACTIVE"},
    filters={"archived": "false", "sort": "patient", "order": "asc"},
)
LAST_KEY = {
    "pk": {"S": "CASE#7KQ2-M9XD-4RTA"},
    "sk": {"S": "CASE"},
    "ownerList": {"S": "OWNER#u-clinician-ana#ACTIVE"},
    "sort_patient": {"S": "maria garcia\x017KQ2-M9XD-4RTA"},
}
CURSOR = paging.seal(LAST_KEY, LISTING, CLINICIAN, START)


def opens(cursor: str, listing: paging.Listing = LISTING, who: Principal = CLINICIAN, **later: float) -> Any:
    return paging.open_cursor(cursor, listing, who, START + timedelta(**later))


def raw(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def text(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_a_cursor_opens_to_the_key_it_was_made_from() -> None:
    assert opens(CURSOR) == LAST_KEY
    assert opens(CURSOR, hours=11, minutes=59) == LAST_KEY


def test_the_cursor_shows_nothing_of_the_key() -> None:
    data = raw(CURSOR)
    for value in ("maria", "garcia", "7KQ2", "OWNER", "CASE"):
        assert value.encode() not in data and value not in CURSOR
    # Two cursors of the same page differ (a fresh nonce each time)
    assert paging.seal(LAST_KEY, LISTING, CLINICIAN, START) != CURSOR


@PROPERTIES
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_any_flipped_bit_is_refused(position: int, bit: int) -> None:
    data = bytearray(raw(CURSOR))
    data[position % len(data)] ^= 1 << bit
    with pytest.raises(InvalidCursor):
        opens(text(bytes(data)))


@PROPERTIES
@given(position=st.integers(min_value=0), replacement=st.sampled_from("ABCDEFabcdef0123456789-_+/=.~ %"))
def test_any_changed_character_is_refused(position: int, replacement: str) -> None:
    index = position % len(CURSOR)
    changed = CURSOR[:index] + replacement + CURSOR[index + 1 :]
    if changed != CURSOR:
        with pytest.raises(InvalidCursor):
            opens(changed)


@PROPERTIES
@given(length=st.integers(min_value=0))
def test_any_truncation_is_refused(length: int) -> None:
    with pytest.raises(InvalidCursor):
        opens(CURSOR[: length % len(CURSOR)])


@PROPERTIES
@given(tail=st.text(min_size=1, max_size=64))
def test_any_extension_is_refused(tail: str) -> None:
    with pytest.raises(InvalidCursor):
        opens(CURSOR + tail)


@PROPERTIES
@given(anything=st.text(max_size=3000) | st.binary(max_size=600).map(text))
def test_arbitrary_input_is_refused_and_nothing_else(anything: str) -> None:
    with pytest.raises(InvalidCursor):
        opens(anything)


@PROPERTIES
@given(
    who=st.sampled_from([CLINICIAN_2, LAB_TECH, OTHER_LAB])
    | st.builds(
        Principal,
        user_id=st.sampled_from([CLINICIAN.user_id, "u-other"]),
        email=st.just(CLINICIAN.email),
        name=st.just(CLINICIAN.name),
        role=st.sampled_from(list(Role)),
        lab_id=st.sampled_from([None, "lab-1", "lab-2"]),
    )
)
def test_another_reader_cannot_open_it(who: Principal) -> None:
    if (who.user_id, who.role, who.lab_id) != (CLINICIAN.user_id, CLINICIAN.role, CLINICIAN.lab_id):
        with pytest.raises(InvalidCursor):
            opens(CURSOR, who=who)


@PROPERTIES
@given(
    name=st.sampled_from(["owner-cases", "lab-queue", "timeline", "notifications"]),
    archived=st.sampled_from(["false", "true"]),
    sort=st.sampled_from(["patient", "attention", "status", "caseId", "dueDate", "lastModified"]),
    order=st.sampled_from(["asc", "desc"]),
    owner=st.sampled_from(["u-clinician-ana", "u-clinician-ben"]),
)
def test_it_opens_for_its_own_list_filters_and_sort_only(
    name: str, archived: str, sort: str, order: str, owner: str
) -> None:
    listing = paging.Listing(
        name,
        LISTING.key_names,
        pinned={"ownerList": f"OWNER#{owner}#ACTIVE"},
        filters={"archived": archived, "sort": sort, "order": order},
    )
    if listing == LISTING:
        assert opens(CURSOR, listing) == LAST_KEY
    else:
        with pytest.raises(InvalidCursor):
            opens(CURSOR, listing)


@PROPERTIES
@given(seconds_late=st.integers(min_value=0, max_value=10**9))
def test_an_expired_cursor_is_refused(seconds_late: int) -> None:
    with pytest.raises(InvalidCursor):
        opens(CURSOR, seconds=paging.CURSOR_LIFETIME.total_seconds() + seconds_late)


def test_a_cursor_from_the_future_is_refused_beyond_clock_skew() -> None:
    assert opens(CURSOR, minutes=-4) == LAST_KEY
    with pytest.raises(InvalidCursor):
        opens(CURSOR, minutes=-6)


# --- the key ----------------------------------------------------------------------------------------


@pytest.fixture
def key_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Lets a test change the key configuration; the test key comes back afterwards."""
    monkeypatch.delenv("CASEROOM_CURSOR_KEY")
    get_settings.cache_clear()
    paging.forget_keys()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()
    paging.forget_keys()


def test_the_local_key_file_is_created_private_and_reused(
    key_settings: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key_file = tmp_path / "cursor.key"
    key_settings.setenv("CASEROOM_CURSOR_KEY_FILE", str(key_file))
    cursor = paging.seal(LAST_KEY, LISTING, CLINICIAN, START)
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert len(key_file.read_text().strip()) == 64
    # A restarted runtime (keys forgotten) reads the same file: yesterday's cursor still opens
    paging.forget_keys()
    assert opens(cursor) == LAST_KEY
    # Another data directory, another key
    key_settings.setenv("CASEROOM_CURSOR_KEY_FILE", str(tmp_path / "other.key"))
    get_settings.cache_clear()
    with pytest.raises(InvalidCursor):
        opens(cursor)


def test_a_deployed_stage_without_a_key_refuses_to_serve(key_settings: pytest.MonkeyPatch) -> None:
    key_settings.setenv("CASEROOM_STAGE", "prod")
    with pytest.raises(paging.CursorKeyNotConfigured):
        paging.seal(LAST_KEY, LISTING, CLINICIAN, START)


def test_a_short_key_is_refused(key_settings: pytest.MonkeyPatch) -> None:
    key_settings.setenv("CASEROOM_CURSOR_KEY", "too-short")
    with pytest.raises(paging.CursorKeyNotConfigured):
        paging.seal(LAST_KEY, LISTING, CLINICIAN, START)


def test_the_cloud_key_is_read_from_secrets_manager_once(key_settings: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    from caseroom import aws

    aws.reset_clients()
    with mock_aws():
        secrets = aws.client("secretsmanager")
        arn = secrets.create_secret(Name="cursor-key", SecretString="s" * 64)["ARN"]
        key_settings.setenv("CASEROOM_STAGE", "prod")
        key_settings.setenv("CASEROOM_CURSOR_KEY_SECRET_ARN", arn)
        cursor = paging.seal(LAST_KEY, LISTING, CLINICIAN, START)
        # Changing the stored value does not change the key of a warm function
        secrets.put_secret_value(SecretId=arn, SecretString="t" * 64)
        assert opens(cursor) == LAST_KEY
    aws.reset_clients()


def test_a_cursor_sealed_with_another_key_is_refused(key_settings: pytest.MonkeyPatch) -> None:
    key_settings.setenv("CASEROOM_CURSOR_KEY", "another-key-" + "9" * 40)
    with pytest.raises(InvalidCursor):
        opens(CURSOR)
