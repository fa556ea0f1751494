"""Fixtures for end-to-end tests: the local runtime as a real process, driven over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.runtime_process import RuntimeProcess, start_runtime_process


@pytest.fixture
def runtime_process() -> Iterator[RuntimeProcess]:
    runtime = start_runtime_process()
    try:
        yield runtime
    finally:
        if runtime.process.poll() is None:
            runtime.process.kill()
            runtime.process.wait()
