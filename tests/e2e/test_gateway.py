"""The local gateway behaves like API Gateway for a WebSocket API (test API built with boto3)."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.request

import boto3
import pytest
import websockets
from botocore.config import Config
from botocore.exceptions import ClientError

from roomchat_tools.local.gateway import Gateway, GatewaySettings, GatewayThread
from roomchat_tools.local.runtime import CodeMismatchError, CodeStore
from tests.e2e.conftest import EVENTS_TABLE
from tests.e2e.support import Client, handshake_status, run, token_for

pytestmark = pytest.mark.e2e

CONNECTION_ID = re.compile(r"^[A-Za-z0-9_-]{15}=$")


async def _echo(client: Client, frame=None) -> dict:
    reply = await client.request(frame or {"action": "echo"}, {"type": "echo"})
    return json.loads(json.dumps(reply))


async def _connection_id(client: Client) -> str:
    return (await _echo(client))["event"]["requestContext"]["connectionId"]


def _recorded(aws, connection_id: str, event_type: str, timeout: float = 10) -> dict:
    """The event the test $connect/$disconnect handler stored in DynamoDB."""
    deadline = time.monotonic() + timeout
    while True:
        item = (
            aws["dynamodb"]
            .get_item(
                TableName=EVENTS_TABLE,
                Key={"connectionId": {"S": connection_id}, "eventType": {"S": event_type}},
            )
            .get("Item")
        )
        if item:
            return json.loads(item["event"]["S"])
        if time.monotonic() > deadline:
            raise AssertionError(f"no {event_type} event recorded for {connection_id}")
        time.sleep(0.1)


def _management(gateway: Gateway, emulator):
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=gateway.callback_url,
        **{k: v for k, v in emulator.client_kwargs().items() if k != "endpoint_url"},
    )


# ----- events and context ------------------------------------------------------------------------


def test_message_event_has_api_gateway_request_context(gateway):
    async def scenario():
        client = await Client.connect(gateway.websocket_url)
        before = int(time.time() * 1000)
        reply = await _echo(client, {"action": "echo", "x": 1})
        await client.close()
        return before, reply

    before, reply = run(scenario())
    event = reply["event"]
    ctx = event["requestContext"]
    assert event["body"] == json.dumps({"action": "echo", "x": 1})
    assert event["isBase64Encoded"] is False
    assert ctx["routeKey"] == "echo"
    assert ctx["eventType"] == "MESSAGE"
    assert CONNECTION_ID.match(ctx["connectionId"])
    assert CONNECTION_ID.match(ctx["requestId"]) and CONNECTION_ID.match(ctx["messageId"])
    assert ctx["connectedAt"] <= before <= ctx["requestTimeEpoch"]
    assert ctx["stage"] == "test"
    assert ctx["apiId"] == gateway.api.api_id
    assert ctx["domainName"] == gateway.domain_name
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert ctx["messageDirection"] == "IN"


def test_handler_gets_lambda_context_and_function_environment(gateway, emulator):
    reply = run(_echo_once(gateway.websocket_url))
    context, env = reply["context"], reply["env"]
    assert context["function_name"] == "gw-test-echo"
    assert context["invoked_function_arn"].endswith(":function:gw-test-echo")
    assert context["memory_limit_in_mb"] == 256
    assert context["log_group_name"] == "/aws/lambda/gw-test-echo"
    assert 0 < context["remaining_ms"] <= 10_000
    # the function's own configuration, from the emulator
    assert env["ROUTE_NAME"] == "echo" and env["EVENTS_TABLE"] == EVENTS_TABLE
    # plus the local stack's endpoints and dummy credentials
    assert env["CALLBACK_URL"] == gateway.callback_url
    assert env["AWS_ENDPOINT_URL"] == emulator.endpoint
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    # its role's session (the gateway knows the function's @connections requests by it), and
    # no trace of the IAM check's own settings
    assert env["AWS_SESSION_TOKEN"].startswith("local-session-gw-test-echo-")
    assert not any(k.startswith("_ROOMCHAT") for k in env)
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "gw-test-echo"
    assert env["_HANDLER"] == "gw_handlers.on_echo"


def test_code_runs_from_the_deployment_package(gateway):
    reply = run(_echo_once(gateway.websocket_url))
    assert reply["module_file"].startswith(reply["env"]["LAMBDA_TASK_ROOT"])


async def _echo_once(url: str, frame=None) -> dict:
    client = await Client.connect(url)
    try:
        return await _echo(client, frame)
    finally:
        await client.close()


def test_connect_event_carries_query_string_and_headers(gateway, aws):
    async def scenario():
        url = gateway.websocket_url + "?name=ana&tag=a&tag=b"
        client = await Client.connect(url, additional_headers={"X-Test": "yes"})
        connection_id = await _connection_id(client)
        await client.close()
        return connection_id

    connection_id = run(scenario())
    event = _recorded(aws, connection_id, "CONNECT")
    assert event["requestContext"]["routeKey"] == "$connect"
    assert event["requestContext"]["eventType"] == "CONNECT"
    assert event["queryStringParameters"] == {"name": "ana", "tag": "b"}
    assert event["multiValueQueryStringParameters"]["tag"] == ["a", "b"]
    assert event["headers"]["X-Test"] == "yes"
    assert event["multiValueHeaders"]["X-Test"] == ["yes"]
    assert "Sec-WebSocket-Key" in event["headers"]


def test_connect_handler_rejecting_fails_the_handshake_with_its_status(gateway):
    async def scenario():
        with pytest.raises(websockets.InvalidStatus) as info:
            await Client.connect(gateway.websocket_url + "?reject=403")
        return info.value.response.status_code

    assert run(scenario()) == 403


def test_disconnect_runs_on_client_close_with_its_status(gateway, aws):
    async def scenario():
        client = await Client.connect(gateway.websocket_url)
        connection_id = await _connection_id(client)
        await client.ws.close(code=4000, reason="bye")
        return connection_id

    connection_id = run(scenario())
    event = _recorded(aws, connection_id, "DISCONNECT")
    assert event["requestContext"]["routeKey"] == "$disconnect"
    assert event["requestContext"]["disconnectStatusCode"] == 4000


def test_disconnect_runs_when_the_client_vanishes_without_a_close_frame(gateway, aws, emulator):
    async def scenario():
        client = await Client.connect(gateway.websocket_url)
        connection_id = await _connection_id(client)
        client.ws.transport.abort()  # TCP reset: no close handshake
        return connection_id

    connection_id = run(scenario())
    event = _recorded(aws, connection_id, "DISCONNECT")
    assert event["requestContext"]["disconnectStatusCode"] == 1006
    with pytest.raises(ClientError) as info:
        _management(gateway, emulator).post_to_connection(ConnectionId=connection_id, Data=b"x")
    assert info.value.response["Error"]["Code"] == "GoneException"


# ----- route selection and two-way routes ------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    ["not json", json.dumps({"no": "action"}), json.dumps({"action": "nope"}), "[1, 2]"],
    ids=["not-json", "no-action", "unknown-action", "json-array"],
)
def test_frames_matching_no_route_go_to_default(gateway, frame):
    reply = run(_echo_once(gateway.websocket_url, frame))
    assert reply["event"]["requestContext"]["routeKey"] == "$default"
    assert reply["event"]["body"] == frame


def test_binary_frames_reach_default_base64_encoded(gateway):
    reply = run(_echo_once(gateway.websocket_url, b"\x00\x01bin"))
    assert reply["event"]["isBase64Encoded"] is True
    assert reply["event"]["body"] == "AAFiaW4="


def test_one_way_route_and_empty_body_send_nothing_back(gateway):
    async def scenario():
        client = await Client.connect(gateway.websocket_url)
        await client.send({"action": "oneway"})
        await client.send({"action": "silent"})
        frames = await client.quiet(1.0)
        await client.close()
        return frames

    assert run(scenario()) == []


def test_handler_exception_gives_internal_server_error_and_gateway_stays_up(gateway):
    async def scenario():
        client = await Client.connect(gateway.websocket_url)
        connection_id = await _connection_id(client)
        error = await client.request({"action": "boom"}, {"message": "Internal server error"})
        after = await _echo(client)  # same connection, still served
        await client.close()
        return connection_id, error, after

    connection_id, error, after = run(scenario())
    assert error["connectionId"] == connection_id
    assert CONNECTION_ID.match(error["requestId"])
    assert set(error) == {"message", "connectionId", "requestId"}
    assert after["type"] == "echo"


def test_function_timeout_gives_internal_server_error_and_a_fresh_worker(gateway):
    async def scenario():
        client = await Client.connect(gateway.websocket_url)
        connection_id = await _connection_id(client)
        started = time.monotonic()
        error = await client.request(
            {"action": "sleep", "seconds": 10}, {"message": "Internal server error"}
        )
        elapsed = time.monotonic() - started
        again = await client.request({"action": "sleep", "seconds": 0}, {"type": "echo"})
        await client.close()
        return connection_id, elapsed, error, again

    connection_id, elapsed, error, again = run(scenario())
    assert 1.5 < elapsed < 6  # the function's configured timeout is 2 s
    assert error["connectionId"] == connection_id
    assert again["type"] == "echo"  # the function still answers, from a fresh environment


def test_crashing_worker_gives_internal_server_error(gateway):
    async def scenario():
        client = await Client.connect(gateway.websocket_url)
        error = await client.request({"action": "exit"}, {"message": "Internal server error"})
        after = await _echo(client)
        await client.close()
        return error, after

    error, after = run(scenario())
    assert set(error) == {"message", "connectionId", "requestId"}
    assert after["type"] == "echo"


def test_imports_that_lambda_would_not_have_fail_as_on_lambda(gateway):
    async def scenario():
        client = await Client.connect(gateway.websocket_url)
        error = await client.request({"action": "badimport"}, {"message": "Internal server error"})
        await client.close()
        return error

    assert run(scenario())["message"] == "Internal server error"


def test_workers_stay_warm_between_invocations(gateway):
    async def scenario():
        client = await Client.connect(gateway.websocket_url)
        first = await _echo(client)
        second = await _echo(client)
        await client.close()
        return first, second

    first, second = run(scenario())
    assert second["pid"] == first["pid"]
    assert second["invocations"] == first["invocations"] + 1


def test_one_function_runs_concurrent_invocations_in_separate_workers(gateway):
    async def scenario():
        client = await Client.connect(gateway.websocket_url)
        # Long enough for the third worker's cold start on a loaded machine, within the 2 s timeout.
        for _ in range(3):
            await client.send({"action": "sleep", "seconds": 1.8})
        replies = [await client.expect({"type": "echo"}, timeout=20) for _ in range(3)]
        await client.close()
        return replies

    replies = run(scenario())
    assert len({r["pid"] for r in replies}) == 3
    # the three handler runs overlapped in time
    assert max(r["started"] for r in replies) < min(r["ended"] for r in replies)


def test_many_connections_are_served_concurrently(gateway):
    async def scenario():
        clients = await asyncio.gather(*(Client.connect(gateway.websocket_url) for _ in range(20)))
        replies = await asyncio.gather(*(_echo(c) for c in clients))
        await asyncio.gather(*(c.close() for c in clients))
        return replies

    replies = run(scenario())
    ids = {r["event"]["requestContext"]["connectionId"] for r in replies}
    assert len(ids) == 20


# ----- IAM: each function's calls are checked against its role (iam_check.py) --------------------


def test_a_call_its_role_does_not_grant_fails_with_access_denied_as_on_aws(gateway, aws):
    """The "denied" route's role grants PutItem on another table only, and no @connections: its
    DynamoDB write is refused in the worker (the resource does not match) and its post by the
    gateway, each with AWS's error, and neither reaches the emulator or the connection."""

    async def scenario():
        client = await Client.connect(gateway.websocket_url)
        connection_id = await _connection_id(client)
        # The route's first invocation (a cold start, two calls): generous on a busy machine.
        reply = await client.request({"action": "denied"}, {"type": "tried"}, timeout=30)
        posted = await client.quiet(0.5)
        await client.close()
        return connection_id, reply, posted

    connection_id, reply, posted = run(scenario())
    assert reply["put_item"] == "AccessDeniedException"
    assert reply["put_item_message"] == (
        "User: arn:aws:sts::123456789012:assumed-role/gw-test-narrow/gw-test-denied is not "
        "authorized to perform: dynamodb:PutItem on resource: "
        f"arn:aws:dynamodb:us-east-1:123456789012:table/{EVENTS_TABLE} because no "
        "identity-based policy allows the dynamodb:PutItem action"
    )
    assert reply["post"] == "AccessDeniedException"
    assert "execute-api:ManageConnections" in reply["post_message"]
    assert posted == []
    item = aws["dynamodb"].get_item(
        TableName=EVENTS_TABLE,
        Key={"connectionId": {"S": connection_id}, "eventType": {"S": "MESSAGE"}},
    )
    assert "Item" not in item


def test_unsigned_management_requests_are_refused_as_api_gateway_does(gateway):
    request = urllib.request.Request(
        gateway.callback_url + "/@connections/abc", method="POST", data=b"hi"
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 403
    assert info.value.headers["x-amzn-ErrorType"] == "ForbiddenException"


# ----- @connections management API ----------------------------------------------------------------


def test_handler_posts_to_connections_during_its_invocation(gateway):
    async def scenario():
        sender = await Client.connect(gateway.websocket_url)
        receiver = await Client.connect(gateway.websocket_url)
        target = await _connection_id(receiver)
        reply = await sender.request(
            {"action": "post", "to": [target, "AAAAAAAAAAAAAAA="], "data": "hello"},
            {"type": "posted"},
        )
        received = await receiver.next_frame()
        await sender.close()
        await receiver.close()
        return target, reply, received

    target, reply, received = run(scenario())
    assert reply["results"] == {target: "ok", "AAAAAAAAAAAAAAA=": "gone"}
    assert received == "hello"


def test_management_api_posts_and_describes_a_connection(gateway, emulator):
    api = _management(gateway, emulator)

    async def scenario():
        client = await Client.connect(gateway.websocket_url, user_agent_header="e2e-test/1")
        connection_id = await _connection_id(client)
        info = await asyncio.to_thread(api.get_connection, ConnectionId=connection_id)
        await asyncio.to_thread(
            api.post_to_connection, ConnectionId=connection_id, Data=b'{"type":"hi"}'
        )
        frame = await client.next_frame()
        await client.close()
        return info, frame

    info, frame = run(scenario())
    assert frame == {"type": "hi"}
    assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "e2e-test/1"}
    assert info["ConnectedAt"] <= info["LastActiveAt"]


@pytest.mark.parametrize("operation", ["post_to_connection", "get_connection", "delete_connection"])
def test_management_api_answers_gone_for_unknown_connections(gateway, emulator, operation):
    api = _management(gateway, emulator)
    kwargs = {"ConnectionId": "Zm9vYmFyYmF6cXU="}
    if operation == "post_to_connection":
        kwargs["Data"] = b"x"
    with pytest.raises(api.exceptions.GoneException) as info:
        getattr(api, operation)(**kwargs)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410


def test_management_api_delete_closes_the_connection_and_runs_disconnect(gateway, emulator, aws):
    api = _management(gateway, emulator)

    async def scenario():
        client = await Client.connect(gateway.websocket_url)
        connection_id = await _connection_id(client)
        await asyncio.to_thread(api.delete_connection, ConnectionId=connection_id)
        await asyncio.wait_for(client.ws.wait_closed(), 5)
        return connection_id

    connection_id = run(scenario())
    _recorded(aws, connection_id, "DISCONNECT")
    with pytest.raises(api.exceptions.GoneException):
        api.post_to_connection(ConnectionId=connection_id, Data=b"x")


def test_management_api_rejects_posts_over_128_kb(gateway, emulator):
    api = _management(gateway, emulator)

    async def scenario():
        client = await Client.connect(gateway.websocket_url)
        connection_id = await _connection_id(client)
        with pytest.raises(ClientError) as info:
            await asyncio.to_thread(
                api.post_to_connection, ConnectionId=connection_id, Data=b"x" * (128 * 1024 + 1)
            )
        await client.close()
        return info.value.response

    response = run(scenario())
    assert response["Error"]["Code"] == "PayloadTooLargeException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_route_reply_over_128_kb_is_not_sent_and_is_logged_as_an_execution_failure(gateway, caplog):
    # given a two-way route whose function answers more than the 128 KB message payload quota
    quota = 128 * 1024

    async def scenario():
        client = await Client.connect(gateway.websocket_url)
        await client.send({"action": "big", "bytes": quota + 1})
        oversize = await client.quiet(1.5)
        # then the connection stays usable, and a reply of exactly 128 KB still goes through
        fitting = await client.request({"action": "big", "bytes": quota}, {"type": "big"})
        await client.close()
        return oversize, fitting

    with caplog.at_level("ERROR", logger="devstack.gateway"):
        oversize, fitting = run(scenario())

    # then the client receives nothing for it (AWS's behaviour is undocumented: strict reading)
    assert oversize == []
    assert len('{"type": "big", "pad": ""}') + len(fitting["pad"]) == quota
    assert any(
        "Execution failed" in r.getMessage() and f"is {quota + 1} bytes" in r.getMessage()
        for r in caplog.records
    )


def test_management_api_unknown_method_is_forbidden(gateway):
    request = urllib.request.Request(
        gateway.callback_url + "/@connections/abc", method="PUT", data=b""
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 403
    assert info.value.headers["x-amzn-ErrorType"] == "ForbiddenException"


# ----- limits ------------------------------------------------------------------------------------


def test_frame_over_32_kb_is_closed_with_1009(gateway):
    async def scenario():
        client = await Client.connect(gateway.websocket_url)
        ok = await _echo(client, {"action": "echo", "pad": "x" * (32 * 1024 - 40)})
        await client.send({"action": "echo", "pad": "x" * (32 * 1024)})
        with pytest.raises(websockets.ConnectionClosedError) as info:
            await client.next_frame()
        return ok, info.value.rcvd.code

    ok, code = run(scenario())
    assert ok["type"] == "echo"
    assert code == 1009


def test_idle_connection_is_closed_after_the_idle_timeout(short_gateway, aws):
    async def scenario():
        client = await Client.connect(short_gateway.websocket_url)
        # The idle clock restarts when the gateway receives this frame, so after `started`
        # whatever the load (timed from the reply, a slow reply made the close look early).
        started = time.monotonic()
        connection_id = await _connection_id(client)
        await asyncio.wait_for(client.ws.wait_closed(), 30)
        return connection_id, time.monotonic() - started, client.ws.close_code

    connection_id, elapsed, code = run(scenario())
    # Idle timeout 1.5 s, from the last client frame: never before it. How late after it depends
    # on the machine's load (no upper bound here: the maximum duration, 4 s, closes with the same
    # 1001, and test_active_connection_stays_open_until_the_maximum_duration shows that an active
    # connection outlives the idle timeout, so the idle close is what ends this silent one).
    assert elapsed >= 1.5
    assert code == 1001
    assert (
        _recorded(aws, connection_id, "DISCONNECT")["requestContext"]["disconnectStatusCode"]
        == 1001
    )


def test_active_connection_stays_open_until_the_maximum_duration(short_gateway):
    async def scenario():
        client = await Client.connect(short_gateway.websocket_url)
        started = time.monotonic()
        alive_after_idle = False
        while time.monotonic() - started < 6:
            try:
                await _echo(client)
            except websockets.ConnectionClosed:
                break
            if time.monotonic() - started > 2.5:
                alive_after_idle = True
            await asyncio.sleep(0.5)
        return alive_after_idle, time.monotonic() - started, client.ws.close_code

    alive_after_idle, elapsed, code = run(scenario())
    assert alive_after_idle  # messages reset the 1.5 s idle timer
    assert 3.5 < elapsed < 5.5  # maximum duration 4 s
    assert code == 1001


# ----- deployment checks and the web client ----------------------------------------------------


def test_gateway_refuses_code_that_does_not_match_the_deployed_sha(test_api, tmp_path, emulator):
    other = tmp_path / "other.zip"
    other.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip
    with pytest.raises(CodeMismatchError, match="CodeSha256"):
        Gateway(
            test_api,
            CodeStore([other]),
            GatewaySettings(port=0),
            emulator_endpoint=emulator.endpoint,
            region=emulator.region,
        )


def test_web_client_and_urls_are_served_on_the_same_port(gateway):
    with urllib.request.urlopen(gateway.http_url + "/", timeout=5) as response:
        assert b"<title>roomchat</title>" in response.read()
    with urllib.request.urlopen(gateway.http_url + "/app.js", timeout=5) as response:
        assert response.read() == b"console.log('hi')"
    with urllib.request.urlopen(gateway.http_url + "/devstack.json", timeout=5) as response:
        assert json.load(response)["websocketUrl"] == gateway.websocket_url
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(gateway.http_url + "/..%2f..%2fetc%2fpasswd", timeout=5)
    assert info.value.code == 404


def test_workers_left_by_a_burst_are_stopped_when_idle_and_one_stays_warm(gateway):
    async def scenario():
        client = await Client.connect(gateway.websocket_url)
        for _ in range(3):
            await client.send({"action": "sleep", "seconds": 0.3})
        burst = [await client.expect({"type": "echo"}, timeout=20) for _ in range(3)]
        await asyncio.sleep(5)  # worker_idle_s is 2 s in this fixture
        after = await client.request({"action": "sleep", "seconds": 0}, {"type": "echo"})
        await client.close()
        return burst, after

    burst, after = run(scenario())
    pool = gateway.pools["gw-test-sleep"]
    assert len({r["pid"] for r in burst}) >= 2
    assert after["pid"] in {r["pid"] for r in burst}  # a warm one was kept
    assert len(pool.worker_pids) == 1


# ----- $connect authorizer ------------------------------------------------------------------------


def test_authorizer_without_its_identity_source_answers_401(auth_gateway):
    assert handshake_status(auth_gateway.websocket_url) == 401


def test_authorizer_denying_a_bad_token_answers_403(auth_gateway):
    forged = token_for("ana", secret="another-secret-0123456789-0123456789")
    assert handshake_status(f"{auth_gateway.websocket_url}?token={forged}") == 403


def test_authorizer_context_reaches_every_event_of_the_connection(auth_gateway, aws):
    async def scenario():
        client = await Client.connect(f"{auth_gateway.websocket_url}?token={token_for('ana')}")
        reply = await _echo(client, {"action": "anything"})
        await client.close()
        return reply

    reply = run(scenario())
    context = reply["event"]["requestContext"]
    assert context["authorizer"]["name"] == "ana"
    assert context["authorizer"]["principalId"] == "user-ana"
    connection_id = context["connectionId"]
    assert _recorded(aws, connection_id, "CONNECT")["requestContext"]["authorizer"]["name"] == "ana"
    disconnect = _recorded(aws, connection_id, "DISCONNECT")
    assert disconnect["requestContext"]["authorizer"]["sub"] == "user-ana"


def test_a_handler_that_cannot_be_imported_gives_internal_server_error(
    emulator, aws, test_api, test_zip, tmp_path
):
    """Init errors (Runtime.ImportModuleError) reach the client as Internal server error."""
    import dataclasses

    from roomchat_tools.local.apimodel import Route

    broken = dataclasses.replace(test_api.routes["echo"].function, handler="gw_handlers.nope")
    routes = {**test_api.routes, "echo": Route("echo", broken, two_way=True)}
    api = dataclasses.replace(test_api, routes=routes)
    thread = GatewayThread(
        lambda: Gateway(
            api,
            CodeStore([test_zip]),
            GatewaySettings(port=0),
            emulator_endpoint=emulator.endpoint,
            region=emulator.region,
            log_sink=lambda fn, line: None,
        )
    )
    gw = thread.start()
    try:
        error = run(_echo_error(gw.websocket_url))
    finally:
        thread.stop()
    assert error["message"] == "Internal server error"


async def _echo_error(url: str) -> dict:
    client = await Client.connect(url)
    try:
        return await client.request({"action": "echo"}, {"message": "Internal server error"})
    finally:
        await client.close()


# ----- fault injection (/_devstack/faults) --------------------------------------------------------


def _faults(gw: Gateway, method: str, body=None) -> tuple[int, dict | None]:
    """Call the gateway's fault-injection endpoint; (status, JSON answer or None)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        gw.http_url + "/_devstack/faults",
        method=method,
        data=data,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


@pytest.fixture
def faults(gateway):
    """The shared gateway with no fault rules before and after the test."""
    assert _faults(gateway, "DELETE")[0] == 204
    yield gateway
    _faults(gateway, "DELETE")


def _no_retries(gw: Gateway, emulator):
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=gw.callback_url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
        **{k: v for k, v in emulator.client_kwargs().items() if k != "endpoint_url"},
    )


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (410, "GoneException"),
        (429, "LimitExceededException"),
        (500, "InternalServerErrorException"),
    ],
)
def test_fault_answers_the_chosen_status_n_times_then_the_call_goes_through(
    faults, emulator, status, code
):
    api = _no_retries(faults, emulator)

    async def scenario():
        client = await Client.connect(faults.websocket_url)
        connection_id = await _connection_id(client)
        added = _faults(
            faults, "POST", {"connectionId": connection_id, "status": status, "times": 2}
        )
        errors = []
        for _ in range(2):
            with pytest.raises(ClientError) as info:
                await asyncio.to_thread(
                    api.post_to_connection, ConnectionId=connection_id, Data=b"x"
                )
            errors.append(info.value.response)
        await asyncio.to_thread(api.post_to_connection, ConnectionId=connection_id, Data=b"ok")
        frames = await client.quiet(0.5)
        await client.close()
        return connection_id, added, errors, frames

    connection_id, added, errors, frames = run(scenario())
    assert added[0] == 201
    assert [e["Error"]["Code"] for e in errors] == [code, code]
    assert [e["ResponseMetadata"]["HTTPStatusCode"] for e in errors] == [status, status]
    assert frames == ["ok"]  # the faulty posts delivered nothing, the third one did
    state = _faults(faults, "GET")[1]
    assert state["calls"] == {connection_id: {"POST": 3}}
    assert state["faults"][0]["injected"] == 2


def test_fault_calls_count_the_retries_of_a_standard_mode_client(faults, emulator, monkeypatch):
    monkeypatch.setattr(
        "botocore.retries.standard.ExponentialBackoff.delay_amount", lambda self, ctx: 0.01
    )
    api = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=faults.callback_url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
        **{k: v for k, v in emulator.client_kwargs().items() if k != "endpoint_url"},
    )

    async def scenario():
        client = await Client.connect(faults.websocket_url)
        connection_id = await _connection_id(client)
        other = await Client.connect(faults.websocket_url)
        other_id = await _connection_id(other)
        _faults(
            faults,
            "POST",
            [
                {"connectionId": connection_id, "status": 429, "times": 2},
                {"connectionId": other_id, "status": 410, "times": 5},
            ],
        )
        await asyncio.to_thread(api.post_to_connection, ConnectionId=connection_id, Data=b"late")
        with pytest.raises(api.exceptions.GoneException):
            await asyncio.to_thread(api.post_to_connection, ConnectionId=other_id, Data=b"x")
        frames = await client.quiet(0.3)
        await client.close()
        await other.close()
        return connection_id, other_id, frames

    connection_id, other_id, frames = run(scenario())
    assert frames == ["late"]  # throttled twice, retried, delivered once
    calls = _faults(faults, "GET")[1]["calls"]
    assert calls[connection_id] == {"POST": 3}
    assert calls[other_id] == {"POST": 1}  # 410 is final: never retried


def test_fault_delay_holds_a_post_and_the_connection_is_looked_up_after_it(faults, emulator):
    api = _no_retries(faults, emulator)

    async def scenario():
        held = await Client.connect(faults.websocket_url)
        held_id = await _connection_id(held)
        dropped = await Client.connect(faults.websocket_url)
        dropped_id = await _connection_id(dropped)
        _faults(
            faults,
            "POST",
            [{"connectionId": held_id, "delay": 0.6}, {"connectionId": dropped_id, "delay": 0.6}],
        )
        started = time.monotonic()
        post = asyncio.create_task(
            asyncio.to_thread(api.post_to_connection, ConnectionId=held_id, Data=b"slow")
        )
        gone = asyncio.create_task(
            asyncio.to_thread(api.post_to_connection, ConnectionId=dropped_id, Data=b"x")
        )
        await asyncio.sleep(0.2)
        dropped.ws.transport.abort()  # dies while its post is held
        await post
        elapsed = time.monotonic() - started
        with pytest.raises(api.exceptions.GoneException):
            await gone
        frame = await held.next_frame()
        await held.close()
        return elapsed, frame

    elapsed, frame = run(scenario())
    assert 0.6 <= elapsed < 3
    assert frame == "slow"


def test_disconnect_fault_skips_the_route_once(faults, aws):
    async def scenario():
        skipped = await Client.connect(faults.websocket_url)
        skipped_id = await _connection_id(skipped)
        status, _ = _faults(faults, "POST", {"connectionId": skipped_id, "target": "$disconnect"})
        control = await Client.connect(faults.websocket_url)
        control_id = await _connection_id(control)
        skipped.ws.transport.abort()
        await control.close()
        return status, skipped_id, control_id

    status, skipped_id, control_id = run(scenario())
    assert status == 201
    _recorded(aws, control_id, "DISCONNECT")  # others still get theirs
    with pytest.raises(AssertionError, match="no DISCONNECT event"):
        _recorded(aws, skipped_id, "DISCONNECT", timeout=1.5)
    assert _faults(faults, "GET")[1]["calls"] == {skipped_id: {"$disconnect": 1}}


def _handled_at(aws, connection_id: str, event_type: str) -> float:
    _recorded(aws, connection_id, event_type)
    item = aws["dynamodb"].get_item(
        TableName=EVENTS_TABLE,
        Key={"connectionId": {"S": connection_id}, "eventType": {"S": event_type}},
    )["Item"]
    return float(item["handledAt"]["N"])


def test_disconnect_does_not_wait_for_a_held_frame_of_its_connection(faults, aws):
    # given a frame the gateway holds (as API Gateway may run it late) before its route runs
    async def scenario():
        client = await Client.connect(faults.websocket_url)
        connection_id = await _connection_id(client)
        status, _ = _faults(
            faults,
            "POST",
            {"connectionId": connection_id, "target": "frame", "route": "record", "delay": 1.0},
        )
        # when the client sends it and closes at once
        await client.send({"action": "record"})
        await asyncio.sleep(0.1)
        await client.close()
        return status, connection_id

    status, connection_id = run(scenario())
    assert status == 201

    # then $disconnect runs first, and the frame is still handled afterwards
    disconnected = _handled_at(aws, connection_id, "DISCONNECT")
    handled = _handled_at(aws, connection_id, "MESSAGE")
    assert disconnected < handled
    assert _faults(faults, "GET")[1]["calls"] == {connection_id: {"frame:record": 1}}


@pytest.mark.parametrize(
    "rule",
    [
        {"connectionId": "abc", "target": "frame", "delay": 1},
        {"connectionId": "abc", "target": "frame", "route": "$disconnect", "delay": 1},
        {"connectionId": "abc", "target": "frame", "route": "echo", "status": 500},
        {"connectionId": "abc", "target": "frame", "route": "echo"},
        {"connectionId": "abc", "route": "echo", "status": 500},
        {"status": 410},
        {"connectionId": "", "status": 410},
        {"connectionId": "abc", "status": 418},
        {"connectionId": "abc"},
        {"connectionId": "abc", "status": 500, "times": 0},
        {"connectionId": "abc", "status": 500, "delay": 31},
        {"connectionId": "abc", "target": "PUT", "status": 500},
        {"connectionId": "abc", "target": "$disconnect", "status": 500},
        {"connectionId": "abc", "status": 500, "colour": "red"},
        ["not an object"],
    ],
)
def test_fault_endpoint_refuses_bad_rules_and_adds_nothing(faults, rule):
    status, answer = _faults(faults, "POST", rule)
    assert status == 400 and answer["message"]
    assert _faults(faults, "GET") == (200, {"faults": [], "calls": {}})


def test_fault_endpoint_lists_and_clears_rules(faults):
    status, added = _faults(faults, "POST", {"connectionId": "abc", "status": 503, "times": 3})
    assert status == 201
    assert added["faults"] == [
        {
            "connectionId": "abc",
            "target": "POST",
            "status": 503,
            "times": 3,
            "delay": 0.0,
            "injected": 0,
        }
    ]
    assert _faults(faults, "GET")[1]["faults"] == added["faults"]
    assert _faults(faults, "DELETE")[0] == 204
    assert _faults(faults, "GET")[1] == {"faults": [], "calls": {}}


def test_fault_endpoint_can_be_turned_off(emulator, test_api, test_zip, monkeypatch):
    monkeypatch.setenv("ROOMCHAT_FAULTS", "0")
    settings = GatewaySettings.from_env(host="127.0.0.1", port=0)
    assert settings.faults is False
    thread = GatewayThread(
        lambda: Gateway(
            test_api,
            CodeStore([test_zip]),
            settings,
            emulator_endpoint=emulator.endpoint,
            region=emulator.region,
            log_sink=lambda fn, line: None,
        )
    )
    gw = thread.start()
    try:
        status, _ = _faults(gw, "POST", {"connectionId": "abc", "status": 410})
    finally:
        thread.stop()
    assert status in (403, 404)


# ----- the functions' DynamoDB proxy (/_devstack/dynamodb) ----------------------------------------


def _dynamodb_admin(gw: Gateway, method: str, body=None) -> tuple[int, dict | None]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        gw.http_url + "/_devstack/dynamodb",
        method=method,
        data=data,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_functions_reach_dynamodb_through_the_proxy_the_endpoint_controls(
    emulator, test_api, test_zip
):
    from roomchat_tools.local.dynamoproxy import DynamoDBProxy

    proxy = DynamoDBProxy(emulator.endpoint, emulator.region)
    settings = GatewaySettings(host="127.0.0.1", port=0, concurrency=1)
    thread = GatewayThread(
        lambda: Gateway(
            test_api,
            CodeStore([test_zip]),
            settings,
            emulator_endpoint=emulator.endpoint,
            region=emulator.region,
            log_sink=lambda fn, line: None,
            dynamodb=proxy,
        )
    )
    gw = thread.start()
    try:
        reply = run(_echo_once(gw.websocket_url, json.dumps({"action": "echo"})))
        lagged = _dynamodb_admin(gw, "POST", {"lagMs": 250})
        failing = _dynamodb_admin(gw, "POST", {"fail": "PutItem", "times": 2})
        planned = list(proxy.plan["PutItem"])
        refused = [
            _dynamodb_admin(gw, "POST", body)[0]
            for body in ({}, {"lagMs": "soon"}, {"lagMs": -1}, {"fail": "Put Item"})
        ]
        cleared = _dynamodb_admin(gw, "DELETE")
    finally:
        thread.stop()
        proxy.close()
    assert reply["env"]["AWS_ENDPOINT_URL_DYNAMODB"] == proxy.url
    assert lagged[0] == 200 and lagged[1]["lagMs"] == 250 and lagged[1]["proxy"] == proxy.url
    assert lagged[1]["calls"]["PutItem"] >= 1  # $connect's record went through the proxy
    assert failing[0] == 200
    assert planned == [("ProvisionedThroughputExceededException", 400)] * 2
    assert refused == [400, 400, 400, 400]
    assert cleared[1]["lagMs"] == 0 and cleared[1]["calls"] == {}
    assert proxy.plan.get("PutItem", []) == []


# ----- only this machine's own pages drive the gateway from a browser (origin_guard.py) ----------


def _handshake(url: str, **headers: str) -> int:
    """The status of a WebSocket handshake with these headers: 101 when accepted."""

    async def attempt():
        try:
            async with websockets.connect(url, additional_headers=headers, open_timeout=5):
                return 101
        except websockets.InvalidStatus as e:
            return e.response.status_code

    return run(attempt())


def test_a_websocket_from_another_site_is_refused_and_the_own_page_is_accepted(gateway):
    """Browsers send Origin on every handshake and apply no CORS to WebSockets: without the
    check any page the developer visits could chat on the local stack. Pages of this machine
    (any loopback origin) are accepted."""
    own = f"http://127.0.0.1:{gateway.port}"
    assert _handshake(gateway.websocket_url, Origin="https://evil.example") == 403
    assert _handshake(gateway.websocket_url, Origin="http://127.0.0.1.evil.example") == 403
    assert _handshake(gateway.websocket_url, Origin="null") == 403  # a sandboxed frame
    assert _handshake(gateway.websocket_url, Origin=own) == 101
    assert _handshake(gateway.websocket_url, Origin=f"http://localhost:{gateway.port}") == 101
    # web/ served by hand on another local port (web/README.md) is a page of this machine
    assert _handshake(gateway.websocket_url, Origin="http://127.0.0.1:8000") == 101
    assert _handshake(gateway.websocket_url) == 101  # not a browser: no Origin


def test_a_rebound_host_name_is_refused(gateway):
    """DNS rebinding: evil.example resolving to 127.0.0.1 makes the attacker's page same-origin
    with the gateway, so the Host header is what tells them apart."""
    import http.client

    host = f"evil.example:{gateway.port}"
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
    conn.putrequest("GET", "/" + gateway.api.stage, skip_host=True)
    for name, value in {
        "Host": host,
        "Origin": f"http://{host}",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }.items():
        conn.putheader(name, value)
    conn.endheaders()
    assert conn.getresponse().status == 403
    conn.close()
    request = urllib.request.Request(gateway.http_url + "/devstack.json", headers={"Host": host})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 403


def test_fault_rules_cannot_be_posted_cross_site(faults):
    """A cross-site page may send a simple POST (text/plain, no preflight): it is refused by its
    Origin, and a POST that is not application/json is refused whatever its origin."""
    rule = json.dumps({"connectionId": "abc", "status": 410}).encode()
    for headers, status in (
        ({"Content-Type": "text/plain", "Origin": "https://evil.example"}, 403),
        ({"Content-Type": "application/json", "Origin": "https://evil.example"}, 403),
        ({"Content-Type": "text/plain"}, 415),
    ):
        request = urllib.request.Request(
            faults.http_url + "/_devstack/faults", method="POST", data=rule, headers=headers
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == status
    assert _faults(faults, "GET") == (200, {"faults": [], "calls": {}})


# ----- API Gateway's shared limits (roomchat_tools/local/throttle.py) --------------------------

# A stage of the same API whose `echo` and `$connect` routes are throttled hard (0.2 requests/s,
# bucket of 2) and whose other routes are not: read back from the emulator as Terraform's
# route_settings are.
TIGHT = {"ThrottlingRateLimit": 0.2, "ThrottlingBurstLimit": 2}


@pytest.fixture(scope="module")
def tight_gateway(emulator, aws, test_api, test_zip):
    from roomchat_tools.local.apimodel import emulator_clients, load_api
    from tests.e2e.conftest import _gateway_thread

    aws["apigatewayv2"].create_stage(
        ApiId=test_api.api_id, StageName="tight", RouteSettings={"echo": TIGHT, "$connect": TIGHT}
    )
    api = load_api(
        *emulator_clients(emulator.endpoint, emulator.region), api_id=test_api.api_id, stage="tight"
    )
    thread = _gateway_thread(emulator, api, test_zip)
    gw = thread.start()
    yield gw
    thread.stop()


def test_the_stage_route_settings_are_read_back_from_the_emulator(tight_gateway):
    limits = tight_gateway.api.limits
    assert limits.default is None
    assert limits.for_route("echo").rate == 0.2 and limits.for_route("echo").burst == 2
    assert limits.for_route("oneway") is None


def test_a_throttled_frame_gets_too_many_requests_and_the_connection_stays_open(tight_gateway):
    """One bucket for the route, shared by every client: a second connection's frames are refused
    once the first has spent the burst; each refusal is API Gateway's error frame, the function is
    not invoked, and the connection keeps working on routes with tokens left."""
    tight_gateway.endpoint.throttle.reset()

    async def scenario():
        first = await Client.connect(tight_gateway.websocket_url)
        await first.send({"action": "echo", "n": 0})
        await first.send({"action": "echo", "n": 1})
        second = await Client.connect(tight_gateway.websocket_url + "?c=2")
        for n in range(4):
            await second.send({"action": "echo", "n": n})
        refused = [await second.expect({"message": "Too Many Requests"}) for _ in range(3)]
        # $default has no route limit: the same connection is still served
        after = await second.request({"action": "whatever"}, {"type": "echo"})
        frames = await first.quiet(0.5) + await second.quiet(0.5)
        await first.close()
        await second.close()
        return refused, after, frames

    refused, after, frames = run(scenario())
    for frame in refused:
        assert set(frame) == {"message", "connectionId", "requestId"}
        assert CONNECTION_ID.match(frame["connectionId"]) and CONNECTION_ID.match(
            frame["requestId"]
        )
    assert after["event"]["requestContext"]["routeKey"] == "$default"
    echoes = [f for f in frames if f.get("type") == "echo"]
    assert len(echoes) <= 2  # at most the burst reached the function, whoever sent it
    counts = tight_gateway.endpoint.throttle.counts()["echo"]
    assert counts["refused"] >= 3 and counts["allowed"] <= 3


def test_a_throttled_connect_is_refused_with_429_before_connect_runs(tight_gateway):
    tight_gateway.endpoint.throttle.reset()

    async def scenario():
        opened, statuses = [], []
        for n in range(5):
            try:
                opened.append(await Client.connect(f"{tight_gateway.websocket_url}?n={n}"))
            except websockets.InvalidStatus as refused:
                statuses.append(refused.response.status_code)
                body = json.loads(refused.response.body or b"{}")
        for client in opened:
            await client.close()
        return len(opened), statuses, body

    opened, statuses, body = run(scenario())
    assert 2 <= opened <= 3 and statuses and set(statuses) == {429}
    assert body == {"message": "Too Many Requests"}
    counts = tight_gateway.endpoint.throttle.counts()["$connect"]
    assert counts["allowed"] == opened and counts["refused"] == len(statuses)
    tight_gateway.endpoint.throttle.reset()


def test_a_url_over_4096_characters_is_refused_and_one_at_the_limit_accepted(gateway):
    base = gateway.websocket_url.replace("ws://", "wss://")
    at_limit = gateway.websocket_url + "?pad=" + "x" * (4096 - len(base) - len("?pad="))
    status = handshake_status(at_limit + "x")
    assert status == 414
    reply = run(_echo_once(at_limit))
    assert reply["event"]["requestContext"]["routeKey"] == "echo"


def test_the_account_limits_are_shared_token_buckets():
    from roomchat_tools.local.throttle import (
        StageLimits,
        StageThrottle,
        ThrottleSettings,
        stage_limits,
    )

    now = [0.0]
    throttle = StageThrottle(
        stage_limits(
            {
                "DefaultRouteSettings": {"ThrottlingRateLimit": 100.0, "ThrottlingBurstLimit": 200},
                "RouteSettings": {
                    "typing": {"ThrottlingRateLimit": 10.0, "ThrottlingBurstLimit": 5}
                },
            }
        ),
        ThrottleSettings(),
        clock=lambda: now[0],
    )
    assert [throttle.allow_request("typing") for _ in range(6)] == [True] * 5 + [False]
    assert sum(throttle.allow_request("sendAll") for _ in range(300)) == 200
    now[0] += 0.1  # 0.1 s refills one typing token and ten sendAll tokens
    assert throttle.allow_request("typing") and not throttle.allow_request("typing")
    assert sum(throttle.allow_request("sendAll") for _ in range(50)) == 10
    # 500 new connections a second for the account, whatever the routes allow
    assert sum(throttle.allow_connect() for _ in range(600)) == 200  # $connect's default bucket
    loose = StageThrottle(StageLimits(), ThrottleSettings(), clock=lambda: now[0])
    assert sum(loose.allow_connect() for _ in range(600)) == 500
    now[0] += 1.0
    assert sum(loose.allow_connect() for _ in range(600)) == 500
    # @connections requests share the account's bucket with the routes' frames
    small = StageThrottle(
        StageLimits(), ThrottleSettings(account_rate=10, account_burst=5), clock=lambda: now[0]
    )
    assert sum(small.allow_request("sendAll") for _ in range(3)) == 3
    assert [small.allow_callback() for _ in range(3)] == [True, True, False]
    off = StageThrottle(StageLimits(), ThrottleSettings(enabled=False), clock=lambda: now[0])
    assert all(off.allow_connect() for _ in range(1000)) and not off.url_too_long("x" * 5000)
