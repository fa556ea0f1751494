"""Alarms that page someone: failed messages, server errors, function errors."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import StageConfig

PERIOD = Duration.minutes(5)


class Alarms(Construct):
    """Owns the alarm topic; each alarm is created next to the resource it watches."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=f"CaseRoom {config.name} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        self._action = cw_actions.SnsAction(self.topic)

    def _alarm(
        self,
        scope: Construct,
        construct_id: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        comparison: cloudwatch.ComparisonOperator,
        description: str,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            scope,
            construct_id,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        return alarm

    def on_dead_letters(self, scope: Construct, queue: sqs.IQueue, owner: str) -> cloudwatch.Alarm:
        """Any message in a DLQ is a lost delivery someone must replay."""
        return self._alarm(
            scope,
            "DeadLettersAlarm",
            queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
            threshold=0,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            description=f"Messages are waiting in the dead-letter queue of {owner}",
        )

    def on_function_errors(
        self, scope: Construct, function: lambda_.IFunction, name: str
    ) -> cloudwatch.Alarm:
        return self._alarm(
            scope,
            "ErrorsAlarm",
            function.metric_errors(period=PERIOD, statistic="Sum"),
            threshold=self._config.function_errors_threshold,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            description=f"The {name} function reports errors",
        )

    def on_http_server_errors(self, scope: Construct, api: apigwv2.HttpApi) -> cloudwatch.Alarm:
        return self._alarm(
            scope,
            "ServerErrorsAlarm",
            api.metric_server_error(period=PERIOD, statistic="Sum"),
            threshold=self._config.http_5xx_threshold,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            description="The HTTP API returns 5xx responses",
        )
