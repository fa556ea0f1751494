"""A small HTTP client for the CaseRoom API and for presigned S3 requests (urllib / http.client)."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit


class ApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        code = body.get("code") if isinstance(body, dict) else None
        super().__init__(f"HTTP {status} {code or ''}".strip())
        self.status, self.code, self.body = status, code, body


class Api:
    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError("the API URL must be http(s)")
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310 - user-given API URL
                raw = response.read()
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            raise ApiError(error.code, parsed) from None
        return json.loads(raw) if raw else None

    def socket_url(self, websocket_url: str | None = None) -> str:
        """The WebSocket URL to open: a single-use ticket (POST /realtime/tickets, 60 s) in the
        query string; the ID token never goes into a URL. websocket_url defaults to the local
        runtime's /ws on the API's origin."""
        ticket = self.call("POST", "/realtime/tickets")["ticket"]
        base = (
            websocket_url or self.base_url.replace("https://", "wss://").replace("http://", "ws://") + "/ws"
        )
        return f"{base}?ticket={ticket}"

    def sign_in_local(self, user: str) -> str:
        """The local runtime's dev sign-in (a deployed stack takes a Cognito ID token instead)."""
        token = str(self.call("POST", "/_local/sign-in", {"user": user})["idToken"])
        self.token = token
        return token


def _connection(url: str, timeout_s: float) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "https":
        return http.client.HTTPSConnection(parts.netloc, timeout=timeout_s), target
    if parts.scheme == "http":
        return http.client.HTTPConnection(parts.netloc, timeout=timeout_s), target
    raise ValueError("only http(s) URLs")


def put_bytes(url: str, data: bytes | memoryview, headers: dict[str, str], timeout_s: float = 300.0) -> str:
    """PUT to a presigned URL; returns the ETag (without quotes)."""
    connection, target = _connection(url, timeout_s)
    try:
        # An explicit binary content type: a form-encoded default would be parsed as a form.
        all_headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(len(data)),
            **headers,
        }
        connection.request("PUT", target, body=data, headers=all_headers)
        response = connection.getresponse()
        body = response.read()
        if response.status // 100 != 2:
            raise ApiError(
                response.status, {"code": "S3_REJECTED", "detail": body[:200].decode(errors="replace")}
            )
        return (response.getheader("ETag") or "").strip('"')
    finally:
        connection.close()


def post_form(url: str, fields: dict[str, str], file_path: str, size: int, content_type: str) -> None:
    """A presigned POST: the policy's fields, then the file as the last form field, streamed."""
    boundary = "caseroom" + "".join(f"{b:02x}" for b in __import__("os").urandom(12))
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    connection, target = _connection(url, 300.0)
    try:
        connection.putrequest("POST", target)
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Content-Length", str(len(head) + size + len(tail)))
        connection.endheaders()
        connection.send(head)
        with open(file_path, "rb") as source:
            for chunk in iter(lambda: source.read(1024 * 1024), b""):
                connection.send(chunk)
        connection.send(tail)
        response = connection.getresponse()
        body = response.read()
        if response.status // 100 != 2:
            raise ApiError(
                response.status, {"code": "S3_REJECTED", "detail": body[:200].decode(errors="replace")}
            )
    finally:
        connection.close()


def download_to(url: str, destination: str) -> int:
    connection, target = _connection(url, 300.0)
    written = 0
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        if response.status != 200:
            raise ApiError(response.status, {"code": "DOWNLOAD_FAILED"})
        with open(destination, "wb") as out:
            for chunk in iter(lambda: response.read(1024 * 1024), b""):
                out.write(chunk)
                written += len(chunk)
    finally:
        connection.close()
    return written
