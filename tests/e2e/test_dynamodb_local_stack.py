"""The local stack with ROOMCHAT_DYNAMODB=local: Terraform applies to the emulator, the tables are
copied into AWS's DynamoDB Local, and the functions keep and serve their data there
(roomchat_tools.local.dataplane). The delayed-visibility proxy (ROOMCHAT_READ_LAG_MS=0, as in
every test stack) sits in front of DynamoDB Local."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import urllib.parse
import uuid
from pathlib import Path

import boto3
import pytest

from roomchat_tools.local import dynamodb_local
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.support import Client, run
from tests.stack import _start_stack

pytestmark = pytest.mark.e2e

ROOMCHAT = str(Path(sys.executable).with_name("roomchat"))


def _listening(endpoint: str) -> bool:
    parsed = urllib.parse.urlsplit(endpoint)
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((parsed.hostname, parsed.port)) == 0


@pytest.fixture(scope="module")
def ddb_local_stack(tmp_path_factory):
    """A stack of its own on DynamoDB Local; on exit, its DynamoDB Local must be stopped too.
    Skipped with the reason where DynamoDB Local is not installed, as the adapters' tests are."""
    try:
        dynamodb_local.find_jar()
    except dynamodb_local.Unavailable as error:
        pytest.skip(f"DynamoDB Local unavailable: {error}")
    stack = _start_stack(tmp_path_factory, {"ROOMCHAT_DYNAMODB": "local"})
    running = next(stack)
    yield running
    with contextlib.suppress(StopIteration):
        next(stack)
    assert not _listening(running.info["dynamodb_endpoint"]), "DynamoDB Local outlived the stack"


def _client(endpoint: str, region: str):
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_history_is_stored_in_and_served_from_dynamodb_local(ddb_local_stack):
    info = ddb_local_stack.info
    assert info["dynamodb_engine"] == "dynamodb-local"
    assert info["dynamodb_endpoint"] != info["emulator_endpoint"]
    room = f"ddbl-{uuid.uuid4().hex[:8]}"

    async def scenario():
        ana = await Client.connect(ddb_local_stack.url)
        await ana.request(
            {"action": "join", "roomId": room, "name": "ana"}, {"type": "joined", "roomId": room}
        )
        for i in range(3):
            await ana.request(
                {"action": "sendAll", "roomId": room, "message": f"line {i}"},
                {"type": "message", "message": f"line {i}"},
            )
        page = await ana.request(
            {"action": "history", "roomId": room, "limit": 10}, {"type": "history"}
        )
        late = await Client.connect(ddb_local_stack.url)
        joined = await late.request(
            {"action": "join", "roomId": room, "name": "bob"}, {"type": "joined", "roomId": room}
        )
        await ana.close()
        await late.close()
        return page, joined

    page, joined = run(scenario())
    assert [m["message"] for m in page["messages"]] == ["line 0", "line 1", "line 2"]
    assert [m["message"] for m in joined["recent"]][-3:] == ["line 0", "line 1", "line 2"]

    # The data is in DynamoDB Local, and the emulator's copy of the table stays empty.
    history_table = info["history_table"]
    key = {":r": {"S": room}}
    where = {"KeyConditionExpression": "roomId = :r", "ExpressionAttributeValues": key}
    local = _client(info["dynamodb_endpoint"], info["region"])
    moto = _client(info["emulator_endpoint"], info["region"])
    stored = local.query(TableName=history_table, **where)["Items"]
    assert sorted(i["message"]["S"] for i in stored if "message" in i) == [
        "line 0",
        "line 1",
        "line 2",
    ]
    assert moto.query(TableName=history_table, **where)["Items"] == []
    assert ddb_local_stack.client("dynamodb").query(TableName=history_table, **where)["Count"] > 0

    # The history CLI finds the data through stack.json (roomchat_tools.target).
    cli = subprocess.run(
        [ROOMCHAT, "history", "--room", room, "--json"],
        env=ddb_local_stack.env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
    )
    assert cli.returncode == 0, cli.stderr
    assert [m["message"] for m in json.loads(cli.stdout)["messages"]] == [
        "line 0",
        "line 1",
        "line 2",
    ]
