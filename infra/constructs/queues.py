"""The one way this stack makes a dead-letter queue: encrypted, TLS-only, kept 14 days, alarmed."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.nag import QUEUE_IS_A_DLQ, acknowledge
from infra.constructs.observability import Alarms


def dead_letter_queue(
    scope: Construct, construct_id: str, *, owner: str, alarms: Alarms, for_lambda_async: bool = False
) -> sqs.Queue:
    """for_lambda_async: the queue is a Lambda function's DeadLetterConfig (cdk-nag sees that)."""
    queue = sqs.Queue(
        scope,
        construct_id,
        # SSE-SQS: EventBridge, Pipes and Lambda can deliver without cross-service KMS key grants.
        # The messages carry ids and event envelopes (see manifest.OUTBOX_RELAY), not file contents.
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    if not for_lambda_async:
        # AwsSolutions-SQS3 only recognizes SQS redrive policies and Lambda DeadLetterConfig.
        acknowledge(queue, "AwsSolutions-SQS3", QUEUE_IS_A_DLQ.format(owner=owner))
    alarms.on_dead_letters(scope, queue, owner)
    return queue
