"""Fixtures for the local runtime's tests: one runtime per test module, every function faked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra import manifest
from local.runtime import LocalRuntime
from tests.local import fake_functions

FAKE_MODULE = "tests.local.fake_functions"


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    """A started runtime without background loops: tests pump events themselves."""
    overrides = {fn.name: FAKE_MODULE for fn in manifest.FUNCTIONS}
    with LocalRuntime(module_overrides=overrides, background=False, retry_delay_s=0) as started:
        yield started


@pytest.fixture(autouse=True)
def _fresh_fakes() -> Iterator[None]:
    fake_functions.reset()
    yield
    fake_functions.reset()
