"""Read a deployed WebSocket API back from the emulator: what the gateway must behave like.

Everything comes from the control-plane APIs (apigatewayv2 and lambda) as Terraform left it, so the
local gateway follows the Terraform, not a copy of it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from roomchat_tools.local.runtime import FunctionSpec
from roomchat_tools.local.throttle import StageLimits, stage_limits

log = logging.getLogger("devstack.api")

_LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$")
_FUNCTION_ARN_IN_URI = re.compile(r"/functions/(?P<arn>arn:[^/]+)/invocations$")


class ApiModelError(RuntimeError):
    """The emulator holds no usable WebSocket API (missing, ambiguous or unsupported)."""


@dataclass(frozen=True)
class Authorizer:
    """A Lambda REQUEST authorizer (WebSocket APIs allow one, on $connect)."""

    authorizer_id: str
    name: str
    function: FunctionSpec
    identity_sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    route_key: str
    function: FunctionSpec
    two_way: bool
    authorizer: Authorizer | None = None


@dataclass(frozen=True)
class ApiModel:
    api_id: str
    name: str
    stage: str
    route_selection_expression: str
    routes: dict[str, Route] = field(default_factory=dict)
    # Functions the routed ones invoke through the Lambda API (an environment variable names
    # them by ARN, e.g. REVIEW_FUNCTION): the gateway runs them too, behind its Invoke API.
    invoked: dict[str, FunctionSpec] = field(default_factory=dict)
    # The stage's route throttling (DefaultRouteSettings, RouteSettings), as GetStage answers.
    limits: StageLimits = field(default_factory=StageLimits)

    @property
    def functions(self) -> dict[str, FunctionSpec]:
        found = dict(self.invoked)
        found.update({r.function.name: r.function for r in self.routes.values()})
        for route in self.routes.values():
            if route.authorizer is not None:
                found[route.authorizer.function.name] = route.authorizer.function
        return found


def function_arn_from_uri(uri: str) -> str:
    """Integration URIs are Lambda invoke ARNs (`.../functions/<arn>/invocations`) or plain ARNs."""
    match = _FUNCTION_ARN_IN_URI.search(uri)
    if match:
        return match.group("arn")
    if uri.startswith("arn:") and ":lambda:" in uri and ":function:" in uri:
        return uri
    raise ApiModelError(f"integration URI {uri!r} does not target a Lambda function")


def _pages(call: Any, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token = None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        items.extend(page.get(key, []))
        token = page.get("NextToken")
        if not token:
            return items


def _is_two_way(apigw: Any, api_id: str, route: dict[str, Any]) -> bool:
    """A route is two-way when it has route responses (GetRouteResponses).

    moto does not implement GetRouteResponses, so against it we fall back to the route's
    RouteResponseSelectionExpression, which AWS requires for a two-way route anyway.
    """
    selection = route.get("RouteResponseSelectionExpression")
    if not selection:
        return False
    try:
        found = apigw.get_route_responses(ApiId=api_id, RouteId=route["RouteId"])
    except ClientError:
        return True
    return bool(found.get("Items"))


def _invoked_functions(
    lambda_client: Any, config_cache: dict[str, FunctionSpec]
) -> dict[str, FunctionSpec]:
    """The functions the routed ones name by ARN in their environment (e.g. REVIEW_FUNCTION),
    by name; added to ``config_cache`` too."""
    invoked: dict[str, FunctionSpec] = {}
    for spec in list(config_cache.values()):
        for value in spec.environment.values():
            if _LAMBDA_ARN.match(value) and value not in config_cache:
                try:
                    config_cache[value] = _function_spec(lambda_client, value)
                except ApiModelError:
                    log.warning("%s names %s, which the emulator does not know", spec.name, value)
                    continue
                invoked[config_cache[value].name] = config_cache[value]
    return invoked


def load_api(
    apigw: Any,
    lambda_client: Any,
    *,
    api_id: str | None = None,
    stage: str | None = None,
    probe_route_responses: bool = False,
) -> ApiModel:
    """Build the gateway's model of one WebSocket API.

    With no ``api_id``, the emulator must hold exactly one WebSocket API. ``probe_route_responses``
    asks GetRouteResponses first (real AWS); the default trusts the selection expression (moto).
    """
    apis = [a for a in _pages(apigw.get_apis, "Items") if a.get("ProtocolType") == "WEBSOCKET"]
    if api_id:
        apis = [a for a in apis if a["ApiId"] == api_id]
    if len(apis) != 1:
        names = ", ".join(f"{a['Name']} ({a['ApiId']})" for a in apis) or "none"
        raise ApiModelError(f"expected one WebSocket API, found: {names}")
    api = apis[0]
    api_id = api["ApiId"]

    stages = [s["StageName"] for s in _pages(apigw.get_stages, "Items", ApiId=api_id)]
    if stage is None:
        if not stages:
            raise ApiModelError(f"API {api_id} has no stage")
        stage = stages[0]
    elif stage not in stages:
        raise ApiModelError(f"API {api_id} has no stage {stage!r} (stages: {stages})")

    integrations = {
        i["IntegrationId"]: i for i in _pages(apigw.get_integrations, "Items", ApiId=api_id)
    }
    config_cache: dict[str, FunctionSpec] = {}
    routes: dict[str, Route] = {}
    for route in _pages(apigw.get_routes, "Items", ApiId=api_id):
        key = route["RouteKey"]
        target = route.get("Target") or ""
        if not target.startswith("integrations/"):
            raise ApiModelError(f"route {key} has no integration target")
        integration = integrations.get(target.split("/", 1)[1])
        if integration is None:
            raise ApiModelError(f"route {key} targets missing {target}")
        if integration.get("IntegrationType") != "AWS_PROXY":
            raise ApiModelError(
                f"route {key}: only AWS_PROXY (Lambda proxy) integrations are supported, "
                f"not {integration.get('IntegrationType')}"
            )
        arn = function_arn_from_uri(integration.get("IntegrationUri", ""))
        if arn not in config_cache:
            config_cache[arn] = _function_spec(lambda_client, arn)
        two_way = (
            _is_two_way(apigw, api_id, route)
            if probe_route_responses
            else bool(route.get("RouteResponseSelectionExpression"))
        )
        authorizer = None
        if route.get("AuthorizationType") == "CUSTOM" and route.get("AuthorizerId"):
            authorizer = _authorizer(
                apigw, lambda_client, api_id, route["AuthorizerId"], config_cache
            )
        routes[key] = Route(
            route_key=key, function=config_cache[arn], two_way=two_way, authorizer=authorizer
        )

    invoked = _invoked_functions(lambda_client, config_cache)
    limits = stage_limits(apigw.get_stage(ApiId=api_id, StageName=stage))
    return ApiModel(
        api_id=api_id,
        name=api.get("Name", ""),
        stage=stage,
        route_selection_expression=api.get("RouteSelectionExpression", "$request.body.action"),
        routes=routes,
        invoked=invoked,
        limits=limits,
    )


def _authorizer(
    apigw: Any,
    lambda_client: Any,
    api_id: str,
    authorizer_id: str,
    cache: dict[str, FunctionSpec],
) -> Authorizer:
    found = apigw.get_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
    if found.get("AuthorizerType") != "REQUEST":
        raise ApiModelError(f"authorizer {authorizer_id}: only REQUEST (Lambda) authorizers")
    arn = function_arn_from_uri(found.get("AuthorizerUri", ""))
    if arn not in cache:
        cache[arn] = _function_spec(lambda_client, arn)
    return Authorizer(
        authorizer_id=authorizer_id,
        name=found.get("Name", ""),
        function=cache[arn],
        identity_sources=tuple(found.get("IdentitySource") or ()),
    )


def function_spec(lambda_client: Any, arn: str) -> FunctionSpec:
    """The deployed function's spec (a function that no route targets, e.g. a queue's)."""
    return _function_spec(lambda_client, arn)


def _function_spec(lambda_client: Any, arn: str) -> FunctionSpec:
    try:
        config = lambda_client.get_function_configuration(FunctionName=arn)
    except ClientError as exc:
        raise ApiModelError(f"integration targets {arn}, which the emulator does not know") from exc
    return FunctionSpec(
        name=config["FunctionName"],
        arn=config["FunctionArn"],
        handler=config["Handler"],
        code_sha256=config["CodeSha256"],
        environment=dict((config.get("Environment") or {}).get("Variables") or {}),
        timeout_s=float(config.get("Timeout") or 3),
        memory_mb=int(config.get("MemorySize") or 128),
        runtime=config.get("Runtime") or "python3.11",
        role=config.get("Role") or "",
    )


def emulator_clients(endpoint: str, region: str, session: Any = None) -> tuple[Any, Any]:
    """apigatewayv2 and lambda clients for the emulator (dummy credentials, no retries), from
    ``session`` when given (a boto3 session loads each service's model once)."""
    import boto3

    session = session or boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name=region,
    )
    config = Config(retries={"max_attempts": 1, "mode": "standard"})
    return (
        session.client("apigatewayv2", endpoint_url=endpoint, config=config),
        session.client("lambda", endpoint_url=endpoint, config=config),
    )
