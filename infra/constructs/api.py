"""The two front doors: the HTTP API (manifest.HTTP_ROUTES) and the WebSocket API (WEBSOCKET_ROUTES)."""

from __future__ import annotations

import json
from collections.abc import Mapping

import jsii
from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import manifest
from infra.config import StageConfig
from infra.constructs.nag import acknowledge_all
from infra.constructs.naming import pascal_case

# JSON access logs (AwsSolutions structured logging). The JWT `sub` answers "who", the
# request id ties a line to the function's own logs. Tokens and bodies are never logged.
HTTP_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "time": "$context.requestTime",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "sub": "$context.authorizer.claims.sub",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "latencyMs": "$context.responseLatency",
    "responseLength": "$context.responseLength",
    "authorizerError": "$context.authorizer.error",
    "integrationError": "$context.integrationErrorMessage",
}
WEBSOCKET_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "time": "$context.requestTime",
    "sourceIp": "$context.identity.sourceIp",
    "connectionId": "$context.connectionId",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "integrationError": "$context.integrationErrorMessage",
}

# Declared once in the manifest: the local gateway answers CORS from the same lists.
CORS_ALLOWED_HEADERS = list(manifest.CORS_ALLOWED_HEADERS)
CORS_EXPOSED_HEADERS = list(manifest.CORS_EXPOSED_HEADERS)


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    def __init__(self, log_group: logs.ILogGroup, fields: Mapping[str, str]) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)
        self._format = apigw.AccessLogFormat.custom(json.dumps(fields))

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


def _access_log_group(scope: Construct, config: StageConfig, key: kms.IKey) -> logs.LogGroup:
    return logs.LogGroup(
        scope,
        "AccessLogs",
        retention=config.log_retention,
        encryption_key=key,
        removal_policy=config.removal_policy,
    )


class CaseRoomHttpApi(Construct):
    """Every route of manifest.HTTP_ROUTES; Cognito JWTs (ID tokens) unless the route is public."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        logs_key: kms.IKey,
        jwt_issuer: str,
        jwt_audience: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=f"caseroom-{config.name}",
            description=f"CaseRoom {config.name} HTTP API",
            create_default_stage=False,
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=list(config.cors_allowed_origins),
                allow_methods=[apigwv2.CorsHttpMethod(method) for method in manifest.cors_allowed_methods()],
                allow_headers=CORS_ALLOWED_HEADERS,
                expose_headers=CORS_EXPOSED_HEADERS,
                max_age=Duration.seconds(manifest.CORS_MAX_AGE_S),
            ),
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            access_log_settings=_AccessLogSettings(
                _access_log_group(self, config, logs_key), HTTP_ACCESS_LOG_FIELDS
            ),
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.http_throttle_rate, burst_limit=config.http_throttle_burst
            ),
        )
        # Clients send the Cognito ID token: its `aud` is the app client id.
        self.authorizer = authorizers.HttpJwtAuthorizer(
            "CognitoJwt",
            jwt_issuer=jwt_issuer,
            jwt_audience=[jwt_audience],
            identity_source=["$request.header.Authorization"],
        )
        self.routes: dict[str, apigwv2.HttpRoute] = {}

    @property
    def url(self) -> str:
        return self.api.api_endpoint

    def route(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        # One integration per function, shared by all of its routes.
        by_function = {
            name: integrations.HttpLambdaIntegration(f"{pascal_case(name)}Integration", functions[name])
            for name in dict.fromkeys(route.function for route in manifest.HTTP_ROUTES)
        }
        for spec in manifest.HTTP_ROUTES:
            [route] = self.api.add_routes(
                path=spec.path,
                methods=[apigwv2.HttpMethod(spec.method)],
                integration=by_function[spec.function],
                authorizer=apigwv2.HttpNoneAuthorizer() if spec.public else self.authorizer,
            )
            self.routes[spec.route_key] = route
            if spec.public:
                acknowledge_all(
                    route,
                    {
                        "AwsSolutions-APIG4": (
                            f"{spec.route_key} is declared public in the manifest; public=True is "
                            "reserved for health checks, which return no data."
                        ),
                    },
                )


class CaseRoomWebSocketApi(Construct):
    """Live pushes. Browsers cannot set headers on a WebSocket upgrade, so the realtime
    function verifies the Cognito JWT from ?token= itself on $connect."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, logs_key: kms.IKey
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=f"caseroom-realtime-{config.name}",
            description=f"CaseRoom {config.name} WebSocket API",
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=config.name,
            auto_deploy=True,
            access_log_settings=_AccessLogSettings(
                _access_log_group(self, config, logs_key), WEBSOCKET_ACCESS_LOG_FIELDS
            ),
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.http_throttle_rate, burst_limit=config.http_throttle_burst
            ),
        )
        self.routes: dict[str, apigwv2.WebSocketRoute] = {}

    @property
    def callback_url(self) -> str:
        """https://<api>.execute-api.<region>.amazonaws.com/<stage>: the @connections endpoint."""
        return self.stage.callback_url

    def route(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        by_function = {
            name: integrations.WebSocketLambdaIntegration(f"{pascal_case(name)}Integration", functions[name])
            for name in dict.fromkeys(route.function for route in manifest.WEBSOCKET_ROUTES)
        }
        for spec in manifest.WEBSOCKET_ROUTES:
            # A route response (returns_response) is what makes API Gateway send the function's
            # return value to the client; the local gateway sends it only for the same routes.
            route = self.api.add_route(
                spec.route_key,
                integration=by_function[spec.function],
                return_response=spec.returns_response,
            )
            self.routes[spec.route_key] = route
            reason = (
                "$connect is authenticated by the realtime function, which verifies the Cognito "
                "JWT passed as ?token= (browsers cannot set headers on a WebSocket upgrade) and "
                "rejects the connection otherwise."
                if spec.route_key == "$connect"
                else f"API Gateway runs authorizers on $connect only; {spec.route_key} messages "
                "arrive on a connection that $connect already authenticated."
            )
            acknowledge_all(route, {"AwsSolutions-APIG4": reason})
