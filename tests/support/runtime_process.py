"""The local runtime as a real process, as a developer starts it, for end-to-end tests."""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60
STOP_TIMEOUT_S = 15


class RuntimeProcess:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump_output, daemon=True).start()

    def _pump_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_line(self, pattern: str, timeout_s: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(f"no line matching {pattern!r}; output so far:\n" + "\n".join(self.lines[-40:]))

    def recent_lines(self, count: int) -> list[str]:
        """The last `count` console lines so far (what a failed test shows of the runtime)."""
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        del self.lines[:-1000]  # bounded: a module's runtime prints a line per request
        return self.lines[-count:]


def start_runtime_process(
    port: int = 0, extra_args: tuple[str, ...] = (), data_dir: Path | None = None
) -> RuntimeProcess:
    """`python -m local --port 0` with a clean environment (no AWS_*/CASEROOM_* leaking in).

    data_dir: the runtime's data directory; by default a new temporary one, removed when the
    RuntimeProcess is garbage-collected (never the repository's own .caseroom/)."""
    temporary = None
    if data_dir is None:
        temporary = data_dir = Path(tempfile.mkdtemp(prefix="caseroom-e2e-"))
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CASEROOM_", "AWS_"))}
    environment["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "--port", str(port), "--data-dir", str(data_dir), *extra_args],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    runtime = RuntimeProcess(process)
    if temporary is not None:
        weakref.finalize(runtime, shutil.rmtree, temporary, True)
    return runtime
