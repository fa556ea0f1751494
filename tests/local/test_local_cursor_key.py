"""The local runtime keeps the key of list cursors in a file (its data directory's), so cursors
survive a restart of the runtime and a new data directory gets a new key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from caseroom import paging
from caseroom.errors import InvalidCursor
from infra import manifest
from local.runtime import LocalRuntime
from tests.conftest import CLINICIAN, START
from tests.local.conftest import FAKE_MODULE

LISTING = paging.Listing("timeline", paging.TABLE_KEY, pinned={"pk": "CASE#7KQ2-M9XD-4RTA"})
LAST_KEY = {"pk": {"S": "CASE#7KQ2-M9XD-4RTA"}, "sk": {"S": "TIMELINE#0003"}}


def runtime(key_file: Path) -> LocalRuntime:
    overrides = {fn.name: FAKE_MODULE for fn in manifest.FUNCTIONS}
    return LocalRuntime(module_overrides=overrides, background=False, cursor_key_file=key_file)


def test_the_cursor_key_lives_in_the_runtime_data_directory(tmp_path: Path) -> None:
    key_file = tmp_path / "data" / "cursor.key"
    key_file.parent.mkdir()
    # Given a runtime that issued a cursor
    with runtime(key_file).start():
        assert os.environ["CASEROOM_CURSOR_KEY_FILE"] == str(key_file)
        cursor = paging.seal(LAST_KEY, LISTING, CLINICIAN, START)
    # Then the key was created for the owner only
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # And a restarted runtime on the same data directory opens the cursor
    paging.forget_keys()
    with runtime(key_file).start():
        assert paging.open_cursor(cursor, LISTING, CLINICIAN, START) == LAST_KEY
    # While one on another data directory does not
    other = tmp_path / "other.key"
    with runtime(other).start(), pytest.raises(InvalidCursor):
        paging.open_cursor(cursor, LISTING, CLINICIAN, START)
    assert "CASEROOM_CURSOR_KEY_FILE" not in os.environ  # stop() restored the environment
