"""Inside Lambda, a cold start runs with Python's cyclic garbage collector paused.

Importing pydantic, Powertools and botocore and loading AWS service models makes a few hundred
thousand long-lived objects and almost no cyclic garbage (a few hundred objects). The collector
still walks all of them again and again while they are being made: `python -m bench cold-start`
measures that walk as a large share of a function's cold start (an S3 client alone takes about
twice as long with it). So, inside Lambda only, importing `caseroom` pauses the collector; after
the first invocation every object the start-up made is frozen (later collections skip it) and the
collector resumes. The start-up's few hundred garbage objects are frozen with the rest: collecting
them first would cost the walk this saves.

Outside Lambda (tests, the local runtime, the bench's parent) nothing changes: Lambda always sets
`AWS_LAMBDA_FUNCTION_NAME`, nothing else here does.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Mapping

_paused_for_cold_start = False


def pause_for_cold_start(environ: Mapping[str, str] = os.environ) -> bool:
    """Pauses the collector if this process is a Lambda execution environment starting up."""
    global _paused_for_cold_start
    if "AWS_LAMBDA_FUNCTION_NAME" not in environ or not gc.isenabled():
        return False
    gc.disable()
    _paused_for_cold_start = True
    return True


def resume_after_cold_start() -> None:
    """Freezes what the start-up made and resumes the collector; later calls do nothing."""
    global _paused_for_cold_start
    if not _paused_for_cold_start:
        return
    _paused_for_cold_start = False
    gc.freeze()
    gc.enable()
