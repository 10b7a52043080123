"""The local stack's DynamoDB data plane: the emulator (moto), or AWS's DynamoDB Local.

Terraform applies to the emulator in every case: the tables module also calls
UpdateContinuousBackups (point-in-time recovery), which DynamoDB Local does not implement
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/DynamoDBLocal.UsageNotes.html).
With ``ROOMCHAT_DYNAMODB=local`` the stack then *copies the tables Terraform made* into a
DynamoDB Local process (``copy_tables``: key schema, attribute definitions, global and local
secondary indexes with their projections, billing mode and Time to Live), and the functions'
DynamoDB endpoint (``AWS_ENDPOINT_URL_DYNAMODB``) points there; every other service stays on the
emulator. DynamoDB Local answers a Query of a large partition far faster than moto and with
DynamoDB's own semantics (1 MB pages, validation).

DynamoDB Local keeps one database per access key id and region (without ``-sharedDb``), so
everything that reads the stack's tables uses the functions' key id (``ACCESS_KEY_ID``) and the
stack's region; `.local/stack.json` names the endpoint (``dynamodb_endpoint``, read through
``roomchat_tools.stackfile.dynamodb_endpoint``).
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass, field
from typing import Any

from roomchat_tools.local import dynamodb_local

log = logging.getLogger("devstack.dataplane")

MOTO = "moto"
LOCAL = "dynamodb-local"
ENGINES = {"": MOTO, "moto": MOTO, "local": LOCAL, "dynamodb-local": LOCAL}
# The functions' credentials (local/runtime.py function_environment): DynamoDB Local's namespace.
ACCESS_KEY_ID = "testing"


class DataPlaneError(RuntimeError):
    """The data plane cannot be set up; the message says why (shown as the stack's error)."""


def engine_from_env(environ: dict[str, str] | None = None) -> str:
    """``ROOMCHAT_DYNAMODB``: unset or ``moto`` for the emulator, ``local`` for DynamoDB Local."""
    raw = (environ if environ is not None else os.environ).get("ROOMCHAT_DYNAMODB", "")
    engine = ENGINES.get(raw.strip().lower())
    if engine is None:
        raise DataPlaneError(f"ROOMCHAT_DYNAMODB must be `moto` or `local`, not {raw!r}")
    return engine


def client(endpoint: str, region: str) -> Any:
    """A low-level DynamoDB client with the functions' credentials (their DynamoDB Local
    namespace)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key="testing",
        aws_session_token="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 5}),
    )


def _throughput(described: dict[str, Any] | None) -> dict[str, int]:
    described = described or {}
    return {
        "ReadCapacityUnits": max(1, int(described.get("ReadCapacityUnits") or 1)),
        "WriteCapacityUnits": max(1, int(described.get("WriteCapacityUnits") or 1)),
    }


def create_table_request(desc: dict[str, Any]) -> dict[str, Any]:
    """The CreateTable request that makes a table like ``desc`` (a DescribeTable ``Table``)."""
    billing = (desc.get("BillingModeSummary") or {}).get("BillingMode") or (
        "PROVISIONED" if (desc.get("ProvisionedThroughput") or {}).get("ReadCapacityUnits") else ""
    )
    billing = billing or "PAY_PER_REQUEST"
    provisioned = billing == "PROVISIONED"
    request: dict[str, Any] = {
        "TableName": desc["TableName"],
        "KeySchema": desc["KeySchema"],
        "AttributeDefinitions": desc["AttributeDefinitions"],
        "BillingMode": billing,
    }
    if provisioned:
        request["ProvisionedThroughput"] = _throughput(desc.get("ProvisionedThroughput"))
    indexes = []
    for gsi in desc.get("GlobalSecondaryIndexes", []):
        index = {k: gsi[k] for k in ("IndexName", "KeySchema", "Projection")}
        if provisioned:
            index["ProvisionedThroughput"] = _throughput(gsi.get("ProvisionedThroughput"))
        indexes.append(index)
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    local = [
        {k: lsi[k] for k in ("IndexName", "KeySchema", "Projection")}
        for lsi in desc.get("LocalSecondaryIndexes", [])
    ]
    if local:
        request["LocalSecondaryIndexes"] = local
    stream = desc.get("StreamSpecification")
    if stream and stream.get("StreamEnabled"):
        request["StreamSpecification"] = stream
    return request


def copy_tables(source: Any, target: Any, tables: list[str] | None = None) -> list[str]:
    """Create in ``target`` every table of ``source`` (or those named), empty, with the same
    keys, indexes, billing mode and Time to Live; a table already in ``target`` is replaced.
    Items are not copied (the stack copies right after the apply, when the tables are empty).
    Returns the names copied."""
    if tables is None:
        tables = [
            name
            for page in source.get_paginator("list_tables").paginate()
            for name in page["TableNames"]
        ]
    for name in tables:
        desc = source.describe_table(TableName=name)["Table"]
        with contextlib.suppress(target.exceptions.ResourceNotFoundException):
            target.delete_table(TableName=name)
            target.get_waiter("table_not_exists").wait(
                TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 300}
            )
        target.create_table(**create_table_request(desc))
        target.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 300}
        )
        ttl = source.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
        if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and ttl.get("AttributeName"):
            # DynamoDB Local accepts the setting and expires items like DynamoDB does.
            target.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        log.info("table %s copied", name)
    return tables


@dataclass
class DataPlane:
    """Where the stack's DynamoDB data lives: ``endpoint`` and ``engine`` (``moto`` or
    ``dynamodb-local``); ``close()`` stops a DynamoDB Local process it started."""

    engine: str
    endpoint: str
    tables: list[str] = field(default_factory=list)
    launched: dynamodb_local.Launched | None = None

    def close(self) -> None:
        if self.launched is not None:
            self.launched.stop()
            self.launched = None


def launch(engine: str) -> dynamodb_local.Launched | None:
    """Start DynamoDB Local early (its JVM starts while Terraform applies) when it is the
    engine; None for moto. The stack's JVM runs with its full JIT (it serves a long run)."""
    if engine != LOCAL:
        return None
    try:
        return dynamodb_local.launch(jvm_options=())
    except dynamodb_local.Unavailable as exc:
        raise DataPlaneError(f"ROOMCHAT_DYNAMODB=local: {exc}") from None


def ready(
    engine: str,
    emulator_endpoint: str,
    region: str,
    launched: dynamodb_local.Launched | None,
    timeout_s: float = 120.0,
) -> DataPlane:
    """The data plane, ready: for DynamoDB Local, once it answers and holds a copy of every
    table of the emulator. Stops ``launched`` if that fails."""
    if engine != LOCAL or launched is None:
        return DataPlane(MOTO, emulator_endpoint)
    try:
        dynamodb_local.wait_ready(launched, timeout_s)
        tables = copy_tables(
            client(emulator_endpoint, region), client(launched.server.endpoint, region)
        )
    except dynamodb_local.Unavailable as exc:
        launched.stop()
        raise DataPlaneError(f"ROOMCHAT_DYNAMODB=local: {exc}") from None
    except BaseException:
        launched.stop()
        raise
    return DataPlane(LOCAL, launched.server.endpoint, tables, launched)
