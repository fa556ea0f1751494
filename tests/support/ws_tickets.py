"""The WebSocket URL a test opens (client.api.Api.socket_url: a single-use ticket from
POST /realtime/tickets in the query string; the ID token never goes in a URL)."""

from __future__ import annotations

from client.api import Api


def socket_url(base_url: str, id_token: str) -> str:
    return Api(base_url, id_token).socket_url()
