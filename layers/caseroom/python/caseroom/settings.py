"""Settings read from the environment once, lazily.

A plain dataclass: every function reads settings on its cold start, and only two types
(str and bool) need parsing, so pydantic would be import cost without benefit here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from functools import cache

ENV_PREFIX = "CASEROOM_"


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class InvalidSetting(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    stage: str = "local"
    table_name: str = "caseroom"
    files_bucket: str = "caseroom-files"
    event_bus_name: str = "caseroom"
    # EventBridge Scheduler: timers live in this group and put their event on the bus as this role.
    event_bus_arn: str = "arn:aws:events:us-east-1:123456789012:event-bus/caseroom"
    schedule_group: str = "caseroom"
    scheduler_role_arn: str = "arn:aws:iam::123456789012:role/caseroom-scheduler"
    email_from: str = "no-reply@caseroom.local"
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwks_url: str = ""
    websocket_endpoint: str = ""
    webhook_dlq_url: str = ""
    deep_tracing: bool = False
    # Uploads up to this size use one presigned POST; larger ones a multipart upload.
    multipart_threshold_bytes: int = 100 * 1024 * 1024
    # The key of list cursors (caseroom.paging): a Secrets Manager secret in the cloud, a file
    # in the data directory of the local runtime, or the key itself (tests only).
    cursor_key_secret_arn: str = ""
    cursor_key_file: str = ""
    cursor_key: str = ""
    # The web app (hash routes): the Rx script's QR code ({app_url}/#/cases/{caseId}), share
    # links and emails (Team-Up invitations, the Passport) link into it through app_link.
    app_url: str = "https://app.caseroom.example"
    # Only the local runtime sets this: every boto3 client then talks to moto on 127.0.0.1.
    aws_endpoint_url: str | None = None

    @classmethod
    def environment_key(cls, field: str) -> str:
        return ENV_PREFIX + field.upper()

    @classmethod
    def from_environment(cls) -> Settings:
        """Each field from CASEROOM_<FIELD>; unset or empty variables keep the default."""
        values: dict[str, str | bool | int] = {}
        for f in fields(cls):
            raw = os.environ.get(key := cls.environment_key(f.name))
            if raw:
                values[f.name] = _parse(key, raw, str(getattr(f.type, "__name__", f.type)))
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def _parse(key: str, raw: str, annotation: str) -> str | bool | int:
    if annotation == "bool":
        return _parse_bool(key, raw)
    if annotation == "int":
        try:
            return int(raw)
        except ValueError:
            raise InvalidSetting(f"{key} must be a whole number") from None
    return raw


def _parse_bool(key: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidSetting(f"{key} must be true or false")


@cache
def get_settings() -> Settings:
    return Settings.from_environment()


def app_link(route: str) -> str:
    """A link to one screen of the web app. Its screens are hash routes (`/#/cases/ID`): the
    fragment never reaches a server, so a path can't collide with the API's on the shared
    origin, and what follows `#` (a share link's token) stays out of every access log."""
    return f"{get_settings().app_url.rstrip('/')}/#/{route.lstrip('/')}"
