"""Domain errors. Each carries a stable machine-readable code and its HTTP status;
caseroom.http maps them to responses in one place. Messages never contain patient data."""

from __future__ import annotations


class DomainError(Exception):
    code = "DOMAIN_ERROR"
    status = 400
    message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, details: list[dict[str, object]] | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details or []


class Unauthenticated(DomainError):
    code, status, message = "UNAUTHENTICATED", 401, "A valid bearer token is required."


class RoleNotAllowed(DomainError):
    code, status, message = "ROLE_NOT_ALLOWED", 403, "Your role may not perform this action."


class CaseNotFound(DomainError):
    # Also what a user who may not see the case gets: 404, never 403, so ids leak nothing.
    code, status, message = "CASE_NOT_FOUND", 404, "No such case."


class DocumentNotReady(DomainError):
    code, status, message = "DOCUMENT_NOT_READY", 409, "The document is not generated yet; retry shortly."


class VersionConflict(DomainError):
    code, status, message = (
        "VERSION_CONFLICT",
        409,
        "The case changed since you read it; reload it and apply your change again.",
    )


class InvalidTooth(DomainError):
    code, status, message = "INVALID_TOOTH", 400, "A tooth number is not valid in the chosen notation."


class InvalidCursor(DomainError):
    code, status, message = "INVALID_CURSOR", 400, "The cursor is malformed or belongs to another listing."


class InvalidRequest(DomainError):
    code, status, message = "INVALID_REQUEST", 400, "The request is invalid."


class IdempotencyInProgress(DomainError):
    code, status, message = (
        "REQUEST_IN_PROGRESS",
        409,
        "A request with this Idempotency-Key is still being processed; retry shortly.",
    )


class IdempotencyKeyReused(DomainError):
    code, status, message = (
        "IDEMPOTENCY_KEY_REUSED",
        422,
        "This Idempotency-Key was already used with a different request body.",
    )


# --- notifications and webhooks ---------------------------------------------------------------


class CriticalNoticeNotMutable(DomainError):
    code, status, message = (
        "CRITICAL_NOTICE_NOT_MUTABLE",
        422,
        "Critical notices (case on hold or needing you, missed planning, disabled webhook) are always "
        "emailed immediately; they cannot be muted or moved to the digest.",
    )


class NotificationKindNotConfigurable(DomainError):
    code, status, message = (
        "NOTIFICATION_KIND_NOT_CONFIGURABLE",
        422,
        "This notification kind is not emailed, so it has no email preference.",
    )


class NotificationNotFound(DomainError):
    code, status, message = "NOTIFICATION_NOT_FOUND", 404, "No such notification in your feed."


class WebhookEndpointNotFound(DomainError):
    code, status, message = "WEBHOOK_ENDPOINT_NOT_FOUND", 404, "No such webhook endpoint."


class WebhookDeliveryNotFound(DomainError):
    code, status, message = "WEBHOOK_DELIVERY_NOT_FOUND", 404, "No such delivery for this endpoint."


class WebhookEndpointDisabled(DomainError):
    code, status, message = (
        "WEBHOOK_ENDPOINT_DISABLED",
        409,
        "The endpoint is disabled; enable it before sending to it.",
    )


class TooManyWebhookEndpoints(DomainError):
    code, status, message = "TOO_MANY_WEBHOOK_ENDPOINTS", 409, "You have the maximum number of endpoints."


class WebhookUrlMalformed(DomainError):
    code, status, message = (
        "WEBHOOK_URL_MALFORMED",
        400,
        "The URL must be an absolute https URL with a host name, without user name or password.",
    )


class WebhookUrlNotHttps(DomainError):
    code, status, message = "WEBHOOK_URL_NOT_HTTPS", 400, "Webhook URLs must use https."


class WebhookUrlForbiddenAddress(DomainError):
    code, status, message = (
        "WEBHOOK_URL_FORBIDDEN_ADDRESS",
        400,
        "The URL's host resolves to a private, loopback, link-local, multicast, reserved or "
        "metadata address.",
    )


class WebhookUrlUnresolvable(DomainError):
    code, status, message = "WEBHOOK_URL_UNRESOLVABLE", 400, "The URL's host name does not resolve."
