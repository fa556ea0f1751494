"""Domain events: the bus, the outbox relay (table stream -> Pipe -> bus) and manifest.EVENT_RULES."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_cdk import Aws, Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_pipes as pipes
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from infra import manifest
from infra.config import StageConfig
from infra.constructs.naming import pascal_case
from infra.constructs.observability import Alarms
from infra.constructs.queues import dead_letter_queue

# Consumers are idempotent on the event id, so retries are safe; after two hours an event
# is stale for a human (an email, a PDF) and waits in the DLQ for a replay instead.
RULE_RETRY_ATTEMPTS = 8
RULE_MAX_EVENT_AGE = Duration.hours(2)

# PutEvents takes at most 10 entries, so one stream batch is one PutEvents call.
OUTBOX_BATCH_SIZE = 10
OUTBOX_MAX_RETRIES = 10

# manifest pattern keys (EventBridge JSON) -> aws_events.EventPattern keyword arguments.
_PATTERN_FIELDS = {
    "source": "source",
    "detail-type": "detail_type",
    "detail": "detail",
    "account": "account",
    "region": "region",
    "resources": "resources",
    "id": "id",
    "time": "time",
    "version": "version",
}


def event_pattern(pattern: Mapping[str, object]) -> events.EventPattern:
    unknown = set(pattern) - set(_PATTERN_FIELDS)
    if unknown:
        raise ValueError(f"event pattern keys not supported by EventPattern: {sorted(unknown)}")
    kwargs: dict[str, Any] = {_PATTERN_FIELDS[key]: value for key, value in pattern.items()}
    return events.EventPattern(**kwargs)


def rule_name(spec: manifest.EventRule, stage: str) -> str:
    # Rule names are unique per bus; the default bus is shared by every stage of the account.
    return f"caseroom-{stage}-{spec.name}" if spec.bus == manifest.DEFAULT_BUS else spec.name


class DomainEvents(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        table: dynamodb.Table,
        data_key: kms.IKey,
        logs_key: kms.IKey,
        alarms: Alarms,
    ) -> None:
        super().__init__(scope, construct_id)
        self._alarms = alarms
        self._stage = config.name
        self.bus = events.EventBus(self, "Bus", event_bus_name=f"{manifest.EVENT_BUS}-{config.name}")
        # Replays after a consumer bug: the archive keeps every CaseRoom event for a while.
        self.bus.archive(
            "Archive",
            description=f"CaseRoom {config.name} domain events, for replays",
            event_pattern=events.EventPattern(source=[manifest.EVENT_SOURCE]),
            retention=config.event_archive_retention,
        )
        self.outbox_relay = self._outbox_relay(config, table, data_key, logs_key)
        self.schedule_group, self.scheduler_role = self._timers(config)
        self.rules: dict[str, events.Rule] = {}

    def _timers(self, config: StageConfig) -> tuple[scheduler.CfnScheduleGroup, iam.Role]:
        """caseroom.scheduling's one-time schedules: a group of their own and the role they put
        their event on the bus with (functions may pass only this role)."""
        scope = Construct(self, "Timers")
        group = scheduler.CfnScheduleGroup(scope, "Group", name=f"{manifest.SCHEDULE_GROUP}-{config.name}")
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description="CaseRoom timers: EventBridge Scheduler puts due timers on the CaseRoom bus",
        )
        iam.ManagedPolicy(
            scope,
            "Policy",
            description="CaseRoom timers put events on this bus only",
            roles=[role],
            statements=[
                iam.PolicyStatement(actions=["events:PutEvents"], resources=[self.bus.event_bus_arn])
            ],
        )
        return group, role

    def _outbox_relay(
        self, config: StageConfig, table: dynamodb.Table, data_key: kms.IKey, logs_key: kms.IKey
    ) -> pipes.CfnPipe:
        """New outbox items of the table stream become events on the bus (manifest.OUTBOX_RELAY)."""
        if table.table_stream_arn is None:
            raise ValueError("the outbox relay needs the table stream")
        relay = manifest.OUTBOX_RELAY
        scope = Construct(self, "OutboxRelay")
        dlq = dead_letter_queue(scope, "DeadLetterQueue", owner="the outbox relay pipe", alarms=self._alarms)
        log_group = logs.LogGroup(
            scope,
            "Logs",
            retention=config.log_retention,
            encryption_key=logs_key,
            removal_policy=config.removal_policy,
        )
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "pipes.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description="CaseRoom outbox relay: reads the table stream, puts on the CaseRoom bus",
        )
        policy = iam.ManagedPolicy(
            scope,
            "Policy",
            description="The outbox relay pipe: this table's stream in, this bus out",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=[
                        "dynamodb:DescribeStream",
                        "dynamodb:GetRecords",
                        "dynamodb:GetShardIterator",
                        "dynamodb:ListStreams",
                    ],
                    resources=[table.table_stream_arn],
                ),
                # Stream records of a CMK-encrypted table are decrypted with the caller's rights.
                iam.PolicyStatement(actions=["kms:Decrypt"], resources=[data_key.key_arn]),
                iam.PolicyStatement(actions=["events:PutEvents"], resources=[self.bus.event_bus_arn]),
                iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[dlq.queue_arn]),
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
                ),
            ],
        )
        pipe = pipes.CfnPipe(
            scope,
            "Pipe",
            description="Transactional outbox: new outbox items of the table -> CaseRoom bus",
            role_arn=role.role_arn,
            source=table.table_stream_arn,
            source_parameters=pipes.CfnPipe.PipeSourceParametersProperty(
                dynamo_db_stream_parameters=pipes.CfnPipe.PipeSourceDynamoDBStreamParametersProperty(
                    starting_position="LATEST",
                    batch_size=OUTBOX_BATCH_SIZE,
                    maximum_retry_attempts=OUTBOX_MAX_RETRIES,
                    dead_letter_config=pipes.CfnPipe.DeadLetterConfigProperty(arn=dlq.queue_arn),
                ),
                filter_criteria=pipes.CfnPipe.FilterCriteriaProperty(
                    filters=[pipes.CfnPipe.FilterProperty(pattern=json.dumps(relay.stream_filter))]
                ),
            ),
            target=self.bus.event_bus_arn,
            target_parameters=pipes.CfnPipe.PipeTargetParametersProperty(
                event_bridge_event_bus_parameters=pipes.CfnPipe.PipeTargetEventBridgeEventBusParametersProperty(
                    source=manifest.EVENT_SOURCE,
                    detail_type=relay.detail_type_path,
                ),
                # The event's detail; the local runtime's relay renders the same template.
                input_template=relay.detail_template,
            ),
            log_configuration=pipes.CfnPipe.PipeLogConfigurationProperty(
                level="ERROR",
                cloudwatch_logs_log_destination=pipes.CfnPipe.CloudwatchLogsLogDestinationProperty(
                    log_group_arn=log_group.log_group_arn
                ),
            ),
        )
        # The pipe validates its role's access to source and target when it is created.
        pipe.node.add_dependency(policy)
        return pipe

    def route(self, functions: Mapping[str, lambda_.IFunction], files_bucket_name: str) -> None:
        """One rule per manifest.EVENT_RULES entry, each with its own DLQ, on the bus it names
        (S3's Object Created events arrive only on the account's default bus)."""
        default_bus = events.EventBus.from_event_bus_name(self, "DefaultBus", manifest.DEFAULT_BUS)
        for spec in manifest.EVENT_RULES:
            scope = Construct(self, pascal_case(spec.name))
            dlq = dead_letter_queue(
                scope, "DeadLetterQueue", owner=f"the {spec.name} rule", alarms=self._alarms
            )
            self.rules[spec.name] = events.Rule(
                scope,
                "Rule",
                event_bus=default_bus if spec.bus == manifest.DEFAULT_BUS else self.bus,
                rule_name=rule_name(spec, self._stage),
                description=spec.description,
                event_pattern=event_pattern(manifest.rule_pattern(spec, files_bucket_name)),
                targets=[
                    targets.LambdaFunction(
                        functions[spec.function],
                        dead_letter_queue=dlq,
                        retry_attempts=RULE_RETRY_ATTEMPTS,
                        max_event_age=RULE_MAX_EVENT_AGE,
                    )
                ],
            )
