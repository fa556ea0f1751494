"""Domain errors. Each carries a stable machine-readable code and its HTTP status;
caseroom.http maps them to responses in one place. Messages never contain patient data."""

from __future__ import annotations


class DomainError(Exception):
    code = "DOMAIN_ERROR"
    status = 400
    message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[dict[str, object]] | None = None,
        allowed: list[str] | None = None,
    ) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details or []
        # What the caller may do instead (e.g. the statuses a case can move to from here).
        self.allowed = allowed


# --- the request itself (raised by caseroom.http before a route runs) ---------------------------


class MalformedJson(DomainError):
    code, status, message = "MALFORMED_JSON", 400, "The request body is not valid JSON."


class BodyNotUtf8(DomainError):
    code, status, message = "BODY_NOT_UTF8", 400, "The request body is not valid UTF-8 text."


class JsonTooDeep(DomainError):
    code, status, message = (
        "JSON_TOO_DEEP",
        400,
        "The request body nests objects or arrays more than 32 levels deep.",
    )


class UnsupportedMediaType(DomainError):
    code, status, message = (
        "UNSUPPORTED_MEDIA_TYPE",
        415,
        "Send the body as JSON (Content-Type: application/json; charset, if given, utf-8).",
    )


class ValidationFailed(DomainError):
    # Raised by the resolver's validation; `details` lists where (never what) was wrong.
    code, status, message = (
        "VALIDATION_FAILED",
        422,
        "Some fields are missing, unknown, of the wrong type or too long.",
    )


class RouteNotFound(DomainError):
    code, status, message = "ROUTE_NOT_FOUND", 404, "No such route."


class InternalError(DomainError):
    code, status, message = "INTERNAL_ERROR", 500, "Something went wrong on our side; it has been logged."


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
    code, status, message = (
        "INVALID_CURSOR",
        400,
        "The cursor is malformed, expired or belongs to another listing; start from the first page.",
    )


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


# --- case files ------------------------------------------------------------------------------


class FileNotFound(DomainError):
    # Also what a user who may not see the case gets (see CaseNotFound).
    code, status, message = "FILE_NOT_FOUND", 404, "No such file."


class GalleryNotFound(DomainError):
    code, status, message = "GALLERY_NOT_FOUND", 404, "No such gallery in this case."


class FileTooLarge(DomainError):
    code, status, message = "FILE_TOO_LARGE", 400, "The file is larger than this kind of file may be."


class EmptyFile(DomainError):
    code, status, message = "EMPTY_FILE", 400, "A file must contain at least one byte."


class ContentTypeNotAllowed(DomainError):
    code, status, message = (
        "CONTENT_TYPE_NOT_ALLOWED",
        400,
        "This content type is not accepted for this kind of file.",
    )


class InvalidPartSize(DomainError):
    code, status, message = (
        "INVALID_PART_SIZE",
        400,
        "Parts must be 5 MiB to 5 GiB and a file at most 10,000 parts.",
    )


class UploadNotPending(DomainError):
    code, status, message = "UPLOAD_NOT_PENDING", 409, "This upload is no longer pending."


class UploadAlreadyCompleted(DomainError):
    code, status, message = "UPLOAD_ALREADY_COMPLETED", 409, "This upload was already completed."


class NotMultipartUpload(DomainError):
    code, status, message = "NOT_MULTIPART", 409, "This upload is a single POST, not a multipart upload."


class PartOutOfRange(DomainError):
    code, status, message = "PART_OUT_OF_RANGE", 400, "A part number is outside this upload's parts."


class UploadPartsMissing(DomainError):
    code, status, message = (
        "UPLOAD_PARTS_MISSING",
        400,
        "Some parts are missing or were not received; list the upload's parts and send them.",
    )


class PartMismatch(DomainError):
    code, status, message = (
        "PART_MISMATCH",
        400,
        "A part's ETag or size does not match what was received; upload that part again.",
    )


class StorageUnavailable(DomainError):
    code, status, message = (
        "STORAGE_UNAVAILABLE",
        503,
        "File storage did not answer; nothing was completed. Try again shortly.",
    )


class DatabaseBusy(DomainError):
    code, status, message = (
        "DATABASE_BUSY",
        503,
        "The database is busy right now. Read the record again, then retry shortly.",
    )


# DynamoDB answers that mean "not now" rather than "no": contention on an item another
# transaction holds, throttling, or a service hiccup (top-level error codes and the codes of a
# cancelled transaction's reasons). botocore has already retried them.
TRANSIENT_DATABASE_CODES = frozenset(
    {
        "TransactionConflict",
        "TransactionConflictException",
        "ThrottlingError",
        "ThrottlingException",
        "ProvisionedThroughputExceeded",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
DYNAMODB_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)


def is_transient_database_failure(facts: dict[str, str]) -> bool:
    """Reads the facts `observability.failure_facts` extracted from an unexpected error. Only
    DynamoDB's own answers count: a throttled Scheduler call after a committed write is not
    "the database is busy"."""
    if facts.get("aws_operation") not in DYNAMODB_OPERATIONS:
        return False
    codes = {facts.get("aws_error_code", ""), *facts.get("aws_cancellation_reasons", "").split(",")}
    return bool(codes & TRANSIENT_DATABASE_CODES)


class FileNotAvailable(DomainError):
    code, status, message = (
        "FILE_NOT_AVAILABLE",
        409,
        "The file is not available: still being verified, quarantined or deleted.",
    )


# --- case workflow (status transitions) -------------------------------------------------------


class IllegalTransition(DomainError):
    # `allowed` lists the statuses the caller may move the case to from its current status.
    code, status, message = (
        "ILLEGAL_TRANSITION",
        409,
        "The case cannot move to that status from its current one.",
    )


class RxLocked(DomainError):
    code, status, message = (
        "RX_LOCKED",
        409,
        "The Rx can no longer change at this stage; contact the lab.",
    )


class ReasonRequired(DomainError):
    code, status, message = "REASON_REQUIRED", 400, "This status change needs a reason."


class TrackingRequired(DomainError):
    code, status, message = (
        "TRACKING_REQUIRED",
        400,
        "Shipping needs carrier, trackingNumber and trackingUrl.",
    )


# --- labs and clinics -------------------------------------------------------------------------


class LabNotAvailable(DomainError):
    # Also for a lab id that does not exist: other labs are never disclosed.
    code, status, message = (
        "LAB_NOT_AVAILABLE",
        422,
        "You do not work with that lab; GET /labs lists the labs you can send cases to.",
    )


class NoLabConfigured(DomainError):
    code, status, message = (
        "NO_LAB_CONFIGURED",
        422,
        "Your account works with no lab yet; ask your administrator to connect your clinic to a lab.",
    )


class CaseTypeNotOffered(DomainError):
    code, status, message = (
        "CASE_TYPE_NOT_OFFERED",
        422,
        "The chosen lab does not make this case type; GET /labs lists what each lab makes.",
    )


# --- planning sessions -----------------------------------------------------------------------


class InvalidTimezone(DomainError):
    code, status, message = "INVALID_TIMEZONE", 400, "The timezone is not a known IANA time zone name."


class InvalidStartTime(DomainError):
    code, status, message = (
        "INVALID_START_TIME",
        400,
        "The start time does not exist in that time zone (daylight saving change).",
    )


class AmbiguousStartTime(DomainError):
    code, status, message = (
        "AMBIGUOUS_START_TIME",
        400,
        "The start time happens twice in that time zone (daylight saving change); send it with "
        "its UTC offset.",
    )


class BlockInPast(DomainError):
    code, status, message = "BLOCK_IN_PAST", 400, "The planning block has already started."


class BlockOverlaps(DomainError):
    code, status, message = "BLOCK_OVERLAPS", 409, "The block overlaps another block of the lab."


class BlockNotFound(DomainError):
    # Also for another lab's block: blocks of other labs are not disclosed.
    code, status, message = "BLOCK_NOT_FOUND", 404, "No such planning block for this case's lab."


class BlockTaken(DomainError):
    code, status, message = "BLOCK_TAKEN", 409, "The planning block is already booked; choose another."


class NotReadyToPlan(DomainError):
    code, status, message = (
        "CASE_NOT_READY_TO_PLAN",
        409,
        "A planning session can only be booked when the case is Ready to Plan or Planning No Show.",
    )


class NoPlanningSession(DomainError):
    code, status, message = "NO_PLANNING_SESSION", 409, "The case has no booked planning session."


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


# --- share links and the patient's Passport (issue 14) -----------------------------------------


class ShareLinkNotFound(DomainError):
    # Unknown, malformed or tampered tokens alike: nothing tells them apart.
    code, status, message = "SHARE_LINK_NOT_FOUND", 404, "No such share link."


class ShareLinkExpired(DomainError):
    code, status, message = "SHARE_LINK_EXPIRED", 410, "This share link has expired; ask for a new one."


class ShareLinkRevoked(DomainError):
    code, status, message = "SHARE_LINK_REVOKED", 410, "This share link was revoked; ask for a new one."


class EmailCodeRequired(DomainError):
    code, status, message = (
        "EMAIL_CODE_REQUIRED",
        403,
        "This link asks you to confirm your email address with a one-time code first.",
    )


class EmailCodeNotRequired(DomainError):
    code, status, message = "EMAIL_CODE_NOT_REQUIRED", 409, "This link does not ask for an email code."


class EmailCodeInvalid(DomainError):
    # Wrong, expired, used up or unknown: one answer, so a guesser learns nothing.
    code, status, message = (
        "EMAIL_CODE_INVALID",
        400,
        "The code is wrong, expired or used up; ask for a new one.",
    )


class TooManyAttempts(DomainError):
    code, status, message = "TOO_MANY_ATTEMPTS", 429, "Too many attempts; wait a minute and try again."


class PatientAlreadyConnected(DomainError):
    code, status, message = "PATIENT_ALREADY_CONNECTED", 409, "A patient is already connected to this case."


class PatientNotConnected(DomainError):
    code, status, message = "PATIENT_NOT_CONNECTED", 404, "No patient is connected to this case."


class ExportNotFound(DomainError):
    code, status, message = "EXPORT_NOT_FOUND", 404, "No such export."


# --- Team-Up -----------------------------------------------------------------------------------


class InvitationNotFound(DomainError):
    # Also what an invitation addressed to someone else, or already answered, looks like.
    code, status, message = "INVITATION_NOT_FOUND", 404, "No pending invitation with this id for you."


class CannotInviteSelf(DomainError):
    code, status, message = "CANNOT_INVITE_SELF", 409, "The case's owner is already on its team."


class AlreadyInvited(DomainError):
    code, status, message = "ALREADY_INVITED", 409, "This address already has a pending invitation."


class AlreadyMember(DomainError):
    code, status, message = "ALREADY_MEMBER", 409, "This address is already an active member of the team."


class MemberNotFound(DomainError):
    code, status, message = "MEMBER_NOT_FOUND", 404, "No active member with this id on this case."


class TeamFull(DomainError):
    code, status, message = "TEAM_FULL", 409, "The team has reached its size limit."


class EmailNotVerified(DomainError):
    code, status, message = (
        "EMAIL_NOT_VERIFIED",
        403,
        "Verify your email address to see and answer Team-Up invitations.",
    )


class NewOwnerNotEligible(DomainError):
    code, status, message = (
        "NEW_OWNER_NOT_ELIGIBLE",
        409,
        "Only an active member with a clinician account can own the case.",
    )


class ContactNotFound(DomainError):
    code, status, message = "CONTACT_NOT_FOUND", 404, "No such person in your network."


class InviteeMissing(DomainError):
    code, status, message = (
        "INVITEE_MISSING",
        400,
        "Send either email or userId (from your network), not both.",
    )


# --- the room (chat) ---------------------------------------------------------------------------


class TicketInvalid(DomainError):
    code, status, message = (
        "TICKET_INVALID",
        401,
        "This connection ticket is unknown or was already used: ask POST /realtime/tickets for another.",
    )


class TicketExpired(DomainError):
    code, status, message = (
        "TICKET_EXPIRED",
        401,
        "This connection ticket has expired: ask POST /realtime/tickets for another.",
    )


class TooManyConnections(DomainError):
    code, status, message = "TOO_MANY_CONNECTIONS", 429, "You have too many open live connections."


class RateLimited(DomainError):
    code, status, message = "RATE_LIMITED", 429, "Too many messages: slow down."


class MalformedFrame(DomainError):
    code, status, message = (
        "MALFORMED_FRAME",
        400,
        'Send a JSON object with an "action" and the fields that action takes.',
    )


class UnknownAction(DomainError):
    code, status, message = "UNKNOWN_ACTION", 400, "Unknown action."


class MessageEmpty(DomainError):
    code, status, message = "MESSAGE_EMPTY", 422, "A message needs text or an attachment."


class MessageTooLong(DomainError):
    code, status, message = "MESSAGE_TOO_LONG", 422, "The message text is longer than the limit."


class MessageNotFound(DomainError):
    code, status, message = "MESSAGE_NOT_FOUND", 404, "No such message in this room."


class ReplyToNotFound(DomainError):
    code, status, message = "REPLY_TO_NOT_FOUND", 422, "The message replied to is not in this room."


class AttachmentNotFound(DomainError):
    code, status, message = (
        "ATTACHMENT_NOT_FOUND",
        422,
        "An attachment is not an available file of this case.",
    )


class MentionNotMember(DomainError):
    code, status, message = (
        "MENTION_NOT_MEMBER",
        422,
        "Only the case's owner and active members can be mentioned.",
    )


class EditWindowClosed(DomainError):
    code, status, message = (
        "EDIT_WINDOW_CLOSED",
        409,
        "A message can be edited or deleted only for a while after it was sent.",
    )


class MessageDeleted(DomainError):
    code, status, message = "MESSAGE_DELETED", 409, "This message was deleted."


class RoomNotJoined(DomainError):
    code, status, message = "ROOM_NOT_JOINED", 409, "Join the room on this connection first."
