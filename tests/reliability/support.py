"""Helpers for the reliability tests that drive the local stack (tests/stack.py): the gateway's
fault-injection endpoint, the tables read straight from the emulator, and the functions' logs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

from tests.e2e.support import Client
from tests.stack import RunningStack


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class GatewayFaults:
    """The gateway's ``/_devstack/faults`` endpoint (roomchat_tools/local/faults.py, ``Fault``)."""

    def __init__(self, http_url: str) -> None:
        self.url = http_url + "/_devstack/faults"

    def _call(self, method: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url, method=method, data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {self.url}: {exc.code} {exc.read()!r}") from None
        return json.loads(raw) if raw else None

    def add(self, *rules: dict[str, Any]) -> None:
        self._call("POST", list(rules))

    def answer(self, connection_id: str, status: int, times: int = 1) -> None:
        """The next ``times`` posts to the connection are answered ``status``."""
        self.add({"connectionId": connection_id, "status": status, "times": times})

    def hold(self, connection_id: str, seconds: float, times: int = 1) -> None:
        """The next ``times`` posts to the connection wait ``seconds`` before being handled."""
        self.add({"connectionId": connection_id, "delay": seconds, "times": times})

    def hold_frames(self, connection_id: str, route: str, seconds: float, times: int = 1) -> None:
        """The connection's next ``times`` frames for ``route`` wait ``seconds`` before the route
        runs: API Gateway may run one connection's frames in any order."""
        self.add(
            {
                "connectionId": connection_id,
                "target": "frame",
                "route": route,
                "delay": seconds,
                "times": times,
            }
        )

    def skip_disconnect(self, connection_id: str) -> None:
        """The connection's ``$disconnect`` is not invoked when it closes (a missed one)."""
        self.add({"connectionId": connection_id, "target": "$disconnect"})

    def state(self) -> dict[str, Any]:
        return self._call("GET")

    def calls(self, connection_id: str, target: str = "POST") -> int:
        return self.state()["calls"].get(connection_id, {}).get(target, 0)

    def clear(self) -> None:
        self._call("DELETE")


@contextlib.asynccontextmanager
async def read_lag(stack: RunningStack, lag_ms: float) -> AsyncIterator[None]:
    """The stack's functions see their eventually consistent and GSI reads lag ``lag_ms`` behind
    writes (``/_devstack/dynamodb``, roomchat_tools/local/dynamoproxy.py) until the block ends."""
    url = stack.info["http_url"] + "/_devstack/dynamodb"

    def set_lag(value: float) -> dict[str, Any]:
        request = urllib.request.Request(
            url,
            method="POST",
            data=json.dumps({"lagMs": value}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    assert (await asyncio.to_thread(set_lag, lag_ms))["lagMs"] == lag_ms
    try:
        yield
    finally:
        await asyncio.to_thread(set_lag, 0)


def dynamodb_fail(stack: RunningStack, operation: str, times: int) -> None:
    """The next ``times`` DynamoDB ``operation`` calls of the stack's functions are throttled
    (``/_devstack/dynamodb``; the functions' SDK retries, then answers ``internal``)."""
    request = urllib.request.Request(
        stack.info["http_url"] + "/_devstack/dynamodb",
        method="POST",
        data=json.dumps({"fail": operation, "times": times}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def dynamodb_reset(stack: RunningStack) -> None:
    request = urllib.request.Request(
        stack.info["http_url"] + "/_devstack/dynamodb", method="DELETE"
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()


class Tables:
    """The stack's two tables, read straight from the emulator."""

    def __init__(self, stack: RunningStack) -> None:
        self.db = stack.client("dynamodb")
        self.rooms = stack.info["rooms_table"]
        self.history = stack.info["history_table"]

    def _query(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self.db.query(**kwargs)
            items.extend(page.get("Items", []))
            if not page.get("LastEvaluatedKey"):
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def partition(self, table: str, room_id: str) -> list[dict[str, Any]]:
        return self._query(
            TableName=table,
            KeyConditionExpression="roomId = :r",
            ExpressionAttributeValues={":r": {"S": room_id}},
            ConsistentRead=True,
        )

    def member_ids(self, room_id: str) -> dict[str, str]:
        """name -> connectionId of every membership item of a room (expired or not)."""
        items = self.partition(self.rooms, room_id)
        return {i["name"]["S"]: i["connectionId"]["S"] for i in items}

    def memberships_of(self, connection_id: str) -> list[str]:
        """The rooms (and profile) a connection has items in, through the byConnection index."""
        items = self._query(
            TableName=self.rooms,
            IndexName="byConnection",
            KeyConditionExpression="connectionId = :c",
            ExpressionAttributeValues={":c": {"S": connection_id}},
        )
        return sorted(i["roomId"]["S"] for i in items)

    def messages(self, room_id: str) -> list[dict[str, str]]:
        """A room's history partition, oldest first, as plain dicts."""
        items = self.partition(self.history, room_id)
        return [{k: next(iter(v.values())) for k, v in item.items()} for item in items]


def function_records(stack: RunningStack, event: str) -> list[dict[str, Any]]:
    """The functions' structured log records (one JSON object per line) with this ``event``,
    from the stack's log, where the gateway writes ``... devstack.lambda [function] {json}``."""
    records = []
    for line in stack.log_path.read_text(errors="replace").splitlines():
        if "devstack.lambda [" not in line or f'"event": "{event}"' not in line:
            continue
        try:
            record = json.loads(line[line.index("{") :])
        except ValueError:
            continue
        records.append(record)
    return records


async def sent_record(stack: RunningStack, message_id: str, timeout: float = 20) -> dict:
    """The ``sent`` log record (members, delivered, pruned, failed) of one message's fan-out."""
    deadline = time.monotonic() + timeout
    while True:
        for record in function_records(stack, "sent"):
            if record.get("messageId") == message_id:
                return record
        if time.monotonic() > deadline:
            raise AssertionError(f"no 'sent' record for {message_id}:\n{stack.log_tail(30)}")
        await asyncio.sleep(0.2)


async def join(client: Client, room: str, name: str) -> dict:
    reply = await client.join(room, name)
    assert reply.get("type") == "joined", f"{name} could not join {room}: {reply}"
    return reply


async def say(client: Client, room: str, text: str, timeout: float = 20) -> dict:
    return await client.request(
        {"action": "sendAll", "roomId": room, "message": text},
        {"type": "message", "roomId": room, "message": text},
        timeout=timeout,
    )


async def members(client: Client, room: str) -> list[str]:
    reply = await client.members(room)
    assert reply.get("type") == "members", f"members of {room}: {reply}"
    return sorted(reply["members"])


async def connect_and_join(url: str, room: str, names: list[str]) -> list[Client]:
    """One client per name, all members of ``room`` when this returns."""
    clients = await asyncio.gather(*(Client.connect(url, open_timeout=30) for _ in names))
    await asyncio.gather(*(join(c, room, n) for c, n in zip(clients, names, strict=True)))
    return list(clients)


@contextlib.asynccontextmanager
async def keepalive(clients: list[Client], every: float = 3.0) -> AsyncIterator[None]:
    """Ping every open client now and then: the test stack closes connections idle for 10 s."""

    async def pinger() -> None:
        while True:
            await asyncio.sleep(every)
            for client in clients:
                with contextlib.suppress(Exception):
                    await client.send({"action": "ping"})

    task = asyncio.create_task(pinger())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def drain(clients: Iterable[Client], seconds: float = 0.1) -> list[list[Any]]:
    """Every client's frames so far and within ``seconds`` (all clients at once)."""
    return list(await asyncio.gather(*(c.quiet(seconds) for c in clients)))


def _is(frame: Any, kind: str, room: str) -> bool:
    return isinstance(frame, dict) and frame.get("type") == kind and frame.get("roomId") == room


def messages_of(frames: list[Any], room: str) -> list[dict]:
    return [f for f in frames if _is(f, "message", room)]


def leaves_of(frames: list[Any], room: str) -> list[str]:
    """The names a room was told have left, sorted."""
    return sorted(f["name"] for f in frames if _is(f, "presence", room) and f["event"] == "leave")
