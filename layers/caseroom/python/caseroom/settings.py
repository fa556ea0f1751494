"""Settings read from the environment once, lazily, validated by pydantic."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    stage: str = "local"
    table_name: str = "caseroom"
    files_bucket: str = "caseroom-files"
    event_bus_name: str = "caseroom"
    email_from: str = "no-reply@caseroom.local"
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwks_url: str = ""
    websocket_endpoint: str = ""
    deep_tracing: bool = False
    # Only the local runtime sets this: every boto3 client then talks to moto on 127.0.0.1.
    aws_endpoint_url: str | None = None

    @classmethod
    def from_environment(cls) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "stage": env.get("CASEROOM_STAGE", "local"),
            "table_name": env.get("CASEROOM_TABLE_NAME", "caseroom"),
            "files_bucket": env.get("CASEROOM_FILES_BUCKET", "caseroom-files"),
            "event_bus_name": env.get("CASEROOM_EVENT_BUS_NAME", "caseroom"),
            "email_from": env.get("CASEROOM_EMAIL_FROM", "no-reply@caseroom.local"),
            "jwt_issuer": env.get("CASEROOM_JWT_ISSUER", ""),
            "jwt_audience": env.get("CASEROOM_JWT_AUDIENCE", ""),
            "jwks_url": env.get("CASEROOM_JWKS_URL", ""),
            "websocket_endpoint": env.get("CASEROOM_WEBSOCKET_ENDPOINT", ""),
            "deep_tracing": env.get("CASEROOM_DEEP_TRACING", "false").lower() == "true",
            "aws_endpoint_url": env.get("CASEROOM_AWS_ENDPOINT_URL") or None,
        }
        return cls.model_validate(values)


@cache
def get_settings() -> Settings:
    return Settings.from_environment()
