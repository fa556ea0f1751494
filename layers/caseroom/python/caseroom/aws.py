"""AWS clients, created on first use and reused across warm invocations.

Nothing here runs at import time: importing a handler must not need a region or
credentials, and a cold start pays only for the clients its request touches.

Clients come from a botocore session, the engine boto3's clients are made of: they are the
same client objects, but a handler then never imports boto3 itself (its resource layer and
s3transfer), which is ~70 ms of every cold start that no CaseRoom function uses.
"""

from __future__ import annotations

import threading
from typing import Any

from caseroom.settings import get_settings

_clients: dict[tuple[str, str | None, str | None], Any] = {}
_session: Any = None
_lock = threading.Lock()


def client(service: str, endpoint_url: str | None = None, signature_version: str | None = None) -> Any:
    """A shared client for `service`. Locally every service is moto on 127.0.0.1.

    signature_version="s3v4" for presigning: SigV4 is what KMS-encrypted objects and signed
    checksum headers need (boto3 may otherwise presign S3 URLs with SigV2)."""
    endpoint = endpoint_url or get_settings().aws_endpoint_url
    key = (service, endpoint, signature_version)
    found = _clients.get(key)
    if found is None:
        with _lock:
            found = _clients.get(key)
            if found is None:
                config = None
                if signature_version:
                    from botocore.config import Config

                    config = Config(signature_version=signature_version)
                found = _shared_session().create_client(service, endpoint_url=endpoint, config=config)
                _clients[key] = found
    return found


def _shared_session() -> Any:
    # One session for every client: its loader caches endpoint and credential data, so a
    # second client costs ~20 ms instead of ~60 ms on a cold start.
    global _session
    if _session is None:
        import botocore.session

        _session = botocore.session.get_session()
    return _session


def reset_clients() -> None:
    """Tests and the local runtime call this when the endpoint or moto backend changes."""
    global _session
    with _lock:
        _clients.clear()
        _session = None
