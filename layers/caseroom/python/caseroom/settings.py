"""Settings read from the environment once, lazily, validated by pydantic."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict

ENV_PREFIX = "CASEROOM_"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

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
    # Only the local runtime sets this: every boto3 client then talks to moto on 127.0.0.1.
    aws_endpoint_url: str | None = None

    @classmethod
    def environment_key(cls, field: str) -> str:
        return ENV_PREFIX + field.upper()

    @classmethod
    def from_environment(cls) -> Settings:
        """Each field from CASEROOM_<FIELD>; unset or empty variables keep the default."""
        values = {
            name: os.environ[key]
            for name in cls.model_fields
            if os.environ.get(key := cls.environment_key(name))
        }
        return cls.model_validate(values)


@cache
def get_settings() -> Settings:
    return Settings.from_environment()
