"""Where PHI rests: the KMS keys, the DynamoDB table and the files bucket (plus its access-log bucket)."""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import manifest
from infra.config import StageConfig
from infra.constructs.buckets import private_bucket
from infra.constructs.nag import acknowledge_all

# Deleted or overwritten case files stay recoverable this long.
NONCURRENT_FILE_VERSIONS_KEPT = Duration.days(30)


class Keys(Construct):
    """One customer managed key per concern, so a grant on one never opens the others."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.data = self._key("DataKey", "CaseRoom table, table stream and case files", config)
        self.logs = self._key("LogsKey", "CaseRoom CloudWatch log groups", config)
        self.alarms = self._key("AlarmsKey", "CaseRoom alarm topic", config)

        # CloudWatch Logs encrypts with the key only for log groups of this account and region.
        self.logs.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": Stack.of(self).format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        # CloudWatch alarms publish to the encrypted topic on behalf of this account.
        self.alarms.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )

    def _key(self, construct_id: str, purpose: str, config: StageConfig) -> kms.Key:
        return kms.Key(
            self,
            construct_id,
            description=f"{purpose} ({config.name})",
            enable_key_rotation=True,
            removal_policy=config.removal_policy,
            pending_window=config.key_deletion_window,
        )


class CaseTable(Construct):
    """The single table of manifest.TABLE, with every GSI the DAL queries."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        spec = manifest.TABLE
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=f"{spec.name}-{config.name}",
            partition_key=_string_key(spec.partition_key),
            sort_key=_string_key(spec.sort_key),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=spec.ttl_attribute,
            # The outbox pipe reads new items from the stream.
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            deletion_protection=config.deletion_protection,
            removal_policy=config.removal_policy,
        )
        for index in spec.indexes:
            self.table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_string_key(index.partition_key),
                sort_key=_string_key(index.sort_key),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        acknowledge_all(
            self.table,
            {
                "HIPAA.Security-DynamoDBInBackupPlan": (
                    "Point-in-time recovery (35 days, per-second restore) is this table's backup; "
                    "an AWS Backup plan with a cross-account vault belongs to the organization's "
                    "backup account, not to this application stack."
                ),
            },
        )


def _string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class FilesBucket(Construct):
    """Case files (scans, photos, Rx PDFs), uploaded by browsers with presigned requests."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = private_bucket(
            self,
            "AccessLogs",
            config=config,
            # S3 server access logging can only deliver to SSE-S3 buckets.
            encryption=s3.BucketEncryption.S3_MANAGED,
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-access-logs", expiration=config.access_logs_expiration),
                s3.LifecycleRule(
                    id="expire-noncurrent-access-logs", noncurrent_version_expiration=Duration.days(1)
                ),
            ],
            acknowledged={
                "HIPAA.Security-S3DefaultEncryptionKMS": (
                    "S3 server access log delivery supports only SSE-S3 target buckets; the logs hold "
                    "request metadata (keys are random ids), not file contents."
                ),
            },
        )

        self.bucket = private_bucket(
            self,
            "Bucket",
            config=config,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            # One data key per bucket, not per object: far fewer KMS calls, same key control.
            bucket_key_enabled=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="files/",
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.PUT, s3.HttpMethods.POST, s3.HttpMethods.GET],
                    allowed_origins=list(config.cors_allowed_origins),
                    allowed_headers=["Content-Type", "Content-MD5", "x-amz-*"],
                    # Multipart uploads need each part's ETag back in the browser.
                    exposed_headers=["ETag"],
                    max_age=3600,
                )
            ],
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-multipart-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=NONCURRENT_FILE_VERSIONS_KEPT,
                ),
                # A patient's Passport export (caseroom.passport.export) is a copy: kept a day.
                s3.LifecycleRule(
                    id="expire-passport-exports", prefix="exports/", expiration=Duration.days(1)
                ),
            ],
        )
        # Object Created events go straight to EventBridge (the bucket property, not the
        # event_bridge_enabled=True L2 flag, which adds a custom-resource Lambda to manage it).
        cfn_bucket = self.bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                event_bridge_enabled=True
            )
        )


class CursorKey(Construct):
    """The key that seals list cursors (caseroom.paging): a generated secret, encrypted with the
    data key, read once per function instance by the functions granted CURSOR_KEY_READ."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description=f"CaseRoom list cursor key ({config.name})",
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False
            ),
            removal_policy=config.removal_policy,
        )
        acknowledge_all(
            self.secret,
            {
                "AwsSolutions-SMG4": CURSOR_KEY_NOT_ROTATED,
                "HIPAA.Security-SecretsManagerRotationEnabled": CURSOR_KEY_NOT_ROTATED,
            },
        )


CURSOR_KEY_NOT_ROTATED = (
    "Scheduled rotation does not apply: the key only authenticates and encrypts list cursors that "
    "live 12 hours and are held by no third party. A rotated value would be picked up by each "
    "function instance at its next cold start and would silently refuse the cursors of the others; "
    "replacing the secret (a new generated value) is the rotation, after which clients restart "
    "their listing from page one."
)
