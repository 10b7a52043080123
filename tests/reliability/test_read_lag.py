"""The DynamoDB proxy's delayed visibility (roomchat_tools.local.dynamoproxy) against a real
emulator: reads that are not strongly consistent, and every GSI read, see writes only after the
lag; strongly consistent reads see them at once."""

from __future__ import annotations

import time
import uuid

import boto3
import pytest

from tests.tables import ROOMS_BY_CONNECTION_INDEX, ROOMS_TABLE

LAG_MS = 700


@pytest.fixture
def lagging(moto_server, fault_proxy):
    table = f"rooms-{uuid.uuid4().hex[:8]}"
    direct = boto3.client("dynamodb", endpoint_url=moto_server[0])
    direct.create_table(TableName=table, **ROOMS_TABLE)
    direct.put_item(TableName=table, Item=_member("lobby", "A"))  # before the lag: synced
    fault_proxy.set_lag(LAG_MS)
    db = boto3.client("dynamodb", endpoint_url=fault_proxy.url)
    yield db, table
    fault_proxy.set_lag(0)


def _member(room: str, connection: str) -> dict:
    return {"roomId": {"S": room}, "connectionId": {"S": connection}, "name": {"S": connection}}


def _room(db, table: str, consistent: bool) -> list[str]:
    items = db.query(
        TableName=table,
        KeyConditionExpression="roomId = :r",
        ExpressionAttributeValues={":r": {"S": "lobby"}},
        ConsistentRead=consistent,
    )["Items"]
    return sorted(i["connectionId"]["S"] for i in items)


def _rooms_of(db, table: str, connection: str) -> list[str]:
    items = db.query(
        TableName=table,
        IndexName=ROOMS_BY_CONNECTION_INDEX,
        KeyConditionExpression="connectionId = :c",
        ExpressionAttributeValues={":c": {"S": connection}},
    )["Items"]
    return [i["roomId"]["S"] for i in items]


def test_eventually_consistent_reads_see_a_write_only_after_the_lag(lagging):
    db, table = lagging
    key = {"roomId": {"S": "lobby"}, "connectionId": {"S": "B"}}

    # when B joins and A leaves
    db.put_item(TableName=table, Item=_member("lobby", "B"))
    db.delete_item(TableName=table, Key={"roomId": {"S": "lobby"}, "connectionId": {"S": "A"}})

    # then strongly consistent reads see it at once, the others still see the old table
    assert _room(db, table, consistent=True) == ["B"]
    assert db.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    assert _room(db, table, consistent=False) == ["A"]
    assert "Item" not in db.get_item(TableName=table, Key=key)
    assert _rooms_of(db, table, "B") == []  # a GSI is always eventually consistent

    # and after the lag, every read agrees
    time.sleep(LAG_MS / 1000 + 0.5)
    assert _room(db, table, consistent=False) == ["B"]
    assert _rooms_of(db, table, "B") == ["lobby"]
    assert _rooms_of(db, table, "A") == []


def test_updates_reach_the_replica_in_the_order_they_were_made(lagging):
    db, table = lagging
    key = {"roomId": {"S": "lobby"}, "connectionId": {"S": "A"}}
    for name in ("one", "two", "three"):
        db.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #n = :n",
            ExpressionAttributeNames={"#n": "name"},
            ExpressionAttributeValues={":n": {"S": name}},
        )
    assert db.get_item(TableName=table, Key=key)["Item"]["name"]["S"] == "A"
    time.sleep(LAG_MS / 1000 + 0.5)
    assert db.get_item(TableName=table, Key=key)["Item"]["name"]["S"] == "three"


def test_a_strongly_consistent_read_of_a_gsi_is_refused_as_dynamodb_does(lagging):
    db, table = lagging
    with pytest.raises(db.exceptions.ClientError) as info:
        db.query(
            TableName=table,
            IndexName=ROOMS_BY_CONNECTION_INDEX,
            KeyConditionExpression="connectionId = :c",
            ExpressionAttributeValues={":c": {"S": "A"}},
            ConsistentRead=True,
        )
    assert info.value.response["Error"]["Code"] == "ValidationException"


def test_with_no_lag_every_read_sees_every_write(moto_server, fault_proxy):
    table = f"rooms-{uuid.uuid4().hex[:8]}"
    boto3.client("dynamodb", endpoint_url=moto_server[0]).create_table(
        TableName=table, **ROOMS_TABLE
    )
    db = boto3.client("dynamodb", endpoint_url=fault_proxy.url)
    db.put_item(TableName=table, Item=_member("lobby", "B"))
    assert _room(db, table, consistent=False) == ["B"]
    assert _rooms_of(db, table, "B") == ["lobby"]


def test_a_table_created_after_the_lag_was_turned_on_lags_too(moto_server, fault_proxy):
    fault_proxy.set_lag(LAG_MS)
    try:
        table = f"rooms-{uuid.uuid4().hex[:8]}"
        boto3.client("dynamodb", endpoint_url=moto_server[0]).create_table(
            TableName=table, **ROOMS_TABLE
        )
        db = boto3.client("dynamodb", endpoint_url=fault_proxy.url)
        db.put_item(TableName=table, Item=_member("lobby", "B"))
        assert _room(db, table, consistent=True) == ["B"]
        assert _room(db, table, consistent=False) == []
        time.sleep(LAG_MS / 1000 + 0.5)
        assert _room(db, table, consistent=False) == ["B"]
    finally:
        fault_proxy.set_lag(0)
