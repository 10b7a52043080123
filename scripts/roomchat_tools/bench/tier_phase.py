"""The tier phase (`python -m roomchat_tools.bench --tier-phase`): one room of N real WebSocket
members on the local stack, send -> last member, inline (fanout_tier_threshold = 0) against the
tier (threshold 1: every room through SQS and the `fanout` function run by the stack's poller).
Each mode gets a stack of its own (the threshold is a Terraform variable). Memberships are
written directly, as the main bench does (a real join of N members would broadcast ~N^2/2
presence frames)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

from ..local import launcher
from .fleet import Fleet, Tracker
from .plan import token
from .processes import REPO_ROOT, die_with_parent
from .stack import aws_client

MODES = {
    "inline": {"fanout_tier_threshold": 0},
    "tier": {"fanout_tier_threshold": 1},
}


async def _resolve_ids(ddb: Any, table: str, fleet: Fleet, prefix: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        wanted = {c.name: c for c in fleet.clients if c.connection_id is None}
        if not wanted:
            return
        pages = ddb.get_paginator("scan").paginate(
            TableName=table,
            FilterExpression="begins_with(roomId, :p) AND begins_with(#n, :run)",
            ExpressionAttributeNames={"#n": "name"},
            ExpressionAttributeValues={":p": {"S": "conn#"}, ":run": {"S": prefix}},
        )
        for page in pages:
            for item in page["Items"]:
                client = wanted.get(item["name"]["S"])
                if client is not None:
                    client.connection_id = item["connectionId"]["S"]
        if time.monotonic() > deadline:
            raise RuntimeError("connection ids not found")
        await asyncio.sleep(0.5)


async def _write_members(ddb: Any, table: str, room: str, fleet: Fleet) -> None:
    from roomchat.adapters.dynamodb import DynamoRooms
    from roomchat.ports import Member
    from roomchat.settings import CONNECTION_MAX_SECONDS, TTL_MARGIN_SECONDS
    from roomchat.usecases import iso_ms, now_ms

    class Capture:
        def __init__(self) -> None:
            self.items: list[dict[str, Any]] = []

        def put_item(self, **kwargs: Any) -> None:
            self.items.append(kwargs["Item"])

    capture = Capture()
    rooms = DynamoRooms(capture, table, "byConnection")
    now = now_ms()
    expires = now // 1000 + CONNECTION_MAX_SECONDS + TTL_MARGIN_SECONDS
    for c in fleet.clients:
        rooms.put_member(Member(room, c.connection_id or "", c.name, iso_ms(now), expires))
    for start in range(0, len(capture.items), 25):
        pending = {table: [{"PutRequest": {"Item": i}} for i in capture.items[start : start + 25]]}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


async def measure(mode: str, size: int, rounds: int, log: Callable[[str], None]) -> dict[str, Any]:
    import aiohttp

    local = REPO_ROOT / ".local" / f"bench-tier-{mode}"
    (local / "stack.json").unlink(missing_ok=True)
    log(f"tier phase: {mode} stack (terraform apply, about a minute)")
    stack = launcher.launch(
        local,
        {
            "ROOMCHAT_PORT": "0",
            "ROOMCHAT_EMULATOR_PORT": "0",
            "ROOMCHAT_IDLE_TIMEOUT": "3600",
            "ROOMCHAT_TF_VARS": json.dumps(MODES[mode]),
        },
        args=["--quiet"],
        timeout_s=300,
        preexec_fn=lambda: die_with_parent(signal.SIGTERM),
    )
    info = launcher.wait_applied(stack)  # the tier's queue and mapping come after the chat's path
    prefix = f"t{uuid.uuid4().hex[:6]}-"
    result: dict[str, Any] = {"mode": mode, "members": size, "last_s": [], "missing": 0}
    try:
        ddb = aws_client("dynamodb", info["emulator_endpoint"], info["region"])
        table = info["rooms_table"]
        tracker = Tracker()
        timeout = aiohttp.ClientTimeout(total=None)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            fleet = Fleet(session, tracker, mode)
            try:
                connect_s = await fleet.grow(
                    size,
                    lambda i: f"{info['websocket_url']}?name={prefix}{i}",
                    lambda i: f"{prefix}{i}",
                )
                result["connect_s"] = connect_s
                log(f"tier phase: {size} members connected in {connect_s:.1f} s")
                await _resolve_ids(ddb, table, fleet, prefix)
                room = f"{prefix}room"
                await _write_members(ddb, table, room, fleet)
                sender = fleet.clients[0]
                for n in range(rounds + 1):  # the first round warms the workers
                    seq, pending = tracker.next(size)
                    started = time.perf_counter()
                    frame = {"action": "sendAll", "roomId": room, "message": f"m{token(seq)}"}
                    await sender.ws.send_str(json.dumps(frame))
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(pending.done.wait(), 120)
                    tracker.pending.pop(seq, None)
                    got = sorted(pending.times)
                    if n == 0:
                        continue
                    if len(got) >= size:
                        result["last_s"].append(got[size - 1] - started)
                    else:
                        result["missing"] += size - len(got)
                    await asyncio.sleep(0.3)
            finally:
                await fleet.close()
    finally:
        launcher.stop(stack.proc)
    if result["last_s"]:
        result["p50_s"] = statistics.median(result["last_s"])
    log(f"tier phase: {mode} {size}: p50 {result.get('p50_s')}")
    return result


def run_tier_phase(sizes: list[int], rounds: int, log: Callable[[str], None]) -> list[dict]:
    from .run import raise_open_files_limit

    raise_open_files_limit()  # one descriptor per member here, and one in the gateway
    results = []
    for size in sizes:
        for mode in MODES:
            results.append(asyncio.run(measure(mode, size, rounds, log)))
    return results


def table(results: list[dict]) -> str:
    by = {(r["mode"], r["members"]): r for r in results}
    lines = [
        "| members | inline p50 send -> last member | tier p50 | tier / inline | missing |",
        "|---:|---:|---:|---:|---:|",
    ]
    for size in sorted({r["members"] for r in results}):
        a, t = by.get(("inline", size), {}), by.get(("tier", size), {})
        ia, it = a.get("p50_s"), t.get("p50_s")
        ratio = f"{it / ia:.2f}x" if ia and it else "-"
        lines.append(
            f"| {size:,} | {ia if ia is None else f'{ia:.2f} s'} | "
            f"{it if it is None else f'{it:.2f} s'} | {ratio} | "
            f"{a.get('missing', '-')} / {t.get('missing', '-')} |"
        )
    return "\n".join(lines)
