"""CaseRoomStack: the whole backend of one stage, generated from infra/manifest.py."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.api import CaseRoomHttpApi, CaseRoomWebSocketApi
from infra.constructs.auth import UserDirectory
from infra.constructs.data import CaseTable, CursorKey, FilesBucket, Keys
from infra.constructs.events import DomainEvents
from infra.constructs.functions import FunctionResources, Functions
from infra.constructs.observability import Alarms
from infra.constructs.queues import dead_letter_queue
from infra.constructs.web import WebApp


class CaseRoomStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config

        keys = Keys(self, "Keys", config=config)
        alarms = Alarms(self, "Alarms", config=config, key=keys.alarms)
        self.table = CaseTable(self, "Cases", config=config, key=keys.data).table
        self.files = FilesBucket(self, "Files", config=config, key=keys.data)
        self.cursor_key = CursorKey(self, "CursorKey", config=config, key=keys.data).secret
        users = UserDirectory(self, "Users", config=config)
        self.events = DomainEvents(
            self,
            "Events",
            config=config,
            table=self.table,
            data_key=keys.data,
            logs_key=keys.logs,
            alarms=alarms,
        )
        # The APIs exist before the functions (whose environment names them); routes come after.
        self.http_api = CaseRoomHttpApi(
            self,
            "Http",
            config=config,
            logs_key=keys.logs,
            jwt_issuer=users.issuer,
            jwt_audience=users.client.user_pool_client_id,
        )
        self.websocket_api = CaseRoomWebSocketApi(self, "Realtime", config=config, logs_key=keys.logs)
        # Given-up webhook deliveries (manifest.WEBHOOK_DLQ): the webhook sender parks them here.
        self.webhook_dlq = dead_letter_queue(
            self, "WebhookDeliveriesDlq", owner="webhook deliveries", alarms=alarms
        )

        self.functions = Functions(
            self,
            "Functions",
            config=config,
            alarms=alarms,
            resources=FunctionResources(
                table=self.table,
                files_bucket=self.files.bucket,
                data_key=keys.data,
                logs_key=keys.logs,
                event_bus=self.events.bus,
                schedule_group_name=str(self.events.schedule_group.name),
                scheduler_role=self.events.scheduler_role,
                websocket_api_id=self.websocket_api.api.api_id,
                websocket_stage_name=self.websocket_api.stage.stage_name,
                websocket_callback_url=self.websocket_api.callback_url,
                jwt_issuer=users.issuer,
                jwt_audience=users.client.user_pool_client_id,
                jwks_url=users.jwks_url,
                webhook_dlq=self.webhook_dlq,
                cursor_key=self.cursor_key,
            ),
        )
        self.http_api.route(self.functions.by_name)
        self.websocket_api.route(self.functions.by_name)
        self.events.route(self.functions.by_name, self.files.bucket.bucket_name)
        alarms.on_http_server_errors(self.http_api, self.http_api.api)

        self.web = WebApp(
            self,
            "Web",
            config=config,
            user_pool=users.user_pool,
            app_client=users.client,
            files_bucket=self.files.bucket,
        )

        # What the web/mobile clients are configured with.
        for output_id, value in {
            "HttpApiUrl": self.http_api.url,
            "WebSocketUrl": self.websocket_api.stage.url,
            "UserPoolId": users.user_pool.user_pool_id,
            "UserPoolClientId": users.client.user_pool_client_id,
            "FilesBucketName": self.files.bucket.bucket_name,
            "AlarmTopicArn": alarms.topic.topic_arn,
            "WebAppUrl": self.web.url,
            "WebBucketName": self.web.bucket.bucket_name,
            "HostedUiUrl": self.web.hosted_ui_url,
        }.items():
            CfnOutput(self, output_id, value=value)
