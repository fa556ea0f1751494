"""Creates CaseRoom's AWS resources from the wiring manifest against moto (local runtime
and tests). The CDK stack builds the same resources from the same declarations."""

from __future__ import annotations

from caseroom import aws
from caseroom.settings import Settings
from infra import manifest


def create_table(settings: Settings) -> bool:
    """Creates the table as declared; False when it exists already (a kept data directory)."""
    table = manifest.TABLE
    attributes = {table.partition_key, table.sort_key}
    for index in table.indexes:
        attributes |= {index.partition_key, index.sort_key}
    dynamodb = aws.client("dynamodb")
    if settings.table_name in dynamodb.list_tables()["TableNames"]:
        return False
    dynamodb.create_table(
        TableName=settings.table_name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
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
    dynamodb.update_time_to_live(
        TableName=settings.table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
    )
    return True


def provision_resources(settings: Settings) -> bool:
    """Table, files bucket (EventBridge notifications on), event bus, timer group, verified email
    sender, webhook dead-letter queue. Returns whether the table was created (False: it was kept)."""
    created = create_table(settings)
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=settings.files_bucket)
    s3.put_bucket_versioning(Bucket=settings.files_bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket=settings.files_bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    aws.client("events").create_event_bus(Name=settings.event_bus_name)
    aws.client("scheduler").create_schedule_group(Name=settings.schedule_group)
    aws.client("ses").verify_email_identity(EmailAddress=settings.email_from)
    if settings.webhook_dlq_url:  # the queue is named by the last segment of its URL
        aws.client("sqs").create_queue(QueueName=settings.webhook_dlq_url.rstrip("/").rsplit("/", 1)[-1])
    return created
