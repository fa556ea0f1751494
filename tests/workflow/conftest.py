"""The case workflow through the local runtime with the real functions: moto server (requests
applied one at a time, as DynamoDB applies each transaction atomically), the outbox stream
relay, moto's EventBridge pattern matching, the rule dispatcher and the timer scheduler."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.runtime import LocalRuntime
from tests.conftest import load_test_directory


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    """Started without background loops: the tests pump events and fire timers themselves."""
    with LocalRuntime(background=False, retry_delay_s=0) as started:
        load_test_directory()  # the labs of the tests' own callers (tests/conftest.py)
        yield started


@pytest.fixture(autouse=True)
def _nothing_in_flight(runtime: LocalRuntime) -> Iterator[None]:
    runtime.pump()
    yield
    runtime.pump()
