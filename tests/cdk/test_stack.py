"""The synthesized dev stack against the wiring manifest and the security requirements."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra import manifest
from infra.config import StageConfig
from infra.manifest import Grant
from tests.cdk.cfn import (
    allowed_actions,
    api_id,
    arn_of,
    as_list,
    denies_insecure_transport,
    function_ids,
    iam_statements,
    integration_target,
    managed_policy_of_role,
    only,
    props,
    ref,
    resources,
    routes_of,
)

pytestmark = pytest.mark.cdk

# What each manifest grant may turn into, written independently of infra/ on purpose.
GRANT_ACTIONS: dict[Grant, set[str]] = {
    Grant.TABLE_READ: {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"},
    Grant.TABLE_WRITE: {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
    },
    Grant.FILES_READ: {"s3:GetObject"},
    Grant.FILES_WRITE: {"s3:PutObject"},
    Grant.FILES_UPLOAD: {"s3:PutObject", "s3:ListMultipartUploadParts"},
    Grant.FILES_ABORT_UPLOAD: {"s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
    Grant.FILES_READ_VERSION: {"s3:GetObjectVersion"},
    Grant.FILES_DELETE: {"s3:DeleteObject"},
    Grant.FILES_DISCARD_VERSION: {"s3:DeleteObjectVersion"},
    Grant.EMAIL_SEND: {"ses:SendEmail", "ses:SendRawEmail"},
    Grant.EVENTS_PUT: {"events:PutEvents"},
    Grant.WEBSOCKET_POST: {"execute-api:ManageConnections"},
    Grant.SCHEDULE: {"scheduler:CreateSchedule", "scheduler:DeleteSchedule", "iam:PassRole"},
    Grant.WEBHOOK_DLQ_SEND: {"sqs:SendMessage"},
    Grant.CURSOR_KEY_READ: {"secretsmanager:GetSecretValue"},
}
# The data key (table + bucket) actions a grant may bring along.
GRANT_KEY_ACTIONS: dict[Grant, set[str]] = {
    Grant.TABLE_READ: {"kms:Decrypt", "kms:DescribeKey"},
    Grant.TABLE_WRITE: {"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"},
    Grant.FILES_READ: {"kms:Decrypt"},
    Grant.FILES_WRITE: {"kms:GenerateDataKey", "kms:Decrypt"},
    Grant.FILES_UPLOAD: {"kms:GenerateDataKey", "kms:Decrypt"},
    Grant.FILES_READ_VERSION: {"kms:Decrypt"},
    Grant.CURSOR_KEY_READ: {"kms:Decrypt"},
}
# Every function, whatever its grants: write its own logs, park failed async events.
RUNNING_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage"}
TRACING_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def test_every_grant_has_an_expected_iam_mapping() -> None:
    assert set(GRANT_ACTIONS) == set(Grant)


# --- data ---------------------------------------------------------------------------------


def test_table_follows_the_manifest(template: Template) -> None:
    table_id, table = only(template, "AWS::DynamoDB::Table")
    spec = manifest.TABLE
    assert table["TableName"] == f"{spec.name}-dev"
    assert table["KeySchema"] == [
        {"AttributeName": spec.partition_key, "KeyType": "HASH"},
        {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
    ]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["SSESpecification"]["SSEType"] == "KMS"
    assert "KMSMasterKeyId" in table["SSESpecification"]
    assert {a["AttributeType"] for a in table["AttributeDefinitions"]} == {"S"}

    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {index.name for index in spec.indexes}
    for index in spec.indexes:
        assert indexes[index.name]["KeySchema"] == [
            {"AttributeName": index.partition_key, "KeyType": "HASH"},
            {"AttributeName": index.sort_key, "KeyType": "RANGE"},
        ]
        assert indexes[index.name]["Projection"] == {"ProjectionType": "ALL"}
    assert resources(template, "AWS::DynamoDB::Table")[table_id]["DeletionPolicy"] == "Delete"  # dev


def _files_bucket(template: Template) -> tuple[str, dict[str, Any]]:
    [(bucket_id, bucket)] = [
        (lid, props(r))
        for lid, r in resources(template, "AWS::S3::Bucket").items()
        if props(r)["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ]["SSEAlgorithm"]
        == "aws:kms"
    ]
    return bucket_id, bucket


def test_files_bucket_is_private_versioned_kms_encrypted_and_logged(template: Template) -> None:
    bucket_id, bucket = _files_bucket(template)
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][1] == "Arn"
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    log_bucket_id = bucket["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
    assert log_bucket_id != bucket_id
    assert bucket["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}

    policies = {
        props(r)["Bucket"]["Ref"]: props(r) for r in resources(template, "AWS::S3::BucketPolicy").values()
    }
    assert denies_insecure_transport(policies[bucket_id]["PolicyDocument"])
    assert denies_insecure_transport(policies[log_bucket_id]["PolicyDocument"])


def test_files_bucket_accepts_browser_uploads_from_the_stage_origins(
    template: Template, dev_config: StageConfig
) -> None:
    _, bucket = _files_bucket(template)
    [cors] = bucket["CorsConfiguration"]["CorsRules"]
    assert set(cors["AllowedMethods"]) == {"PUT", "POST", "GET"}
    assert cors["AllowedOrigins"] == list(dev_config.cors_allowed_origins)
    assert cors["ExposedHeaders"] == ["ETag"]


def test_files_bucket_lifecycle(template: Template) -> None:
    _, bucket = _files_bucket(template)
    rules = bucket["LifecycleConfiguration"]["Rules"]
    assert {"DaysAfterInitiation": 1} in [r.get("AbortIncompleteMultipartUpload") for r in rules]
    assert any("NoncurrentVersionExpiration" in r for r in rules)
    assert all(r["Status"] == "Enabled" for r in rules)


def test_no_custom_resource_lambdas(template: Template) -> None:
    """Only the manifest's functions run code (no S3-notification or log-retention helpers)."""
    assert len(resources(template, "AWS::Lambda::Function")) == len(manifest.FUNCTIONS)
    custom = [r["Type"] for r in template.to_json()["Resources"].values() if r["Type"].startswith("Custom::")]
    assert custom == []


# --- HTTP API -----------------------------------------------------------------------------


def test_http_routes_equal_the_manifest(template: Template) -> None:
    routes = routes_of(template, api_id(template, "HTTP"))
    assert set(routes) == {route.route_key for route in manifest.HTTP_ROUTES}
    assert len(routes) == len(manifest.HTTP_ROUTES)


def test_http_routes_require_a_jwt_unless_public(template: Template) -> None:
    routes = routes_of(template, api_id(template, "HTTP"))
    authorizer_id, _ = only(template, "AWS::ApiGatewayV2::Authorizer")
    for spec in manifest.HTTP_ROUTES:
        route = routes[spec.route_key]
        if spec.public:
            assert route.get("AuthorizationType", "NONE") == "NONE", spec.route_key
            assert "AuthorizerId" not in route, spec.route_key
        else:
            assert route["AuthorizationType"] == "JWT", spec.route_key
            assert route["AuthorizerId"] == ref(authorizer_id), spec.route_key
    assert any(not spec.public for spec in manifest.HTTP_ROUTES)


def test_jwt_authorizer_trusts_the_user_pool_and_its_app_client(template: Template) -> None:
    _, authorizer = only(template, "AWS::ApiGatewayV2::Authorizer")
    pool_id, _ = only(template, "AWS::Cognito::UserPool")
    client_id, _ = only(template, "AWS::Cognito::UserPoolClient")
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    assert authorizer["JwtConfiguration"] == {
        "Audience": [ref(client_id)],
        "Issuer": {"Fn::GetAtt": [pool_id, "ProviderURL"]},
    }


def test_http_routes_reuse_one_integration_per_function(template: Template) -> None:
    http_api = api_id(template, "HTTP")
    routes = routes_of(template, http_api)
    integrations = {
        lid: props(r)
        for lid, r in resources(template, "AWS::ApiGatewayV2::Integration").items()
        if props(r)["ApiId"] == ref(http_api)
    }
    functions = function_ids(template)
    assert len(integrations) == len({route.function for route in manifest.HTTP_ROUTES})
    for spec in manifest.HTTP_ROUTES:
        integration = integrations[integration_target(routes[spec.route_key])]
        assert integration["IntegrationUri"] == arn_of(functions[spec.function])
        assert integration["PayloadFormatVersion"] == "2.0"


def test_http_stage_logs_access_throttles_and_allows_stage_origins(
    template: Template, dev_config: StageConfig
) -> None:
    http_api = api_id(template, "HTTP")
    [stage] = [
        props(r)
        for r in resources(template, "AWS::ApiGatewayV2::Stage").values()
        if props(r)["ApiId"] == ref(http_api)
    ]
    assert stage["StageName"] == "$default"
    assert stage["AutoDeploy"] is True
    log_format = json.loads(stage["AccessLogSettings"]["Format"])
    assert log_format["requestId"] == "$context.requestId"
    assert stage["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][1] == "Arn"
    assert stage["DefaultRouteSettings"] == {
        "ThrottlingBurstLimit": dev_config.http_throttle_burst,
        "ThrottlingRateLimit": dev_config.http_throttle_rate,
    }
    cors = props(resources(template, "AWS::ApiGatewayV2::Api")[http_api])["CorsConfiguration"]
    assert cors["AllowOrigins"] == list(dev_config.cors_allowed_origins)
    # The very lists the local gateway answers CORS with (local/cors.py).
    assert cors["AllowHeaders"] == list(manifest.CORS_ALLOWED_HEADERS)
    assert cors["ExposeHeaders"] == list(manifest.CORS_EXPOSED_HEADERS)
    assert sorted(cors["AllowMethods"]) == sorted(manifest.cors_allowed_methods())
    assert cors["MaxAge"] == manifest.CORS_MAX_AGE_S


# --- WebSocket API ------------------------------------------------------------------------


def test_websocket_routes_equal_the_manifest_and_reach_their_function(template: Template) -> None:
    websocket_api = api_id(template, "WEBSOCKET")
    routes = routes_of(template, websocket_api)
    assert set(routes) == {route.route_key for route in manifest.WEBSOCKET_ROUTES}
    integrations = resources(template, "AWS::ApiGatewayV2::Integration")
    functions = function_ids(template)
    for spec in manifest.WEBSOCKET_ROUTES:
        uri = props(integrations[integration_target(routes[spec.route_key])])["IntegrationUri"]
        assert arn_of(functions[spec.function]) in uri["Fn::Join"][1], spec.route_key


def test_websocket_routes_send_replies_exactly_where_the_manifest_says(template: Template) -> None:
    """A route's return value reaches the client only through a route response; the local
    gateway sends replies for the same routes (manifest.WebSocketRoute.returns_response)."""
    websocket_api = api_id(template, "WEBSOCKET")
    routes = routes_of(template, websocket_api)
    route_ids = {
        route_id: route_key
        for route_key in routes
        for route_id, resource in resources(template, "AWS::ApiGatewayV2::Route").items()
        if props(resource)["RouteKey"] == route_key and props(resource)["ApiId"] == ref(websocket_api)
    }
    responses = {
        route_ids[props(r)["RouteId"]["Ref"]]: props(r)
        for r in resources(template, "AWS::ApiGatewayV2::RouteResponse").values()
    }
    for spec in manifest.WEBSOCKET_ROUTES:
        if spec.returns_response:
            assert responses[spec.route_key]["RouteResponseKey"] == "$default", spec.route_key
            assert routes[spec.route_key]["RouteResponseSelectionExpression"] == "$default"
        else:
            assert spec.route_key not in responses
            assert "RouteResponseSelectionExpression" not in routes[spec.route_key]
    assert any(spec.returns_response for spec in manifest.WEBSOCKET_ROUTES)


def test_no_deployed_function_can_move_the_clock(template: Template) -> None:
    """The movable clock is the local runtime's alone: no stage sets its file variable."""
    for function in resources(template, "AWS::Lambda::Function").values():
        variables = props(function).get("Environment", {}).get("Variables", {})
        assert "CASEROOM_LOCAL_CLOCK_FILE" not in variables
        assert variables.get("CASEROOM_STAGE") != "local"


def test_websocket_stage_auto_deploys_with_access_logs(template: Template) -> None:
    websocket_api = api_id(template, "WEBSOCKET")
    [stage] = [
        props(r)
        for r in resources(template, "AWS::ApiGatewayV2::Stage").values()
        if props(r)["ApiId"] == ref(websocket_api)
    ]
    assert stage["StageName"] == "dev"
    assert stage["AutoDeploy"] is True
    assert json.loads(stage["AccessLogSettings"]["Format"])["connectionId"] == "$context.connectionId"


def test_websocket_posters_may_manage_connections_of_this_stage_only(template: Template) -> None:
    websocket_api = api_id(template, "WEBSOCKET")
    functions = function_ids(template)
    lambda_functions = resources(template, "AWS::Lambda::Function")
    for spec in manifest.FUNCTIONS:
        role_id = props(lambda_functions[functions[spec.name]])["Role"]["Fn::GetAtt"][0]
        statements = managed_policy_of_role(template, role_id)["PolicyDocument"]["Statement"]
        manage = [s for s in statements if "execute-api:ManageConnections" in as_list(s["Action"])]
        if Grant.WEBSOCKET_POST not in spec.grants:
            assert manage == [], spec.name
            continue
        [statement] = manage
        parts = statement["Resource"]["Fn::Join"][1]
        assert ref(websocket_api) in parts
        assert parts[-1] == "/dev/*/@connections/*"


# --- functions ----------------------------------------------------------------------------


@pytest.mark.parametrize("spec", manifest.FUNCTIONS, ids=lambda spec: spec.name)
def test_function_configuration(template: Template, dev_config: StageConfig, spec: manifest.Function) -> None:
    function = props(resources(template, "AWS::Lambda::Function")[function_ids(template)[spec.name]])
    assert function["Runtime"] == "python3.13"
    assert function["Handler"] == "handler.lambda_handler"
    assert function["Architectures"] == ["arm64"]
    assert function["MemorySize"] == spec.memory_mb
    assert function["Timeout"] == spec.timeout_s
    assert function["ReservedConcurrentExecutions"] == dev_config.reserved_concurrency
    assert "TracingConfig" not in function  # dev: tracing off
    assert len(function["Layers"]) == 2 + len(spec.layers)
    assert "Ref" in function["LoggingConfig"]["LogGroup"]
    assert function["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][1] == "Arn"

    variables = function["Environment"]["Variables"]
    assert list(variables) == list(manifest.FUNCTION_ENVIRONMENT_KEYS)
    assert variables["CASEROOM_STAGE"] == "dev"
    assert variables["CASEROOM_DEEP_TRACING"] == "false"
    assert variables["POWERTOOLS_SERVICE_NAME"] == "caseroom"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "CaseRoom"
    assert variables["CASEROOM_EMAIL_FROM"] == dev_config.email_sender
    assert variables["CASEROOM_JWKS_URL"]["Fn::Join"][1][-1] == "/.well-known/jwks.json"
    assert variables["CASEROOM_WEBSOCKET_ENDPOINT"]["Fn::Join"][1][0] == "https://"


def test_the_cursor_key_is_a_generated_secret_only_list_serving_functions_read(template: Template) -> None:
    secret_id, secret = only(template, "AWS::SecretsManager::Secret")
    generated = secret["GenerateSecretString"]
    assert generated["PasswordLength"] >= 64 and generated["ExcludePunctuation"] is True
    assert "SecretString" not in secret  # never a value in the template
    data_key = next(lid for lid in resources(template, "AWS::KMS::Key") if "DataKey" in lid)
    assert secret["KmsKeyId"] == arn_of(data_key)
    readers = set()
    for spec in manifest.FUNCTIONS:
        function = props(resources(template, "AWS::Lambda::Function")[function_ids(template)[spec.name]])
        assert function["Environment"]["Variables"]["CASEROOM_CURSOR_KEY_SECRET_ARN"] == ref(secret_id)
        policy = managed_policy_of_role(template, function["Role"]["Fn::GetAtt"][0])
        for statement in policy["PolicyDocument"]["Statement"]:
            if "secretsmanager:GetSecretValue" in as_list(statement["Action"]):
                assert as_list(statement["Resource"]) == [ref(secret_id)], spec.name
                readers.add(spec.name)
    assert readers == {s.name for s in manifest.FUNCTIONS if Grant.CURSOR_KEY_READ in s.grants}
    assert readers == {r.function for r in manifest.HTTP_ROUTES}  # every HTTP API function pages


def test_log_groups_are_encrypted_and_expire(template: Template) -> None:
    log_groups = resources(template, "AWS::Logs::LogGroup")
    # One per function, two API access logs, the outbox pipe.
    assert len(log_groups) == len(manifest.FUNCTIONS) + 3
    for lid, log_group in log_groups.items():
        assert props(log_group)["RetentionInDays"] == 30, lid  # dev: one month
        assert "KmsKeyId" in props(log_group), lid


# --- IAM ----------------------------------------------------------------------------------


def test_no_policy_allows_scan_or_service_wide_access(template: Template) -> None:
    for lid, statement in iam_statements(template):
        if statement["Effect"] != "Allow":
            continue
        for action in as_list(statement["Action"]):
            assert action != "dynamodb:Scan", lid
            assert "*" not in action, f"{lid} allows the wildcard action {action}"


def test_roles_carry_no_inline_policies(template: Template) -> None:
    """HIPAA: customer managed policies only (the CDK default inline policies are switched off)."""
    assert resources(template, "AWS::IAM::Policy") == {}
    for lid, role in resources(template, "AWS::IAM::Role").items():
        assert "Policies" not in props(role), lid
        assert "ManagedPolicyArns" not in props(role), lid  # no AWS managed policies either


@pytest.mark.parametrize("spec", manifest.FUNCTIONS, ids=lambda spec: spec.name)
def test_function_policy_is_what_its_grants_imply(template: Template, spec: manifest.Function) -> None:
    function = props(resources(template, "AWS::Lambda::Function")[function_ids(template)[spec.name]])
    policy = managed_policy_of_role(template, function["Role"]["Fn::GetAtt"][0])
    actions = allowed_actions(policy)

    implied = set(RUNNING_ACTIONS)
    for grant in spec.grants:
        implied |= GRANT_ACTIONS[grant] | GRANT_KEY_ACTIONS.get(grant, set())
    assert actions <= implied, f"{spec.name} has ungranted actions {sorted(actions - implied)}"
    for grant in spec.grants:
        assert GRANT_ACTIONS[grant] <= actions, f"{spec.name} lost grant {grant}"
    assert actions.isdisjoint(TRACING_ACTIONS)  # dev: tracing off


def test_timers_have_their_own_group_and_a_role_that_only_puts_to_the_bus(template: Template) -> None:
    _, group = only(template, "AWS::Scheduler::ScheduleGroup")
    assert group["Name"] == f"{manifest.SCHEDULE_GROUP}-dev"
    bus_id, _ = only(template, "AWS::Events::EventBus")
    roles = [
        (role_id, role)
        for role_id, role in template.find_resources("AWS::IAM::Role").items()
        if role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"].get("Service")
        == "scheduler.amazonaws.com"
    ]
    [(role_id, _)] = roles
    policy = managed_policy_of_role(template, role_id)
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "events:PutEvents"
    assert statement["Resource"] == {"Fn::GetAtt": [bus_id, "Arn"]}


def test_outbox_pipe_role_reads_the_stream_and_puts_to_the_bus_only(template: Template) -> None:
    _, pipe = only(template, "AWS::Pipes::Pipe")
    policy = managed_policy_of_role(template, pipe["RoleArn"]["Fn::GetAtt"][0])
    table_id, _ = only(template, "AWS::DynamoDB::Table")
    bus_id, _ = only(template, "AWS::Events::EventBus")
    by_action = {
        a: s["Resource"] for s in policy["PolicyDocument"]["Statement"] for a in as_list(s["Action"])
    }
    assert by_action["dynamodb:GetRecords"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    assert by_action["events:PutEvents"] == arn_of(bus_id)
    assert not any(
        a.startswith("dynamodb:") and by_action[a] != by_action["dynamodb:GetRecords"] for a in by_action
    )


# --- events -------------------------------------------------------------------------------


def test_bus_is_named_per_stage(template: Template) -> None:
    _, bus = only(template, "AWS::Events::EventBus")
    assert bus["Name"] == f"{manifest.EVENT_BUS}-dev"


def test_event_rules_equal_the_manifest(template: Template) -> None:
    rules = {props(r)["Name"]: props(r) for r in resources(template, "AWS::Events::Rule").values()}
    # Rules on the account's default bus (shared by every stage) carry the stage in their name.
    expected_names = {
        spec.name: spec.name if spec.bus == manifest.EVENT_BUS else f"caseroom-dev-{spec.name}"
        for spec in manifest.EVENT_RULES
    }
    assert set(rules) == set(expected_names.values())
    assert len(rules) == len(resources(template, "AWS::Events::Rule"))

    bus_id, _ = only(template, "AWS::Events::EventBus")
    functions = function_ids(template)
    queues = resources(template, "AWS::SQS::Queue")
    for spec in manifest.EVENT_RULES:
        rule = rules[expected_names[spec.name]]
        if spec.bus == manifest.DEFAULT_BUS:
            assert rule.get("EventBusName", "default") == "default"  # S3 publishes only there
        else:
            assert rule["EventBusName"] == ref(bus_id)
        if spec.files_bucket_only:
            bucket_id, _ = _files_bucket(template)
            assert rule["EventPattern"]["detail"]["bucket"] == {"name": [ref(bucket_id)]}
            assert rule["EventPattern"]["detail-type"] == ["Object Created"]  # never "Object Tags Added"
            assert {k: v for k, v in rule["EventPattern"].items() if k != "detail"} == {
                k: v for k, v in spec.pattern.items() if k != "detail"
            }
        else:
            assert rule["EventPattern"] == spec.pattern
        [target] = rule["Targets"]
        assert target["Arn"] == arn_of(functions[spec.function])
        assert target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0] in queues
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] > 0


def test_outbox_pipe_relays_the_manifest_filter_and_template(template: Template) -> None:
    _, pipe = only(template, "AWS::Pipes::Pipe")
    table_id, _ = only(template, "AWS::DynamoDB::Table")
    bus_id, _ = only(template, "AWS::Events::EventBus")
    relay = manifest.OUTBOX_RELAY

    assert pipe["Source"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    stream = pipe["SourceParameters"]["DynamoDBStreamParameters"]
    assert stream["StartingPosition"] == "LATEST"
    assert stream["BatchSize"] >= 1
    assert stream["MaximumRetryAttempts"] >= 1
    assert stream["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0] in resources(template, "AWS::SQS::Queue")
    [pattern] = pipe["SourceParameters"]["FilterCriteria"]["Filters"]
    assert json.loads(pattern["Pattern"]) == relay.stream_filter

    assert pipe["Target"] == arn_of(bus_id)
    assert pipe["TargetParameters"]["EventBridgeEventBusParameters"] == {
        "Source": manifest.EVENT_SOURCE,
        "DetailType": relay.detail_type_path,
    }
    assert pipe["TargetParameters"]["InputTemplate"] == relay.detail_template


# --- queues, alarms -----------------------------------------------------------------------


def test_queues_are_encrypted_and_tls_only(template: Template) -> None:
    queue_policies = [props(r) for r in resources(template, "AWS::SQS::QueuePolicy").values()]
    for lid, queue in resources(template, "AWS::SQS::Queue").items():
        assert props(queue).get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props(queue), lid
        covering = [p for p in queue_policies if ref(lid) in p["Queues"]]
        assert any(denies_insecure_transport(p["PolicyDocument"]) for p in covering), lid


def test_every_dead_letter_queue_is_alarmed(template: Template) -> None:
    alarms = [props(r) for r in resources(template, "AWS::CloudWatch::Alarm").values()]
    watched = {
        alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in alarms
        if alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and alarm["Threshold"] == 0
        and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    }
    assert watched == set(resources(template, "AWS::SQS::Queue"))


def test_every_function_and_the_http_api_are_alarmed(template: Template) -> None:
    alarms = [props(r) for r in resources(template, "AWS::CloudWatch::Alarm").values()]
    errors = {a["Dimensions"][0]["Value"]["Ref"] for a in alarms if a["MetricName"] == "Errors"}
    assert errors == set(function_ids(template).values())
    [server_errors] = [a for a in alarms if a["MetricName"] == "5xx"]
    assert server_errors["Dimensions"] == [{"Name": "ApiId", "Value": ref(api_id(template, "HTTP"))}]


def test_alarms_notify_the_encrypted_tls_only_topic(template: Template) -> None:
    topic_id, topic = only(template, "AWS::SNS::Topic")
    assert "KmsMasterKeyId" in topic
    _, topic_policy = only(template, "AWS::SNS::TopicPolicy")
    assert denies_insecure_transport(topic_policy["PolicyDocument"])
    for lid, alarm in resources(template, "AWS::CloudWatch::Alarm").items():
        assert props(alarm)["AlarmActions"] == [ref(topic_id)], lid


def test_customer_managed_keys_rotate(template: Template) -> None:
    for lid, key in resources(template, "AWS::KMS::Key").items():
        assert props(key)["EnableKeyRotation"] is True, lid


# --- users --------------------------------------------------------------------------------


def test_user_pool(template: Template) -> None:
    _, pool = only(template, "AWS::Cognito::UserPool")
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True  # no self sign-up
    password = pool["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] >= 12
    assert all(
        password[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
    )
    assert pool["MfaConfiguration"] == "OPTIONAL"  # dev
    lab_id = next(attribute for attribute in pool["Schema"] if attribute["Name"] == "lab_id")
    assert lab_id["AttributeDataType"] == "String"
    groups = {props(r)["GroupName"] for r in resources(template, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"clinicians", "lab", "patients"}


def test_app_client_is_public_and_cannot_write_authorization_attributes(template: Template) -> None:
    _, client = only(template, "AWS::Cognito::UserPoolClient")
    assert client["GenerateSecret"] is False
    assert "custom:lab_id" not in client["WriteAttributes"]
    assert client["WriteAttributes"]  # explicit, not "everything"


# --- prod differs by configuration only ----------------------------------------------------


def test_prod_hardening(prod_template: Template) -> None:
    table_id, table = only(prod_template, "AWS::DynamoDB::Table")
    assert table["DeletionProtectionEnabled"] is True
    assert resources(prod_template, "AWS::DynamoDB::Table")[table_id]["DeletionPolicy"] == "Retain"
    _, pool = only(prod_template, "AWS::Cognito::UserPool")
    assert pool["MfaConfiguration"] == "ON"
    assert pool["UserPoolTier"] == "PLUS"
    for function in resources(prod_template, "AWS::Lambda::Function").values():
        assert props(function)["TracingConfig"] == {"Mode": "Active"}
    for log_group in resources(prod_template, "AWS::Logs::LogGroup").values():
        assert props(log_group)["RetentionInDays"] == 2192


def test_prod_functions_may_trace_and_nothing_more(prod_template: Template) -> None:
    functions = function_ids(prod_template)
    lambda_functions = resources(prod_template, "AWS::Lambda::Function")
    for spec in manifest.FUNCTIONS:
        role_id = props(lambda_functions[functions[spec.name]])["Role"]["Fn::GetAtt"][0]
        actions = allowed_actions(managed_policy_of_role(prod_template, role_id))
        assert actions >= TRACING_ACTIONS, spec.name
        implied = RUNNING_ACTIONS | TRACING_ACTIONS
        for grant in spec.grants:
            implied |= GRANT_ACTIONS[grant] | GRANT_KEY_ACTIONS.get(grant, set())
        assert actions <= implied, spec.name


def test_prod_and_dev_have_the_same_resources(template: Template, prod_template: Template) -> None:
    def inventory(t: Template) -> dict[str, int]:
        counts: dict[str, int] = {}
        for resource in t.to_json()["Resources"].values():
            counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
        return counts

    assert inventory(template) == inventory(prod_template)


def test_each_files_function_gets_only_the_s3_actions_it_uses(template: Template) -> None:
    functions = function_ids(template)
    lambda_functions = resources(template, "AWS::Lambda::Function")

    def s3_actions(name: str) -> set[str]:
        role_id = props(lambda_functions[functions[name]])["Role"]["Fn::GetAtt"][0]
        return {a for a in allowed_actions(managed_policy_of_role(template, role_id)) if a.startswith("s3:")}

    # Signs uploads and downloads, lists parts, aborts, soft-deletes; never reads bytes itself.
    assert s3_actions("files_api") == {
        "s3:PutObject",
        "s3:ListMultipartUploadParts",
        "s3:AbortMultipartUpload",
        "s3:GetObjectVersion",
        "s3:DeleteObject",
    }
    # Reads what was uploaded; cannot write, delete or abort anything.
    assert s3_actions("file_verifier") == {"s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObjectVersion"}
    # ListParts: is a claimed completion's multipart upload still open (it never reached S3)?
    assert s3_actions("upload_expiry") == {"s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}
