"""Offline AWS for the benchmarks: fake credentials, CaseRoom resource names, moto on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LAYER_DIR = REPO_ROOT / "layers" / "caseroom" / "python"
WORK_DIR = REPO_ROOT / "bench" / ".work"  # scratch (logs); git-ignored
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account

# Never reach a real AWS account, whatever the developer's shell holds.
FAKE_AWS_ENVIRONMENT: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # moto serves DynamoDB Streams only with account-based endpoints off (see FACTS.md).
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}

TABLE_NAME = "caseroom-bench"
FILES_BUCKET = "caseroom-bench-files"
EVENT_BUS = "caseroom-bench"
SCHEDULE_GROUP = "caseroom-bench"
EMAIL_FROM = "no-reply@caseroom.bench"
WEBHOOK_DLQ = "caseroom-bench-webhook-deliveries-dlq"


def caseroom_environment(endpoint_url: str | None) -> dict[str, str]:
    """What a CaseRoom function sees: fake credentials, resource names and (optionally) moto's URL."""
    values = {
        **FAKE_AWS_ENVIRONMENT,
        "CASEROOM_STAGE": "local",
        "CASEROOM_TABLE_NAME": TABLE_NAME,
        "CASEROOM_FILES_BUCKET": FILES_BUCKET,
        "CASEROOM_EVENT_BUS_NAME": EVENT_BUS,
        # Timers (caseroom.scheduling) put their event on the bench's bus, from the bench's group.
        "CASEROOM_EVENT_BUS_ARN": f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/{EVENT_BUS}",
        "CASEROOM_SCHEDULE_GROUP": SCHEDULE_GROUP,
        "CASEROOM_SCHEDULER_ROLE_ARN": f"arn:aws:iam::{ACCOUNT_ID}:role/caseroom-bench-scheduler",
        "CASEROOM_EMAIL_FROM": EMAIL_FROM,
        "CASEROOM_DEEP_TRACING": "false",
        "POWERTOOLS_SERVICE_NAME": "caseroom",
        "POWERTOOLS_METRICS_NAMESPACE": "CaseRoomBench",
    }
    if endpoint_url:
        values["CASEROOM_AWS_ENDPOINT_URL"] = endpoint_url
        # An SQS queue URL names its endpoint; local.provision creates the queue (its last segment).
        values["CASEROOM_WEBHOOK_DLQ_URL"] = f"{endpoint_url}/{ACCOUNT_ID}/{WEBHOOK_DLQ}"
    return values


def python_path() -> str:
    """The same import roots the Lambda runtime gives a function: its code and the layer."""
    return os.pathsep.join([str(REPO_ROOT), str(LAYER_DIR)])


def _forget_cached_clients() -> None:
    # CaseRoom caches its settings and boto3 clients; both must follow a changed environment.
    from caseroom import aws, settings  # only after the environment is set

    settings.get_settings.cache_clear()
    aws.reset_clients()


@contextmanager
def process_environment(values: Mapping[str, str], remove: tuple[str, ...] = ()) -> Iterator[None]:
    """Sets environment variables for the block and restores the previous ones afterwards."""
    previous = {key: os.environ.get(key) for key in (*values, *remove)}
    os.environ.update(values)
    for key in remove:
        os.environ.pop(key, None)
    _forget_cached_clients()
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _forget_cached_clients()


@contextmanager
def moto_server() -> Iterator[str]:
    """One moto server on a free loopback port, with an empty account; yields its endpoint URL."""
    import logging

    from moto.server import ThreadedMotoServer  # heavy, only when a part needs it

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # it would log every request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
