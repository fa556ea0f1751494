"""Part 1, cold start: a fresh process imports a handler and serves one request against moto.

Each measured program runs in a new `python -c` process that times itself with
time.perf_counter from its first line to the end of the first response, and prints the number.
The reference is the floor program (import boto3, one DynamoDB client, one GetItem): the least
any function that reads DynamoDB can do. Programs run round-robin so they share the machine's
noise; each is run once first, discarded, so every .pyc cache is warm (as a Lambda package's
pre-compiled modules are).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib
import io
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench import aws_env, events
from bench.handler_calls import HttpResult, invoke_http
from bench.stats import median, ratio
from caseroom.auth import Principal
from caseroom.events import EventType

TARGET_RATIO = 1.5  # the target: every function <= 1.5x the floor
DEFAULT_RUNS = 11  # the issue asks for a median of >= 7 runs; a few more steady it on a noisy machine
CHILD_TIMEOUT_S = 60
RESULT_MARKER = "BENCH_RESULT"
XRAY_MISSING = "n/a (X-Ray SDK not installed; Lambda active tracing used)"
IMPORTTIME_TOP = 6  # packages listed per function in the import-time breakdown
IMPORTTIME_RUNS = 3  # the breakdown uses per-module medians of this many -X importtime runs
# What Lambda puts in the environment of a sampled invocation (example ids in the X-Ray header format).
SAMPLED_TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

# A measured program: t0 on the first line, the work, then one line the parent parses.
_HANDLER_PROGRAM = """\
import time
_bench_started, _bench_cpu_started = time.perf_counter(), time.process_time()
from {module} import lambda_handler


class _Context:
    function_name = {function!r}
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:{function}"
    memory_limit_in_mb = 512
    aws_request_id = "req-cold-start"
    log_group_name = "/aws/lambda/{function}"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self):
        return 10000


_response = lambda_handler({event!r}, _Context())
_bench_elapsed_ms = (time.perf_counter() - _bench_started) * 1000
_bench_cpu_ms = (time.process_time() - _bench_cpu_started) * 1000
import sys
_bench_xray = "aws_xray_sdk" in sys.modules
_bench_clients = len(sys.modules["caseroom.aws"]._clients) if "caseroom.aws" in sys.modules else 0
print({marker!r}, _bench_elapsed_ms, _bench_cpu_ms, bool({success}), _bench_xray, _bench_clients, flush=True)
"""

_FLOOR_PROGRAM = """\
import time
_bench_started, _bench_cpu_started = time.perf_counter(), time.process_time()
import boto3
_client = boto3.client("dynamodb", endpoint_url={endpoint!r})
_response = _client.get_item(TableName={table!r}, Key={{"pk": {{"S": "x"}}, "sk": {{"S": "y"}}}})
_bench_elapsed_ms = (time.perf_counter() - _bench_started) * 1000
_bench_cpu_ms = (time.process_time() - _bench_cpu_started) * 1000
_bench_ok = _response["ResponseMetadata"]["HTTPStatusCode"] == 200
print({marker!r}, _bench_elapsed_ms, _bench_cpu_ms, _bench_ok, False, 1, flush=True)
"""

# The same work through botocore alone, as CaseRoom's functions make their clients (caseroom.aws):
# shown beside the floor so the ratio's source is visible (boto3's own import is most of the gap).
_BOTOCORE_FLOOR_PROGRAM = """\
import time
_bench_started, _bench_cpu_started = time.perf_counter(), time.process_time()
import botocore.session
_client = botocore.session.get_session().create_client("dynamodb", endpoint_url={endpoint!r})
_response = _client.get_item(TableName={table!r}, Key={{"pk": {{"S": "x"}}, "sk": {{"S": "y"}}}})
_bench_elapsed_ms = (time.perf_counter() - _bench_started) * 1000
_bench_cpu_ms = (time.process_time() - _bench_cpu_started) * 1000
_bench_ok = _response["ResponseMetadata"]["HTTPStatusCode"] == 200
print({marker!r}, _bench_elapsed_ms, _bench_cpu_ms, _bench_ok, False, 1, flush=True)
"""

# The floor as CaseRoom's functions run it in Lambda: with the cyclic collector paused
# (caseroom.cold_start_gc), to show what that pause alone is worth.
_FLOOR_GC_PAUSED_PROGRAM = "import gc\ngc.disable()\n" + _FLOOR_PROGRAM

# The least a typed, validated HTTP route on this stack costs: the Powertools validating resolver
# (imported as CaseRoom does: `caseroom`'s package init skips the Powertools packages' eager
# __init__ and pauses the collector, see caseroom/cold_start_gc.py), Logger and Metrics, one
# pydantic response model and the floor's GetItem through botocore. No CaseRoom domain code: the
# distance between this row and the floor is the stack's, the distance to cases_api is ours.
_MINIMAL_HTTP_PROGRAM = """\
import time
_bench_started, _bench_cpu_started = time.perf_counter(), time.process_time()
from caseroom.lazy_packages import defer_known_packages
defer_known_packages()
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver
from pydantic import BaseModel, ConfigDict
logger, metrics = Logger(service="bench"), Metrics(namespace="Bench", service="bench")


class Item(BaseModel):
    model_config = ConfigDict(defer_build=True)
    pk: str
    found: bool


app = APIGatewayHttpResolver(enable_validation=True)
_clients = []


@app.get("/items/<pk>")
def get_item(pk: str) -> Item:
    if not _clients:
        import botocore.session
        _clients.append(botocore.session.get_session().create_client("dynamodb", endpoint_url={endpoint!r}))
    found = _clients[0].get_item(TableName={table!r}, Key={{"pk": {{"S": pk}}, "sk": {{"S": "y"}}}})
    return Item(pk=pk, found="Item" in found)


class _Context:
    function_name, memory_limit_in_mb, aws_request_id = "minimal", 512, "req-cold-start"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:minimal"


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event, context):
    return app.resolve(event, context)


_response = lambda_handler({event!r}, _Context())
_bench_elapsed_ms = (time.perf_counter() - _bench_started) * 1000
_bench_cpu_ms = (time.process_time() - _bench_cpu_started) * 1000
_bench_ok = _response["statusCode"] == 200
print({marker!r}, _bench_elapsed_ms, _bench_cpu_ms, _bench_ok, False, 1, flush=True)
"""

_MINIMAL_HTTP_EVENT = {
    "version": "2.0",
    "routeKey": "GET /items/{pk}",
    "rawPath": "/items/x",
    "rawQueryString": "",
    "headers": {"accept": "application/json"},
    "requestContext": {
        "http": {"method": "GET", "path": "/items/x", "sourceIp": "203.0.113.7"},
        "requestId": "req-cold-start",
        "stage": "$default",
    },
    "pathParameters": {"pk": "x"},
    "isBase64Encoded": False,
}

# Interpreter start-up and exit only: its in-process time is ~0, its process wall time is the point.
_BARE_PROGRAM = "pass"

# The webhook sender's first request succeeded when it created one delivery for the event AND
# the receiver answered 2xx (a refused POST would schedule a retry and still count one delivery).
# Like every success expression it is evaluated after the child's clock stopped.
_WEBHOOK_DELIVERED = (
    '_response.get("deliveries") == 1 and any('
    'd.event_id == _response["eventId"] and d.status == "succeeded" '
    f'for e in sys.modules["caseroom.webhooks.store"].endpoints_of({events.CLINICIAN.user_id!r}) '
    'for d in sys.modules["caseroom.webhooks.store"].list_deliveries(e.endpoint_id, 5, None)[0])'
)

# What "served" means for each function's first response.
_SUCCESS = {
    "cases_api": '_response.get("statusCode") == 200',
    "rx_script": '_response.get("stored") is True',
    "notifications": '_response.get("sent") is True',
    "realtime": '_response.get("statusCode") == 200',
    "files_api": '_response.get("statusCode") == 201',
    "file_verifier": '_response.get("outcome") == "available"',
    "upload_expiry": '_response.get("expired") is True',
    "planning_api": '_response.get("statusCode") == 200 and \'"blockId"\' in _response.get("body", "")',
    "case_workflow": '_response.get("moved") is True',
    "notifications_api": (
        '_response.get("statusCode") == 200 and \'"notificationId"\' in _response.get("body", "")'
    ),
    "webhooks_api": '_response.get("statusCode") == 200 and \'"endpointId"\' in _response.get("body", "")',
    "webhook_sender": _WEBHOOK_DELIVERED,
    "chat_api": '_response.get("statusCode") == 200 and \'"room"\' in _response.get("body", "")',
}

# The small file the upload first requests declare (a PNG by its magic bytes, as the verifier checks).
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


@dataclass
class Program:
    name: str
    kind: str  # "function" (has a target), "floor" (the reference) or "info" (shown, not judged)
    build_code: Callable[[], str]  # called per run: events carry fresh ids
    environment: dict[str, str] = field(default_factory=dict)
    self_timed: bool = True  # False: only the process wall time means something
    unavailable: str | None = None  # set when the program cannot run here (reported, not fatal)
    in_process_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    xray_sdk_imported: bool | None = None
    boto3_clients: int | None = None  # clients the first request created (each loads a service model)
    wall_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RunOutcome:
    wall_ms: float  # seen from the parent: interpreter start to exit
    in_process_ms: float | None = None  # measured by the child: first line to first response
    cpu_ms: float | None = None  # the child's CPU time over that span: steadier under noisy neighbours
    xray_sdk_imported: bool | None = None
    boto3_clients: int | None = None  # clients the first request created (each loads a service model)
    error: str | None = None


def _child_environment(extra: dict[str, str], endpoint_url: str) -> dict[str, str]:
    inherited = {
        key: value
        for key, value in os.environ.items()
        # Nothing of the developer's CaseRoom/Powertools/AWS settings leaks in; .pyc writing stays on.
        if not key.startswith(("CASEROOM_", "POWERTOOLS_", "AWS_", "_X_AMZN"))
        and key
        not in {"PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONPROFILEIMPORTTIME", "LAMBDA_TASK_ROOT"}
    }
    return {
        **inherited,
        **aws_env.caseroom_environment(endpoint_url),
        "PYTHONPATH": aws_env.python_path(),
        # Lambda always sets it; caseroom.cold_start_gc pauses the collector only where it is set.
        "AWS_LAMBDA_FUNCTION_NAME": "caseroom-bench",
        **extra,
    }


def _run_child(
    code: str, environment: dict[str, str], python_flags: tuple[str, ...] = ()
) -> tuple[RunOutcome, str]:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, *python_flags, "-c", code],
        env=environment,
        cwd=aws_env.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    wall_ms = (time.perf_counter() - started) * 1000
    if completed.returncode != 0:
        last_line = (completed.stderr.strip().splitlines() or ["(no output)"])[-1]
        return RunOutcome(wall_ms, error=f"exit {completed.returncode}: {last_line}"), completed.stderr
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            _, elapsed, cpu, succeeded, xray_imported, clients = line.split()
            if succeeded != "True":
                return RunOutcome(wall_ms, error="the first response was not a success"), completed.stderr
            outcome = RunOutcome(
                wall_ms,
                in_process_ms=float(elapsed),
                cpu_ms=float(cpu),
                xray_sdk_imported=xray_imported == "True",
                boto3_clients=int(clients),
            )
            return outcome, completed.stderr
    if code == _BARE_PROGRAM:
        return RunOutcome(wall_ms), completed.stderr
    return RunOutcome(wall_ms, error="no result line printed"), completed.stderr


def _handler_code(
    function: str, event_factory: Callable[[], dict[str, Any]], success: str | None = None
) -> Callable[[], str]:
    module = f"functions.{function}.handler"

    def build() -> str:
        return _HANDLER_PROGRAM.format(
            module=module,
            function=function,
            event=event_factory(),
            marker=RESULT_MARKER,
            success=success or _SUCCESS[function],
        )

    return build


def _call(function: str, event: dict[str, Any]) -> HttpResult:
    """One HTTP request through a function's handler, in this process (seeding, not measured)."""
    handler = importlib.import_module(f"functions.{function}.handler").lambda_handler
    return invoke_http(handler, event, function)


def _expect(result: HttpResult, status: int, what: str) -> dict[str, Any]:
    if result.status != status:
        raise RuntimeError(f"{what} failed: {result.status} {result.body}")
    return result.body


def _seed_case(endpoint_url: str, body: dict[str, Any] | None = None) -> str:
    """Opens one case through the cases API handler (in this process) and returns its id."""
    event = events.http_event(
        "POST", "/cases", "/cases", events.CLINICIAN, body=body or events.CREATE_CASE_BODY
    )
    return str(_expect(_call("cases_api", event), 201, "seeding the case")["caseId"])


@dataclass(frozen=True)
class Seeded:
    """What the parent prepares once, before any child runs, for the first requests to act on."""

    case_id: str  # the case every case-scoped first request reads or changes (a crown with its scan)
    workflow_case_id: str  # a case the lab puts back in Missing CBCT/Models before each FileAdded


@contextlib.contextmanager
def _webhook_receiver() -> Iterator[str]:
    """A clinic's webhook receiver on 127.0.0.1 (the local stage allows loopback URLs): answers
    204 to every POST. Yields the URL to register."""

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/caseroom"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _seed(endpoint_url: str, receiver_url: str) -> Seeded:
    """The cases, planning block, feed item and webhook endpoint the first requests need,
    made through the functions' own handlers in this process."""
    case_id = _seed_case(endpoint_url)
    # Crown without its scan: opens in Missing CBCT/Models, where a FileAdded moves it on.
    workflow_case_id = _seed_case(endpoint_url, {**events.CREATE_CASE_BODY, "attachments": []})
    # One free block in a week, at 10:00 in Madrid: what the clinician of the case can book.
    start = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT10:00")
    block = {
        "start": start,
        "durationMinutes": 60,
        "timezone": "Europe/Madrid",
        "meetingUrl": "https://meet.caseroom.bench/planning",
    }
    event = events.http_event(
        "POST", "/lab/planning/blocks", "/lab/planning/blocks", events.LAB_TECH, body=block
    )
    _expect(_call("planning_api", event), 201, "publishing a planning block")
    # One item in the clinician's feed: the notice of the case's creation.
    from functions.notifications.handler import lambda_handler as notifications_handler

    with contextlib.redirect_stdout(io.StringIO()):  # the handler's metric flush prints EMF lines
        notified = notifications_handler(
            events.case_event(EventType.CASE_CREATED, case_id, events.CLINICIAN.user_id, _event_time()),
            events.lambda_context("notifications"),
        )
    if not notified.get("notices"):
        raise RuntimeError(f"seeding a notification failed: {notified}")
    # The clinician's endpoint for status changes, at the receiver: the sender signs and POSTs.
    endpoint = {
        "url": receiver_url,
        "eventTypes": [EventType.CASE_STATUS_CHANGED.value],
        "description": "cold-start bench receiver",
    }
    event = events.http_event("POST", "/webhooks", "/webhooks", events.CLINICIAN, body=endpoint)
    _expect(_call("webhooks_api", event), 201, "registering a webhook endpoint")
    return Seeded(case_id=case_id, workflow_case_id=workflow_case_id)


def _reset_moto(endpoint_url: str) -> None:
    """Empties every moto backend (its /moto-api/reset) and drops the clients made against them."""
    from caseroom import aws

    request = urllib.request.Request(f"{endpoint_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()
    aws.reset_clients()


def _event_time() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _png_upload_body() -> dict[str, Any]:
    return {
        "fileName": "bench smile.png",
        "kind": "photo",
        "sizeBytes": len(PNG),
        "contentType": "image/png",
        "sha256": hashlib.sha256(PNG).hexdigest(),
    }


def _request_upload(case_id: str, body: dict[str, Any]) -> str:
    """Requests an upload through the files API handler (in this process); returns the file id."""
    path = f"/cases/{case_id}/uploads"
    event = events.http_event("POST", "/cases/{caseId}/uploads", path, events.CLINICIAN, body=body)
    return str(_expect(_call("files_api", event), 201, "requesting an upload")["fileId"])


def _landed_upload(case_id: str) -> dict[str, Any]:
    """A fresh pending upload whose bytes just landed, as the client's presigned POST leaves them
    (with the whole-file SHA-256 the POST policy pins), and S3's Object Created event for it."""
    from caseroom import aws
    from caseroom.files.logic import object_key
    from caseroom.settings import get_settings

    file_id = _request_upload(case_id, _png_upload_body())
    bucket, key = get_settings().files_bucket, object_key(case_id, file_id)
    stored = aws.client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=PNG,
        ContentType="image/png",
        # The POST's x-amz-checksum-* fields: S3 (and moto, given the algorithm) then reports the
        # checksum, so the verifier compares it instead of reading the object.
        ChecksumAlgorithm="SHA256",
        ChecksumSHA256=base64.b64encode(hashlib.sha256(PNG).digest()).decode(),
    )
    return events.s3_object_created(bucket, key, len(PNG), str(stored["VersionId"]), _event_time())


def _overdue_upload(case_id: str) -> dict[str, Any]:
    """A fresh multipart upload (a CBCT: the large files are the ones left unfinished) requested
    just over a day ago, so still pending past its deadline, and its UploadExpired timer event."""
    from caseroom.clock import FixedClock
    from caseroom.files import routes
    from caseroom.files.expiry import UPLOAD_EXPIRY, UPLOAD_EXPIRY_TIMER
    from caseroom.files.logic import FileService
    from caseroom.settings import get_settings

    size = 2 * get_settings().multipart_threshold_bytes
    body = {
        "fileName": "bench cbct.dcm",
        "kind": "cbct",
        "sizeBytes": size,
        "contentType": "application/dicom",
        "sha256": secrets.token_hex(32),
    }
    routes.use_service(FileService(clock=FixedClock(datetime.now(UTC) - UPLOAD_EXPIRY - timedelta(hours=1))))
    try:
        file_id = _request_upload(case_id, body)
    finally:
        routes.use_service(None)
    detail = {"caseId": case_id, "fileId": file_id}
    return events.timer_event(UPLOAD_EXPIRY_TIMER, detail, _event_time())


def _file_added(case_id: str) -> dict[str, Any]:
    """FileAdded for a case in Missing CBCT/Models: the lab first puts the case back there (the
    previous run's FileAdded moved it to Processing), so every run really moves it."""
    from caseroom.cases.statuses import CaseStatus

    case_path = f"/cases/{case_id}"
    viewed = _call("cases_api", events.http_event("GET", "/cases/{caseId}", case_path, events.LAB_TECH))
    case = _expect(viewed, 200, "reading the workflow case")
    if case["status"] != CaseStatus.MISSING_FILES.value:
        change = {"version": case["version"], "status": CaseStatus.MISSING_FILES.value}
        event = events.http_event(
            "PUT", "/cases/{caseId}/status", f"{case_path}/status", events.LAB_TECH, body=change
        )
        _expect(_call("cases_api", event), 200, "putting the workflow case back in Missing CBCT/Models")
    file_id = secrets.token_hex(16)
    return events.case_event(
        EventType.FILE_ADDED, case_id, events.CLINICIAN.user_id, _event_time(), subject_id=file_id
    )


def _programs(endpoint_url: str, seeded: Callable[[], Seeded]) -> list[Program]:
    """`seeded` answers the current round's seed: every round starts from a fresh moto state."""
    from infra import manifest  # needs the layer on sys.path (set by __main__)

    def case_id() -> str:
        return seeded().case_id

    def case_created() -> dict[str, Any]:
        return events.case_event(EventType.CASE_CREATED, case_id(), events.CLINICIAN.user_id, _event_time())

    def get(route: str, who: Principal) -> Callable[[], dict[str, Any]]:
        return lambda: events.http_event("GET", route, route.replace("{caseId}", case_id()), who)

    # Each function's common real work; builders run in this process before each child (not timed).
    first_requests: dict[str, Callable[[], dict[str, Any]]] = {
        "cases_api": get("/cases/{caseId}", events.CLINICIAN),
        "rx_script": case_created,
        "notifications": case_created,
        "realtime": events.websocket_ping_event,
        # A small upload: authorize on the case, presign the POST, store the pending file and its
        # audit record, schedule its expiry timer. Each run reserves a new file.
        "files_api": lambda: events.http_event(
            "POST",
            "/cases/{caseId}/uploads",
            f"/cases/{case_id()}/uploads",
            events.CLINICIAN,
            body=_png_upload_body(),
        ),
        # Its bytes landed: head, magic bytes, S3's checksum, then available + FileAdded + audit.
        "file_verifier": lambda: _landed_upload(case_id()),
        # An unfinished multipart upload past its deadline: expired, audited, S3 upload aborted.
        "upload_expiry": lambda: _overdue_upload(case_id()),
        # The clinician's view of the seeded free block (authorize on the case, query the lab's blocks).
        "planning_api": get("/cases/{caseId}/planning/blocks", events.CLINICIAN),
        # Missing CBCT/Models -> Processing: claim, read, conditional transaction.
        "case_workflow": lambda: _file_added(seeded().workflow_case_id),
        "notifications_api": get("/me/notifications", events.CLINICIAN),
        "webhooks_api": get("/webhooks", events.CLINICIAN),
        # The case's rooms and unread counts: authorize on the case, read markers, count queries.
        "chat_api": get("/cases/{caseId}/rooms", events.CLINICIAN),
        # Fan-out to the seeded endpoint: one delivery, signed and POSTed to the receiver.
        "webhook_sender": lambda: events.case_event(
            EventType.CASE_STATUS_CHANGED, case_id(), events.LAB_TECH.user_id, _event_time()
        ),
    }
    missing = [fn.name for fn in manifest.FUNCTIONS if fn.name not in first_requests]
    if missing:
        raise RuntimeError(
            f"no representative first request for function(s) {missing}: add one to bench/cold_start.py"
        )

    floor_code = _FLOOR_PROGRAM.format(endpoint=endpoint_url, table=aws_env.TABLE_NAME, marker=RESULT_MARKER)
    botocore_floor_code = _BOTOCORE_FLOOR_PROGRAM.format(
        endpoint=endpoint_url, table=aws_env.TABLE_NAME, marker=RESULT_MARKER
    )
    programs = [
        Program("floor (boto3 + client + GetItem)", "floor", lambda: floor_code),
        Program("same via botocore only (no boto3 import)", "info", lambda: botocore_floor_code),
        Program(
            "floor with the cyclic GC paused",
            "info",
            lambda: _FLOOR_GC_PAUSED_PROGRAM.format(
                endpoint=endpoint_url, table=aws_env.TABLE_NAME, marker=RESULT_MARKER
            ),
        ),
        Program("bare python -c pass", "info", lambda: _BARE_PROGRAM, self_timed=False),
        Program(
            "minimal validated Powertools route + GetItem (no CaseRoom code)",
            "info",
            lambda: _MINIMAL_HTTP_PROGRAM.format(
                endpoint=endpoint_url,
                table=aws_env.TABLE_NAME,
                marker=RESULT_MARKER,
                event=_MINIMAL_HTTP_EVENT,
            ),
        ),
    ]
    programs += [
        Program(fn.name, "function", _handler_code(fn.name, first_requests[fn.name]))
        for fn in manifest.FUNCTIONS
    ]
    # A create's first request also builds the idempotency store, whose Powertools module imports boto3.
    programs.append(
        Program(
            "cases_api, first request = create case",
            "info",
            _handler_code(
                "cases_api",
                lambda: events.http_event(
                    "POST", "/cases", "/cases", events.CLINICIAN, body=events.CREATE_CASE_BODY
                ),
                success='_response.get("statusCode") == 201',
            ),
        )
    )
    # Deep tracing as it would run in Lambda: the Powertools Tracer only traces (and patches
    # botocore) inside a Lambda environment with a trace header; the X-Ray daemon address is a
    # loopback UDP port nobody listens on, so segments are sent and dropped.
    programs.append(
        Program(
            "cases_api + CASEROOM_DEEP_TRACING=true",
            "info",
            _handler_code("cases_api", first_requests["cases_api"]),
            environment={
                "CASEROOM_DEEP_TRACING": "true",
                "LAMBDA_TASK_ROOT": str(aws_env.REPO_ROOT),
                "_X_AMZN_TRACE_ID": SAMPLED_TRACE_HEADER,
                "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
                "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
            },
        )
    )
    return programs


def _record(program: Program, outcome: RunOutcome, stderr: str) -> None:
    if outcome.error and "No module named 'aws_xray_sdk'" in stderr:
        program.unavailable = XRAY_MISSING
        return
    if outcome.error:
        program.errors.append(outcome.error)
        return
    program.wall_ms.append(outcome.wall_ms)
    if outcome.in_process_ms is not None:
        program.in_process_ms.append(outcome.in_process_ms)
    if outcome.cpu_ms is not None:
        program.cpu_ms.append(outcome.cpu_ms)
    if outcome.xray_sdk_imported is not None:
        program.xray_sdk_imported = outcome.xray_sdk_imported
    if outcome.boto3_clients is not None:
        program.boto3_clients = outcome.boto3_clients


_IMPORTTIME_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|\s+(.+)$")


def import_self_times(stderr: str) -> dict[str, float]:
    """Self import time (ms) of each module, from `python -X importtime` output."""
    times: dict[str, float] = {}
    for line in stderr.splitlines():
        found = _IMPORTTIME_LINE.match(line)
        if found:
            times[found.group(3).strip()] = int(found.group(1)) / 1000
    return times


def package_of(module: str) -> str:
    """Top-level package; Powertools by sub-package (event_handler, logging, ...), its parts differ a lot."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "aws_lambda_powertools" else parts[0]


def imports_beyond(reference: set[str], self_times: dict[str, float]) -> dict[str, float]:
    """Self import ms by package of the modules a program imports that `reference` does not, largest first."""
    totals: dict[str, float] = {}
    for module, ms in self_times.items():
        if module not in reference:
            totals[package_of(module)] = totals.get(package_of(module), 0.0) + ms
    return dict(sorted(totals.items(), key=lambda item: item[1], reverse=True))


def _verdict(vs_floor: float | None) -> str:
    if vs_floor is None:
        return "ERROR"
    return "PASS" if vs_floor <= TARGET_RATIO else "FAIL"


@dataclass(frozen=True)
class FloorReference:
    median_ms: float | None
    median_cpu_ms: float | None


def _median_import_times(program: Program, environment: dict[str, str]) -> dict[str, float]:
    """Per-module median self import time over IMPORTTIME_RUNS `-X importtime` runs of the program."""
    runs = [
        import_self_times(_run_child(program.build_code(), environment, ("-X", "importtime"))[1])
        for _ in range(IMPORTTIME_RUNS)
    ]
    modules = {module for run in runs for module in run}
    return {module: median([run.get(module, 0.0) for run in runs]) for module in modules}


def _imports_beyond_floor(programs: list[Program], environments: dict[str, dict[str, str]]) -> dict[str, Any]:
    """What each function imports that the floor does not (the floor's boto3 is everyone's cost)."""
    floor = next(p for p in programs if p.kind == "floor")
    floor_modules = set(_median_import_times(floor, environments[floor.name]))
    breakdown: dict[str, Any] = {}
    for program in programs:
        if program.kind == "floor" or not program.self_timed or program.unavailable:
            continue
        by_package = imports_beyond(floor_modules, _median_import_times(program, environments[program.name]))
        breakdown[program.name] = {
            "total_ms": round(sum(by_package.values()), 1),
            "top_packages_ms": {
                package: round(ms, 1) for package, ms in list(by_package.items())[:IMPORTTIME_TOP]
            },
        }
    return breakdown


def _summarise(program: Program, floor: FloorReference) -> dict[str, Any]:
    timed = program.self_timed and bool(program.in_process_ms)
    in_process = median(program.in_process_ms) if timed else None
    cpu = median(program.cpu_ms) if timed and program.cpu_ms else None
    vs_floor = ratio(in_process, floor.median_ms) if in_process is not None and floor.median_ms else None
    cpu_vs_floor = ratio(cpu, floor.median_cpu_ms) if cpu is not None and floor.median_cpu_ms else None
    judged = program.kind == "function"  # only functions have a target
    return {
        "name": program.name,
        "kind": program.kind,
        "runs": len(program.wall_ms),
        "median_ms": in_process,
        "min_ms": min(program.in_process_ms) if timed else None,
        "ratio_to_floor": vs_floor,
        "verdict": _verdict(vs_floor) if judged else None,
        "median_cpu_ms": cpu,
        "cpu_ratio_to_floor": cpu_vs_floor,
        # The same target on CPU time: when it disagrees with the verdict, noise decided the verdict.
        "cpu_verdict": _verdict(cpu_vs_floor) if judged else None,
        "median_process_wall_ms": median(program.wall_ms) if program.wall_ms else None,
        "xray_sdk_imported": program.xray_sdk_imported,
        "boto3_clients": program.boto3_clients,
        "note": program.unavailable,
        "errors": program.errors[:3],
        "samples_ms": [round(v, 2) for v in program.in_process_ms],
    }


def run(runs: int = DEFAULT_RUNS) -> dict[str, Any]:
    if runs < 1:
        raise ValueError("runs must be >= 1")
    from caseroom.settings import get_settings
    from local.provision import provision_resources

    with (
        aws_env.moto_server() as endpoint_url,
        aws_env.process_environment(aws_env.caseroom_environment(endpoint_url)),
        _webhook_receiver() as receiver_url,
    ):
        seeded: list[Seeded] = []
        programs = _programs(endpoint_url, lambda: seeded[-1])
        environments = {p.name: _child_environment(p.environment, endpoint_url) for p in programs}

        # Round 0 is the discarded warm-up (fills .pyc caches and moto's lazily built backends).
        for round_number in range(runs + 1):
            # Every round starts from the same small table: moto copies the whole table on each
            # transaction, so a table grown by earlier rounds would slow later rounds' writers.
            _reset_moto(endpoint_url)
            provision_resources(get_settings())
            events.load_bench_directory()
            seeded.append(_seed(endpoint_url, receiver_url))
            for program in programs:
                if program.unavailable:
                    continue
                outcome, stderr = _run_child(program.build_code(), environments[program.name])
                if round_number > 0 or outcome.error:
                    _record(program, outcome, stderr)

        import_breakdown = _imports_beyond_floor(programs, environments)

    floor_program = next(p for p in programs if p.kind == "floor")
    floor = FloorReference(
        median_ms=median(floor_program.in_process_ms) if floor_program.in_process_ms else None,
        median_cpu_ms=median(floor_program.cpu_ms) if floor_program.cpu_ms else None,
    )
    rows = [_summarise(p, floor) for p in programs]
    functions = [row for row in rows if row["kind"] == "function"]
    return {
        "runs_per_program": runs,
        "import_time_runs": IMPORTTIME_RUNS,
        "target_ratio": TARGET_RATIO,
        "floor_median_ms": floor.median_ms,
        "rows": rows,
        "imports_beyond_floor": import_breakdown,
        "passed": bool(functions) and all(row["verdict"] == "PASS" for row in functions),
        "passed_on_cpu_time": bool(functions) and all(row["cpu_verdict"] == "PASS" for row in functions),
    }
