"""Serves the local runtime in its own process for the load part (`python -m bench.runtime_host READY_FILE`).

Its own process, so the load clients and the server (gateway, handlers, moto) do not share one
GIL. Writes {"baseUrl": ...} to READY_FILE once listening; stops when stdin closes.
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

    from local.runtime import LocalRuntime  # after the usage check

    if os.environ.get("BENCH_RUNTIME_LOG_LEVEL"):
        # The uploads part reads handler timings from the gateway's and dispatcher's log lines.
        logging.basicConfig(level=os.environ["BENCH_RUNTIME_LOG_LEVEL"], stream=sys.stderr)
        logging.getLogger("botocore").setLevel(logging.WARNING)
    with LocalRuntime().start(port=0) as runtime:
        ready_file = Path(argv[1])
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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
