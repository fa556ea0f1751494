"""One webhook POST with the standard library: short timeouts, no redirects followed, the
response body read up to a cap, and the connection made to the address the SSRF check
approved (TLS still verifies the certificate against the URL's host name)."""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass

CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 5.0
MAX_RESPONSE_BYTES = 16 * 1024


@dataclass(frozen=True)
class Response:
    status: int | None  # None: no HTTP answer (connection refused, timeout, TLS error)
    error: str = ""  # a short, fixed description; never the response body


class _PinnedHttpConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str) -> None:
        super().__init__(host, port, timeout=READ_TIMEOUT_S)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), CONNECT_TIMEOUT_S)
        self.sock.settimeout(READ_TIMEOUT_S)


class _PinnedHttpsConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str) -> None:
        super().__init__(host, port, timeout=READ_TIMEOUT_S, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), CONNECT_TIMEOUT_S)
        raw.settimeout(READ_TIMEOUT_S)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def post(
    scheme: str, host: str, port: int, path: str, address: str, headers: dict[str, str], body: bytes
) -> Response:
    connection_class = _PinnedHttpsConnection if scheme == "https" else _PinnedHttpConnection
    connection = connection_class(host, port, address)
    try:
        connection.request("POST", path, body=body, headers=headers)
        answer = connection.getresponse()
        answer.read(MAX_RESPONSE_BYTES)  # drained up to the cap, never stored or logged
        return Response(answer.status)
    except TimeoutError:
        return Response(None, "timeout")
    except ssl.SSLError:
        return Response(None, "tls error")
    except (OSError, http.client.HTTPException):
        return Response(None, "connection failed")
    finally:
        connection.close()
