"""The Lambda functions of manifest.FUNCTIONS: layers, log groups, DLQs and IAM from their grants.

Each function has its own role whose only policy is a customer managed policy built from
the function's manifest grants, plus what running at all needs (its log group, its DLQ,
X-Ray when traced). CDK's automatic grants are switched off (Role.without_policy_updates)
so nothing else ever lands on a role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import manifest
from infra.config import StageConfig
from infra.constructs.bundling import (
    ARCHITECTURE,
    ASSET_EXCLUDES,
    RUNTIME,
    dependencies_layer_code,
    documents_layer_code,
    shared_layer_code,
)
from infra.constructs.nag import LAMBDA_OUTSIDE_VPC, LAMBDA_RUNTIME_PINNED, acknowledge, acknowledge_all
from infra.constructs.naming import pascal_case
from infra.constructs.observability import Alarms
from infra.constructs.queues import dead_letter_queue
from infra.constructs.refs import nag_resource
from infra.paths import FUNCTIONS_DIR, SHARED_LAYER_DIR

Grant = manifest.Grant

# Uploads above this size are multipart (parts resume after a dropped connection).
MULTIPART_THRESHOLD_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class FunctionResources:
    """What the functions are wired to; the grants below reference nothing else."""

    table: dynamodb.Table
    files_bucket: s3.Bucket
    data_key: kms.IKey
    logs_key: kms.IKey
    event_bus: events.EventBus
    schedule_group_name: str
    scheduler_role: iam.IRole
    websocket_api_id: str
    websocket_stage_name: str
    websocket_callback_url: str
    jwt_issuer: str
    jwt_audience: str
    jwks_url: str
    webhook_dlq: sqs.IQueue
    cursor_key: secretsmanager.ISecret


# The IAM actions behind each grant. TransactWriteItems is authorized per item by the
# write actions; Scan and BatchWriteItem are deliberately absent.
TABLE_READ_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"]
TABLE_WRITE_ACTIONS = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
]
# DynamoDB and S3 call KMS with the caller's rights for a customer managed key.
TABLE_READ_KEY_ACTIONS = frozenset({"kms:Decrypt", "kms:DescribeKey"})
TABLE_WRITE_KEY_ACTIONS = TABLE_READ_KEY_ACTIONS | {"kms:Encrypt", "kms:GenerateDataKey"}
FILES_READ_KEY_ACTIONS = frozenset({"kms:Decrypt"})
# Decrypt too: completing a multipart upload decrypts the parts' data key.
FILES_WRITE_KEY_ACTIONS = frozenset({"kms:GenerateDataKey", "kms:Decrypt"})
CURSOR_KEY_KEY_ACTIONS = frozenset({"kms:Decrypt"})


@dataclass(frozen=True)
class GrantPolicy:
    statements: tuple[iam.PolicyStatement, ...]
    # Data-key actions are merged into one KMS statement per function.
    data_key_actions: frozenset[str] = frozenset()


def grant_policy(
    grant: Grant, resources: FunctionResources, config: StageConfig, stack: Stack
) -> GrantPolicy:
    """The least-privilege IAM a manifest grant stands for."""
    table_arn = resources.table.table_arn
    objects_arn = resources.files_bucket.arn_for_objects("*")
    match grant:
        case Grant.TABLE_READ:
            indexes_arn = f"{table_arn}/index/*"
            return GrantPolicy(
                (_allow(TABLE_READ_ACTIONS, [table_arn, indexes_arn]),), TABLE_READ_KEY_ACTIONS
            )
        case Grant.TABLE_WRITE:
            return GrantPolicy((_allow(TABLE_WRITE_ACTIONS, [table_arn]),), TABLE_WRITE_KEY_ACTIONS)
        case Grant.FILES_READ:
            return GrantPolicy((_allow(["s3:GetObject"], [objects_arn]),), FILES_READ_KEY_ACTIONS)
        case Grant.FILES_WRITE:
            return GrantPolicy((_allow(["s3:PutObject"], [objects_arn]),), FILES_WRITE_KEY_ACTIONS)
        case Grant.FILES_UPLOAD:
            # Presigned POSTs and part URLs are signed with PutObject; ListParts serves resumes.
            return GrantPolicy(
                (_allow(["s3:PutObject", "s3:ListMultipartUploadParts"], [objects_arn]),),
                FILES_WRITE_KEY_ACTIONS,
            )
        case Grant.FILES_ABORT_UPLOAD:
            # ListParts tells an upload still open (its completion never reached S3) from a done one.
            return GrantPolicy(
                (_allow(["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"], [objects_arn]),)
            )
        case Grant.FILES_READ_VERSION:
            return GrantPolicy((_allow(["s3:GetObjectVersion"], [objects_arn]),), FILES_READ_KEY_ACTIONS)
        case Grant.FILES_DELETE:
            return GrantPolicy((_allow(["s3:DeleteObject"], [objects_arn]),))
        case Grant.FILES_DISCARD_VERSION:
            return GrantPolicy((_allow(["s3:DeleteObjectVersion"], [objects_arn]),))
        case Grant.EMAIL_SEND:
            identity = stack.format_arn(service="ses", resource="identity", resource_name=config.email_domain)
            return GrantPolicy((_allow(["ses:SendEmail", "ses:SendRawEmail"], [identity]),))
        case Grant.EVENTS_PUT:
            return GrantPolicy((_allow(["events:PutEvents"], [resources.event_bus.event_bus_arn]),))
        case Grant.WEBSOCKET_POST:
            connections = connections_arn(resources, stack)
            return GrantPolicy((_allow(["execute-api:ManageConnections"], [connections]),))
        case Grant.SCHEDULE:
            return GrantPolicy(
                (
                    _allow(
                        ["scheduler:CreateSchedule", "scheduler:DeleteSchedule"],
                        [schedules_arn(resources, stack)],
                    ),
                    _allow(["iam:PassRole"], [resources.scheduler_role.role_arn]),
                )
            )
        case Grant.WEBHOOK_DLQ_SEND:
            return GrantPolicy((_allow(["sqs:SendMessage"], [resources.webhook_dlq.queue_arn]),))
        case Grant.CURSOR_KEY_READ:
            # The secret is encrypted with the data key: reading it decrypts with that key.
            return GrantPolicy(
                (_allow(["secretsmanager:GetSecretValue"], [resources.cursor_key.secret_arn]),),
                CURSOR_KEY_KEY_ACTIONS,
            )
    raise ValueError(f"no IAM mapping for grant {grant!r}")  # a new Grant must be mapped here


def connections_arn(resources: FunctionResources, stack: Stack) -> str:
    """POST/GET/DELETE on @connections of this API's stage only."""
    return stack.format_arn(
        service="execute-api",
        resource=resources.websocket_api_id,
        resource_name=f"{resources.websocket_stage_name}/*/@connections/*",
    )


def schedules_arn(resources: FunctionResources, stack: Stack) -> str:
    """Schedules of CaseRoom's own group only."""
    return stack.format_arn(
        service="scheduler", resource="schedule", resource_name=f"{resources.schedule_group_name}/*"
    )


def _allow(actions: list[str], resources: list[str]) -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=actions, resources=resources)


def environment(resources: FunctionResources, config: StageConfig) -> dict[str, str]:
    """FUNCTION_ENVIRONMENT_KEYS -> values of this stage (the manifest decides the keys)."""
    values = {
        "CASEROOM_STAGE": config.name,
        "CASEROOM_TABLE_NAME": resources.table.table_name,
        "CASEROOM_FILES_BUCKET": resources.files_bucket.bucket_name,
        "CASEROOM_EVENT_BUS_NAME": resources.event_bus.event_bus_name,
        "CASEROOM_EVENT_BUS_ARN": resources.event_bus.event_bus_arn,
        "CASEROOM_SCHEDULE_GROUP": resources.schedule_group_name,
        "CASEROOM_SCHEDULER_ROLE_ARN": resources.scheduler_role.role_arn,
        "CASEROOM_EMAIL_FROM": config.email_sender,
        "CASEROOM_APP_URL": config.app_url,
        "CASEROOM_JWT_ISSUER": resources.jwt_issuer,
        "CASEROOM_JWT_AUDIENCE": resources.jwt_audience,
        "CASEROOM_JWKS_URL": resources.jwks_url,
        "CASEROOM_WEBSOCKET_ENDPOINT": resources.websocket_callback_url,
        "CASEROOM_WEBHOOK_DLQ_URL": resources.webhook_dlq.queue_url,
        # Lambda's own X-Ray segments need no SDK; "true" would import the Powertools Tracer.
        "CASEROOM_MULTIPART_THRESHOLD_BYTES": str(MULTIPART_THRESHOLD_BYTES),
        "CASEROOM_DEEP_TRACING": "false",
        "CASEROOM_CURSOR_KEY_SECRET_ARN": resources.cursor_key.secret_arn,
        "POWERTOOLS_SERVICE_NAME": "caseroom",
        "POWERTOOLS_METRICS_NAMESPACE": "CaseRoom",
    }
    if set(values) != set(manifest.FUNCTION_ENVIRONMENT_KEYS):
        raise ValueError(
            "infra/constructs/functions.py and manifest.FUNCTION_ENVIRONMENT_KEYS disagree: "
            f"{sorted(set(values) ^ set(manifest.FUNCTION_ENVIRONMENT_KEYS))}"
        )
    return {key: values[key] for key in manifest.FUNCTION_ENVIRONMENT_KEYS}


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        resources: FunctionResources,
        alarms: Alarms,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._resources = resources
        self._alarms = alarms
        self.layers = [
            lambda_.LayerVersion(
                self,
                "SharedLayer",
                description="caseroom domain package (layers/caseroom)",
                code=shared_layer_code(SHARED_LAYER_DIR),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
            ),
            lambda_.LayerVersion(
                self,
                "DependenciesLayer",
                description="Third-party packages (layers/dependencies/requirements.txt)",
                code=dependencies_layer_code(),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
            ),
        ]
        self._extra_layers: dict[manifest.Layer, lambda_.ILayerVersion] = {}
        if any(manifest.Layer.DOCUMENTS in spec.layers for spec in manifest.FUNCTIONS):
            self._extra_layers[manifest.Layer.DOCUMENTS] = lambda_.LayerVersion(
                self,
                "DocumentsLayer",
                description="fpdf2, uharfbuzz, segno and the fonts (layers/documents), for PDF documents",
                code=documents_layer_code(),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
            )
        self._environment = environment(resources, config)
        self.by_name: dict[str, lambda_.Function] = {
            spec.name: self._function(spec) for spec in manifest.FUNCTIONS
        }

    def _function(self, spec: manifest.Function) -> lambda_.Function:
        construct_id = pascal_case(spec.name)
        scope = Construct(self, construct_id)
        log_group = logs.LogGroup(
            scope,
            "Logs",
            retention=self._config.log_retention,
            encryption_key=self._resources.logs_key,
            removal_policy=self._config.removal_policy,
        )
        dlq = dead_letter_queue(
            scope,
            "DeadLetterQueue",
            owner=f"the {spec.name} function",
            alarms=self._alarms,
            for_lambda_async=True,
        )
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"CaseRoom {spec.name}: grants {', '.join(g.value for g in spec.grants)}",
        )
        policy = iam.ManagedPolicy(
            scope,
            "Policy",
            description=f"Least privilege of the {spec.name} function, from its manifest grants",
            statements=list(self._statements(spec, log_group, dlq.queue_arn)),
            roles=[role],
        )
        function = lambda_.Function(
            scope,
            "Function",
            description=spec.description,
            code=lambda_.Code.from_asset(str(FUNCTIONS_DIR / spec.name), exclude=ASSET_EXCLUDES),
            handler="handler.lambda_handler",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            layers=[*self.layers, *(self._extra_layers[layer] for layer in spec.layers)],
            environment=self._environment,
            log_group=log_group,
            role=role.without_policy_updates(),
            tracing=lambda_.Tracing.ACTIVE if self._config.tracing else lambda_.Tracing.DISABLED,
            reserved_concurrent_executions=self._config.reserved_concurrency,
            dead_letter_queue=dlq,
        )
        # Lambda checks at create time that the role may send to the DLQ.
        function.node.add_dependency(policy)
        self._alarms.on_function_errors(scope, function, spec.name)
        self._acknowledge(spec, function, policy)
        return function

    def _statements(
        self, spec: manifest.Function, log_group: logs.ILogGroup, dlq_arn: str
    ) -> Iterable[iam.PolicyStatement]:
        stack = Stack.of(self)
        yield _allow(["logs:CreateLogStream", "logs:PutLogEvents"], [log_group.log_group_arn])
        yield _allow(["sqs:SendMessage"], [dlq_arn])
        if self._config.tracing:
            yield _allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"])
        data_key_actions: set[str] = set()
        for grant in spec.grants:
            policy = grant_policy(grant, self._resources, self._config, stack)
            yield from policy.statements
            data_key_actions |= policy.data_key_actions
        if data_key_actions:
            yield _allow(sorted(data_key_actions), [self._resources.data_key.key_arn])

    def _acknowledge(
        self, spec: manifest.Function, function: lambda_.Function, policy: iam.ManagedPolicy
    ) -> None:
        acknowledge_all(
            function,
            {
                "HIPAA.Security-LambdaInsideVPC": LAMBDA_OUTSIDE_VPC,
                "AwsSolutions-L1": LAMBDA_RUNTIME_PINNED,
            },
        )
        resources = self._resources
        wildcard_reasons: Mapping[Grant, tuple[str, str]] = {
            Grant.TABLE_READ: (
                nag_resource(self, f"{resources.table.table_arn}/index/*"),
                "Queries use every GSI of manifest.TABLE (one per case-list ordering); all "
                "belong to this table only.",
            ),
            Grant.FILES_READ: (
                nag_resource(self, resources.files_bucket.arn_for_objects("*")),
                "Object keys are random per case and file, generated server-side; access to a "
                "given object is authorized in code against the case before signing.",
            ),
            Grant.FILES_WRITE: (
                nag_resource(self, resources.files_bucket.arn_for_objects("*")),
                "Object keys are random per case and file, generated server-side; the function "
                "writes only keys it generated for a case it is processing.",
            ),
            **{
                grant: (
                    nag_resource(self, resources.files_bucket.arn_for_objects("*")),
                    "Object keys are random per case and file, generated server-side; every "
                    "upload, read, abort or delete is authorized in code against the case first.",
                )
                for grant in (
                    Grant.FILES_UPLOAD,
                    Grant.FILES_ABORT_UPLOAD,
                    Grant.FILES_READ_VERSION,
                    Grant.FILES_DELETE,
                    Grant.FILES_DISCARD_VERSION,
                )
            },
            Grant.SCHEDULE: (
                nag_resource(self, schedules_arn(resources, Stack.of(self))),
                "Timer names are generated per case object at run time; the grant covers only "
                "schedules in CaseRoom's own schedule group.",
            ),
            Grant.WEBSOCKET_POST: (
                nag_resource(self, connections_arn(resources, Stack.of(self))),
                "Connection ids are assigned by API Gateway at $connect; the grant is limited to "
                "@connections of this API's stage.",
            ),
        }
        for grant in spec.grants:
            if grant in wildcard_reasons:
                resource, reason = wildcard_reasons[grant]
                acknowledge(policy, f"AwsSolutions-IAM5[Resource::{resource}]", reason)
        if self._config.tracing:
            acknowledge(
                policy,
                "AwsSolutions-IAM5[Resource::*]",
                "xray:PutTraceSegments/PutTelemetryRecords have no resource-level permissions.",
            )
