"""Fixtures for the local runtime's tests: one runtime per test module, every function faked.

The fakes run in the runtime's sandbox processes, as the real functions do; they keep what they
record in a directory named by an environment variable the sandboxes inherit."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from infra import manifest
from local.runtime import LocalRuntime
from tests.local import fake_functions

FAKE_MODULE = "tests.local.fake_functions"


@pytest.fixture(scope="session", autouse=True)
def _fake_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    previous = os.environ.get(fake_functions.STATE_DIR_ENV)
    os.environ[fake_functions.STATE_DIR_ENV] = str(tmp_path_factory.mktemp("fake-functions"))
    yield
    if previous is None:
        os.environ.pop(fake_functions.STATE_DIR_ENV, None)
    else:
        os.environ[fake_functions.STATE_DIR_ENV] = previous


@pytest.fixture(scope="module")
def runtime(_fake_state_dir: None) -> Iterator[LocalRuntime]:
    """A started runtime without background loops: tests pump events themselves."""
    overrides = {fn.name: FAKE_MODULE for fn in manifest.FUNCTIONS}
    with LocalRuntime(module_overrides=overrides, background=False, retry_delay_s=0) as started:
        yield started


@pytest.fixture(autouse=True)
def _fresh_fakes() -> Iterator[None]:
    fake_functions.reset()
    yield
    fake_functions.reset()
