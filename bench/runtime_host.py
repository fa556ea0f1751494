"""Serves the local runtime in its own process for the load part (`python -m bench.runtime_host READY_FILE`).

Its own process, so the load clients and the server (gateway, handlers, moto) do not share one
GIL. It is the runtime `make start` runs: DynamoDB Local in a fresh data directory (a temporary
one, removed at the end), functions in sandbox processes. Writes {"baseUrl": ...} to READY_FILE
once listening; stops when stdin closes, and writes how long the stop took, with how many rule
events were still queued, to READY_FILE.stopped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bench.runtime_host READY_FILE", file=sys.stderr)
        return 2
    import logging
    import os
    import tempfile
    import time

    from local.runtime import LocalRuntime  # after the usage check

    if os.environ.get("BENCH_RUNTIME_LOG_LEVEL"):
        # The uploads part reads handler timings from the gateway's and dispatcher's log lines.
        logging.basicConfig(level=os.environ["BENCH_RUNTIME_LOG_LEVEL"], stream=sys.stderr)
        logging.getLogger("botocore").setLevel(logging.WARNING)
    data_dir = tempfile.TemporaryDirectory(prefix="caseroom-bench-data-")
    runtime = LocalRuntime(data_dir=Path(data_dir.name) / "data").start(port=0)
    ready_file = Path(argv[1])
    try:
        partial = ready_file.with_suffix(".partial")
        # The functions' environment too: a part may call a handler in its own process against
        # this runtime's backends, to compare with the same call through the gateway.
        environment = {
            k: v for k, v in os.environ.items() if k.startswith(("CASEROOM_", "AWS_", "POWERTOOLS_"))
        }
        partial.write_text(
            json.dumps(
                {
                    "baseUrl": runtime.base_url,
                    "motoUrl": runtime.backend.endpoint_url,
                    "environment": environment,
                }
            )
        )
        partial.replace(ready_file)  # atomic: the parent never reads half a file
        sys.stdin.read()  # the parent closes our stdin to stop us
    finally:
        events = Path(data_dir.name) / "data" / "events"
        queued = sum(1 for path in events.rglob("*.json") if not path.parent.name.endswith("-dlq"))
        started = time.perf_counter()
        runtime.stop()
        stopped = {"stopSeconds": round(time.perf_counter() - started, 3), "queuedEventsAtStop": queued}
        ready_file.with_suffix(".stopped").write_text(json.dumps(stopped))
        data_dir.cleanup()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # As `python -m local` does: what matters is stopped and flushed; a thread still waiting on a
    # backend that is gone must not hold the exit.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
