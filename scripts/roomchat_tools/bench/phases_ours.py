"""Ours, and the management-API limit through the same gateway: the membership the fan-out reads,
its read cost, and the timed series."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import statistics
import time
from typing import Any

from roomchat_client.protocol import send_all, with_query
from roomchat_tools.stackfile import dynamodb_endpoint

from .costmodel import item_size, ours_rcu
from .fleet import Client, Fleet, Tracker, broadcast_series, pace
from .plan import LIMIT, OURS, OURS_ROOM, Series
from .processes import Helper
from .stack import aws_client


class OursPhases:
    """Mixed into Bench (run.py): ours and the limit."""

    async def resolve_ids(self, ddb: Any, table: str, clients: list[Client]) -> None:
        """Connection ids, from the profile items $connect wrote for ?name= (setup, not timed)."""
        deadline = time.monotonic() + 60
        while True:
            wanted = {c.name: c for c in clients if c.connection_id is None}
            if not wanted:
                return
            pages = ddb.get_paginator("scan").paginate(
                TableName=table,
                FilterExpression="begins_with(roomId, :profile) AND begins_with(#n, :run)",
                ExpressionAttributeNames={"#n": "name"},
                ExpressionAttributeValues={
                    ":profile": {"S": "conn#"},
                    ":run": {"S": f"b{self.run_id}-"},
                },
            )
            for page in pages:
                for item in page["Items"]:
                    client = wanted.get(item["name"]["S"])
                    if client is not None:
                        client.connection_id = item["connectionId"]["S"]
            if time.monotonic() > deadline:
                missing = [c.name for c in clients if c.connection_id is None]
                raise RuntimeError(f"no connection id for {len(missing)} clients: {missing[:5]}")
            await asyncio.sleep(0.2)

    def membership_items(
        self, table: str, memberships: list[tuple[str, Client]]
    ) -> list[dict[str, Any]]:
        """Membership items exactly as the rooms repository writes them on `join` (written
        directly: a real join of 1,000 members would broadcast ~500,000 presence frames)."""
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
        for room_id, client in memberships:
            assert client.connection_id is not None
            rooms.put_member(
                Member(room_id, client.connection_id, client.name, iso_ms(now), expires)
            )
        return capture.items

    async def batch_write(self, ddb: Any, table: str, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), 25):
            pending = {table: requests[start : start + 25]}
            for _ in range(20):
                unprocessed = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems")
                if not unprocessed:
                    break
                pending = unprocessed
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("BatchWriteItem kept items unprocessed")

    def query_room(self, ddb: Any, table: str, room_id: str) -> tuple[list[dict], float]:
        items: list[dict[str, Any]] = []
        moto_rcu = 0.0
        kwargs: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "roomId = :r",
            "ExpressionAttributeValues": {":r": {"S": room_id}},
            "ReturnConsumedCapacity": "TOTAL",
        }
        while True:
            page = ddb.query(**kwargs)
            items.extend(page["Items"])
            moto_rcu += (page.get("ConsumedCapacity") or {}).get("CapacityUnits") or 0.0
            if "LastEvaluatedKey" not in page:
                return items, moto_rcu
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def ours_cost(
        self, ddb: Any, table: str, room_id: str, connections: int, label: str
    ) -> dict[str, Any]:
        items, moto_rcu = self.query_room(ddb, table, room_id)
        sizes = [item_size(i) for i in items]
        from roomchat.adapters.dynamodb import DynamoRooms

        rooms = DynamoRooms(ddb, table, "byConnection")
        read_s = self.time_read(lambda: rooms.recipient_ids(room_id, 0))  # what sendAll reads
        entry = {
            "emulator_read_s": read_s,
            "connections": connections,
            "room_members": len(items),
            "items_read": len(items) + 1,
            "bytes_read": sum(sizes) + sizes[0],
            "mean_item_bytes": statistics.mean(sizes),
            "rcu": ours_rcu(sizes[0], sizes),
            "moto_reported_rcu": moto_rcu,
        }
        self.results["cost"].setdefault(label, []).append(entry)
        return entry

    async def ours_series(
        self,
        tracker: Tracker,
        room_id: str,
        senders: list[Client],
        series: Series,
    ) -> Series:
        async def trigger(seq: int) -> None:
            sender = senders[seq % len(senders)]
            await pace(sender)
            frame = send_all(room_id, self.text(seq), f"b{self.run_id}-{seq}")
            await sender.ws.send_str(json.dumps(frame))

        iterations, warmup = self.rounds(series.members, series.post_delay_ms)
        return await broadcast_series(
            series,
            tracker,
            trigger,
            iterations=iterations,
            warmup=warmup,
            timeout_s=self.plan.delivery_timeout_s,
        )

    async def limit_series(
        self,
        tracker: Tracker,
        poster: Helper,
        ids: list[str],
        series: Series,
        iterations: int | None = None,
    ) -> Series:
        await poster.send({"ids": ids})
        await poster.read()
        cpu: list[float] = []

        async def trigger(seq: int) -> None:
            await poster.send({"data": self.frame(seq)})

        async def after(_: Any) -> None:
            reply = await poster.read(timeout_s=self.plan.delivery_timeout_s + 30)
            cpu.append(reply["cpu_s"] / max(1, len(ids)))

        planned, warmup = self.rounds(series.members, series.post_delay_ms)
        await broadcast_series(
            series,
            tracker,
            trigger,
            iterations=iterations or planned,
            warmup=warmup,
            timeout_s=self.plan.delivery_timeout_s,
            after=after,
        )
        measured = cpu[warmup:] or cpu
        series.notes["poster_cpu_us_per_post"] = statistics.median(measured) * 1e6
        series.notes["workers"] = int(poster.info.get("workers") or 0)
        return series

    async def ours_phase(self, session: Any, info: dict[str, Any]) -> None:
        ddb = aws_client("dynamodb", dynamodb_endpoint(info), info["region"])
        table = info["rooms_table"]
        tracker = Tracker()
        fleet = Fleet(session, tracker, "ours")
        written: list[dict[str, Any]] = []
        helper = self.gateway_helper(info, info["api_id"], self.ours_zip, tier=True)
        gateway = await helper.start()
        poster = self.poster(info, self.fanout_workers, callback_url=gateway["callback_url"])
        await poster.start()
        self.log(f"ours: the applied API; limit: bench/poster.py, {self.fanout_workers} workers")
        try:
            for size in self.plan.sizes:
                connect_s = await fleet.grow(
                    size,
                    lambda i: with_query(gateway["websocket_url"], name=self.member_name(i)),
                    self.member_name,
                )
                await self.resolve_ids(ddb, table, fleet.clients)
                members = fleet.clients[:size]
                everyone = f"bench-{self.run_id}-all-{size}"
                memberships = [(everyone, c) for c in members]
                rooms = self.plan.baseline_rooms
                spread = size // rooms >= 2
                if spread:
                    memberships += [
                        (f"bench-{self.run_id}-{size}-r{c.index % rooms}", c) for c in members
                    ]
                items = self.membership_items(table, memberships)
                await self.batch_write(ddb, table, [{"PutRequest": {"Item": i}} for i in items])
                written.extend(
                    {"roomId": i["roomId"], "connectionId": i["connectionId"]} for i in items
                )
                ids = [c.connection_id or "" for c in members]
                for delay in self.delays():
                    await self.set_delay(helper, delay)
                    series = Series(OURS, size, size, delay)
                    series.notes["connect_s"] = connect_s
                    self.record(await self.ours_series(tracker, everyone, members, series))
                    if spread and not delay:
                        in_room = [c for c in members if c.index % rooms == 0]
                        series = Series(OURS_ROOM, size, len(in_room), delay)
                        room = f"bench-{self.run_id}-{size}-r0"
                        self.record(await self.ours_series(tracker, room, in_room, series))
                    series = Series(LIMIT, size, size, delay)
                    self.record(await self.limit_series(tracker, poster, ids, series))
                await self.set_delay(helper, 0)
                self.ours_cost(ddb, table, everyone, size, "ours")
                if spread:
                    room = f"bench-{self.run_id}-{size}-r0"
                    self.ours_cost(ddb, table, room, size, "ours_one_of_10")
            await poster.stop()
            if self.plan.sizes:  # not with --tier-phase alone
                self.history_write_cost(ddb, info)
                await self.loopback_sweep(info, tracker, fleet, gateway["callback_url"])
                await self.rtt_sweep(info)
            if self.plan.tier_sizes:
                await self.ours_tier(info, helper, gateway, fleet, tracker, written)
        finally:
            await poster.stop()
            if self.stack.owned:
                # The gateway closes every connection as it stops, and the stack goes next:
                # nothing to tidy in its tables.
                await helper.stop()
                await fleet.close()
            else:
                with contextlib.suppress(Exception):
                    deletes = [{"DeleteRequest": {"Key": key}} for key in written]
                    await self.batch_write(ddb, table, deletes)
                await fleet.close()
                with contextlib.suppress(Exception):
                    await self.wait_for_profiles_gone(ddb, table)
                await helper.stop()

    async def wait_for_profiles_gone(self, ddb: Any, table: str, timeout_s: float = 60) -> None:
        """On a shared stack: every $disconnect of ours has run (profiles deleted)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            left = ddb.scan(
                TableName=table,
                Select="COUNT",
                FilterExpression="begins_with(#n, :run)",
                ExpressionAttributeNames={"#n": "name"},
                ExpressionAttributeValues={":run": {"S": f"b{self.run_id}-"}},
            )["Count"]
            if not left:
                return
            await asyncio.sleep(0.25)

    def history_write_cost(self, ddb: Any, info: dict[str, Any]) -> None:
        """What each sendAll writes (for the record: the baseline writes nothing)."""
        room = f"bench-{self.run_id}-all-{max(self.plan.sizes or [0])}"
        page = ddb.query(
            TableName=info["history_table"],
            KeyConditionExpression="roomId = :r",
            ExpressionAttributeValues={":r": {"S": room}},
            Limit=1,
        )
        if page["Items"]:
            size = item_size(page["Items"][0])
            self.results["cost"]["ours_writes"] = {
                "history_item_bytes": size,
                "wcu_per_message": math.ceil(size / 1024) + 1 + 1,
                "detail": "history PutItem + idempotency mark PutItem (clientMsgId) + "
                "rate-limit counter UpdateItem, each 1 WCU per started KB",
            }
