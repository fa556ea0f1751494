"""A webhook receiver on 127.0.0.1 (http.server in a thread) and Standard Webhooks verification,
written from the spec independently of caseroom.webhooks.signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.perf_counter() when it arrived


@dataclass
class Receiver:
    url: str
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 200
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout_s: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        with self.arrived:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} webhook(s), got {len(self.received)}")
                self.arrived.wait(remaining)
            return list(self.received)


@contextmanager
def webhook_receiver(path: str = "/hooks/caseroom") -> Iterator[Receiver]:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with receiver.arrived:
                receiver.received.append(
                    Received({k.lower(): v for k, v in self.headers.items()}, body, time.perf_counter())
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.arrived.notify_all()
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(url=f"http://127.0.0.1:{server.server_port}{path}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def verify(secret: str, headers: dict[str, str], body: bytes, now: float, tolerance_s: int = 300) -> bool:
    """The receiving side of the spec: HMAC-SHA256 over "{id}.{timestamp}.{body}" keyed with the
    base64-decoded secret (after "whsec_"), any of the space-separated "v1,<sig>" entries may match,
    and the timestamp must be within the tolerance."""
    message_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    if abs(now - int(timestamp)) > tolerance_s:
        return False
    key = base64.b64decode(secret[len("whsec_") :])
    signed = message_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for entry in headers["webhook-signature"].split(" "):
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(expected, signature.encode()):
            return True
    return False
