"""moto in server mode on 127.0.0.1, with CaseRoom's resources created from infra/manifest.py.

The Lambda handlers run in this very process and reach moto through boto3 over HTTP
(CASEROOM_AWS_ENDPOINT_URL), exactly the code path they use against AWS.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra import manifest

LOG = logging.getLogger("caseroom.local.aws")

REGION = "us-east-1"
# moto's default account: every backend (and the in-process SES mailbox) lives under it.
ACCOUNT_ID = "123456789012"
DEFAULT_BUS = "default"


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
    # AWS services (aws.s3, ...) only publish to the default bus, so rules on their events live there.
    sources = rule.pattern.get("source")
    from_aws = isinstance(sources, list) and bool(sources) and all(str(s).startswith("aws.") for s in sources)
    queue = f"caseroom-local-{rule.name}"[:76]
    return RuleResources(
        rule=rule,
        event_bus=DEFAULT_BUS if from_aws else manifest.EVENT_BUS,
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
    from caseroom import aws, settings  # noqa: PLC0415 - the layer path is set up by the caller

    settings.get_settings.cache_clear()
    aws.reset_clients()


class AwsBackend:
    """Owns the moto server and the resources in it."""

    def __init__(self, names: ResourceNames | None = None) -> None:
        self.names = names or ResourceNames.from_manifest()
        self._server: Any = None
        self._environment = ProcessEnvironment()
        self.endpoint_url = ""
        self.table_stream_arn = ""

    def start(self, function_environment: Mapping[str, str] | None = None) -> None:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 - heavy; only when starting

        # Werkzeug would log every boto3 call the handlers make.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        # moto keeps its backends in process globals: start every run from an empty account.
        self._post(f"{self.endpoint_url}/moto-api/reset")
        self._environment.set({**self.aws_environment(), **(function_environment or {})})
        self._create_resources()
        LOG.info("moto listening on %s", self.endpoint_url)

    def stop(self) -> None:
        self._environment.restore()
        if self._server is not None:
            self._server.stop()
            self._server = None

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
            "CASEROOM_EMAIL_FROM": self.names.email_from,
            "CASEROOM_DEEP_TRACING": "false",
            "POWERTOOLS_SERVICE_NAME": "caseroom",
            "POWERTOOLS_METRICS_NAMESPACE": "CaseRoom",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }

    def client(self, service: str) -> Any:
        """A boto3 client of the runtime itself (relay, dispatcher), separate from the handlers'."""
        import boto3  # noqa: PLC0415

        return boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=REGION,
        ).client(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    def queue_url(self, queue_name: str) -> str:
        return str(self.client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"])

    # -- resources -----------------------------------------------------------------------------

    def _create_resources(self) -> None:
        self._create_table()
        self._create_bucket()
        self._create_email_identity()
        self._create_event_bus_and_rules()

    def _create_table(self) -> None:
        table = manifest.TABLE
        dynamodb = self.client("dynamodb")
        key_names = {table.partition_key, table.sort_key}
        for index in table.indexes:
            key_names |= {index.partition_key, index.sort_key}
        response = dynamodb.create_table(
            TableName=self.names.table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in sorted(key_names)],
            KeySchema=[
                {"AttributeName": table.partition_key, "KeyType": "HASH"},
                {"AttributeName": table.sort_key, "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": index.name,
                    "KeySchema": [
                        {"AttributeName": index.partition_key, "KeyType": "HASH"},
                        {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index in table.indexes
            ],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        self.table_stream_arn = response["TableDescription"]["LatestStreamArn"]
        dynamodb.update_time_to_live(
            TableName=self.names.table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
        )

    def _create_bucket(self) -> None:
        s3 = self.client("s3")
        s3.create_bucket(Bucket=self.names.files_bucket)
        # Uploads announce themselves as "Object Created" events on the default bus, as in the cloud.
        s3.put_bucket_notification_configuration(
            Bucket=self.names.files_bucket,
            NotificationConfiguration={"EventBridgeConfiguration": {}},
        )

    def _create_email_identity(self) -> None:
        ses = self.client("ses")
        ses.verify_email_identity(EmailAddress=self.names.email_from)
        ses.verify_domain_identity(Domain=self.names.email_from.split("@", 1)[1])

    def _create_event_bus_and_rules(self) -> None:
        events = self.client("events")
        sqs = self.client("sqs")
        events.create_event_bus(Name=self.names.event_bus)
        for resources in self.names.rules:
            for queue in (resources.queue_name, resources.dead_letter_queue_name):
                sqs.create_queue(QueueName=queue)
            queue_arn = sqs.get_queue_attributes(
                QueueUrl=self.queue_url(resources.queue_name), AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            events.put_rule(
                Name=resources.rule.name,
                EventBusName=resources.event_bus,
                EventPattern=json.dumps(resources.rule.pattern),
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
