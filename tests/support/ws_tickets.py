"""The WebSocket URL a client opens: a single-use ticket from POST /realtime/tickets (HTTPS,
with the ID token as a bearer header) in the query string; the ID token never goes in a URL."""

from __future__ import annotations

import json
import urllib.request


def ticket(base_url: str, id_token: str) -> str:
    request = urllib.request.Request(
        base_url + "/realtime/tickets",
        data=b"",
        headers={"authorization": f"Bearer {id_token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - 127.0.0.1 only
        return str(json.loads(response.read())["ticket"])


def socket_url(base_url: str, id_token: str) -> str:
    return base_url.replace("http://", "ws://") + "/ws?ticket=" + ticket(base_url, id_token)
