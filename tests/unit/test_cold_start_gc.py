"""caseroom.cold_start_gc: inside Lambda the collector is paused while a function starts, and
resumes (with the start-up's objects frozen) after its first invocation, even a failed one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from caseroom.cold_start_gc import pause_for_cold_start

REPO = Path(__file__).resolve().parents[2]

# A first invocation that raises must still resume the collector: Lambda keeps the environment.
_FIRST_INVOCATIONS = """
import gc, json
import caseroom
from caseroom.observability import lambda_entrypoint
from tests.conftest import lambda_context

seen = {"paused_after_import": not gc.isenabled()}

def handle(event, context):
    seen.setdefault("paused_during_first_call", not gc.isenabled())
    if event.get("fail"):
        raise RuntimeError("first call fails")
    return "ok"

handler = lambda_entrypoint(handle)
try:
    handler({"fail": True}, lambda_context())
except RuntimeError:
    pass
seen["enabled_after_first_call"] = gc.isenabled()
seen["frozen_objects"] = gc.get_freeze_count()
handler({}, lambda_context())
seen["enabled_after_second_call"] = gc.isenabled()
seen["frozen_after_second_call"] = gc.get_freeze_count()
print(json.dumps(seen))
"""


def _first_invocations(extra_environment: dict[str, str]) -> dict[str, object]:
    environment = (
        {key: value for key, value in os.environ.items() if key != "AWS_LAMBDA_FUNCTION_NAME"}
        | {"PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'layers/caseroom/python'}"}
        | extra_environment
    )
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_INVOCATIONS],
        env=environment,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_in_lambda_the_collector_pauses_until_the_first_invocation_ends() -> None:
    seen = _first_invocations({"AWS_LAMBDA_FUNCTION_NAME": "caseroom-cases-api"})

    assert seen["paused_after_import"] is True
    assert seen["paused_during_first_call"] is True
    assert seen["enabled_after_first_call"] is True
    # Everything the start-up made is frozen once; the second call freezes nothing more.
    frozen = seen["frozen_objects"]
    assert isinstance(frozen, int) and frozen > 10_000
    assert seen["frozen_after_second_call"] == frozen
    assert seen["enabled_after_second_call"] is True


def test_outside_lambda_the_collector_is_never_paused() -> None:
    seen = _first_invocations({})

    assert seen["paused_after_import"] is False
    assert seen["paused_during_first_call"] is False
    assert seen["frozen_objects"] == 0


@pytest.mark.parametrize("environ", [{}, {"AWS_LAMBDA_FUNCTION_NAME": "x"}])
def test_a_disabled_collector_is_left_as_the_process_set_it(environ: dict[str, str]) -> None:
    import gc

    gc.disable()
    try:
        assert pause_for_cold_start(environ) is False
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_every_function_resumes_the_collector_through_lambda_entrypoint() -> None:
    """A handler that bypassed lambda_entrypoint would leave the collector paused for good."""
    import importlib

    from infra import manifest

    for function in manifest.FUNCTIONS:
        handler = importlib.import_module(f"functions.{function.name}.handler").lambda_handler
        assert handler.__qualname__ == "lambda_entrypoint.<locals>.entrypoint", function.name
