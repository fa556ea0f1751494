"""moto in server mode on 127.0.0.1, with CaseRoom's resources created from infra/manifest.py.

The Lambda handlers run in this very process and reach moto through boto3 over HTTP
(CASEROOM_AWS_ENDPOINT_URL), exactly the code path they use against AWS. Given a DynamoDB
endpoint (DynamoDB Local, see local/dynamodb_local.py), the table lives there instead
(AWS_ENDPOINT_URL_DYNAMODB) and moto serves S3, EventBridge, SQS, SES and Scheduler.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra import manifest

LOG = logging.getLogger(__name__)

REGION = "us-east-1"
# moto's default account: every backend (and the in-process SES mailbox) lives under it.
ACCOUNT_ID = "123456789012"
DEFAULT_BUS = manifest.DEFAULT_BUS
DEFAULT_MULTIPART_THRESHOLD_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class RuleResources:
    """One EventBridge rule and the local plumbing standing in for its Lambda target."""

    rule: manifest.EventRule
    event_bus: str
    queue_name: str
    dead_letter_queue_name: str


@dataclass(frozen=True)
class ResourceNames:
    table: str = manifest.TABLE.name
    files_bucket: str = f"caseroom-{manifest.FILES_BUCKET}"
    event_bus: str = manifest.EVENT_BUS
    email_from: str = "no-reply@caseroom.local"
    rules: tuple[RuleResources, ...] = field(default_factory=tuple)

    @classmethod
    def from_manifest(cls) -> ResourceNames:
        return cls(rules=tuple(_rule_resources(rule) for rule in manifest.EVENT_RULES))


def _rule_resources(rule: manifest.EventRule) -> RuleResources:
    queue = f"caseroom-local-{rule.name}"[:76]
    return RuleResources(
        rule=rule,
        # The manifest says which bus: AWS services (S3 Object Created) publish only to the default one.
        event_bus=rule.bus,
        queue_name=queue,
        dead_letter_queue_name=f"{queue}-dlq",
    )


class ProcessEnvironment:
    """Sets process environment variables and restores the previous values on demand."""

    def __init__(self) -> None:
        self._previous: dict[str, str | None] = {}

    def set(self, values: Mapping[str, str]) -> None:
        for key, value in values.items():
            self._previous.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        _forget_cached_settings()

    def restore(self) -> None:
        for key, value in self._previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._previous.clear()
        _forget_cached_settings()


def _forget_cached_settings() -> None:
    # Handlers cache settings and boto3 clients; both must follow the new environment.
    from caseroom import aws, settings  # the layer path is set up by the caller

    settings.get_settings.cache_clear()
    aws.reset_clients()


class _OneRequestAtATime:
    """moto's backends are not thread-safe (two TransactWriteItems at once corrupt a table copy),
    and here several handlers call moto concurrently: serve one request at a time, fully.

    Every TRIM_EVERY requests it also drops what moto keeps but never needs again, so a runtime
    that runs for hours stays flat (see trim_moto_memory)."""

    TRIM_EVERY = 500

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._served = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self._lock:
            response = list(self._app(environ, start_response))
            self._served += 1
            if self._served % self.TRIM_EVERY == 0:
                trim_moto_memory()
            return response


MAILBOX_LIMIT = 500


def trim_moto_memory() -> None:
    """Drops what moto retains for ever but nothing reads (call with moto's requests held):
    - every model instance it ever created (kept for its dashboard only: every SQS message,
      event and S3 object version, deleted or not);
    - each SQS queue's set of deleted receipt handles (it only makes a second delete a no-op);
    - the SES mailbox beyond its newest MAILBOX_LIMIT emails (/_local/mailbox shows those)."""
    from moto.core.model_instances import reset_model_data
    from moto.ses.models import ses_backends
    from moto.sqs.models import sqs_backends

    reset_model_data()
    if ACCOUNT_ID in sqs_backends and REGION in sqs_backends[ACCOUNT_ID]:
        for queue in sqs_backends[ACCOUNT_ID][REGION].queues.values():
            queue.deleted_messages.clear()
    if ACCOUNT_ID in ses_backends and REGION in ses_backends[ACCOUNT_ID]:
        sent = ses_backends[ACCOUNT_ID][REGION].sent_messages
        del sent[:-MAILBOX_LIMIT]


def cache_event_template_paths() -> None:
    """moto's EventBridge compiles every JSONPath of a target's input map again for every event
    and target (jsonpath_ng builds a yacc parser each time): ~120 ms of CPU per PutEvents with
    CaseRoom's rules, all of it under moto's one-request lock. The expressions are a handful of
    constants, so parse each once. Idempotent."""
    import jsonpath_ng.ext

    if getattr(jsonpath_ng.ext.parse, "cache_info", None) is None:
        jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)


class MotoServer:
    """moto's ThreadedMotoServer, with requests serialized (see _OneRequestAtATime)."""

    def __init__(self) -> None:
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self, port: int = 0) -> str:
        """Listens on `port` if it is free, else on any free port; returns the URL."""
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        cache_event_template_paths()
        app = _OneRequestAtATime(DomainDispatcherApplication(create_backend_app))
        try:
            self._server = make_server(
                "127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler
            )
        except OSError:
            if not port:
                raise
            self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None


class AwsBackend:
    """Owns the moto server and the resources in it."""

    def __init__(
        self,
        names: ResourceNames | None = None,
        multipart_threshold_bytes: int = DEFAULT_MULTIPART_THRESHOLD_BYTES,
        dynamodb_endpoint_url: str | None = None,
        moto_port: int = 0,
    ) -> None:
        """dynamodb_endpoint_url: where the table lives (DynamoDB Local); None keeps it in moto.
        moto_port: the port moto should take if free (a restart keeps presigned URLs working)."""
        self.names = names or ResourceNames.from_manifest()
        self.multipart_threshold_bytes = multipart_threshold_bytes
        self.dynamodb_endpoint_url = dynamodb_endpoint_url
        self._moto_port = moto_port
        self._server = MotoServer()
        self._environment = ProcessEnvironment()
        self.endpoint_url = ""
        self.table_stream_arn = ""
        self.table_created = False
        self._session: Any = None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._unwatch: Callable[[], None] | None = None

    def start(self, function_environment: Mapping[str, str] | None = None) -> None:
        # Werkzeug would log every boto3 call the handlers make.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.endpoint_url = self._server.start(self._moto_port)
        # moto keeps its backends in process globals: start every run from an empty account.
        self._post(f"{self.endpoint_url}/moto-api/reset")
        self._environment.set({**self.aws_environment(), **(function_environment or {})})
        self._create_resources()
        LOG.info("moto listening on %s", self.endpoint_url)

    def stop(self) -> None:
        self.watch_queues(None)
        self._environment.restore()
        self._server.stop()

    def watch_queues(self, on_message: Callable[[str], None] | None) -> None:
        """Calls on_message(queue name) after moto queued a message (EventBridge matching a rule,
        a DLQ send): the dispatcher wakes the rule's loop at once instead of polling for it.
        None stops watching."""
        from moto.sqs.models import SQSBackend

        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        if on_message is None:
            return
        original = SQSBackend.send_message

        def send_message(backend: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
            message = original(backend, queue_name, *args, **kwargs)
            on_message(queue_name)
            return message

        def unwatch() -> None:
            setattr(SQSBackend, "send_message", original)  # noqa: B010 - a method patched back

        setattr(SQSBackend, "send_message", send_message)  # noqa: B010 - moto's method, watched
        self._unwatch = unwatch

    def aws_environment(self) -> dict[str, str]:
        """What the in-process handlers see: fake credentials and CaseRoom's resource names."""
        return {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            # DynamoDB Streams under moto fail (404) with account-based endpoints.
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "CASEROOM_AWS_ENDPOINT_URL": self.endpoint_url,
            "CASEROOM_STAGE": "local",
            "CASEROOM_TABLE_NAME": self.names.table,
            "CASEROOM_FILES_BUCKET": self.names.files_bucket,
            "CASEROOM_EVENT_BUS_NAME": self.names.event_bus,
            "CASEROOM_EVENT_BUS_ARN": (
                f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/{self.names.event_bus}"
            ),
            "CASEROOM_SCHEDULE_GROUP": manifest.SCHEDULE_GROUP,
            "CASEROOM_SCHEDULER_ROLE_ARN": f"arn:aws:iam::{ACCOUNT_ID}:role/caseroom-local-scheduler",
            "CASEROOM_EMAIL_FROM": self.names.email_from,
            "CASEROOM_APP_URL": "https://app.caseroom.local",
            "CASEROOM_WEBHOOK_DLQ_URL": (
                f"{self.endpoint_url}/{ACCOUNT_ID}/caseroom-local-{manifest.WEBHOOK_DLQ}"
            ),
            "CASEROOM_DEEP_TRACING": "false",
            # Locally the cursor key is a file of the data directory (CASEROOM_CURSOR_KEY_FILE, set
            # by LocalRuntime), not a secret: empty means "not set".
            "CASEROOM_CURSOR_KEY_SECRET_ARN": "",
            "CASEROOM_MULTIPART_THRESHOLD_BYTES": str(self.multipart_threshold_bytes),
            "POWERTOOLS_SERVICE_NAME": "caseroom",
            "POWERTOOLS_METRICS_NAMESPACE": "CaseRoom",
            "POWERTOOLS_TRACE_DISABLED": "true",
            **self._aws_environment_extra(),
        }

    def _aws_environment_extra(self) -> dict[str, str]:
        if not self.dynamodb_endpoint_url:
            return {}
        # botocore's per-service endpoint variable; caseroom.aws honours it too.
        return {"AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb_endpoint_url}

    def client(self, service: str) -> Any:
        """A boto3 client of the runtime itself (relay, dispatcher), separate from the handlers'.

        One session, one client per service: building a session parses botocore's endpoint data
        (~0.1 s each), and clients are thread-safe once built."""
        with self._clients_lock:
            found = self._clients.get(service)
            if found is None:
                import boto3

                if self._session is None:
                    self._session = boto3.session.Session(
                        aws_access_key_id="testing",
                        aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
                        region_name=REGION,
                    )
                endpoint = self.endpoint_url
                if self.dynamodb_endpoint_url and service in ("dynamodb", "dynamodbstreams"):
                    endpoint = self.dynamodb_endpoint_url
                from botocore.config import Config

                # The dispatcher calls SQS from a thread per delivery in flight.
                config = Config(max_pool_connections=64)
                found = self._session.client(service, endpoint_url=endpoint, config=config)
                self._clients[service] = found
            return found

    def queue_url(self, queue_name: str) -> str:
        return str(self.client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"])

    # -- resources -----------------------------------------------------------------------------

    def _create_resources(self) -> None:
        from caseroom.settings import get_settings
        from local.provision import provision_resources
        from local.seed import load_demo_directory

        # The very resources the integration tests provision: table, versioned bucket with
        # EventBridge notifications, event bus, verified sender (names from the environment above).
        self.table_created = provision_resources(get_settings())
        load_demo_directory()  # labs, clinics and the seeded clinicians' labs: there is no route for them
        self.table_stream_arn = self.client("dynamodb").describe_table(TableName=self.names.table)["Table"][
            "LatestStreamArn"
        ]
        # Any sender at the local domain may send, whatever address a function picks.
        self.client("ses").verify_domain_identity(Domain=self.names.email_from.split("@", 1)[1])
        self._create_rules()

    def _create_rules(self) -> None:
        events = self.client("events")
        sqs = self.client("sqs")
        for resources in self.names.rules:
            for queue in (resources.queue_name, resources.dead_letter_queue_name):
                sqs.create_queue(QueueName=queue)
            queue_arn = sqs.get_queue_attributes(
                QueueUrl=self.queue_url(resources.queue_name), AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            events.put_rule(
                Name=resources.rule.name,
                EventBusName=resources.event_bus,
                EventPattern=json.dumps(manifest.rule_pattern(resources.rule, self.names.files_bucket)),
                Description=resources.rule.description,
                State="ENABLED",
            )
            # The queue stands in for the Lambda target: moto matches the pattern, the dispatcher invokes.
            events.put_targets(
                Rule=resources.rule.name,
                EventBusName=resources.event_bus,
                Targets=[{"Id": "local-dispatcher", "Arn": queue_arn}],
            )

    @staticmethod
    def _post(url: str) -> None:
        request = urllib.request.Request(url, data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
