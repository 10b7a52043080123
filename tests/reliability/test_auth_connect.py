"""Sign-in on $connect end to end: the gateway runs the real authorizer (`on_authorize`) and the
real handlers from the real deployment zip, against real tables in an emulator.

tests/e2e/test_gateway.py already covers a missing token (401), a token signed with another
secret (403) and the authorizer's context reaching every event; this file adds the other refused
tokens and what a signed-in connection's name is worth in the chat itself. The API is built with
boto3 (no Terraform: a second apply costs about a minute; see test_auth_stack.py for that)."""

from __future__ import annotations

import base64
import time
import uuid

import boto3
import pytest

from roomchat.auth import sign
from roomchat_tools.infra import build_lambda
from roomchat_tools.local.apimodel import emulator_clients, load_api
from roomchat_tools.local.gateway import Gateway, GatewaySettings, GatewayThread
from roomchat_tools.local.runtime import CodeStore
from tests.e2e.support import Client, account_of, grant, handshake_status, run
from tests.reliability.support import join, members, say
from tests.tables import HISTORY_TABLE, ROOMS_BY_CONNECTION_INDEX, ROOMS_TABLE

pytestmark = pytest.mark.e2e

SECRET = "reliability-auth-secret-0123456789-abcdef"
AUTH_ENV = {"AUTH_SECRET": SECRET, "AUTH_ISSUER": "roomchat-dev", "AUTH_AUDIENCE": "roomchat"}
REGION = "us-east-1"

# route key -> handler in the real zip; all but $connect/$disconnect answer the caller
ROUTES = {
    "$connect": "roomchat.handlers.on_connect",
    "$disconnect": "roomchat.handlers.on_disconnect",
    "join": "roomchat.handlers.on_join",
    "sendAll": "roomchat.handlers.on_send_all",
    "members": "roomchat.handlers.on_members",
}


def _create_api(endpoint: str, zip_path, authorizer_zip, suffix: str) -> tuple[str, str]:
    """Tables, functions and a WebSocket API wired as infra/ wires them, with the authorizer."""
    kwargs = {
        "endpoint_url": endpoint,
        "region_name": REGION,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    ddb, iam, lam, apigw = (
        boto3.client(s, **kwargs) for s in ("dynamodb", "iam", "lambda", "apigatewayv2")
    )
    rooms, history = f"auth-rooms-{suffix}", f"auth-history-{suffix}"
    ddb.create_table(TableName=rooms, **ROOMS_TABLE)
    ddb.create_table(TableName=history, **HISTORY_TABLE)
    role = iam.create_role(RoleName=f"auth-{suffix}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    # What the routes below call (the local stack checks each call against the role).
    tables = [
        f"arn:aws:dynamodb:{REGION}:{account_of(role)}:table/{name}" for name in (rooms, history)
    ]
    grant(
        iam,
        role,
        [
            {
                "Effect": "Allow",
                "Action": [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:Query",
                ],
                "Resource": [*tables, f"{tables[0]}/index/{ROOMS_BY_CONNECTION_INDEX}"],
            },
            {
                "Effect": "Allow",
                "Action": "execute-api:ManageConnections",
                "Resource": f"arn:aws:execute-api:{REGION}:{account_of(role)}:*/auth/POST/*",
            },
        ],
    )
    code = zip_path.read_bytes()
    env = {
        "ROOMS_TABLE": rooms,
        "HISTORY_TABLE": history,
        "ROOMS_BY_CONNECTION_INDEX": ROOMS_BY_CONNECTION_INDEX,
    }

    def function(name: str, handler: str, variables: dict[str, str], zip_bytes=code) -> str:
        arn = lam.create_function(
            FunctionName=f"auth-{suffix}-{name}",
            Runtime="python3.12",
            Role=role,
            Handler=handler,
            Code={"ZipFile": zip_bytes},
            Timeout=15,
            Environment={"Variables": variables},
        )["FunctionArn"]
        return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"

    api_id = apigw.create_api(
        Name=f"auth-{suffix}",
        ProtocolType="WEBSOCKET",
        RouteSelectionExpression="$request.body.action",
    )["ApiId"]
    authorizer_id = apigw.create_authorizer(
        ApiId=api_id,
        AuthorizerType="REQUEST",
        AuthorizerUri=function(
            "authorize",
            "roomchat.authorizer.on_authorize",
            AUTH_ENV,
            authorizer_zip.read_bytes(),
        ),
        IdentitySource=["route.request.querystring.token"],
        Name="token",
    )["AuthorizerId"]
    for route_key, handler in ROUTES.items():
        uri = function(route_key.strip("$").lower(), handler, env)
        integration_id = apigw.create_integration(
            ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=uri
        )["IntegrationId"]
        extra: dict = {"RouteResponseSelectionExpression": "$default"}
        if route_key == "$connect":
            extra = {"AuthorizationType": "CUSTOM", "AuthorizerId": authorizer_id}
        elif route_key == "$disconnect":
            extra = {}
        apigw.create_route(
            ApiId=api_id, RouteKey=route_key, Target=f"integrations/{integration_id}", **extra
        )
    apigw.create_stage(ApiId=api_id, StageName="auth")
    return api_id, rooms


@pytest.fixture(scope="module")
def signed_in(moto_server, tmp_path_factory):
    """(gateway, rooms table name, dynamodb client) for an API with the token authorizer."""
    endpoint = moto_server[0]
    zip_path, _ = build_lambda.build(tmp_path_factory.mktemp("authzip") / "functions.zip")
    authorizer_zip, _ = build_lambda.build_authorizer(
        tmp_path_factory.mktemp("authzip") / "authorizer.zip"
    )
    api_id, rooms = _create_api(endpoint, zip_path, authorizer_zip, uuid.uuid4().hex[:8])
    apigw, lam = emulator_clients(endpoint, REGION)
    api = load_api(apigw, lam, api_id=api_id)
    settings = GatewaySettings(host="127.0.0.1", port=0, concurrency=2)
    thread = GatewayThread(
        lambda: Gateway(
            api,
            CodeStore([zip_path, authorizer_zip]),
            settings,
            emulator_endpoint=endpoint,
            region=REGION,
            log_sink=lambda fn, line: None,
        )
    )
    gateway = thread.start()
    ddb = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    yield gateway, rooms, ddb
    thread.stop()


def _token(name: str | None = "ana", ttl: int = 300, **claims) -> str:
    now = int(time.time())
    body = {"sub": f"user-{name}", "iss": "roomchat-dev", "aud": "roomchat", "iat": now}
    body.update(exp=now + ttl, **claims)
    if name is not None:
        body["name"] = name
    return sign(body, SECRET)


def _tampered() -> str:
    header, _, signature = _token("ana").split(".")
    now = int(time.time())
    forged = f'{{"exp":{now + 60},"iat":{now},"iss":"roomchat-dev","aud":"roomchat",'
    forged += '"name":"root","sub":"user-root"}'
    payload = base64.urlsafe_b64encode(forged.encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: _token("ana", ttl=-60), id="expired"),
        pytest.param(lambda: _token("ana", aud="another-app"), id="wrong-audience"),
        pytest.param(lambda: _token("ana", ttl=10 * 86400), id="lifetime-over-the-maximum"),
        pytest.param(_tampered, id="payload-swapped-under-a-valid-signature"),
        pytest.param(lambda: _token("ana", sub=""), id="no-subject"),
        pytest.param(lambda: "v1." + _token("ana").split(".", 1)[1], id="home-made-v1-format"),
        pytest.param(lambda: "not-a-token", id="garbage"),
    ],
)
def test_bad_tokens_are_refused_with_403(signed_in, token):
    gateway, _, _ = signed_in
    assert handshake_status(f"{gateway.websocket_url}?token={token()}") == 403


def test_the_token_name_wins_over_the_names_a_client_sends(signed_in):
    """Signed in as ana: ?name=, join's name and sendAll's fields cannot make her anyone else."""
    gateway, rooms, ddb = signed_in
    room = f"auth-{uuid.uuid4().hex[:8]}"

    async def scenario():
        ana = await Client.connect(f"{gateway.websocket_url}?token={_token('ana')}&name=mallory")
        bob = await Client.connect(f"{gateway.websocket_url}?token={_token('bob')}")
        joined = await join(ana, room, "mallory")
        await join(bob, room, "bob")
        presence = await ana.expect({"type": "presence", "event": "join", "roomId": room})
        said = await ana.request(
            {"action": "sendAll", "roomId": room, "message": "hi", "sender": "mallory"},
            {"type": "message", "roomId": room},
        )
        seen_by_bob = await bob.expect({"type": "message", "roomId": room})
        bob_says = await say(bob, room, "hello ana")
        listed = await members(bob, room)
        await ana.close()
        await bob.close()
        return locals()

    r = run(scenario())
    assert r["joined"]["name"] == "ana"
    assert r["presence"]["name"] == "bob"
    assert r["said"]["sender"] == "ana" and r["seen_by_bob"] == r["said"]
    assert r["bob_says"]["sender"] == "bob"
    assert r["listed"] == ["ana", "bob"]
    items = ddb.query(
        TableName=rooms,
        KeyConditionExpression="roomId = :r",
        ExpressionAttributeValues={":r": {"S": room}},
    )["Items"]
    assert sorted(i["name"]["S"] for i in items) == ["ana", "bob"]
