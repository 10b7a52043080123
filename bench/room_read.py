"""What reading a big room's recipients costs per message, on AWS's DynamoDB Local.

    .venv/bin/python -m bench.room_read [--members 100000] [--repeat 3] [--shard-size 1000]

Three layouts of the same members (items exactly as `DynamoRooms.put_member` writes them, with
connection ids of API Gateway's length and shape):

- **plain**: one partition per room, read as `sendAll` reads it today (`DynamoRooms.recipient_ids`:
  a strongly consistent Query projecting `connectionId, expiresAt`, following LastEvaluatedKey);
- **sharded**: the same members spread over `roomId#n` partitions of about ``--shard-size``
  members each; one shard is what one fan-out chunk would read;
- **snapshot**: the connection ids alone, packed ``--shard-size`` to an item in one partition
  (what a member-list snapshot refreshed on join/leave would hold), read by one Query.

For each: pages, items, the capacity DynamoDB Local reports (ReturnConsumedCapacity=TOTAL),
the capacity computed from the item sizes as the Developer Guide bills it (bench costmodel),
and the wall time of the whole read (median of ``--repeat``). DynamoDB Local runs on this
machine's JVM and SQLite, so its times are not DynamoDB's: the pages and capacity are what
carry over. Not a test; docs/design.md ("Reading a big room") quotes one run.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import string
import time
from typing import Any

from roomchat.adapters.dynamodb import DynamoRooms
from roomchat.ports import Member
from roomchat_tools.bench.costmodel import item_size
from roomchat_tools.local import dynamodb_local
from tests.tables import ROOMS_BY_CONNECTION_INDEX, ROOMS_TABLE

TABLE = "rooms"
ROOM = "big"
PAGE_BYTES = 1024 * 1024  # a Query page reads at most 1 MB of items
ALPHABET = string.ascii_letters + string.digits


def connection_id(rng: random.Random) -> str:
    """API Gateway's shape: 16 characters of base64 ending in '=' (e.g. 'L0SM9cOFvHcCIhw=')."""
    return "".join(rng.choice(ALPHABET) for _ in range(15)) + "="


class Capture:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def put_item(self, **kwargs: Any) -> None:
        self.items.append(kwargs["Item"])


def write(client: Any, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        pending: dict[str, Any] = {
            TABLE: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]
        }
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def member_items(ids: list[str], room_of: Any) -> list[dict[str, Any]]:
    capture = Capture()
    rooms = DynamoRooms(capture, TABLE, ROOMS_BY_CONNECTION_INDEX)
    expires = int(time.time()) + 7200
    for i, cid in enumerate(ids):
        rooms.put_member(
            Member(room_of(cid), cid, f"user{i:06d}", "2026-11-29T11:00:00.000Z", expires)
        )
    return capture.items


def query_pages(client: Any, room_id: str, **extra: Any) -> dict[str, Any]:
    """One full read of a partition; pages, items and the reported capacity."""
    kwargs: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "roomId = :r",
        "ExpressionAttributeValues": {":r": {"S": room_id}},
        "ConsistentRead": True,
        "ReturnConsumedCapacity": "TOTAL",
        **extra,
    }
    pages, items, reported = 0, 0, 0.0
    while True:
        page = client.query(**kwargs)
        pages += 1
        items += len(page["Items"])
        reported += (page.get("ConsumedCapacity") or {}).get("CapacityUnits") or 0.0
        if "LastEvaluatedKey" not in page:
            return {"pages": pages, "items": items, "reported_rcu": reported}
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def billed_rcu(sizes: list[int], consistent: bool = True) -> float:
    """Query billing: item sizes summed per page of at most 1 MB, rounded up to 4 KB, 1 RCU per
    4 KB strongly consistent (half eventually consistent)."""
    total, page = 0.0, 0
    for size in sizes:
        if page + size > PAGE_BYTES:
            total += math.ceil(page / 4096)
            page = 0
        page += size
    total += math.ceil(page / 4096)
    return total if consistent else total / 2


def timed(call: Any, repeat: int) -> dict[str, float]:
    """Wall time and this process's CPU time (botocore's signing, HTTP and parsing: what a
    function reading the room pays on its own vCPU share), medians."""
    call()  # warm-up
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return {"read_s": statistics.median(wall), "client_cpu_s": statistics.median(cpu)}


def measure(client: Any, members: int, repeat: int, shard_size: int) -> dict[str, Any]:
    rng = random.Random(11)
    ids = sorted({connection_id(rng) for _ in range(members)})
    shards = max(1, math.ceil(members / shard_size))
    out: dict[str, Any] = {"members": members, "shard_size": shard_size, "shards": shards}

    started = time.perf_counter()
    plain = member_items(ids, lambda cid: ROOM)
    write(client, plain)
    out["write_s"] = time.perf_counter() - started
    sizes = [item_size(i) for i in plain]
    rooms = DynamoRooms(client, TABLE, ROOMS_BY_CONNECTION_INDEX)
    now = int(time.time())
    assert len(rooms.recipient_ids(ROOM, now)) == members
    out["plain"] = {
        **query_pages(client, ROOM, ProjectionExpression="connectionId, expiresAt"),
        "item_bytes_mean": statistics.mean(sizes),
        "partition_bytes": sum(sizes),
        "billed_rcu": billed_rcu(sizes),
        "billed_rcu_eventual": billed_rcu(sizes, consistent=False),
        **timed(lambda: rooms.recipient_ids(ROOM, now), repeat),
    }

    position = {cid: i for i, cid in enumerate(ids)}
    sharded = member_items(ids, lambda cid: f"{ROOM}#{position[cid] % shards}")
    write(client, sharded)
    one = f"{ROOM}#0"
    one_sizes = [item_size(i) for i in sharded if i["roomId"]["S"] == one]
    out["sharded_one"] = {
        **query_pages(client, one, ProjectionExpression="connectionId, expiresAt"),
        "billed_rcu": billed_rcu(one_sizes),
        **timed(lambda: rooms.recipient_ids(one, now), repeat),
    }

    snapshot = []
    for n in range(shards):
        part = ids[n * shard_size : (n + 1) * shard_size]
        snapshot.append(
            {
                "roomId": {"S": f"snap#{ROOM}"},
                "connectionId": {"S": f"{n:05d}"},
                "ids": {"S": " ".join(part)},
                "expiresAt": {"N": str(now + 60)},
            }
        )
    write(client, snapshot)
    snap_sizes = [item_size(i) for i in snapshot]

    def read_snapshot() -> int:
        count = 0
        for item in rooms._query(  # the adapter's own paging
            "snapshot",
            KeyConditionExpression="roomId = :r",
            ExpressionAttributeValues={":r": {"S": f"snap#{ROOM}"}},
            ConsistentRead=True,
        ):
            count += len(item["ids"]["S"].split(" "))
        return count

    assert read_snapshot() == members
    out["snapshot"] = {
        **query_pages(client, f"snap#{ROOM}"),
        "item_bytes_mean": statistics.mean(snap_sizes),
        "billed_rcu": billed_rcu(snap_sizes),
        **timed(read_snapshot, repeat),
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shard-size", type=int, default=1000)
    args = parser.parse_args(argv)
    with dynamodb_local.running(jvm_options=()) as server:
        client = server.client("bench")
        client.create_table(TableName=TABLE, **ROOMS_TABLE)
        result = measure(client, args.members, args.repeat, args.shard_size)
    print(json.dumps(result, indent=1))
    print(f"\n{args.members:,} members, DynamoDB Local, median of {args.repeat}:")
    print("| read | pages | items | RCU reported | RCU billed (computed) | time | client CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    labels = {
        "plain": "plain Query of the room (strongly consistent)",
        "sharded_one": f"one shard of {args.shard_size:,} (x {result['shards']})",
        "snapshot": f"snapshot: ids only, {args.shard_size:,} per item",
    }
    for key, label in labels.items():
        r = result[key]
        print(
            f"| {label} | {r['pages']} | {r['items']:,} | {r['reported_rcu']:,.1f} | "
            f"{r['billed_rcu']:,.0f} | {r['read_s'] * 1000:,.0f} ms | "
            f"{r['client_cpu_s'] * 1000:,.0f} ms |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
