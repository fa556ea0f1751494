"""The inside of one local Lambda sandbox: a process that imports one handler (its init phase)
and then runs one invocation at a time, as the Lambda runtime does.

Started by local.sandboxes with the spawn method; it speaks to its parent over a Pipe:
  child -> parent  ("ready", init_ms) | ("init_error", message)
  parent -> child  ("invoke", request_id, event)
  child -> parent  ("ok", result, cpu_ms) | ("error", error_type, message, traceback, cpu_ms)
The parent kills the process when an invocation outlives the function's timeout.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import time
import traceback
from collections.abc import Mapping
from multiprocessing.connection import Connection
from typing import Any


def run(
    connection: Connection,
    module_name: str,
    function_name: str,
    memory_mb: int,
    timeout_s: int,
    environment: Mapping[str, str],
    verbose: bool,
) -> None:
    # Ctrl-C in the terminal reaches the whole process group: only the runtime decides when a
    # sandbox ends (it kills its sandboxes on the way out).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.update(environment)
    if not verbose:
        _quiet()
    started = time.perf_counter()
    try:
        from local.functions import LambdaContext

        handler = importlib.import_module(module_name).lambda_handler
    except BaseException as exc:  # noqa: BLE001 - reported to the caller like Lambda's Runtime.ImportModuleError
        connection.send(("init_error", f"{type(exc).__name__}: {exc}"))
        return
    connection.send(("ready", (time.perf_counter() - started) * 1000))

    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return  # the runtime went away
        if message[0] != "invoke":
            return
        _, request_id, event = message
        context = LambdaContext(
            function_name=function_name,
            memory_limit_in_mb=memory_mb,
            timeout_s=timeout_s,
            aws_request_id=request_id,
        )
        cpu_started = time.process_time()
        try:
            result: Any = handler(event, context)
        except Exception as exc:  # noqa: BLE001 - Lambda reports any handler exception to the caller
            cpu_ms = (time.process_time() - cpu_started) * 1000
            if verbose:
                traceback.print_exc()
            connection.send(("error", type(exc).__name__, str(exc), traceback.format_exc(), cpu_ms))
            continue
        cpu_ms = (time.process_time() - cpu_started) * 1000
        try:
            connection.send(("ok", result, cpu_ms))
        except Exception as exc:  # noqa: BLE001 - an unserializable result fails the invocation
            connection.send(
                ("error", type(exc).__name__, "the handler's result is not serializable", "", cpu_ms)
            )


def _quiet() -> None:
    """The calm console: handlers' INFO logs, Powertools metrics output and Python warnings
    only with --verbose. Errors still show."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    os.environ["PYTHONWARNINGS"] = "ignore"
    import warnings

    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
