"""Time is injected: production uses the system clock, tests a fixed or stepping one.

The local runtime (stage "local" only) can move every process's system clock forward at once:
it names a small shared file in CASEROOM_LOCAL_CLOCK_FILE, which holds an offset in seconds
(8 bytes, a little-endian double). SystemClock adds that offset; in a deployed stage the
variable is never set and CASEROOM_STAGE is not "local", so the offset is always zero.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol

LOCAL_CLOCK_FILE_ENV = "CASEROOM_LOCAL_CLOCK_FILE"
_OFFSET = struct.Struct("<d")
_ZERO = timedelta(0)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC) + local_clock_offset()


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now = self._now + timedelta(**delta)


def iso(moment: datetime) -> str:
    """UTC, millisecond precision, lexicographically sortable."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- the local runtime's movable clock ---------------------------------------------------------

_maps: dict[str, mmap.mmap] = {}
_maps_lock = threading.Lock()


def local_clock_offset() -> timedelta:
    """How far the local runtime moved the clock; zero unless stage "local" names a clock file."""
    path = os.environ.get(LOCAL_CLOCK_FILE_ENV)
    if not path or os.environ.get("CASEROOM_STAGE") != "local":
        return _ZERO
    try:
        view = _mapped(path)
    except OSError:
        return _ZERO
    (seconds,) = _OFFSET.unpack_from(view, 0)
    return timedelta(seconds=seconds)


def _mapped(path: str) -> mmap.mmap:
    found = _maps.get(path)
    if found is None:
        with _maps_lock:
            found = _maps.get(path)
            if found is None:
                with open(path, "rb") as handle:
                    found = mmap.mmap(handle.fileno(), _OFFSET.size, access=mmap.ACCESS_READ)
                _maps[path] = found
    return found


def create_local_clock_file(path: str) -> None:
    """An offset of zero (the local runtime calls this before any process reads it)."""
    with open(path, "wb") as handle:
        handle.write(_OFFSET.pack(0.0))


def advance_local_clock(path: str, seconds: float) -> float:
    """Moves the shared clock forward; returns the new total offset in seconds. One writer only
    (the local runtime); readers map the same page, so they see it on their next now()."""
    if seconds < 0:
        raise ValueError("the local clock only moves forward")
    with open(path, "r+b") as handle, mmap.mmap(handle.fileno(), _OFFSET.size) as view:
        (current,) = _OFFSET.unpack_from(view, 0)
        total = current + seconds
        view[0 : _OFFSET.size] = _OFFSET.pack(total)
        view.flush()
    return float(total)
