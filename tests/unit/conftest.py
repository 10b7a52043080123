"""Fixtures for the unit tests: moto tables with the real key schema, a fake @connections sender,
and a harness that routes frames to the handlers the way API Gateway's route selection does."""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from roomchat import handlers
from roomchat.adapters.dynamodb import (
    DynamoChanges,
    DynamoHistory,
    DynamoMentions,
    DynamoModeration,
    DynamoPins,
    DynamoRateLimiter,
    DynamoReactions,
    DynamoRooms,
    DynamoThreads,
)
from roomchat.ports import Delivery
from roomchat.settings import Settings
from roomchat.wiring import Container
from tests import engines
from tests.tables import HISTORY_TABLE, ROOMS_BY_CONNECTION_INDEX, ROOMS_TABLE

ROUTES = {
    "join": handlers.on_join,
    "leave": handlers.on_leave,
    "sendAll": handlers.on_send_all,
    "history": handlers.on_history,
    "members": handlers.on_members,
    "ping": handlers.on_ping,
    "delete": handlers.on_delete,
    "edit": handlers.on_edit,
    "typing": handlers.on_typing,
    "markRead": handlers.on_mark_read,
    "kick": handlers.on_kick,
    "disconnectUser": handlers.on_disconnect_user,
    "createRoom": handlers.on_create_room,
    "invite": handlers.on_invite,
    "uninvite": handlers.on_uninvite,
    "promote": handlers.on_promote,
    "demote": handlers.on_demote,
    "resume": handlers.on_resume,
    "thread": handlers.on_thread,
    "threads": handlers.on_threads,
    "follow": handlers.on_follow,
    "react": handlers.on_react,
    "mentions": handlers.on_mentions,
    "pin": handlers.on_pin,
    "prepareUpload": handlers.on_prepare_upload,
    "attachmentUrl": handlers.on_attachment_url,
    "registerDevice": handlers.on_register_device,
    "unregisterDevice": handlers.on_unregister_device,
    "notifyLevel": handlers.on_notify_level,
}


@dataclass
class FakeSender:
    """Records every post; connections in ``gone`` answer 410, in ``failing`` fail for good."""

    inbox: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    gone: set[str] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)
    attempts: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)

    def disconnect(self, connection_id: str) -> Delivery:
        """The @connections DELETE: recorded; a gone connection answers 410."""
        if connection_id in self.gone:
            return Delivery.GONE
        self.closed.append(connection_id)
        return Delivery.DELIVERED

    def send_many(
        self, connection_ids: Iterable[str], data: bytes, deadline: Any = None
    ) -> Mapping[str, Delivery]:
        outcomes = {}
        for cid in connection_ids:
            self.attempts.append(cid)
            if cid in self.gone:
                outcomes[cid] = Delivery.GONE
            elif cid in self.failing:
                outcomes[cid] = Delivery.FAILED
            else:
                self.inbox[cid].append(json.loads(data))
                outcomes[cid] = Delivery.DELIVERED
        return outcomes

    def take(self, cid: str) -> list[dict[str, Any]]:
        """Frames delivered to one connection since the last take."""
        frames, self.inbox[cid] = self.inbox[cid], []
        return frames


class Context:
    aws_request_id = "req-1"
    function_name = "roomchat-test"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class Harness:
    """Invokes the real handlers with API Gateway-shaped events."""

    def __init__(self, db, settings: Settings, sender: FakeSender):
        self.db = db
        self.settings = settings
        self.sender = sender
        self.connected_at = time.time_ns() // 1_000_000
        # connectionId -> the user id (`sub`) its token named, as the authorizer passes it on.
        self.users: dict[str, str] = {}
        # connectionId -> its token's `exp` (epoch seconds), as the authorizer passes it on.
        self.expiries: dict[str, int | str] = {}

    def event(self, cid: str, route: str, body: str | None = None, **extra: Any) -> dict[str, Any]:
        event = {
            "requestContext": {
                "routeKey": route,
                "eventType": {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(
                    route, "MESSAGE"
                ),
                "connectionId": cid,
                "connectedAt": self.connected_at,
                "requestId": f"req-{cid}",
                "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
                "stage": "test",
                "apiId": "abc123",
            },
            "isBase64Encoded": False,
        }
        if cid in self.users:
            event["requestContext"]["authorizer"] = {"sub": self.users[cid]}
            if cid in self.expiries:
                event["requestContext"]["authorizer"]["exp"] = self.expiries[cid]
        if body is not None:
            event["body"] = body
        event.update(extra)
        return event

    def connect(self, cid: str, name: str | None = None) -> dict[str, Any]:
        query = {"name": name} if name is not None else None
        return handlers.on_connect(
            self.event(cid, "$connect", queryStringParameters=query), Context()
        )

    def disconnect(self, cid: str) -> dict[str, Any]:
        return handlers.on_disconnect(self.event(cid, "$disconnect"), Context())

    def raw(self, cid: str, body: str) -> dict[str, Any]:
        """Route like API Gateway: $request.body.action, $default when absent or not JSON."""
        try:
            action = json.loads(body).get("action")
        except (ValueError, AttributeError):
            action = None
        route = action if isinstance(action, str) and action in ROUTES else "$default"
        handler = ROUTES.get(route, handlers.on_default)
        return handler(self.event(cid, route, body), Context())

    def send(self, cid: str, **frame: Any) -> dict[str, Any] | None:
        """Send a frame; return the reply frame (route response body) or None."""
        response = self.raw(cid, json.dumps(frame))
        return json.loads(response["body"]) if "body" in response else None

    def join(self, cid: str, room: str, name: str) -> dict[str, Any]:
        reply = self.send(cid, action="join", roomId=room, name=name)
        assert reply["type"] == "joined", reply
        return reply

    def history_items(self, room: str) -> list[dict[str, Any]]:
        """The room's own partition of the history table (not idempotency or rate marks)."""
        return self.db.query(
            TableName=self.settings.history_table,
            KeyConditionExpression="roomId = :r",
            ExpressionAttributeValues={":r": {"S": room}},
        )["Items"]

    def memberships(self) -> set[tuple[str, str]]:
        """(roomId, connectionId) of every room membership item (not connection records)."""
        return {
            (i["roomId"]["S"], i["connectionId"]["S"])
            for i in self.db.scan(TableName=self.settings.rooms_table)["Items"]
            if not i["roomId"]["S"].startswith(("conn#", "acl#"))
        }

    def connection_item(self, cid: str, record: bool = True) -> dict[str, Any] | None:
        """A connection's record (rooms joined, gone) or, with record=False, its profile."""
        key = {"roomId": {"S": "conn#" + cid}, "connectionId": {"S": ("#" if record else "") + cid}}
        return self.db.get_item(TableName=self.settings.rooms_table, Key=key).get("Item")

    def items(self) -> dict[str, list[dict[str, Any]]]:
        """Every item of both tables, to prove a refused request wrote nothing."""
        return {
            table: sorted(
                self.db.scan(TableName=table)["Items"], key=lambda i: json.dumps(i, sort_keys=True)
            )
            for table in (self.settings.rooms_table, self.settings.history_table)
        }


def conversation_stores(db: Any, settings: Settings) -> dict[str, Any]:
    """The Container's threads, reactions, mentions and pins stores over one client."""
    return {
        "threads": DynamoThreads(db, settings.history_table),
        "reactions": DynamoReactions(db, settings.history_table),
        "mentions": DynamoMentions(db, settings.history_table),
        "pins": DynamoPins(db, settings.rooms_table),
    }


@pytest.fixture
def dynamodb(request: pytest.FixtureRequest):
    """A low-level DynamoDB client with empty rooms and history tables (the Terraform's keys).

    moto by default; tests marked with tests.engines.both_engines also run against AWS's
    DynamoDB Local, each in a database of its own (its own access key id)."""
    engine = getattr(request, "param", engines.MOTO)
    if engine == engines.MOTO:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(TableName="rooms", **ROOMS_TABLE)
            client.create_table(TableName="history", **HISTORY_TABLE)
            yield client
        return
    server = request.getfixturevalue("dynamodb_local_server")
    client = server.client(namespace=f"t{uuid.uuid4().hex}")
    client.create_table(TableName="rooms", **ROOMS_TABLE)
    client.create_table(TableName="history", **HISTORY_TABLE)
    yield client
    for table in ("rooms", "history"):  # frees the in-memory database
        client.delete_table(TableName=table)


@pytest.fixture
def settings() -> Settings:
    return Settings(
        rooms_table="rooms",
        history_table="history",
        rooms_by_connection_index=ROOMS_BY_CONNECTION_INDEX,
        recent_on_join=20,
        # High enough for tests that send bursts; the limit itself is tested on its own.
        rate_limit_per_second=1000,
        # Off for the same reason: the budgets by cost are tested on their own
        # (tests/unit/test_budgets.py).
        cost_per_second=0,
        user_cost_per_second=0,
    )


@pytest.fixture
def sender() -> FakeSender:
    return FakeSender()


@pytest.fixture
def chat(dynamodb, settings, sender):
    container = Container(
        settings=settings,
        rooms=DynamoRooms(dynamodb, settings.rooms_table, settings.rooms_by_connection_index),
        history=DynamoHistory(dynamodb, settings.history_table),
        sender_for=lambda endpoint: sender,
        limiter=DynamoRateLimiter(dynamodb, settings.history_table, settings.rate_limit_per_second),
        moderation=DynamoModeration(dynamodb, settings.history_table),
        changes=DynamoChanges(dynamodb, settings.history_table),
        **conversation_stores(dynamodb, settings),
    )
    handlers.use_container(container)
    yield Harness(dynamodb, settings, sender)
    handlers.use_container(None)
