"""Helpers for the end-to-end tests: WebSocket clients, a test deployment package, a test API."""

from __future__ import annotations

import asyncio
import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
import websockets

from roomchat_client import Client as ProtocolClient
from roomchat_client import Outbox
from tests.schema.support import check_server_frame

__all__ = ["Client", "Outbox", "handshake_status", "run", "token_for"]


class Client(ProtocolClient):
    """The Python SDK's client (clients/python: roomchat_client) that checks every frame it receives
    against docs/asyncapi.yaml (``check_server_frame``): a frame that does not match fails the
    test's next wait. Unmatched frames stay buffered for ``expect``/``quiet``; ``outbox(room)``
    sends messages the way the project's clients do (``Outbox``)."""

    @classmethod
    async def connect(cls, url: str, **kwargs: Any) -> Client:
        kwargs.setdefault("check", check_server_frame)
        client = await super().connect(url, **kwargs)
        assert isinstance(client, Client)
        return client


def run(coro: Any, timeout: float = 120) -> Any:
    """Run one test's coroutine on a fresh event loop."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


# ---------------------------------------------------------------------------------------------
# A deployment package of test handlers, to check the gateway without the real functions
# ---------------------------------------------------------------------------------------------

TEST_HANDLERS = r'''
import json
import os
import sys
import time

import boto3

_COLD = {"started": time.time(), "invocations": 0}


def _frame(event, context, **extra):
    _COLD["invocations"] += 1
    return {
        "statusCode": 200,
        "body": json.dumps(
            {
                "type": "echo",
                "event": event,
                "context": {
                    "function_name": context.function_name,
                    "aws_request_id": context.aws_request_id,
                    "remaining_ms": context.get_remaining_time_in_millis(),
                    "memory_limit_in_mb": context.memory_limit_in_mb,
                    "invoked_function_arn": context.invoked_function_arn,
                    "log_group_name": context.log_group_name,
                },
                "env": {k: v for k, v in os.environ.items() if not k.startswith("PATH")},
                "pid": os.getpid(),
                "invocations": _COLD["invocations"],
                "module_file": __file__,
                **extra,
            }
        ),
    }


def on_connect(event, context):
    query = event.get("queryStringParameters") or {}
    if "reject" in query:
        return {"statusCode": int(query["reject"]), "body": "no"}
    _record(event)
    return {"statusCode": 200}


def on_disconnect(event, context):
    _record(event)
    return {"statusCode": 200}


def _record(event):
    table = os.environ.get("EVENTS_TABLE")
    if table:
        boto3.client("dynamodb").put_item(
            TableName=table,
            Item={
                "connectionId": {"S": event["requestContext"]["connectionId"]},
                "eventType": {"S": event["requestContext"]["eventType"]},
                "event": {"S": json.dumps(event)},
                "handledAt": {"N": repr(time.time())},
            },
        )


def on_record(event, context):
    """Records the MESSAGE event (and when it was handled) like $connect/$disconnect."""
    _record(event)
    return {"statusCode": 200}


def on_try_calls(event, context):
    """Writes an event and posts to its own connection; answers what each call got (its role
    may lack the grant: the local stack's IAM check answers as AWS would)."""
    from botocore.exceptions import ClientError

    outcome = {}
    calls = {
        "put_item": lambda: _record(event),
        "post": lambda: boto3.client(
            "apigatewaymanagementapi", endpoint_url=os.environ["CALLBACK_URL"]
        ).post_to_connection(
            ConnectionId=event["requestContext"]["connectionId"], Data=b'{"type": "posted"}'
        ),
    }
    for name, call in calls.items():
        try:
            call()
            outcome[name] = "ok"
        except ClientError as e:
            outcome[name] = e.response["Error"]["Code"]
            outcome[name + "_message"] = e.response["Error"].get("Message", "")
    return {"statusCode": 200, "body": json.dumps({"type": "tried", **outcome})}


def on_big(event, context):
    """Replies with a frame of exactly the requested number of bytes."""
    size = int(json.loads(event["body"])["bytes"])
    head = '{"type": "big", "pad": "'
    return {"statusCode": 200, "body": head + "x" * (size - len(head) - 2) + '"}'}


def on_echo(event, context):
    return _frame(event, context)


def on_silent(event, context):
    return {"statusCode": 200}


def on_boom(event, context):
    raise RuntimeError("boom")


def on_sleep(event, context):
    started = time.time()
    time.sleep(float(json.loads(event["body"]).get("seconds", 5)))
    return _frame(event, context, started=started, ended=time.time())


def on_slow_review(event, context):
    """A message review hook that takes SLEEP_S seconds to allow (the timeout fallback)."""
    time.sleep(float(os.environ.get("SLEEP_S", "1")))
    return {"verdict": "allow"}


def on_bad_import(event, context):
    import aiohttp  # in this machine's site-packages, not in the zip nor in Lambda's runtime

    return _frame(event, context, aiohttp=aiohttp.__version__)


def on_exit(event, context):
    os._exit(3)


def on_post(event, context):
    """Post to the connections named in the body through the @connections API, like a fan-out."""
    body = json.loads(event["body"])
    client = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CALLBACK_URL"])
    results = {}
    for target in body["to"]:
        try:
            client.post_to_connection(ConnectionId=target, Data=body["data"].encode())
            results[target] = "ok"
        except client.exceptions.GoneException:
            results[target] = "gone"
    return {"statusCode": 200, "body": json.dumps({"type": "posted", "results": results})}
'''

# route key -> (function suffix, handler, two-way, timeout seconds)
TEST_ROUTES = {
    "$connect": ("connect", "gw_handlers.on_connect", False, 10),
    "$disconnect": ("disconnect", "gw_handlers.on_disconnect", False, 10),
    "$default": ("default", "gw_handlers.on_echo", True, 10),
    "echo": ("echo", "gw_handlers.on_echo", True, 10),
    "silent": ("silent", "gw_handlers.on_silent", True, 10),
    "oneway": ("oneway", "gw_handlers.on_echo", False, 10),
    "boom": ("boom", "gw_handlers.on_boom", True, 10),
    "sleep": ("sleep", "gw_handlers.on_sleep", True, 2),
    "exit": ("exit", "gw_handlers.on_exit", True, 10),
    "badimport": ("badimport", "gw_handlers.on_bad_import", True, 10),
    "post": ("post", "gw_handlers.on_post", True, 10),
    "record": ("record", "gw_handlers.on_record", False, 10),
    "big": ("big", "gw_handlers.on_big", True, 10),
    "denied": ("denied", "gw_handlers.on_try_calls", True, 10),  # a role without its grants
}


def grant(iam: Any, role_arn: str, statements: list[dict[str, Any]]) -> None:
    """An inline policy on the role: the local stack checks the functions' calls against it."""
    iam.put_role_policy(
        RoleName=role_arn.rsplit("/", 1)[-1],
        PolicyName="calls",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )


def account_of(role_arn: str) -> str:
    return role_arn.split(":")[4]


def build_test_zip(path: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("gw_handlers.py", date_time=(1980, 1, 1, 0, 0, 0))
        archive.writestr(info, TEST_HANDLERS)
    path.write_bytes(buffer.getvalue())
    return path


def create_test_api(clients: dict[str, Any], zip_path: Path, events_table: str) -> dict[str, str]:
    """A WebSocket API in the emulator wired like the real one, built with boto3 (no Terraform)."""
    iam, lam, apigw, ddb = (
        clients["iam"],
        clients["lambda"],
        clients["apigatewayv2"],
        clients["dynamodb"],
    )
    ddb.create_table(
        TableName=events_table,
        KeySchema=[
            {"AttributeName": "connectionId", "KeyType": "HASH"},
            {"AttributeName": "eventType", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "connectionId", "AttributeType": "S"},
            {"AttributeName": "eventType", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    role = iam.create_role(RoleName="gw-test", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    api = apigw.create_api(
        Name="gw-test", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    api_id = api["ApiId"]
    code = zip_path.read_bytes()
    for route_key, (suffix, handler, two_way, timeout) in TEST_ROUTES.items():
        fn = lam.create_function(
            FunctionName=f"gw-test-{suffix}",
            Runtime="python3.11",
            Role=role,
            Handler=handler,
            Code={"ZipFile": code},
            Timeout=timeout,
            MemorySize=256,
            Environment={"Variables": {"EVENTS_TABLE": events_table, "ROUTE_NAME": suffix}},
        )
        uri = (
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
            f"{fn['FunctionArn']}/invocations"
        )
        integration = apigw.create_integration(
            ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=uri
        )
        extra = {"RouteResponseSelectionExpression": "$default"} if two_way else {}
        route = apigw.create_route(
            ApiId=api_id,
            RouteKey=route_key,
            Target=f"integrations/{integration['IntegrationId']}",
            **extra,
        )
        if two_way:
            apigw.create_route_response(
                ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default"
            )
    apigw.create_stage(ApiId=api_id, StageName="test")
    account = account_of(role)
    grant(
        iam,
        role,
        [
            {
                "Effect": "Allow",
                "Action": ["dynamodb:PutItem"],
                "Resource": f"arn:aws:dynamodb:us-east-1:{account}:table/{events_table}",
            },
            {
                "Effect": "Allow",
                "Action": ["execute-api:ManageConnections"],
                "Resource": f"arn:aws:execute-api:us-east-1:{account}:{api_id}/test/*",
            },
        ],
    )
    # The "denied" route's function has a role of its own: PutItem on another table only, and
    # no @connections at all.
    narrow = iam.create_role(RoleName="gw-test-narrow", AssumeRolePolicyDocument="{}")["Role"]
    grant(
        iam,
        narrow["Arn"],
        [
            {
                "Effect": "Allow",
                "Action": ["dynamodb:PutItem"],
                "Resource": f"arn:aws:dynamodb:us-east-1:{account}:table/another-table",
            }
        ],
    )
    lam.update_function_configuration(FunctionName="gw-test-denied", Role=narrow["Arn"])
    return {"api_id": api_id, "stage": "test"}


AUTH_SECRET = "local-test-secret-0123456789-0123456789"
# What the authorizer checks besides the signature (the token command's defaults).
AUTH_ENV = {
    "AUTH_SECRET": AUTH_SECRET,
    "AUTH_ISSUER": "roomchat-dev",
    "AUTH_AUDIENCE": "roomchat",
}


def create_auth_api(
    clients: dict[str, Any], test_zip: Path, real_zip: Path, events_table: str
) -> dict[str, str]:
    """An API whose $connect has the project's REQUEST authorizer (the real on_authorize, from the
    real authorizer zip) in front of the test handlers."""
    iam, lam, apigw = clients["iam"], clients["lambda"], clients["apigatewayv2"]
    role = iam.create_role(RoleName="gw-auth-test", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    grant(
        iam,
        role,
        [
            {
                "Effect": "Allow",
                "Action": ["dynamodb:PutItem"],
                "Resource": f"arn:aws:dynamodb:us-east-1:{account_of(role)}:table/{events_table}",
            }
        ],
    )
    api_id = apigw.create_api(
        Name="gw-auth-test",
        ProtocolType="WEBSOCKET",
        RouteSelectionExpression="$request.body.action",
    )["ApiId"]

    def function(name: str, handler: str, zip_path: Path, env: dict[str, str]) -> str:
        arn = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler=handler,
            Code={"ZipFile": zip_path.read_bytes()},
            Timeout=10,
            Environment={"Variables": env},
        )["FunctionArn"]
        return f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"

    authorizer_uri = function(
        "gw-auth-authorize",
        "roomchat.authorizer.on_authorize",
        real_zip,
        dict(AUTH_ENV),
    )
    authorizer_id = apigw.create_authorizer(
        ApiId=api_id,
        AuthorizerType="REQUEST",
        AuthorizerUri=authorizer_uri,
        IdentitySource=["route.request.querystring.token"],
        Name="token",
    )["AuthorizerId"]
    for route_key, handler in (
        ("$connect", "gw_handlers.on_connect"),
        ("$disconnect", "gw_handlers.on_disconnect"),
        ("$default", "gw_handlers.on_echo"),
    ):
        uri = function(
            f"gw-auth-{route_key.strip('$')}", handler, test_zip, {"EVENTS_TABLE": events_table}
        )
        integration_id = apigw.create_integration(
            ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=uri
        )["IntegrationId"]
        extra: dict[str, Any] = {}
        if route_key == "$connect":
            extra = {"AuthorizationType": "CUSTOM", "AuthorizerId": authorizer_id}
        if route_key == "$default":
            extra = {"RouteResponseSelectionExpression": "$default"}
        apigw.create_route(
            ApiId=api_id, RouteKey=route_key, Target=f"integrations/{integration_id}", **extra
        )
    apigw.create_stage(ApiId=api_id, StageName="auth")
    return {"api_id": api_id, "stage": "auth"}


def token_for(name: str, secret: str = AUTH_SECRET, ttl: int = 300, **extra: Any) -> str:
    """A connect JWT for user ``user-<name>`` named ``name``, valid for ``ttl`` seconds."""
    from roomchat.auth import sign

    now = int(time.time())
    claims = {
        "sub": f"user-{name}",
        "name": name,
        "iss": AUTH_ENV["AUTH_ISSUER"],
        "aud": AUTH_ENV["AUTH_AUDIENCE"],
        "iat": now,
        "exp": now + ttl,
        **extra,
    }
    return sign(claims, secret)


def handshake_status(url: str) -> int:
    """The HTTP status of a refused WebSocket handshake (fails the test if it is accepted)."""

    async def attempt():
        with pytest.raises(websockets.InvalidStatus) as info:
            await Client.connect(url)
        return info.value.response.status_code

    return run(attempt())
