"""infra/ applied to the emulator: what `terraform apply` builds matches docs/design.md.

One apply per session (the `applied` fixture); the tests read the result through boto3, then the
last two check that a second plan is clean and that destroy leaves nothing. Keep those last.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import tables
from tests.infra import design
from tests.infra.conftest import Applied, needs_terraform

pytestmark = [pytest.mark.infra, needs_terraform]

NAME_PREFIX = "roomchat"
STAGE = "live"
DEFAULT_THROTTLING = {"rate": 100.0, "burst": 200}
ALLOWED_WILDCARD_SUFFIXES = (":log-stream:*", "/POST/@connections/*", "/DELETE/@connections/*")
# The functions behind routes; the authorizer is opt-in and checked once auth is turned on.
ROUTED = sorted(route.function for route in design.routes().values())
AUTH_PARAMETER = "/roomchat/test/auth-secret"


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


def test_stage_throttles_logs_json_and_deploys_itself(live: Applied) -> None:
    stage = live.client("apigatewayv2").get_stage(
        ApiId=live.outputs["api_id"], StageName=live.outputs["stage_name"]
    )
    settings = stage["DefaultRouteSettings"]
    assert settings["ThrottlingRateLimit"] == DEFAULT_THROTTLING["rate"]
    assert settings["ThrottlingBurstLimit"] == DEFAULT_THROTTLING["burst"]
    assert settings["DetailedMetricsEnabled"] is True
    assert settings["DataTraceEnabled"] is False  # message bodies never reach the logs
    assert stage["AutoDeploy"] is True

    log_group = live.client("logs").describe_log_groups(
        logGroupNamePrefix=live.outputs["access_log_group_name"]
    )["logGroups"][0]
    assert stage["AccessLogSettings"]["DestinationArn"] == log_group["arn"].removesuffix(":*")
    access_format = json.loads(stage["AccessLogSettings"]["Format"])
    assert access_format["connectionId"] == "$context.connectionId"
    assert access_format["routeKey"] == "$context.routeKey"
    assert log_group["retentionInDays"] == 30


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
    for suffix in ROUTED:
        config = lam.get_function_configuration(FunctionName=_function_name(suffix))
        env = config["Environment"]["Variables"]
        assert env["ROOMS_TABLE"] == live.outputs["rooms_table_name"]
        assert env["HISTORY_TABLE"] == live.outputs["history_table_name"]
        assert env["ROOMS_BY_CONNECTION_INDEX"] == tables.ROOMS_BY_CONNECTION_INDEX
        assert env["CALLBACK_URL"] == live.outputs["callback_url"]
        assert set(env) == design.environment()


def test_functions_run_the_zip_that_was_built(live: Applied) -> None:
    lam = live.client("lambda")
    for suffix in ROUTED:
        config = lam.get_function_configuration(FunctionName=_function_name(suffix))
        assert config["CodeSha256"] == live.zip_sha256
    assert live.outputs["lambda_zip_sha256"] == live.zip_sha256


def test_each_function_has_its_own_log_group_with_retention(live: Applied) -> None:
    logs = live.client("logs")
    for suffix in ROUTED:
        name = f"/aws/lambda/{_function_name(suffix)}"
        (group,) = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        assert group["logGroupName"] == name
        assert group["retentionInDays"] == 30


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


@pytest.mark.parametrize("output", ["rooms_table_name", "history_table_name"])
def test_tables_expire_items_on_expires_at_and_keep_backups(live: Applied, output: str) -> None:
    dynamodb = live.client("dynamodb")
    name = live.outputs[output]
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": tables.TTL_ATTRIBUTE}
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


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


@pytest.mark.parametrize("function", ROUTED)
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
    }
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
    assert outputs["function_names"] == {suffix: _function_name(suffix) for suffix in ROUTED}
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
    live.variables = {
        **live.variables,
        "auth_enabled": True,
        "auth_secret_parameter_name": AUTH_PARAMETER,
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
    assert function["Environment"]["Variables"] == {"AUTH_SECRET_PARAMETER": AUTH_PARAMETER}
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


def test_destroy_leaves_nothing_behind(applied: Applied) -> None:
    applied.stack.destroy(applied.variables)
    applied.destroyed = True

    assert applied.stack.resources() == []
    assert applied.client("dynamodb").list_tables()["TableNames"] == []
    assert applied.client("lambda").list_functions()["Functions"] == []
    assert applied.client("apigatewayv2").get_apis()["Items"] == []
    roles = applied.client("iam").list_roles()["Roles"]
    assert [r["RoleName"] for r in roles if r["RoleName"].startswith(NAME_PREFIX)] == []
    groups = applied.client("logs").describe_log_groups()["logGroups"]
    assert [g["logGroupName"] for g in groups if NAME_PREFIX in g["logGroupName"]] == []
