"""Helpers shared by the local runtime's tests (plain functions, not fixtures)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass
class Reply:
    status: int
    header_list: list[tuple[str, str]]
    body: bytes

    @property
    def headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.header_list}

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.header_list if key.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    base_url: str,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base_url + path, data=body, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(response.status, list(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, list(error.headers.items()), error.read())


def key_structure(value: Any, open_maps: frozenset[str] = frozenset()) -> Any:
    """The nested keys of a JSON value; maps named in open_maps (e.g. headers) count as one key."""
    if isinstance(value, dict):
        return {k: ("<map>" if k in open_maps else key_structure(v, open_maps)) for k, v in value.items()}
    if isinstance(value, list):
        return [key_structure(v, open_maps) for v in value[:1]]
    return type(value).__name__
