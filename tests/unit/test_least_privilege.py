"""Least privilege, from the code's side: each function's DynamoDB, SQS and Lambda calls and
@connections posts, recorded while the handlers run through every path (pruning after a 410 in
every function that posts, re-queueing, the review hook, rate limits), must be exactly the
permissions docs/design.md grants it. A call not granted would fail on AWS with AccessDenied;
a grant never used is privilege to remove. tests/infra checks that the deployed roles equal the
same table, and the local stack refuses any call its role does not grant
(roomchat_tools/local/iam_check.py)."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from dataclasses import replace

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from roomchat import handlers, protocol
from roomchat.adapters.attachments import S3AttachmentStore
from roomchat.adapters.dynamodb import (
    DynamoChanges,
    DynamoFanoutProgress,
    DynamoHistory,
    DynamoModeration,
    DynamoRateLimiter,
    DynamoRooms,
)
from roomchat.adapters.queue import SqsFanoutQueue
from roomchat.adapters.review import LambdaReviewer
from roomchat.ports import Delivery
from roomchat.settings import Settings
from roomchat.usecases import policy
from roomchat.wiring import Container
from tests.infra import design
from tests.tables import HISTORY_TABLE, ROOMS_BY_CONNECTION_INDEX, ROOMS_TABLE
from tests.unit.conftest import ROUTES, Context, FakeSender, Harness, conversation_stores

# The functions of the routes that carry actions (budgeted, and closed when over budget).
ROUTED = {
    *[
        "join",
        "leave",
        "send_all",
        "history",
        "resume",
        "delete",
        "edit",
        "typing",
        "mark_read",
        "kick",
    ],
    *["disconnect_user", "members", "create_room", "invite", "uninvite", "promote", "demote"],
    *["thread", "threads", "follow", "react", "mentions", "pin"],
}

SQS_OPERATIONS = {
    "send_message_batch": "SendMessage",
    "send_message": "SendMessage",
    "get_queue_url": "GetQueueUrl",
}
# What the event source mapping does with the fanout function's role; the code never does.
MAPPING_ACTIONS = frozenset({"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"})

OPERATIONS = {
    "get_item": "GetItem",
    "put_item": "PutItem",
    "delete_item": "DeleteItem",
    "update_item": "UpdateItem",
    "query": "Query",
    "scan": "Scan",
    "batch_write_item": "BatchWriteItem",
}


class Recorder:
    """A DynamoDB client that records (function, resource, action) for every call."""

    def __init__(self, client, settings):
        self._client = client
        self._tables = {settings.rooms_table: "rooms", settings.history_table: "history"}
        self.function = "unset"
        self.seen: dict[str, set[tuple[str, str]]] = defaultdict(set)

    def __getattr__(self, name):
        op = getattr(self._client, name)

        def call(**kwargs):
            resource = self._tables[kwargs["TableName"]]
            if kwargs.get("IndexName"):
                resource = "rooms_by_connection"
            self.seen[self.function].add((resource, f"dynamodb:{OPERATIONS[name]}"))
            return op(**kwargs)

        return call


HOOK_ARN = "arn:aws:lambda:us-east-1:123456789012:function:roomchat-review_hook"

# An S3 call (or a presigned request, which S3 authorizes as its signer's) -> IAM actions.
S3_OPERATIONS = {
    "head_object": ("s3:GetObject",),  # HeadObject needs s3:GetObject
    "get_object": ("s3:GetObject",),
    "put_object_tagging": ("s3:PutObjectTagging",),
    "delete_object": ("s3:DeleteObject",),
    # The POST carries the attached=no tag: S3 needs PutObject and PutObjectTagging.
    "generate_presigned_post": ("s3:PutObject", "s3:PutObjectTagging"),
}


class S3Recorder:
    """The attachments bucket's S3 client: records (function, "uploads"/"thumbs", action) for
    every call and every presigned request it signs."""

    def __init__(self, client, recorder: Recorder):
        self._client = client
        self._recorder = recorder

    def _record(self, key: str, actions) -> None:
        prefix = key.split("/", 1)[0]
        for action in actions:
            self._recorder.seen[self._recorder.function].add((prefix, action))

    def generate_presigned_url(self, operation, Params, **kwargs):
        assert operation == "get_object", operation
        self._record(Params["Key"], ("s3:GetObject",))
        return self._client.generate_presigned_url(operation, Params=Params, **kwargs)

    def __getattr__(self, name):
        op = getattr(self._client, name)

        def call(**kwargs):
            self._record(kwargs["Key"], S3_OPERATIONS[name])
            return op(**kwargs)

        return call


class LambdaRecorder:
    """The review hook's Lambda client: records (function, "review_hook", action) and allows."""

    def __init__(self, recorder: Recorder):
        self._recorder = recorder

    def invoke(self, **kwargs):
        assert kwargs["FunctionName"] == HOOK_ARN
        self._recorder.seen[self._recorder.function].add(("review_hook", "lambda:InvokeFunction"))
        return {"StatusCode": 200, "Payload": io.BytesIO(b'{"verdict": "allow"}')}


class SqsRecorder:
    """An SQS client that records (function, "queue", action) for every call."""

    def __init__(self, client, recorder: Recorder):
        self._client = client
        self._recorder = recorder

    def __getattr__(self, name):
        op = getattr(self._client, name)

        def call(**kwargs):
            action = SQS_OPERATIONS.get(name, name)
            self._recorder.seen[self._recorder.function].add(("queue", f"sqs:{action}"))
            return op(**kwargs)

        return call


def _observe(chat, dynamodb, settings, sender):
    recorder = Recorder(dynamodb, settings)
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="fanout")["QueueUrl"]
    container = handlers.container()
    container.rooms = DynamoRooms(
        recorder, settings.rooms_table, settings.rooms_by_connection_index
    )
    container.history = DynamoHistory(recorder, settings.history_table)
    container.limiter = DynamoRateLimiter(recorder, settings.history_table, 1000)
    container.moderation = DynamoModeration(recorder, settings.history_table)
    container.changes = DynamoChanges(recorder, settings.history_table)
    container.queue = SqsFanoutQueue(SqsRecorder(sqs, recorder), "fanout")
    container.progress = DynamoFanoutProgress(recorder, settings.rooms_table)
    container.reviewer = LambdaReviewer(LambdaRecorder(recorder), HOOK_ARN, "deny")
    for name, store in conversation_stores(recorder, settings).items():
        setattr(container, name, store)
    s3 = boto3.client("s3", region_name="us-east-1", config=Config(signature_version="s3v4"))
    s3.create_bucket(Bucket="attachments")
    container.attachments = S3AttachmentStore(S3Recorder(s3, recorder), "attachments")
    chat.s3 = s3
    chat.queue = (sqs, url)
    posted: dict[str, bool] = defaultdict(bool)
    # Functions that met a gone connection (410), so their pruning path ran under their grants.
    recorder.met_gone = defaultdict(bool)
    send_many = sender.send_many

    def recording_send_many(ids, data, deadline=None):
        posted[recorder.function] = True
        outcomes = send_many(ids, data, deadline)
        if Delivery.GONE in outcomes.values():
            recorder.met_gone[recorder.function] = True
        return outcomes

    sender.send_many = recording_send_many
    closed: dict[str, bool] = defaultdict(bool)
    disconnect = sender.disconnect

    def recording_disconnect(cid):
        closed[recorder.function] = True
        outcome = disconnect(cid)
        if outcome is Delivery.GONE:
            recorder.met_gone[recorder.function] = True
        return outcome

    sender.disconnect = recording_disconnect
    recorder.closed = closed

    def run(function, call, /, *args, **kwargs):
        recorder.function = function
        # Each function has its own containers, so each looks the queue's URL up itself.
        container.queue = SqsFanoutQueue(SqsRecorder(sqs, recorder), "fanout")
        return call(*args, **kwargs)

    return chat, run, recorder, posted


@pytest.fixture(scope="module")
def walked():
    """Every path of every function walked once for the module (the walk is the slow part:
    each function's test only compares what it recorded with its grants)."""
    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        db = boto3.client("dynamodb", region_name="us-east-1")
        db.create_table(TableName="rooms", **ROOMS_TABLE)
        db.create_table(TableName="history", **HISTORY_TABLE)
        settings = Settings(
            rooms_table="rooms",
            history_table="history",
            rooms_by_connection_index=ROOMS_BY_CONNECTION_INDEX,
            rate_limit_per_second=1000,
            cost_per_second=0,  # the budgets: in _exercise_closing
            user_cost_per_second=0,
            attachments_bucket="attachments",
        )
        sender = FakeSender()
        handlers.use_container(
            Container(
                settings=settings,
                rooms=DynamoRooms(db, "rooms", ROOMS_BY_CONNECTION_INDEX),
                history=DynamoHistory(db, "history"),
                sender_for=lambda endpoint: sender,
            )
        )
        try:
            chat, run, recorder, posted = _observe(
                Harness(db, settings, sender), db, settings, sender
            )
            _exercise_every_path(chat, run, sender)
            _exercise_conversations(chat, run, sender)
            _exercise_moderation(chat, run, sender, patch)
            _exercise_closing(chat, run, sender)
            _exercise_attachments(chat, run)
            _exercise_notifications(chat, run, recorder)
            yield recorder, posted
        finally:
            handlers.use_container(None)


def _exercise_closing(chat, run, sender):
    """Every action's function, over its budget until the connection is closed: the budget
    buckets' writes, the strike count, the `closing` post and the @connections DELETE (a gone
    connection: the 410 of each)."""
    container = handlers.container()
    kept = container.settings
    container.settings = replace(
        kept, cost_per_second=1, cost_burst=1, user_cost_per_second=0, strikes_before_close=1
    )
    routes = {r.function: key for key, r in design.routes().items() if r.function in ROUTED}
    for n, (function, route) in enumerate(sorted(routes.items())):
        cid = f"X{n}"
        sender.gone.add(cid)  # it closes its end meanwhile: both calls meet a 410
        for _ in range(2):  # the first spends the budget; the second is refused and closes
            run(function, chat.send, cid, action=route, roomId="nowhere")
    # A signed-in user at the cap of connections: the next $connect is counted and taken back.
    container.settings = replace(kept, max_connections_per_user=1)
    for cid in ("Y1", "Y2"):
        chat.users[cid] = "u-capped"
        run("connect", chat.connect, cid)
    run("disconnect", chat.disconnect, "Y1")
    container.settings = kept


def _exercise_every_path(chat, run, sender):
    """Each function through its paths, including pruning a gone member (410)."""
    run("connect", chat.connect, "A", name="ana")
    run("connect", chat.connect, "B")
    run("connect", chat.connect, "G", name="ghost")
    run("join", chat.join, "G", "lobby", "ghost")
    run("join", chat.join, "G", "side", "ghost")
    run("join", chat.send, "A", action="join", roomId="lobby")  # name from the profile
    run("join", chat.join, "B", "lobby", "bob")
    run("send_all", chat.send, "A", action="sendAll", roomId="lobby", message="m", clientMsgId="k")
    run("send_all", chat.send, "A", action="sendAll", roomId="lobby", message="m", clientMsgId="k")
    container = handlers.container()
    generous = container.limiter
    container.limiter = DynamoRateLimiter(generous._db, generous._table, 2)
    for _ in range(3):  # over the limit of 2 a second (an UpdateItem that fails its condition)
        run("send_all", chat.send, "B", action="sendAll", roomId="lobby", message="fast")
    # a retry refused by the limit is answered from the stored message
    retry = {"action": "sendAll", "roomId": "lobby", "message": "m", "clientMsgId": "k"}
    for _ in range(3):
        run("send_all", chat.send, "A", **retry)
    for _ in range(3):  # join and leave are limited by the same counter
        run("join", chat.send, "B", action="join", roomId="lobby", name="bob")
    for _ in range(3):
        run("leave", chat.send, "C", action="leave", roomId="nowhere")
    container.limiter = generous
    run("history", chat.send, "A", action="history", roomId="lobby")
    _exercise_resume(chat, run, sender)
    run("members", chat.send, "A", action="members", roomId="lobby")
    run("ping", chat.send, "A", action="ping")
    run("default", chat.raw, "A", "not json")
    run("default", chat.send, "A", action="dance")
    # A ghost vanishes without $disconnect: every fan-out function meets one and prunes it
    # (a new one each time: a pruned connection is closed for good, as on AWS).
    for ghost, (function, action) in enumerate(
        [
            ("join", lambda: chat.join("C", "lobby", "cy")),
            ("leave", lambda: chat.send("B", action="leave", roomId="lobby")),
            ("disconnect", lambda: chat.disconnect("A")),
            ("send_all", lambda: chat.send("C", action="sendAll", roomId="lobby", message="x")),
        ]
    ):
        run("join", chat.join, f"G{ghost}", "lobby", "ghost")
        run("join", chat.join, f"G{ghost}", "side", "ghost")
        sender.gone.add(f"G{ghost}")
        run(function, action)
    _exercise_rooms_and_roles(chat, run, sender)
    _exercise_the_tier(chat, run, sender)


def _exercise_resume(chat, run, sender):
    """Resume: a join and a resume with `after` (its presence meets a ghost and prunes it), and
    a history page after a point with an older message changed since (read for `updated`)."""
    first = chat.history_items("lobby")[0]["messageId"]["S"]
    run("send_all", chat.send, "A", action="sendAll", roomId="lobby", message="to edit")
    edited = chat.history_items("lobby")[-1]["messageId"]["S"]
    run("edit", chat.send, "A", action="edit", roomId="lobby", messageId=edited, message="e")
    run("join", chat.send, "R1", action="join", roomId="lobby", name="rey", after=first)
    run("join", chat.join, "GR", "lobby", "ghost")
    sender.gone.add("GR")
    rooms = [{"roomId": "lobby", "after": first}, {"roomId": "side"}]
    run("resume", chat.send, "R2", action="resume", name="rue", rooms=rooms)
    run("resume", chat.send, "R2", action="resume", rooms=[{"roomId": "lobby"}])  # no name
    run("history", chat.send, "R2", action="history", roomId="lobby", after=edited)


def _exercise_rooms_and_roles(chat, run, sender):
    """The room actions, signed in, through their accepted and refused paths."""

    def user(function, cid, sub, **frame):
        event = chat.event(cid, frame["action"], json.dumps(frame))
        event["requestContext"]["authorizer"] = {"principalId": sub, "sub": sub, "name": sub}
        return run(function, ROUTES[frame["action"]], event, Context())

    user("create_room", "O", "u-o", action="createRoom", roomId="team", policy="private")
    user("create_room", "O", "u-o", action="createRoom", roomId="team")  # taken: a record
    user("create_room", "O", "u-o", action="createRoom", roomId="lobby")  # taken: in use
    user("create_room", "O", "u-o", action="createRoom", roomId="news", policy="announce")
    user("join", "O", "u-o", action="join", roomId="team")
    user("join", "O", "u-o", action="join", roomId="news")
    user("invite", "O", "u-o", action="invite", roomId="team", userId="u-b")
    user("invite", "X", "u-x", action="invite", roomId="team", userId="u-x")  # refused
    user("join", "B", "u-b", action="join", roomId="team")
    user("join", "B2", "u-b", action="join", roomId="team")  # a second connection
    user("join", "X", "u-x", action="join", roomId="team")  # refused
    user("join", "X", "u-x", action="join", roomId="news")
    user("send_all", "B", "u-b", action="sendAll", roomId="team", message="m")
    user("send_all", "X", "u-x", action="sendAll", roomId="news", message="m")  # refused
    user("history", "B", "u-b", action="history", roomId="team")
    user("members", "B", "u-b", action="members", roomId="team")
    user("promote", "O", "u-o", action="promote", roomId="team", userId="u-b")
    user("promote", "B", "u-b", action="promote", roomId="team", userId="u-x")  # refused
    user("demote", "O", "u-o", action="demote", roomId="team", userId="u-b")
    user("demote", "O", "u-o", action="demote", roomId="team", userId="u-x")  # not a moderator
    user("leave", "B2", "u-b", action="leave", roomId="team")  # B still in: no presence
    # B's connection vanished without $disconnect: uninvite's `left` meets a 410 and prunes it
    # (the byConnection index Query its role lacked).
    sender.gone.add("B")
    user("uninvite", "O", "u-o", action="uninvite", roomId="team", userId="u-b")
    user("uninvite", "X", "u-x", action="uninvite", roomId="team", userId="u-o")  # refused


def _exercise_moderation(chat, run, sender, monkeypatch: pytest.MonkeyPatch):
    """Issue 13's actions through their paths; kick and disconnectUser with a moderator
    stand-in (room roles do not exist yet: every WebSocket caller is refused today)."""
    for cid, name in (("P", "pia"), ("Q", "quin"), ("R", "rae")):
        run("join", chat.join, cid, "mod", name)
    run("send_all", chat.send, "P", action="sendAll", roomId="mod", message="one")
    run("send_all", chat.send, "P", action="sendAll", roomId="mod", message="two")
    first, second = (i["messageId"]["S"] for i in chat.history_items("mod"))
    run("mark_read", chat.send, "Q", action="markRead", roomId="mod", messageId=second)
    run("mark_read", chat.send, "Q", action="markRead", roomId="mod", messageId=first)  # no move
    run("join", chat.join, "Q", "mod", "quin")  # lastRead and the unread count
    run("edit", chat.send, "P", action="edit", roomId="mod", messageId=first, message="uno")
    run("delete", chat.send, "P", action="delete", roomId="mod", messageId=first)
    run("delete", chat.send, "P", action="delete", roomId="mod", messageId=first)  # a repeat
    run("typing", chat.send, "P", action="typing", roomId="mod")
    monkeypatch.setattr(policy, "may", lambda deps, action, room, caller, target: True)
    run("kick", chat.send, "P", action="kick", roomId="mod", userId="R", ban=60)
    run("join", chat.send, "R", action="join", roomId="mod", name="rae")  # banned
    run("disconnect_user", chat.send, "P", action="disconnectUser", roomId="mod", userId="Q")
    # Each fan-out meets a ghost and prunes it; disconnectUser meets one already gone (410).
    for n, (function, action) in enumerate(
        [
            (
                "edit",
                lambda: chat.send(
                    "P", action="edit", roomId="mod", messageId=second, message="dos"
                ),
            ),
            ("delete", lambda: chat.send("P", action="delete", roomId="mod", messageId=second)),
            ("typing", lambda: chat.send("P", action="typing", roomId="mod")),
            ("kick", lambda: chat.send("P", action="kick", roomId="mod", userId="nobody")),
            (
                "disconnect_user",
                lambda: chat.send("P", action="disconnectUser", roomId="mod", userId="H4"),
            ),
        ]
    ):
        run("join", chat.join, f"H{n}", "mod", "ghost")
        sender.gone.add(f"H{n}")
        run(function, action)


def _exercise_notifications(chat, run, recorder):
    """Notifications: devices up to the cap and removed, a room's level, a signed-in join (its
    watcher item), sendAll queuing for the worker, and the worker's pushes (one device gone)."""
    from roomchat.adapters.dynamodb.notifications import DynamoNotifications
    from roomchat.adapters.push import SqsNotifyQueue
    from roomchat.notification_ports import PushOutcome
    from tests.unit.test_notifications import _sub

    sqs, _ = chat.queue
    sqs.create_queue(QueueName="notify")
    container = handlers.container()
    container.notifications = DynamoNotifications(recorder, "rooms")
    gone = {"https://push.example.com/s/gone"}

    class Pusher:
        def push(self, device, payload, ttl_s):
            return PushOutcome.GONE if device.endpoint in gone else PushOutcome.DELIVERED

    container.pusher = lambda: Pusher()

    def user(function, cid, sub, frame):
        event = chat.event(cid, frame["action"], json.dumps(frame))
        event["requestContext"]["authorizer"] = {"sub": sub, "name": sub}
        return run(function, ROUTES[frame["action"]], event, Context())

    user("join", "NA", "u-na", {"action": "join", "roomId": "pushroom"})
    user("join", "NB", "u-nb", {"action": "join", "roomId": "pushroom"})
    for i in range(12):  # past the cap: refused by the map's size condition
        user("register_device", "NB", "u-nb", {"action": "registerDevice", "webPush": _sub(i)})
    first = _sub(0)
    user("unregister_device", "NB", "u-nb", {"action": "unregisterDevice", "deviceId": "x"})
    user("register_device", "NB", "u-nb", {"action": "registerDevice", "webPush": first})
    user("register_device", "NB", "u-nb", {"action": "registerDevice", "webPush": _sub("gone")})
    user(
        "notify_level",
        "NB",
        "u-nb",
        {"action": "notifyLevel", "roomId": "pushroom", "level": "all"},
    )
    run("disconnect", chat.disconnect, "NB")
    container.notify_queue = SqsNotifyQueue(SqsRecorder(sqs, recorder), "notify")
    for text in ("@u-nb hi", "again"):
        user("send_all", "NA", "u-na", {"action": "sendAll", "roomId": "pushroom", "message": text})
    container.notify_queue = None
    url = sqs.get_queue_url(QueueName="notify")["QueueUrl"]
    records = [
        {"messageId": m["MessageId"], "body": m["Body"]}
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    ]
    assert len(records) == 2
    run("notify", handlers.on_notify, {"Records": records}, Context())
    container.notifications = None


def _exercise_conversations(chat, run, sender):
    """Issue 22's actions through their paths: replies (also to the room, retried), mentions
    on send and edit, reactions added, repeated, taken back and cleared by a delete, follow
    states, the listings, pins up to the bound, and a ghost met by each action that tells the
    room."""
    # Connections of their own: the rooms walk before leaves B's connection gone (a 410).
    ids = {"CO": ("u-o", "olga"), "CB": ("u-b", "bob"), "CV": ("u-v", "vi")}

    def user(function, cid, **frame):
        event = chat.event(cid, frame["action"], json.dumps(frame))
        sub, name = ids[cid]
        event["requestContext"]["authorizer"] = {"sub": sub, "name": name}
        response = run(function, ROUTES[frame["action"]], event, Context())
        return json.loads(response["body"]) if "body" in response else None

    user("create_room", "CO", action="createRoom", roomId="conv", policy="open")
    for cid, name in (("CO", "olga"), ("CB", "bob"), ("CV", "vi")):
        user("join", cid, action="join", roomId="conv", name=name)
    mids = []
    for text in ("plan @bob", "two", "three"):
        user("send_all", "CO", action="sendAll", roomId="conv", message=text)
        mids.append(chat.history_items("conv")[-1]["messageId"]["S"])
    parent = mids[0]
    reply = {"roomId": "conv", "replyTo": parent}
    user("send_all", "CB", action="sendAll", message="@olga yes", clientMsgId="r1", **reply)
    user("send_all", "CB", action="sendAll", message="@olga yes", clientMsgId="r1", **reply)
    user("send_all", "CV", action="sendAll", message="me too", alsoToRoom=True, **reply)
    unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    user("send_all", "CV", action="sendAll", message="x", replyTo=unknown, roomId="conv")
    thread = user("thread", "CO", action="thread", roomId="conv", messageId=parent, limit=1)
    user(
        "thread",
        "CO",
        action="thread",
        before=thread["next"],
        messageId=parent,
        limit=1,
        roomId="conv",
    )
    first_reply = thread["replies"][0]["messageId"]
    user("mark_read", "CO", action="markRead", messageId=first_reply, **reply)
    user("mark_read", "CO", action="markRead", messageId=first_reply, **reply)  # no move
    user("follow", "CV", action="follow", roomId="conv", messageId=parent, remove=True)
    user("follow", "CV", action="follow", roomId="conv", messageId=parent)
    user("threads", "CO", action="threads", roomId="conv")
    user("threads", "CV", action="threads", roomId="conv", limit=1, before=parent)
    user("edit", "CO", action="edit", roomId="conv", messageId=mids[1], message="now @vi")
    user("edit", "CO", action="edit", roomId="conv", messageId=mids[1], message="no one")
    user("mentions", "CB", action="mentions")
    user("mentions", "CO", action="mentions", limit=1)
    # each connection within its react budget (3 a second): the walk takes less than one
    react = {"action": "react", "roomId": "conv", "messageId": mids[2]}
    for emoji in ("👍", "🎉", "👍"):  # the second 👍 is a repeat
        user("react", "CB", emoji=emoji, **react)
    user("react", "CV", emoji="🎉", **react)
    for _ in range(2):  # taken back, then not there to take back
        user("react", "CV", emoji="🎉", remove=True, **react)
    user("delete", "CO", action="delete", roomId="conv", messageId=mids[2])  # reactions go too
    user("pin", "CO", action="pin", roomId="conv", messageId=parent)  # the room's first pin
    user("pin", "CO", action="pin", roomId="conv", messageId=parent)  # already pinned
    user("pin", "CO", action="pin", roomId="conv", messageId=mids[1])
    user("pin", "CB", action="pin", roomId="conv", messageId=mids[1], remove=True)  # refused
    user("pin", "CO", action="pin", roomId="conv", messageId=mids[1], remove=True)
    user("pin", "CO", action="pin", roomId="conv", messageId=mids[1], remove=True)  # not pinned
    user("join", "CV", action="join", roomId="conv", name="vi")  # joined lists the pins
    # The actions that tell the room each meet a ghost and prune it.
    for n, (function, frame) in enumerate(
        [
            ("react", {"action": "react", "messageId": parent, "emoji": "🔥"}),
            ("pin", {"action": "pin", "messageId": mids[1]}),
        ]
    ):
        run("join", chat.join, f"K{n}", "conv", "ghost")
        sender.gone.add(f"K{n}")
        user(function, "CO", roomId="conv", **frame)


def _exercise_attachments(chat, run):
    """Issue 24's paths: an upload prepared (and one refused), a message with a checked
    image sent (and one refused by its bytes), URLs of the file and its thumbnail, and the
    message deleted with its objects."""
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
    run("join", chat.join, "AT", "att", "ada")
    up = run(
        "prepare_upload",
        chat.send,
        "AT",
        action="prepareUpload",
        roomId="att",
        name="a.png",
        type="image/png",
        size=len(png),
    )
    run("prepare_upload", chat.send, "ZZ", action="prepareUpload", roomId="att", name="a.png")
    uploader = up["fields"]["x-amz-meta-uploader"]
    chat.s3.put_object(
        Bucket="attachments",
        Key=up["fields"]["key"],
        Body=png,
        ContentType="image/png",
        Metadata={"uploader": uploader},
    )
    ref = {"uploadId": up["uploadId"], "name": "a.png", "type": "image/png", "size": len(png)}
    run("send_all", chat.send, "AT", action="sendAll", roomId="att", attachments=[ref])
    message_id = chat.history_items("att")[-1]["messageId"]["S"]
    thumb = protocol.thumbnail_key("att", up["uploadId"])
    chat.s3.put_object(Bucket="attachments", Key=thumb, Body=b"jpeg", ContentType="image/jpeg")
    ask = {"action": "attachmentUrl", "roomId": "att", "messageId": message_id}
    run("attachment_url", chat.send, "AT", uploadId=up["uploadId"], **ask)
    run("attachment_url", chat.send, "AT", uploadId=up["uploadId"], thumbnail=True, **ask)
    run("delete", chat.send, "AT", action="delete", roomId="att", messageId=message_id)


def _exercise_the_tier(chat, run, sender):
    """A room above the tier's threshold: send_all queues, fanout posts in steps (progress
    records), reads them back on a redelivery, re-queues a failing member, prunes a gone one."""
    container = handlers.container()
    container.settings = replace(
        container.settings,
        fanout_tier_threshold=2,
        fanout_step_size=1,
        callback_url="https://abc123.execute-api.us-east-1.amazonaws.com/test",
    )
    for cid, name in (("D", "dee"), ("E", "eve"), ("G9", "ghost")):
        run("join", chat.join, cid, "lobby", name)
    sender.gone.add("G9")
    sender.failing.add("E")
    run("send_all", chat.send, "C", action="sendAll", roomId="lobby", message="to many")
    sqs, url = chat.queue
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    records = [
        # Received once before: the worker reads its progress record first.
        {
            "messageId": m["MessageId"],
            "body": m["Body"],
            "attributes": {"ApproximateReceiveCount": "2"},
        }
        for m in messages
    ]
    answer = run("fanout", handlers.on_fanout, {"Records": records}, Context())
    assert answer == {"batchItemFailures": []}
    sender.failing.discard("E")


def _granted(function: str) -> set[tuple[str, str]]:
    perms = design.permissions()[function]
    queue = design.queue_actions().get(function, frozenset()) - MAPPING_ACTIONS
    review = {("review_hook", "lambda:InvokeFunction")}
    return (
        {("rooms", a) for a in perms.rooms}
        | {("rooms_by_connection", a) for a in perms.rooms_by_connection}
        | {("history", a) for a in perms.history}
        | {("queue", a) for a in queue}
        | (review if function in design.review_functions() else set())
        | {
            (prefix, a)
            for prefix, actions in design.bucket_actions().get(function, {}).items()
            for a in actions
        }
    )


FUNCTIONS = sorted([*(r.function for r in design.routes().values()), "fanout"])


def test_only_the_fanout_worker_is_granted_what_the_mapping_does():
    for function, actions in design.queue_actions().items():
        assert (actions & MAPPING_ACTIONS == MAPPING_ACTIONS) == (function == "fanout"), function
        assert actions & MAPPING_ACTIONS in (frozenset(), MAPPING_ACTIONS), function


def test_each_function_calls_exactly_what_its_role_grants(walked):
    """One walk of every path (the module's), then every function's calls against its grants:
    what it made and was not granted (AccessDenied on AWS), and what it was granted and never
    made. Every function that posts or closes connections met a 410 on the way, so its pruning
    ran too."""
    recorder, posted = walked

    wrong = {}
    for function in FUNCTIONS:
        perms = design.permissions()[function]
        made, granted = recorder.seen[function], _granted(function)
        found = {
            "not granted": sorted(made - granted),
            "never used": sorted(granted - made),
            "posts": posted[function],
            "closes": recorder.closed[function],
            "met a 410": recorder.met_gone[function],
        }
        expected = {
            "not granted": [],
            "never used": [],
            "posts": perms.post_to_connections,
            "closes": perms.delete_connections,
            "met a 410": perms.post_to_connections or perms.delete_connections,
        }
        if found != expected:
            wrong[function] = {k: v for k, v in found.items() if v != expected[k]}
    assert wrong == {}


def test_no_function_ever_scans(walked):
    recorder, _ = walked

    assert not any(
        action == "dynamodb:Scan" for seen in recorder.seen.values() for _, action in seen
    )
