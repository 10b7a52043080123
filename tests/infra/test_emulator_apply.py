"""infra/ applied to the emulator: what `terraform apply` builds matches docs/design.md.

One apply per session (the `applied` fixture); the tests read the result through boto3, then the
last two check that a second plan is clean and that destroy leaves nothing. Keep those last.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests import tables
from tests.infra import design
from tests.infra.conftest import Applied, needs_terraform

pytestmark = [pytest.mark.infra, needs_terraform]

NAME_PREFIX = "roomchat"
STAGE = "live"
DEFAULT_THROTTLING = {"rate": 100.0, "burst": 200}
ALLOWED_WILDCARD_SUFFIXES = (
    ":log-stream:*",
    "/POST/@connections/*",
    "/DELETE/@connections/*",
    "/uploads/*",  # the attachments bucket's prefixes (docs/design.md, "On the attachments bucket")
    "/thumbs/*",
)
# The functions behind routes; the authorizer is opt-in and checked once auth is turned on.
ROUTED = sorted(route.function for route in design.routes().values())
# Every function Terraform builds (without the opt-in authorizer): the routed ones and the
# fan-out tier's worker.
FUNCTIONS = sorted([*ROUTED, "fanout"])
AUTH_PARAMETER = "/roomchat/test/auth-secret"
# Given to the functions only when a review hook is configured (docs/design.md, Environment).
REVIEW_HOOK_ENVIRONMENT = frozenset({"REVIEW_FUNCTION", "REVIEW_TIMEOUT_MS", "REVIEW_FALLBACK"})


def _function_name(suffix: str) -> str:
    return f"{NAME_PREFIX}-{suffix}"


def _routes_by_key(live: Applied) -> dict[str, dict[str, Any]]:
    api_id = live.outputs["api_id"]
    return {r["RouteKey"]: r for r in live.client("apigatewayv2").get_routes(ApiId=api_id)["Items"]}


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


# ---- API ------------------------------------------------------------------------------------


def test_api_is_a_websocket_api_selecting_routes_by_action(live: Applied) -> None:
    api = live.client("apigatewayv2").get_api(ApiId=live.outputs["api_id"])
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["RouteSelectionExpression"] == "$request.body.action"


def test_exactly_the_design_routes_exist(live: Applied) -> None:
    assert set(_routes_by_key(live)) == set(design.routes())


@pytest.mark.parametrize("route_key", sorted(design.routes()))
def test_route_invokes_its_function_through_a_lambda_proxy(live: Applied, route_key: str) -> None:
    """route -> integration (AWS_PROXY) -> the function named in design.md, with its handler."""
    expected = design.routes()[route_key]
    apigw, lam = live.client("apigatewayv2"), live.client("lambda")
    route = _routes_by_key(live)[route_key]
    integration_id = route["Target"].removeprefix("integrations/")
    integration = apigw.get_integration(ApiId=live.outputs["api_id"], IntegrationId=integration_id)
    function = lam.get_function(FunctionName=_function_name(expected.function))["Configuration"]

    assert integration["IntegrationType"] == "AWS_PROXY"
    assert f"/functions/{function['FunctionArn']}/invocations" in integration["IntegrationUri"]
    assert function["Handler"] == expected.handler
    assert function["Runtime"] in ("python3.12", "python3.13")


def test_two_way_routes_have_a_default_route_response(live: Applied) -> None:
    """Two-way per design.md: selection expression "$default" and a "$default" route response;
    $connect/$disconnect are one-way. (moto cannot list route responses, so the ids come from
    the Terraform state and each one is read back from the emulator.)"""
    routes = _routes_by_key(live)
    responses = {
        item["index"]: item["values"]
        for item in live.stack.resources()
        if item["type"] == "aws_apigatewayv2_route_response"
    }
    apigw = live.client("apigatewayv2")
    for route_key, expected in design.routes().items():
        route = routes[route_key]
        if expected.two_way:
            assert route.get("RouteResponseSelectionExpression") == "$default", route_key
            response = apigw.get_route_response(
                ApiId=live.outputs["api_id"],
                RouteId=route["RouteId"],
                RouteResponseId=responses[route_key]["id"],
            )
            assert response["RouteResponseKey"] == "$default"
        else:
            assert not route.get("RouteResponseSelectionExpression"), route_key
            assert route_key not in responses


def test_stage_throttles_and_deploys_itself_without_logs_by_default(live: Applied) -> None:
    """The default stage asks for no logs: AWS refuses them while the region has no API Gateway
    CloudWatch role (tests/infra/test_api_logging.py covers the modes that log)."""
    stage = live.client("apigatewayv2").get_stage(
        ApiId=live.outputs["api_id"], StageName=live.outputs["stage_name"]
    )
    settings = stage["DefaultRouteSettings"]
    assert settings["ThrottlingRateLimit"] == DEFAULT_THROTTLING["rate"]
    assert settings["ThrottlingBurstLimit"] == DEFAULT_THROTTLING["burst"]
    assert settings["DetailedMetricsEnabled"] is True
    assert settings["DataTraceEnabled"] is False  # message bodies never reach the logs
    assert settings.get("LoggingLevel", "OFF") == "OFF"
    assert stage["AutoDeploy"] is True
    assert not stage.get("AccessLogSettings")
    assert "access_log_group_name" not in live.outputs  # null outputs are left out


def test_each_route_may_invoke_only_its_own_function(live: Applied) -> None:
    """aws_lambda_permission: principal API Gateway, source ARN = this API, stage and route."""
    lam = live.client("lambda")
    for route_key, expected in design.routes().items():
        policy = json.loads(
            lam.get_policy(FunctionName=_function_name(expected.function))["Policy"]
        )
        (statement,) = policy["Statement"]
        assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
        assert statement["Action"] == "lambda:InvokeFunction"
        source_arn = statement["Condition"]["ArnLike"]["AWS:SourceArn"]
        assert source_arn == f"{live.outputs['execution_arn']}/{STAGE}/{route_key}"


# ---- functions ------------------------------------------------------------------------------


def test_functions_get_the_design_environment(live: Applied) -> None:
    lam = live.client("lambda")
    for suffix in FUNCTIONS:
        config = lam.get_function_configuration(FunctionName=_function_name(suffix))
        env = config["Environment"]["Variables"]
        assert env["ROOMS_TABLE"] == live.outputs["rooms_table_name"]
        assert env["HISTORY_TABLE"] == live.outputs["history_table_name"]
        assert env["ROOMS_BY_CONNECTION_INDEX"] == tables.ROOMS_BY_CONNECTION_INDEX
        assert env["CALLBACK_URL"] == live.outputs["callback_url"]
        # The default apply configures no review hook, so its three variables are not set.
        assert set(env) == design.environment() - REVIEW_HOOK_ENVIRONMENT


def test_functions_run_the_zip_that_was_built(live: Applied) -> None:
    lam = live.client("lambda")
    for suffix in FUNCTIONS:
        config = lam.get_function_configuration(FunctionName=_function_name(suffix))
        assert config["CodeSha256"] == live.zip_sha256
    assert live.outputs["lambda_zip_sha256"] == live.zip_sha256


def test_each_function_has_its_own_log_group_with_retention(live: Applied) -> None:
    logs = live.client("logs")
    for suffix in FUNCTIONS:
        name = f"/aws/lambda/{_function_name(suffix)}"
        # A prefix: roomchat-disconnect also finds roomchat-disconnect_user's group.
        found = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        (group,) = [g for g in found if g["logGroupName"] == name]
        assert group["retentionInDays"] == 30


# Memory (MB) and timeout (s) per function: infra/functions.tf, explained in infra/README.md.
DEFAULT_LIMITS = {
    "connect": (256, 10),
    "disconnect": (1024, 29),
    "join": (1024, 29),
    "leave": (1024, 29),
    "send_all": (1769, 29),
    "history": (256, 10),
    "resume": (1024, 29),
    "members": (256, 10),
    "ping": (256, 10),
    "default": (256, 10),
    "create_room": (256, 10),
    "invite": (256, 10),
    "uninvite": (256, 10),
    "promote": (256, 10),
    "demote": (256, 10),
    "delete": (1024, 29),
    "edit": (1024, 29),
    "typing": (1024, 29),
    "mark_read": (256, 10),
    "kick": (1024, 29),
    "disconnect_user": (1024, 29),
    "thread": (256, 10),
    "threads": (256, 10),
    "follow": (256, 10),
    "react": (1024, 29),
    "mentions": (256, 10),
    "pin": (1024, 29),
    "prepare_upload": (256, 10),
    "attachment_url": (256, 10),
    "register_device": (256, 10),
    "unregister_device": (256, 10),
    "notify_level": (256, 10),
    "fanout": (1769, 60),
}


def test_each_function_has_its_own_memory_and_timeout(live: Applied) -> None:
    lam = live.client("lambda")
    deployed = {
        suffix: (config["MemorySize"], config["Timeout"])
        for suffix in FUNCTIONS
        for config in [lam.get_function_configuration(FunctionName=_function_name(suffix))]
    }
    assert deployed == DEFAULT_LIMITS
    assert {
        key: (limit["memory_size"], limit["timeout"])
        for key, limit in live.outputs["function_limits"].items()
    } == DEFAULT_LIMITS


def test_code_ships_through_one_object_in_a_private_encrypted_versioned_bucket(
    live: Applied,
) -> None:
    s3 = live.client("s3")
    bucket = live.outputs["code_bucket_name"]
    (only,) = s3.list_objects_v2(Bucket=bucket)["Contents"]
    body = s3.get_object(Bucket=bucket, Key=only["Key"])["Body"].read()
    assert body == live.zip_path.read_bytes()
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    controls = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert controls["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


# ---- tables ---------------------------------------------------------------------------------


def _describe(live: Applied, name: str) -> dict[str, Any]:
    return live.client("dynamodb").describe_table(TableName=name)["Table"]


def _key_schema(table: dict[str, Any]) -> list[dict[str, str]]:
    return table["KeySchema"]


def test_rooms_table_matches_the_schema_the_code_uses(live: Applied) -> None:
    table = _describe(live, live.outputs["rooms_table_name"])
    assert _key_schema(table) == tables.ROOMS_TABLE["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(
        tables.ROOMS_TABLE["AttributeDefinitions"], key=str
    )
    (index,) = table["GlobalSecondaryIndexes"]
    (expected,) = tables.ROOMS_TABLE["GlobalSecondaryIndexes"]
    assert index["IndexName"] == expected["IndexName"]
    assert index["KeySchema"] == expected["KeySchema"]
    assert index["Projection"] == expected["Projection"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["Status"] == "ENABLED"


def test_history_table_matches_the_schema_the_code_uses(live: Applied) -> None:
    table = _describe(live, live.outputs["history_table_name"])
    assert _key_schema(table) == tables.HISTORY_TABLE["KeySchema"]
    assert table.get("GlobalSecondaryIndexes", []) == []
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["Status"] == "ENABLED"


@pytest.mark.parametrize(
    ("output", "pitr", "protected"),
    [("rooms_table_name", "DISABLED", False), ("history_table_name", "ENABLED", True)],
)
def test_tables_expire_items_and_only_history_is_backed_up_and_protected(
    live: Applied, output: str, pitr: str, protected: bool
) -> None:
    """History: PITR and deletion protection by default; rooms (memberships that expire within
    hours) neither."""
    dynamodb = live.client("dynamodb")
    name = live.outputs[output]
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": tables.TTL_ATTRIBUTE}
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == pitr
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table.get("DeletionProtectionEnabled", False) is protected


def test_the_history_table_refuses_to_be_deleted(live: Applied) -> None:
    from botocore.exceptions import ClientError

    dynamodb = live.client("dynamodb")
    name = live.outputs["history_table_name"]
    with pytest.raises(ClientError) as refused:
        dynamodb.delete_table(TableName=name)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert dynamodb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"


# ---- monitoring (on by default) -------------------------------------------------------------


def _alarms(live: Applied) -> dict[str, dict[str, Any]]:
    found = live.client("cloudwatch").describe_alarms(AlarmNamePrefix=NAME_PREFIX, MaxRecords=100)
    return {a["AlarmName"]: a for a in found["MetricAlarms"]}


def test_every_alarm_exists_and_notifies_the_encrypted_topic(live: Applied) -> None:
    alarms = _alarms(live)
    assert set(alarms) == set(live.outputs["alarm_names"])
    expected = {f"{NAME_PREFIX}-{f}-{kind}" for f in FUNCTIONS for kind in ("errors", "throttles")}
    expected |= {
        f"{NAME_PREFIX}-{t}-{rw}-throttles"
        for t in ("rooms", "history")
        for rw in ("read", "write")
    }
    expected |= {
        f"{NAME_PREFIX}-{name}"
        for name in (
            "api-integration-errors",
            "api-execution-errors",
            "api-integration-latency",
            "fanout-failures",
            "history-write-failures",
            "dead-letters",
        )
    }
    assert set(alarms) == expected  # the dead-letter alarm watches the fan-out tier's DLQ
    dead = alarms[f"{NAME_PREFIX}-dead-letters"]
    assert dead["Dimensions"] == [{"Name": "QueueName", "Value": f"{NAME_PREFIX}-fanout-dlq"}]

    topic = live.outputs["alarm_topic_arn"]
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic]
        assert alarm["TreatMissingData"] == "notBreaching"
    attributes = live.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes.get("KmsMasterKeyId", "").startswith("arn:aws:kms:")


def test_the_fanout_queue_feeds_the_worker_with_partial_batch_failures(live: Applied) -> None:
    sqs = live.client("sqs")
    url = live.outputs["fanout_queue_url"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["SqsManagedSseEnabled"] == "true"
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == live.outputs["fanout_dead_letter_queue_arn"]
    assert int(redrive["maxReceiveCount"]) == 5
    assert attrs["QueueArn"] == live.outputs["fanout_queue_arn"]
    lam = live.client("lambda")
    # The functions know the queue by name (not waiting for it, infra/README.md "Fast start"):
    # the name they get is the queue's, and its ARN is the one their roles name.
    for function in ("send_all", "fanout"):
        env = lam.get_function_configuration(FunctionName=_function_name(function))["Environment"]
        name = env["Variables"]["FANOUT_QUEUE_NAME"]
        assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    (mapping,) = lam.list_event_source_mappings(EventSourceArn=live.outputs["fanout_queue_arn"])[
        "EventSourceMappings"
    ]
    assert mapping["FunctionArn"] == live.outputs["function_arns"]["fanout"]
    assert mapping["EventSourceArn"] == live.outputs["fanout_queue_arn"]
    assert mapping["BatchSize"] == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 8}


def test_alarms_watch_the_documented_metrics_and_dimensions(live: Applied) -> None:
    alarms = _alarms(live)
    api = {"ApiId": live.outputs["api_id"], "Stage": STAGE}

    def dims(alarm: dict[str, Any]) -> dict[str, str]:
        return {d["Name"]: d["Value"] for d in alarm["Dimensions"]}

    send_errors = alarms[f"{NAME_PREFIX}-send_all-errors"]
    assert (send_errors["Namespace"], send_errors["MetricName"]) == ("AWS/Lambda", "Errors")
    assert dims(send_errors) == {"FunctionName": _function_name("send_all")}
    latency = alarms[f"{NAME_PREFIX}-api-integration-latency"]
    assert (latency["Namespace"], latency["MetricName"]) == ("AWS/ApiGateway", "IntegrationLatency")
    assert dims(latency) == api and latency["ExtendedStatistic"] == "p99"
    assert dims(alarms[f"{NAME_PREFIX}-api-execution-errors"]) == api
    throttles = alarms[f"{NAME_PREFIX}-history-write-throttles"]
    assert throttles["MetricName"] == "WriteThrottleEvents"
    assert dims(throttles) == {"TableName": live.outputs["history_table_name"]}
    # The functions' own EMF metric: the stack's namespace, no dimension (tests/unit/test_metrics.py
    # proves on_send_all writes it).
    fanout = alarms[f"{NAME_PREFIX}-fanout-failures"]
    assert fanout["Namespace"] == live.outputs["metrics_namespace"] == NAME_PREFIX
    assert (fanout["MetricName"], fanout.get("Dimensions", [])) == ("failed", [])


def test_functions_write_metrics_to_the_stack_namespace(live: Applied) -> None:
    config = live.client("lambda").get_function_configuration(
        FunctionName=_function_name("send_all")
    )
    assert (
        config["Environment"]["Variables"]["METRICS_NAMESPACE"] == live.outputs["metrics_namespace"]
    )


def test_one_dashboard_shows_traffic_and_health(live: Applied) -> None:
    body = json.loads(
        live.client("cloudwatch").get_dashboard(DashboardName=NAME_PREFIX)["DashboardBody"]
    )
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert any("messages" in t.lower() for t in titles) and any(
        "errors" in t.lower() for t in titles
    )
    metrics = {m[1] for w in body["widgets"] for m in w["properties"]["metrics"]}
    assert {"MessageCount", "ConnectCount", "failed", "sendToLastPost", "Errors"} <= metrics


# ---- IAM ------------------------------------------------------------------------------------


def _own_log_streams(live: Applied, function: str) -> str:
    log_group = live.client("logs").describe_log_groups(
        logGroupNamePrefix=f"/aws/lambda/{_function_name(function)}"
    )["logGroups"][0]
    return f"{log_group['arn'].removesuffix(':*')}:log-stream:*"


def _grants(live: Applied, function: str) -> dict[str, set[str]]:
    """Actions by resource ARN in the function's own role (its only policy)."""
    role_name = (
        live.client("lambda")
        .get_function_configuration(FunctionName=_function_name(function))["Role"]
        .split("/")[-1]
    )
    assert role_name == live.outputs["role_names"][function]
    granted: dict[str, set[str]] = {}
    for statement in _role_policy(live, role_name)["Statement"]:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        for resource in _as_list(statement["Resource"]):
            granted.setdefault(resource, set()).update(_as_list(statement["Action"]))
    return granted


def _role_policy(live: Applied, role_name: str) -> dict[str, Any]:
    iam = live.client("iam")
    assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
    (policy_name,) = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
    return json.loads(document) if isinstance(document, str) else document


@pytest.mark.parametrize("function", FUNCTIONS)
def test_role_allows_exactly_what_design_md_lists(live: Applied, function: str) -> None:
    """One role per function; its actions per resource equal the design.md row, on the exact
    table/index ARNs, @connections only where it posts, logs only in its own log group."""
    expected = design.permissions()[function]
    rooms_arn = live.outputs["rooms_table_arn"]
    index_arn = f"{rooms_arn}/index/{tables.ROOMS_BY_CONNECTION_INDEX}"
    history_arn = live.outputs["history_table_arn"]
    connections_arn = f"{live.outputs['execution_arn']}/{STAGE}/POST/@connections/*"
    expected_grants = {
        rooms_arn: set(expected.rooms),
        index_arn: set(expected.rooms_by_connection),
        history_arn: set(expected.history),
        connections_arn: {"execute-api:ManageConnections"}
        if expected.post_to_connections
        else set(),
        connections_arn.replace("/POST/", "/DELETE/"): {"execute-api:ManageConnections"}
        if expected.delete_connections
        else set(),
        _own_log_streams(live, function): {"logs:CreateLogStream", "logs:PutLogEvents"},
        live.outputs["fanout_queue_arn"]: set(design.queue_actions().get(function, ())),
    }
    bucket_arn = f"arn:aws:s3:::{live.outputs['attachments_bucket_name']}"
    for prefix, actions in design.bucket_actions().get(function, {}).items():
        expected_grants[f"{bucket_arn}/{prefix}/*"] = set(actions)
    assert _grants(live, function) == {arn: acts for arn, acts in expected_grants.items() if acts}


def test_no_policy_has_a_wildcard_action_or_resource(live: Applied) -> None:
    for role_name in live.outputs["role_names"].values():
        for statement in _role_policy(live, role_name)["Statement"]:
            for action in _as_list(statement["Action"]):
                assert "*" not in action, (role_name, action)
            for resource in _as_list(statement["Resource"]):
                assert resource != "*", role_name
                if "*" in resource:
                    assert resource.endswith(ALLOWED_WILDCARD_SUFFIXES), (role_name, resource)
                    assert resource.count("*") == 1, (role_name, resource)


def test_roles_can_be_assumed_by_lambda_only(live: Applied) -> None:
    iam = live.client("iam")
    for role_name in live.outputs["role_names"].values():
        trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
        trust = json.loads(trust) if isinstance(trust, str) else trust
        (statement,) = trust["Statement"]
        assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
        assert statement["Action"] == "sts:AssumeRole"


# ---- outputs --------------------------------------------------------------------------------


def test_outputs_name_what_was_built(live: Applied) -> None:
    outputs = live.outputs
    api_id = outputs["api_id"]
    assert outputs["websocket_url"] == f"wss://{api_id}.execute-api.us-east-1.amazonaws.com/{STAGE}"
    assert (
        outputs["callback_url"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com/{STAGE}"
    )
    assert outputs["function_names"] == {suffix: _function_name(suffix) for suffix in FUNCTIONS}
    assert outputs.get("authorizer_function_name") is None  # null outputs are left out
    assert outputs["routes"] == {key: route.function for key, route in design.routes().items()}
    assert outputs["history_table_arn"].endswith(f":table/{outputs['history_table_name']}")
    assert outputs["rooms_table_arn"].endswith(f":table/{outputs['rooms_table_name']}")


# ---- second plan and destroy (keep these last) ----------------------------------------------


def test_second_plan_is_clean(live: Applied) -> None:
    """`plan -detailed-exitcode` right after apply exits 0: nothing drifts in the emulator."""
    assert live.stack.plan(live.variables) is False, live.stack.last_output


# ---- the opt-in $connect authorizer (applied on top of the default stack) -------------------


def test_enabling_auth_puts_the_token_authorizer_on_connect(live: Applied) -> None:
    expected = design.authorizer()
    live.client("ssm").put_parameter(Name=AUTH_PARAMETER, Value="k" * 32, Type="SecureString")
    from roomchat_tools.infra import build_lambda

    authorizer_zip, _ = build_lambda.build_authorizer(live.zip_path.with_name("authorizer.zip"))
    live.variables = {
        **live.variables,
        "auth_mode": "jwt",
        "auth_secret_parameter_name": AUTH_PARAMETER,
        "authorizer_zip_path": str(authorizer_zip),
    }
    live.stack.apply(live.variables)
    live.outputs = live.stack.outputs()

    apigw, lam = live.client("apigatewayv2"), live.client("lambda")
    api_id = live.outputs["api_id"]
    name = _function_name(expected.function)
    assert live.outputs["authorizer_function_name"] == name
    routes = _routes_by_key(live)
    connect = routes["$connect"]
    assert connect["AuthorizationType"] == "CUSTOM"
    authorizer = apigw.get_authorizer(ApiId=api_id, AuthorizerId=connect["AuthorizerId"])
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["IdentitySource"] == [expected.identity_source]
    function = lam.get_function_configuration(FunctionName=name)
    assert f"/functions/{function['FunctionArn']}/invocations" in authorizer["AuthorizerUri"]
    assert function["Handler"] == expected.handler
    assert function["Environment"]["Variables"] == {
        "AUTH_MODE": "jwt",
        "AUTH_ISSUER": "roomchat-dev",
        "AUTH_AUDIENCE": "roomchat",
        "AUTH_MAX_LIFETIME_SECONDS": "86400",
        "AUTH_SECRET_PARAMETER": AUTH_PARAMETER,
        "LOG_LEVEL": "INFO",
    }
    assert function["Architectures"] == ["x86_64"]  # its zip carries x86_64 wheels
    # Only the handshake is authorized; the other routes cannot have an authorizer.
    assert {k for k, r in routes.items() if r.get("AuthorizationType") == "CUSTOM"} == {"$connect"}

    (statement,) = json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]
    source_arn = statement["Condition"]["ArnLike"]["AWS:SourceArn"]
    assert source_arn == f"{live.outputs['execution_arn']}/authorizers/{authorizer['AuthorizerId']}"


def test_authorizer_role_reads_only_its_parameter(live: Applied) -> None:
    """design.md: no table, no @connections, "plus ssm:GetParameter on the one parameter"."""
    function = design.authorizer().function
    expected = design.permissions()[function]
    assert not (expected.rooms or expected.rooms_by_connection or expected.history)
    assert "ssm:GetParameter" in expected.connections_note
    parameter_arn = live.client("ssm").get_parameter(Name=AUTH_PARAMETER)["Parameter"]["ARN"]

    assert _grants(live, function) == {
        _own_log_streams(live, function): {"logs:CreateLogStream", "logs:PutLogEvents"},
        parameter_arn: {"ssm:GetParameter"},
    }


def test_plan_after_a_rebuild_is_clean(live: Applied) -> None:
    """Rebuilding the zip gives the same bytes, so the plan (auth on now) stays empty."""
    from roomchat_tools.infra import build_lambda

    _, digest = build_lambda.build(live.zip_path)
    assert digest == live.zip_sha256
    assert live.stack.plan(live.variables) is False, live.stack.last_output


def test_a_code_change_updates_every_function_from_a_new_object(live: Applied, tmp_path) -> None:
    """source_code_hash and the content-named key: a changed zip uploads a new object and
    updates every function in place (nothing else)."""
    import shutil
    import zipfile

    changed = tmp_path / "functions.zip"
    shutil.copy(live.zip_path, changed)
    with zipfile.ZipFile(changed, "a") as archive:
        archive.writestr("roomchat/_changed.py", "# a change\n")
    assert live.stack.plan({**live.variables, "lambda_zip_path": str(changed)}) is True
    plan = live.stack.last_output
    updated = set(
        re.findall(
            r'# module\.functions\.aws_lambda_function\.this\["(\w+)"\] will be updated in-place',
            plan,
        )
    )
    # the authorizer (when on) has a zip of its own, which did not change
    assert updated == set(FUNCTIONS)
    assert "# module.functions.aws_s3_object.code must be replaced" in plan
    assert re.search(rf"Plan: 1 to add, {len(FUNCTIONS)} to change, 1 to destroy", plan), plan[
        -500:
    ]


# ---- the hosted web client: its bucket and files (CloudFront's response headers policy is not
# in the emulator, so the distribution is checked by infra/tests/operations.tftest.hcl) --------

HOSTING_TARGETS = [
    "module.hosting[0].aws_s3_object.file",
    "module.hosting[0].aws_s3_object.config",
    "module.hosting[0].aws_s3_bucket_public_access_block.web",
    "module.hosting[0].aws_s3_bucket_versioning.web",
    "module.hosting[0].aws_s3_bucket_server_side_encryption_configuration.web",
]


def test_hosting_uploads_the_web_client_and_its_config_to_a_private_bucket(live: Applied) -> None:
    from tests import hosting

    variables = {**live.variables, "hosting_enabled": True, "web_dir": str(hosting.WEB_DIR)}
    live.stack.apply(variables, targets=HOSTING_TARGETS)
    s3 = live.client("s3")
    (bucket,) = [
        b["Name"]
        for b in s3.list_buckets()["Buckets"]
        if b["Name"].startswith(f"{NAME_PREFIX}-web-")
    ]

    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    expected = hosting.site(live.outputs["websocket_url"])
    assert keys == set(expected)
    for key, (body, content_type) in expected.items():
        got = s3.get_object(Bucket=bucket, Key=key)
        assert got["ContentType"] == content_type, key
        if key == "config.json":
            config = json.loads(got["Body"].read())
            assert config["websocketUrl"] == live.outputs["websocket_url"]
            # this stack has the token authorizer on (applied earlier in this module): the page
            # learns how to sign in from config.json
            auth = config.get("auth", {"authMode": "none"})
            assert auth["authMode"] == live.variables.get("auth_mode", "none")
        else:
            assert got["Body"].read() == body, key
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


# ---- make destroy: history is kept unless asked for (keep these last) ------------------------


def test_make_destroy_keeps_the_history_table(applied: Applied) -> None:
    """roomchat_tools/infra/deploy.py destroy without --delete-history: a targeted destroy of the rest."""
    from roomchat_tools.infra import deploy

    history = applied.outputs["history_table_name"]
    dynamodb = applied.client("dynamodb")
    dynamodb.put_item(TableName=history, Item={"roomId": {"S": "lobby"}, "messageId": {"S": "01"}})

    deploy.destroy_keeping_history(applied.stack, applied.variables)

    managed = {r["address"] for r in applied.stack.resources() if r["mode"] == "managed"}
    assert managed == deploy.KEPT_RESOURCES  # the history table and the attachments bucket
    assert dynamodb.list_tables()["TableNames"] == [history]
    assert dynamodb.scan(TableName=history)["Count"] == 1
    assert applied.client("lambda").list_functions()["Functions"] == []
    assert applied.client("apigatewayv2").get_apis()["Items"] == []
    assert _alarms(applied) == {}


def test_destroy_leaves_nothing_behind(applied: Applied) -> None:
    """--delete-history (make destroy CONFIRM_DELETE_HISTORY=yes): protection off, then all."""
    from roomchat_tools.infra import deploy

    deploy.destroy_with_history(applied.stack, applied.variables)
    applied.destroyed = True

    assert applied.stack.resources() == []
    assert applied.client("dynamodb").list_tables()["TableNames"] == []
    assert applied.client("lambda").list_functions()["Functions"] == []
    assert applied.client("apigatewayv2").get_apis()["Items"] == []
    roles = applied.client("iam").list_roles()["Roles"]
    assert [r["RoleName"] for r in roles if r["RoleName"].startswith(NAME_PREFIX)] == []
    groups = applied.client("logs").describe_log_groups()["logGroups"]
    assert [g["logGroupName"] for g in groups if NAME_PREFIX in g["logGroupName"]] == []
    buckets = applied.client("s3").list_buckets()["Buckets"]
    assert [b["Name"] for b in buckets if b["Name"].startswith(NAME_PREFIX)] == []
