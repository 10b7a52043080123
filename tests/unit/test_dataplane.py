"""roomchat_tools.local.dataplane: the tables Terraform made in the emulator (moto), copied into
AWS's DynamoDB Local, where the stack's functions then keep their data (ROOMCHAT_DYNAMODB=local).

The copy is checked on DynamoDB Local itself: what DescribeTable/DescribeTimeToLive say there,
and that the copied index answers a Query."""

from __future__ import annotations

import uuid

import boto3
import pytest

from roomchat_tools.local import dataplane
from roomchat_tools.local import emulator as emulator_mod
from tests.tables import HISTORY_TABLE, ROOMS_BY_CONNECTION_INDEX, ROOMS_TABLE, TTL_ATTRIBUTE


@pytest.fixture(scope="module")
def moto_tables():
    """A moto server holding the two tables as the Terraform makes them (keys, index, TTL),
    plus a provisioned table with a local secondary index to cover the other shapes."""
    with emulator_mod.running() as emu:
        client = boto3.client("dynamodb", **emu.client_kwargs())
        client.create_table(TableName="roomchat-rooms", **ROOMS_TABLE)
        client.create_table(TableName="roomchat-history", **HISTORY_TABLE)
        for table in ("roomchat-rooms", "roomchat-history"):
            client.update_time_to_live(
                TableName=table,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
            )
        client.create_table(
            TableName="provisioned",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
                {"AttributeName": "at", "AttributeType": "N"},
            ],
            LocalSecondaryIndexes=[
                {
                    "IndexName": "byAt",
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["text"]},
                }
            ],
            ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 2},
        )
        yield client


@pytest.fixture
def local_client(dynamodb_local_server):
    """A client of an empty database of DynamoDB Local (its own access key id)."""
    return dynamodb_local_server.client(namespace=f"t{uuid.uuid4().hex}")


def _shape(desc: dict) -> dict:
    gsis = {
        g["IndexName"]: (g["KeySchema"], g["Projection"])
        for g in desc.get("GlobalSecondaryIndexes", [])
    }
    lsis = {
        i["IndexName"]: (i["KeySchema"], i["Projection"])
        for i in desc.get("LocalSecondaryIndexes", [])
    }
    return {
        "keys": desc["KeySchema"],
        "attributes": sorted(desc["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
        "gsis": gsis,
        "lsis": lsis,
        "billing": (desc.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED"),
    }


def test_copy_makes_every_table_alike_in_dynamodb_local(moto_tables, local_client):
    copied = dataplane.copy_tables(moto_tables, local_client)

    assert sorted(copied) == ["provisioned", "roomchat-history", "roomchat-rooms"]
    assert sorted(local_client.list_tables()["TableNames"]) == sorted(copied)
    for table in copied:
        source = moto_tables.describe_table(TableName=table)["Table"]
        target = local_client.describe_table(TableName=table)["Table"]
        assert _shape(target) == _shape(source), table
        assert target["TableStatus"] == "ACTIVE"
    rooms = local_client.describe_table(TableName="roomchat-rooms")["Table"]
    assert rooms["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [g["IndexName"] for g in rooms["GlobalSecondaryIndexes"]] == [ROOMS_BY_CONNECTION_INDEX]
    provisioned = local_client.describe_table(TableName="provisioned")["Table"]
    assert provisioned["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert provisioned["ProvisionedThroughput"]["WriteCapacityUnits"] == 2
    for table in ("roomchat-rooms", "roomchat-history"):
        ttl = local_client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": TTL_ATTRIBUTE}
    ttl = local_client.describe_time_to_live(TableName="provisioned")["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "DISABLED"


def test_the_copied_index_serves_queries(moto_tables, local_client):
    dataplane.copy_tables(moto_tables, local_client, ["roomchat-rooms"])
    local_client.put_item(
        TableName="roomchat-rooms",
        Item={"roomId": {"S": "lobby"}, "connectionId": {"S": "c1"}, "name": {"S": "ana"}},
    )

    found = local_client.query(
        TableName="roomchat-rooms",
        IndexName=ROOMS_BY_CONNECTION_INDEX,
        KeyConditionExpression="connectionId = :c",
        ExpressionAttributeValues={":c": {"S": "c1"}},
    )["Items"]

    assert [item["name"]["S"] for item in found] == ["ana"]
    assert moto_tables.scan(TableName="roomchat-rooms")["Count"] == 0  # the copy holds the data


def test_copying_again_replaces_the_table_and_its_items(moto_tables, local_client):
    dataplane.copy_tables(moto_tables, local_client, ["roomchat-history"])
    local_client.put_item(
        TableName="roomchat-history",
        Item={"roomId": {"S": "lobby"}, "messageId": {"S": "m1"}},
    )

    dataplane.copy_tables(moto_tables, local_client, ["roomchat-history"])

    assert local_client.scan(TableName="roomchat-history")["Count"] == 0


@pytest.mark.parametrize(
    ("raw", "engine"),
    [
        ("", dataplane.MOTO),
        ("moto", dataplane.MOTO),
        ("local", dataplane.LOCAL),
        (" LOCAL ", dataplane.LOCAL),
    ],
)
def test_engine_from_the_environment(raw, engine):
    assert dataplane.engine_from_env({"ROOMCHAT_DYNAMODB": raw}) == engine
    assert dataplane.engine_from_env({}) == dataplane.MOTO


def test_an_unknown_engine_is_refused_with_the_choices():
    with pytest.raises(dataplane.DataPlaneError, match="`moto` or `local`"):
        dataplane.engine_from_env({"ROOMCHAT_DYNAMODB": "dynamo"})


def test_moto_needs_no_process():
    assert dataplane.launch(dataplane.MOTO) is None
    plane = dataplane.ready(dataplane.MOTO, "http://127.0.0.1:5000", "us-east-1", None)
    assert (plane.engine, plane.endpoint, plane.tables) == (
        dataplane.MOTO,
        "http://127.0.0.1:5000",
        [],
    )
