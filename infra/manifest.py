"""CaseRoom's wiring, declared once as data.

The CDK stack (infra/stack.py) builds the cloud from this module and the local runtime
(local/) serves from it, so the two cannot disagree about which routes, functions, rules
and tables exist. tests/unit/test_manifest.py fails when a route exists in the manifest
but not in the function's router (or the other way round); tests/cdk checks the
synthesized template against the same lists.

This module is plain data: importing it must never import aws_cdk or boto3.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The table schema lives in the Lambda layer (data access needs index names at run time).
from caseroom.events import EventType
from caseroom.table_schema import (
    CASE_SORT_INDEXES,
    GALLERY_FILES_INDEX,
    LAB_QUEUE_INDEX,
    TABLE,
    GlobalIndex,
    Table,
)

__all__ = ["CASE_SORT_INDEXES", "GALLERY_FILES_INDEX", "LAB_QUEUE_INDEX", "TABLE", "GlobalIndex", "Table"]


class Grant(StrEnum):
    """What a function may touch. infra/ turns each grant into least-privilege IAM."""

    TABLE_READ = "table:read"  # GetItem, Query, BatchGetItem
    TABLE_WRITE = "table:write"  # PutItem, UpdateItem, DeleteItem, TransactWriteItems (conditional)
    FILES_READ = "files:read"  # s3:GetObject (presigned downloads are signed with this)
    FILES_WRITE = "files:write"  # s3:PutObject
    # Case file uploads, finer than FILES_WRITE so each function gets only the S3 actions it uses.
    FILES_UPLOAD = "files:upload"  # s3:PutObject (presigned POST / parts), s3:ListMultipartUploadParts
    # s3:AbortMultipartUpload, and s3:ListMultipartUploadParts to see whether it is still open
    FILES_ABORT_UPLOAD = "files:abort-upload"
    FILES_READ_VERSION = "files:read-version"  # s3:GetObjectVersion (reads pinned to the verified version)
    FILES_DELETE = "files:delete"  # s3:DeleteObject (a delete marker: versions stay for the retention)
    FILES_DISCARD_VERSION = "files:discard-version"  # s3:DeleteObjectVersion (stray uploads only)
    EMAIL_SEND = "email:send"  # ses:SendEmail
    EVENTS_PUT = "events:put"  # events:PutEvents on the CaseRoom bus
    WEBSOCKET_POST = "websocket:post"  # execute-api:ManageConnections
    SCHEDULE = "schedule:write"  # scheduler:CreateSchedule/DeleteSchedule in CaseRoom's group (timers)
    WEBHOOK_DLQ_SEND = "queue:webhook-dlq:send"  # sqs:SendMessage to the webhook deliveries' DLQ
    # Functions that serve paged lists seal and open cursors with this key (caseroom.paging).
    CURSOR_KEY_READ = "secret:cursor-key:read"  # secretsmanager:GetSecretValue of the cursor key


class Layer(StrEnum):
    """Layers beyond the two every function has (the caseroom package, its dependencies)."""

    # fpdf2, uharfbuzz, segno and the fonts (layers/documents): ~51 MB of packages and 18 MB
    # of fonts unzipped, which only a function that renders PDFs should carry.
    DOCUMENTS = "documents"


@dataclass(frozen=True)
class Function:
    name: str  # logical name, also the folder under functions/
    description: str
    grants: tuple[Grant, ...]
    memory_mb: int = 512
    timeout_s: int = 10
    layers: tuple[Layer, ...] = ()

    @property
    def module(self) -> str:
        """Import path used by the local runtime (the Lambda handler is handler.lambda_handler)."""
        return f"functions.{self.name}.handler"

    @property
    def asset_dir(self) -> str:
        return f"functions/{self.name}"


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str  # API Gateway syntax: /cases/{caseId}
    function: str
    # True: no JWT authorizer. Health checks, and the share-link guest routes, which have no
    # account: those authorize every request inside, by the link's token (caseroom.sharing).
    public: bool = False

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class WebSocketRoute:
    route_key: str  # $connect, $disconnect, $default or an action name
    function: str
    # True: the route has a route response, so API Gateway sends the integration's reply back to
    # the client. Without one, AWS drops the function's return value silently; the function must
    # post to the connection through the management API instead. The stack and the local gateway
    # both follow this flag.
    returns_response: bool = False


# CORS of the HTTP API, as every stage declares it (origins differ per stage: infra/config.py,
# and LOCAL_STAGE below for the local runtime).
CORS_ALLOWED_HEADERS: tuple[str, ...] = ("Authorization", "Content-Type", "Idempotency-Key")
CORS_EXPOSED_HEADERS: tuple[str, ...] = ("Retry-After",)  # sent with 409 REQUEST_IN_PROGRESS
CORS_MAX_AGE_S = 60 * 60


@dataclass(frozen=True)
class LocalStage:
    """The stage the local runtime plays, declared as plain data like infra/config.py's stages
    (which need aws_cdk to import). Never deployed."""

    name: str = "local"
    # Each function's reserved concurrency: one more invocation in flight is throttled.
    reserved_concurrency: int = 100
    # The web app's dev server (Vite) on this machine.
    cors_allowed_origins: tuple[str, ...] = ("http://localhost:5173", "http://127.0.0.1:5173")


LOCAL_STAGE = LocalStage()


EVENT_SOURCE = "caseroom"
EVENT_BUS = "caseroom"
# AWS services (S3's "Object Created", ...) publish only to the account's default bus.
DEFAULT_BUS = "default"


@dataclass(frozen=True)
class EventRule:
    name: str
    description: str
    pattern: dict[str, object]
    function: str
    bus: str = EVENT_BUS  # EVENT_BUS (domain events, timers) or DEFAULT_BUS (AWS service events)
    # True: the rule only sees events of the files bucket (its name is only known at deploy
    # time, so the CDK stack and the local runtime add detail.bucket.name to the pattern).
    files_bucket_only: bool = False


# Timers (caseroom.scheduling) arrive on the bus with this source; rules match them by detail-type.
SCHEDULER_SOURCE = "caseroom.scheduler"
SCHEDULE_GROUP = "caseroom"

FILES_BUCKET = "files"

# Webhook deliveries that were given up on (a day of failures, 410 Gone, endpoint disabled) land
# here for 14 days: an SQS queue the webhook sender writes to itself (see caseroom.webhooks.sender).
WEBHOOK_DLQ = "webhook-deliveries-dlq"
# Case events every clinic may subscribe a webhook to (the catalogue in events/schemas).
WEBHOOK_EVENT_TYPES = tuple(event_type.value for event_type in EventType)
# Case events that concern a person (the case's clinician or its lab): notifications consume them.
NOTIFIED_EVENT_TYPES = (
    "CaseCreated",
    "CaseRxModified",
    "CaseStatusChanged",
    "CaseShipped",
    "FileAdded",
    "FileQuarantined",
    "PlanningScheduled",
    "PlanningCancelled",
    "PlanningMissed",
    "ChatMessagePosted",  # members who were not in the room, and those mentioned
)
NOTIFICATION_DIGEST_DUE = "NotificationDigestDue"
WEBHOOK_DELIVERY_DUE = "WebhookDeliveryDue"
WEBHOOK_SENDER_SOURCE = "caseroom.webhooks"  # the webhooks API asks for an attempt now
SHARE_LINK_EXPIRING = "ShareLinkExpiring"  # caseroom.sharing.notices.EXPIRY_TIMER
PASSPORT_EXPORT_SOURCE = "caseroom.passport"  # caseroom.passport.export.EXPORT_SOURCE
PASSPORT_EXPORT_REQUESTED = "PassportExportRequested"

FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="cases_api",
        description=(
            "Cases HTTP API: create, list, get, modify, archive, lab status, audit trail; "
            "Team-Up (case teams, invitations, shared cases, network)"
        ),
        grants=(
            Grant.TABLE_READ,
            Grant.TABLE_WRITE,
            Grant.FILES_READ,
            Grant.CURSOR_KEY_READ,
            Grant.EMAIL_SEND,
            Grant.WEBSOCKET_POST,  # a removed member's connections to the case's rooms are closed
        ),
    ),
    Function(
        name="rx_script",
        description="Generates the Rx script PDF of a case when it is created or its Rx changes",
        grants=(Grant.TABLE_READ, Grant.TABLE_WRITE, Grant.FILES_WRITE),
        timeout_s=30,
        layers=(Layer.DOCUMENTS,),
    ),
    Function(
        name="notifications",
        description="Case events to feed items, live pushes and emails (immediate or daily digest)",
        grants=(Grant.TABLE_READ, Grant.TABLE_WRITE, Grant.EMAIL_SEND, Grant.WEBSOCKET_POST, Grant.SCHEDULE),
        timeout_s=30,
    ),
    Function(
        name="files_api",
        description="Case files HTTP API: upload requests (presigned POST / multipart), galleries, downloads",
        grants=(
            Grant.TABLE_READ,
            Grant.TABLE_WRITE,
            Grant.FILES_UPLOAD,
            Grant.FILES_ABORT_UPLOAD,
            Grant.FILES_READ_VERSION,
            Grant.FILES_DELETE,
            Grant.CURSOR_KEY_READ,
        ),
        # CompleteMultipartUpload of thousands of parts can take S3 seconds; stay under the
        # HTTP API's 30 s integration limit.
        timeout_s=29,
    ),
    Function(
        name="upload_expiry",
        description=(
            "Pending uploads: sets the expiry timer on FileUploadRequested; on UploadExpired a "
            "still-pending upload expires and its multipart upload is aborted"
        ),
        grants=(Grant.TABLE_READ, Grant.TABLE_WRITE, Grant.FILES_ABORT_UPLOAD, Grant.SCHEDULE),
    ),
    Function(
        name="file_verifier",
        description="Verifies an uploaded object (size, magic bytes, checksum): available or quarantined",
        grants=(
            Grant.TABLE_READ,
            Grant.TABLE_WRITE,
            Grant.FILES_READ,
            Grant.FILES_READ_VERSION,
            Grant.FILES_DISCARD_VERSION,  # an object that arrives after expiry/abort, or a replayed POST
        ),
        # POST uploads (<= the multipart threshold) are hashed here when S3 reports no checksum.
        timeout_s=120,
        memory_mb=1024,
    ),
    Function(
        name="planning_api",
        description="Planning sessions HTTP API: the lab's free blocks, bookings, reschedule/cancel/held",
        grants=(Grant.TABLE_READ, Grant.TABLE_WRITE, Grant.CURSOR_KEY_READ),
    ),
    Function(
        name="case_workflow",
        description=(
            "Moves cases on events: files added to Missing CBCT/Models -> Processing; keeps the "
            "missed-session timer in step with the booking; a missed session -> Planning No Show"
        ),
        grants=(Grant.TABLE_READ, Grant.TABLE_WRITE, Grant.SCHEDULE),
        timeout_s=30,
    ),
    Function(
        name="notifications_api",
        description="Notifications HTTP API: my feed, unread count, mark read, email preferences",
        grants=(Grant.TABLE_READ, Grant.TABLE_WRITE, Grant.CURSOR_KEY_READ),
    ),
    Function(
        name="webhooks_api",
        description="Webhooks HTTP API: endpoints, secrets and rotation, delivery log, test ping, redelivery",
        grants=(Grant.TABLE_READ, Grant.TABLE_WRITE, Grant.EVENTS_PUT, Grant.CURSOR_KEY_READ),
    ),
    Function(
        name="webhook_sender",
        description="Signs and sends webhook deliveries (Standard Webhooks), retries them, parks failures",
        grants=(
            Grant.TABLE_READ,
            Grant.TABLE_WRITE,
            Grant.SCHEDULE,
            Grant.WEBHOOK_DLQ_SEND,
            Grant.EMAIL_SEND,  # the owner of an endpoint that gets disabled is told
            Grant.WEBSOCKET_POST,
        ),
        # Up to 10 endpoints per clinician, each attempt bounded by 3 s connect + 5 s read.
        timeout_s=90,
    ),
    Function(
        name="sharing_api",
        description=(
            "Share links HTTP API: the owner's 24-hour links, revocation and access log; the guest's "
            "token-authorized view, downloads and email one-time codes"
        ),
        grants=(
            Grant.TABLE_READ,
            Grant.TABLE_WRITE,
            Grant.FILES_READ_VERSION,
            Grant.EMAIL_SEND,  # the guest's one-time code
            Grant.SCHEDULE,  # the link's expiry warning
            Grant.WEBSOCKET_POST,  # the owner's live push when a link is first opened
            Grant.CURSOR_KEY_READ,  # the owner's lists of links and of a link's log
        ),
    ),
    Function(
        name="share_link_notices",
        description="Share links: an hour before a link expires, its owner is told (feed and live push)",
        grants=(Grant.TABLE_READ, Grant.TABLE_WRITE, Grant.WEBSOCKET_POST),
    ),
    Function(
        name="passport_api",
        description=(
            "Passport HTTP API: the clinician connects the patient and shares galleries; the patient "
            "lists their cases, downloads shared files, exports them and sees who saw their records"
        ),
        grants=(
            Grant.TABLE_READ,
            Grant.TABLE_WRITE,
            Grant.FILES_READ_VERSION,
            Grant.EMAIL_SEND,  # the patient's invitation and "something new was shared"
            Grant.WEBSOCKET_POST,  # the patient's live push of those notices
            Grant.EVENTS_PUT,  # an export request
            Grant.CURSOR_KEY_READ,  # the patient's lists (cases, who saw my records)
        ),
    ),
    Function(
        name="passport_export",
        description="Builds a patient's export: every shared file in one ZIP64, streamed to S3 (multipart)",
        grants=(
            Grant.TABLE_READ,
            Grant.TABLE_WRITE,
            Grant.FILES_READ_VERSION,
            Grant.FILES_UPLOAD,  # s3:PutObject of the ZIP's parts
            Grant.FILES_ABORT_UPLOAD,
        ),
        timeout_s=900,
        memory_mb=1024,
    ),
    Function(
        name="realtime",
        description=(
            "WebSocket API: connections opened with single-use tickets, kept for live pushes; "
            "the rooms' frames (join, send, read, typing, ping)"
        ),
        grants=(Grant.TABLE_READ, Grant.TABLE_WRITE, Grant.WEBSOCKET_POST),
    ),
    Function(
        name="chat_api",
        description="Chat HTTP API: WebSocket tickets, room history, unread counts, edits and deletes",
        grants=(Grant.TABLE_READ, Grant.TABLE_WRITE, Grant.WEBSOCKET_POST, Grant.CURSOR_KEY_READ),
    ),
)

HTTP_ROUTES: tuple[HttpRoute, ...] = (
    HttpRoute("GET", "/health", "cases_api", public=True),
    HttpRoute("GET", "/me", "cases_api"),
    HttpRoute("POST", "/cases", "cases_api"),
    HttpRoute("GET", "/cases", "cases_api"),
    HttpRoute("GET", "/cases/{caseId}", "cases_api"),
    HttpRoute("PATCH", "/cases/{caseId}", "cases_api"),
    HttpRoute("POST", "/cases/{caseId}/archive", "cases_api"),
    HttpRoute("POST", "/cases/{caseId}/unarchive", "cases_api"),
    HttpRoute("PUT", "/cases/{caseId}/status", "cases_api"),
    HttpRoute("GET", "/cases/{caseId}/audit", "cases_api"),
    HttpRoute("GET", "/cases/{caseId}/timeline", "cases_api"),
    HttpRoute("GET", "/cases/{caseId}/rx-script", "cases_api"),
    HttpRoute("GET", "/lab/cases", "cases_api"),
    HttpRoute("GET", "/labs", "cases_api"),
    HttpRoute("GET", "/cases/{caseId}/team", "cases_api"),
    HttpRoute("POST", "/cases/{caseId}/team/invitations", "cases_api"),
    HttpRoute("DELETE", "/cases/{caseId}/team/invitations/{invitationId}", "cases_api"),
    HttpRoute("DELETE", "/cases/{caseId}/team/members/{userId}", "cases_api"),
    HttpRoute("POST", "/cases/{caseId}/team/leave", "cases_api"),
    HttpRoute("POST", "/cases/{caseId}/team/owner", "cases_api"),
    HttpRoute("GET", "/me/team-requests", "cases_api"),
    HttpRoute("POST", "/me/team-requests/{invitationId}/accept", "cases_api"),
    HttpRoute("POST", "/me/team-requests/{invitationId}/decline", "cases_api"),
    HttpRoute("GET", "/shared/cases", "cases_api"),
    HttpRoute("GET", "/me/network", "cases_api"),
    HttpRoute("DELETE", "/me/network/{userId}", "cases_api"),
    HttpRoute("POST", "/cases/{caseId}/uploads", "files_api"),
    HttpRoute("GET", "/cases/{caseId}/uploads/{fileId}", "files_api"),
    HttpRoute("POST", "/cases/{caseId}/uploads/{fileId}/part-urls", "files_api"),
    HttpRoute("POST", "/cases/{caseId}/uploads/{fileId}/complete", "files_api"),
    HttpRoute("DELETE", "/cases/{caseId}/uploads/{fileId}", "files_api"),
    HttpRoute("GET", "/cases/{caseId}/galleries", "files_api"),
    HttpRoute("POST", "/cases/{caseId}/galleries", "files_api"),
    HttpRoute("GET", "/cases/{caseId}/galleries/{galleryId}/files", "files_api"),
    HttpRoute("GET", "/cases/{caseId}/files/{fileId}", "files_api"),
    HttpRoute("PATCH", "/cases/{caseId}/files/{fileId}", "files_api"),
    HttpRoute("DELETE", "/cases/{caseId}/files/{fileId}", "files_api"),
    HttpRoute("GET", "/cases/{caseId}/files/{fileId}/download", "files_api"),
    HttpRoute("POST", "/lab/planning/blocks", "planning_api"),
    HttpRoute("GET", "/lab/planning/blocks", "planning_api"),
    HttpRoute("GET", "/cases/{caseId}/planning/blocks", "planning_api"),
    HttpRoute("POST", "/cases/{caseId}/planning", "planning_api"),
    HttpRoute("GET", "/cases/{caseId}/planning", "planning_api"),
    HttpRoute("GET", "/cases/{caseId}/planning/ics", "planning_api"),
    HttpRoute("POST", "/cases/{caseId}/planning/reschedule", "planning_api"),
    HttpRoute("POST", "/cases/{caseId}/planning/cancel", "planning_api"),
    HttpRoute("POST", "/cases/{caseId}/planning/held", "planning_api"),
    HttpRoute("GET", "/me/notification-preferences", "notifications_api"),
    HttpRoute("PUT", "/me/notification-preferences", "notifications_api"),
    HttpRoute("GET", "/me/notifications", "notifications_api"),
    HttpRoute("GET", "/me/notifications/unread-count", "notifications_api"),
    HttpRoute("POST", "/me/notifications/{notificationId}/read", "notifications_api"),
    HttpRoute("POST", "/me/notifications/read-all", "notifications_api"),
    HttpRoute("POST", "/webhooks", "webhooks_api"),
    HttpRoute("GET", "/webhooks", "webhooks_api"),
    HttpRoute("GET", "/webhooks/{endpointId}", "webhooks_api"),
    HttpRoute("DELETE", "/webhooks/{endpointId}", "webhooks_api"),
    HttpRoute("POST", "/webhooks/{endpointId}/enable", "webhooks_api"),
    HttpRoute("POST", "/webhooks/{endpointId}/rotate-secret", "webhooks_api"),
    HttpRoute("POST", "/webhooks/{endpointId}/test", "webhooks_api"),
    HttpRoute("GET", "/webhooks/{endpointId}/deliveries", "webhooks_api"),
    HttpRoute("POST", "/webhooks/{endpointId}/deliveries/{deliveryId}/redeliver", "webhooks_api"),
    # share links (issue 14): the owner's side, then the guest's (public: no JWT, token inside)
    HttpRoute("POST", "/cases/{caseId}/share-links", "sharing_api"),
    HttpRoute("GET", "/cases/{caseId}/share-links", "sharing_api"),
    HttpRoute("GET", "/cases/{caseId}/share-links/policy", "sharing_api"),
    HttpRoute("PUT", "/cases/{caseId}/share-links/policy", "sharing_api"),
    HttpRoute("POST", "/cases/{caseId}/share-links/{linkId}/revoke", "sharing_api"),
    HttpRoute("GET", "/cases/{caseId}/share-links/{linkId}/access-log", "sharing_api"),
    HttpRoute("GET", "/shared", "sharing_api", public=True),
    HttpRoute("GET", "/shared/files/{fileId}/download", "sharing_api", public=True),
    HttpRoute("POST", "/shared/email-code", "sharing_api", public=True),
    HttpRoute("POST", "/shared/email-code/confirm", "sharing_api", public=True),
    # the Passport (issue 14): the clinician's side, then the patient's
    HttpRoute("POST", "/cases/{caseId}/passport", "passport_api"),
    HttpRoute("GET", "/cases/{caseId}/passport", "passport_api"),
    HttpRoute("DELETE", "/cases/{caseId}/passport", "passport_api"),
    HttpRoute("PUT", "/cases/{caseId}/passport/galleries/{galleryId}", "passport_api"),
    HttpRoute("DELETE", "/cases/{caseId}/passport/galleries/{galleryId}", "passport_api"),
    HttpRoute("GET", "/me/passport/cases", "passport_api"),
    HttpRoute("GET", "/me/passport/cases/{caseId}", "passport_api"),
    HttpRoute("GET", "/me/passport/cases/{caseId}/files/{fileId}/download", "passport_api"),
    HttpRoute("GET", "/me/passport/cases/{caseId}/access-log", "passport_api"),
    HttpRoute("POST", "/me/passport/cases/{caseId}/exports", "passport_api"),
    HttpRoute("GET", "/me/passport/cases/{caseId}/exports/{exportId}", "passport_api"),
    # the room (issue 13): tickets for the WebSocket, history, unread counts, edits
    HttpRoute("POST", "/realtime/tickets", "chat_api"),
    HttpRoute("GET", "/cases/{caseId}/rooms", "chat_api"),
    HttpRoute("GET", "/cases/{caseId}/rooms/{room}/messages", "chat_api"),
    HttpRoute("POST", "/cases/{caseId}/rooms/{room}/messages", "chat_api"),
    HttpRoute("PATCH", "/cases/{caseId}/rooms/{room}/messages/{messageId}", "chat_api"),
    HttpRoute("DELETE", "/cases/{caseId}/rooms/{room}/messages/{messageId}", "chat_api"),
)

WEBSOCKET_ROUTES: tuple[WebSocketRoute, ...] = (
    WebSocketRoute("$connect", "realtime"),
    WebSocketRoute("$disconnect", "realtime"),
    # Every frame's reply (pong, joined, sent, error frames) is the integration's return value: a
    # route response sends it.
    WebSocketRoute("$default", "realtime", returns_response=True),
)

EVENT_RULES: tuple[EventRule, ...] = (
    EventRule(
        name="rx-script-on-case-rx-changed",
        description="Build the Rx script PDF when a case is created or its Rx is modified",
        pattern={"source": [EVENT_SOURCE], "detail-type": ["CaseCreated", "CaseRxModified"]},
        function="rx_script",
    ),
    EventRule(
        name="notify-on-case-events",
        description="Feed items, live pushes and emails for the case events that concern a person",
        pattern={"source": [EVENT_SOURCE], "detail-type": list(NOTIFIED_EVENT_TYPES)},
        function="notifications",
    ),
    EventRule(
        name="verify-uploaded-file",
        description="S3 Object Created in the files bucket's upload prefix -> verify the upload",
        # A presigned PUT also emits "Object Tags Added": only Object Created starts a verification.
        pattern={
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"object": {"key": [{"prefix": "files/"}]}},
        },
        function="file_verifier",
        bus=DEFAULT_BUS,
        files_bucket_only=True,
    ),
    EventRule(
        name="schedule-upload-expiry",
        description="A pending upload was requested -> set its expiry timer",
        pattern={"source": [EVENT_SOURCE], "detail-type": ["FileUploadRequested"]},
        function="upload_expiry",
    ),
    EventRule(
        name="expire-pending-upload",
        description="A pending upload's expiry timer -> expire it unless it finished meanwhile",
        pattern={"source": [SCHEDULER_SOURCE], "detail-type": ["UploadExpired"]},
        function="upload_expiry",
    ),
    EventRule(
        name="case-workflow-on-file-added",
        description="Files added to a case in Missing CBCT/Models move it to Processing",
        pattern={"source": [EVENT_SOURCE], "detail-type": ["FileAdded"]},
        function="case_workflow",
    ),
    EventRule(
        name="case-workflow-on-planning-change",
        description="Set or cancel the missed-session timer when a planning session is booked or changed",
        pattern={
            "source": [EVENT_SOURCE],
            "detail-type": ["PlanningScheduled", "PlanningCancelled", "PlanningHeld"],
        },
        function="case_workflow",
    ),
    EventRule(
        name="team-shared-rows-on-case-change",
        description="Keep team members' copies of a case's sort columns (cases shared with me) in step",
        pattern={
            "source": [EVENT_SOURCE],
            "detail-type": ["CaseRxModified", "CaseStatusChanged", "CaseArchived", "CaseUnarchived"],
        },
        function="case_workflow",
    ),
    EventRule(
        name="case-workflow-on-planning-session-due",
        description="A booked session's end + grace passed: Planning No Show unless it was held",
        pattern={"source": [SCHEDULER_SOURCE], "detail-type": ["PlanningSessionDue"]},
        function="case_workflow",
    ),
    EventRule(
        name="notify-digest-due",
        description="A user's daily digest timer: send the day's digest email",
        pattern={"source": [SCHEDULER_SOURCE], "detail-type": [NOTIFICATION_DIGEST_DUE]},
        function="notifications",
    ),
    EventRule(
        name="webhooks-on-case-events",
        description="Fan case events out to the subscribed webhook endpoints of the case's clinician",
        pattern={"source": [EVENT_SOURCE], "detail-type": list(WEBHOOK_EVENT_TYPES)},
        function="webhook_sender",
    ),
    EventRule(
        name="webhooks-delivery-due",
        description="A webhook retry timer, a test ping or a redelivery: attempt that delivery now",
        pattern={
            "source": [SCHEDULER_SOURCE, WEBHOOK_SENDER_SOURCE],
            "detail-type": [WEBHOOK_DELIVERY_DUE],
        },
        function="webhook_sender",
    ),
    EventRule(
        name="share-link-expiring",
        description="A share link's timer an hour before expiry: tell its owner unless revoked meanwhile",
        pattern={"source": [SCHEDULER_SOURCE], "detail-type": [SHARE_LINK_EXPIRING]},
        function="share_link_notices",
    ),
    EventRule(
        name="passport-export-requested",
        description="A patient asked for an export of what is shared with them: build the ZIP",
        pattern={"source": [PASSPORT_EXPORT_SOURCE], "detail-type": [PASSPORT_EXPORT_REQUESTED]},
        function="passport_export",
    ),
)


def function(name: str) -> Function:
    for fn in FUNCTIONS:
        if fn.name == name:
            return fn
    raise KeyError(name)


def rule_pattern(rule: EventRule, files_bucket_name: str) -> dict[str, object]:
    """The pattern a rule is created with: its declared pattern, narrowed to the files bucket
    when the rule asks for it (the CDK stack passes the bucket's deploy-time name)."""
    if not rule.files_bucket_only:
        return dict(rule.pattern)
    detail = dict(rule.pattern.get("detail", {}))  # type: ignore[call-overload]
    detail["bucket"] = {"name": [files_bucket_name]}
    return {**rule.pattern, "detail": detail}


def cors_allowed_methods() -> tuple[str, ...]:
    return tuple(sorted({route.method for route in HTTP_ROUTES} | {"OPTIONS"}))


def routes_of(function_name: str) -> tuple[HttpRoute, ...]:
    return tuple(r for r in HTTP_ROUTES if r.function == function_name)


@dataclass(frozen=True)
class OutboxRelay:
    """DynamoDB stream -> event bus, the transactional outbox's delivery leg.

    In the cloud this is an EventBridge Pipe; the local runtime's stream relay renders the
    very same template, so both put byte-identical events on the bus.
    """

    # Only newly inserted outbox items travel; every other table write is ignored.
    stream_filter: dict[str, object]
    detail_type_path: str
    # Pipe input-template syntax: <$.path> is replaced by the string at that path.
    detail_template: str


OUTBOX_RELAY = OutboxRelay(
    stream_filter={"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["outbox"]}}}},
    detail_type_path="$.dynamodb.NewImage.eventType.S",
    detail_template=(
        '{"id": "<$.dynamodb.NewImage.eventId.S>", '
        '"type": "<$.dynamodb.NewImage.eventType.S>", '
        '"version": "<$.dynamodb.NewImage.eventVersion.S>", '
        '"time": "<$.dynamodb.NewImage.eventTime.S>", '
        '"caseId": "<$.dynamodb.NewImage.caseId.S>", '
        '"actor": "<$.dynamodb.NewImage.actor.S>", '
        '"correlationId": "<$.dynamodb.NewImage.correlationId.S>", '
        '"subjectId": "<$.dynamodb.NewImage.subjectId.S>"}'
    ),
)

# Environment variables every function receives (values differ per stage / local runtime).
FUNCTION_ENVIRONMENT_KEYS = (
    "CASEROOM_STAGE",  # dev | prod | local
    "CASEROOM_TABLE_NAME",
    "CASEROOM_FILES_BUCKET",
    "CASEROOM_EVENT_BUS_NAME",
    "CASEROOM_EVENT_BUS_ARN",  # target of the timers (caseroom.scheduling)
    "CASEROOM_SCHEDULE_GROUP",
    "CASEROOM_SCHEDULER_ROLE_ARN",
    "CASEROOM_EMAIL_FROM",
    "CASEROOM_JWT_ISSUER",  # realtime $connect verifies the same JWTs the HTTP authorizer does
    "CASEROOM_JWT_AUDIENCE",
    "CASEROOM_JWKS_URL",
    "CASEROOM_WEBSOCKET_ENDPOINT",  # https endpoint of the @connections management API
    "CASEROOM_MULTIPART_THRESHOLD_BYTES",  # uploads above this size go multipart (presigned POST below)
    "CASEROOM_WEBHOOK_DLQ_URL",  # where given-up webhook deliveries are parked
    "CASEROOM_DEEP_TRACING",  # "true" imports the Powertools Tracer (X-Ray SDK); off by default
    # ARN of the list cursors' key (a Secrets Manager secret); only CURSOR_KEY_READ functions may read it.
    "CASEROOM_CURSOR_KEY_SECRET_ARN",
    "CASEROOM_APP_URL",  # the web app; the Rx script's QR code links to its case page
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
)
