"""The /webhooks API contract."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from caseroom.api_types import StrictInt
from caseroom.events import EventType


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class CreateEndpointRequest(_Model):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://clinic.example.com/hooks/caseroom",
                    "eventTypes": ["CaseStatusChanged", "FileAdded"],
                    "description": "Practice management system",
                }
            ]
        }
    )
    url: str = Field(min_length=1, max_length=2048, description="https URL that receives the events")
    event_types: list[EventType] = Field(alias="eventTypes", min_length=1, max_length=len(EventType))
    description: str = Field(default="", max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")


class RotateSecretRequest(_Model):
    overlap_minutes: StrictInt = Field(
        default=1440,
        ge=0,
        le=7 * 24 * 60,
        alias="overlapMinutes",
        description="How long the previous secret keeps signing too (both signatures are sent)",
    )


class EndpointView(_Model):
    endpoint_id: str = Field(alias="endpointId")
    url: str
    event_types: list[str] = Field(alias="eventTypes")
    description: str
    enabled: bool
    disabled_reason: str | None = Field(default=None, alias="disabledReason")
    created_at: str = Field(alias="createdAt")
    secret_rotated_at: str | None = Field(default=None, alias="secretRotatedAt")
    previous_secret_expires_at: str | None = Field(default=None, alias="previousSecretExpiresAt")
    last_success_at: str | None = Field(default=None, alias="lastSuccessAt")


class EndpointCreated(EndpointView):
    secret: str = Field(description="Shown once: store it now. whsec_ + base64 of 32 random bytes")


class EndpointList(_Model):
    items: list[EndpointView]


class SecretRotated(_Model):
    endpoint_id: str = Field(alias="endpointId")
    secret: str = Field(description="The new secret, shown once")
    previous_secret_expires_at: str | None = Field(alias="previousSecretExpiresAt")


class DeliveryView(_Model):
    delivery_id: str = Field(alias="deliveryId")
    message_id: str = Field(alias="messageId", description="The webhook-id header of every attempt")
    event_type: str = Field(alias="eventType")
    event_id: str = Field(alias="eventId")
    case_id: str = Field(alias="caseId")
    status: str = Field(description="pending | succeeded | failed (given up, in the dead-letter queue)")
    attempts: int
    created_at: str = Field(alias="createdAt")
    last_attempt_at: str | None = Field(default=None, alias="lastAttemptAt")
    next_attempt_at: str | None = Field(default=None, alias="nextAttemptAt")
    last_status_code: int | None = Field(default=None, alias="lastStatusCode")
    last_error: str | None = Field(default=None, alias="lastError")


class DeliveryPage(_Model):
    items: list[DeliveryView]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class DeletedEndpoint(_Model):
    endpoint_id: str = Field(alias="endpointId")
    deleted: bool = True
