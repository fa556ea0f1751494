"""The movable clock: SystemClock adds the shared offset only in stage local, only forward."""

from __future__ import annotations

from pathlib import Path

import pytest

from caseroom import clock


@pytest.fixture
def clock_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = str(tmp_path / "offset")
    clock.create_local_clock_file(path)
    monkeypatch.setenv(clock.LOCAL_CLOCK_FILE_ENV, path)
    return path


def test_the_offset_moves_the_system_clock_in_stage_local(
    clock_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASEROOM_STAGE", "local")
    before = clock.SystemClock().now()
    assert clock.advance_local_clock(clock_file, 3600) == 3600
    assert clock.advance_local_clock(clock_file, 60) == 3660
    moved = clock.SystemClock().now()
    assert 3660 <= (moved - before).total_seconds() < 3660 + 60


@pytest.mark.parametrize("stage", ["dev", "prod", None])
def test_no_other_stage_reads_the_offset(
    clock_file: str, monkeypatch: pytest.MonkeyPatch, stage: str | None
) -> None:
    clock.advance_local_clock(clock_file, 86400)
    if stage is None:
        monkeypatch.delenv("CASEROOM_STAGE", raising=False)
    else:
        monkeypatch.setenv("CASEROOM_STAGE", stage)
    assert clock.local_clock_offset().total_seconds() == 0


def test_the_clock_never_goes_back(clock_file: str) -> None:
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance_local_clock(clock_file, -1)


def test_a_missing_file_means_no_offset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEROOM_STAGE", "local")
    monkeypatch.setenv(clock.LOCAL_CLOCK_FILE_ENV, str(tmp_path / "nowhere"))
    assert clock.local_clock_offset().total_seconds() == 0
