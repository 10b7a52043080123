"""Notifications for away members (usecases/notifications.py): registering devices (checked,
capped per user), a room's level, and the `notify` worker's rules: away users only, muted
rooms never, one push per device, bursts coalesced, a gone subscription removed."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from roomchat import handlers, jobs, protocol
from roomchat.adapters.dynamodb.notifications import DynamoNotifications
from roomchat.notification_ports import Device, NotifyJob, PushOutcome
from roomchat.usecases import notifications

P256DH = base64.urlsafe_b64encode(b"\x04" + b"\x01" * 64).rstrip(b"=").decode()
AUTH = base64.urlsafe_b64encode(b"\x02" * 16).rstrip(b"=").decode()


def _sub(n: int | str = 1, host: str = "push.example.com") -> dict[str, Any]:
    return {"endpoint": f"https://{host}/s/{n}", "keys": {"p256dh": P256DH, "auth": AUTH}}


@dataclass
class FakeQueue:
    jobs: list[NotifyJob] = field(default_factory=list)

    def enqueue(self, job: NotifyJob) -> bool:
        self.jobs.append(job)
        return True


@dataclass
class FakePusher:
    """Records each push; endpoints in ``gone`` answer like a push service's 410."""

    pushed: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)

    def push(self, device: Device, payload: bytes, ttl_s: int) -> PushOutcome:
        if device.endpoint in self.gone:
            return PushOutcome.GONE
        self.pushed.append((device.endpoint, json.loads(payload)))
        return PushOutcome.DELIVERED


@pytest.fixture
def notify(chat, dynamodb):
    """The chat harness with notifications on: a fake queue to the worker and a fake pusher."""
    c = handlers.container()
    queue, pusher = FakeQueue(), FakePusher()
    c.notifications = DynamoNotifications(dynamodb, "rooms")
    c.notify_queue = queue
    c.pusher = lambda: pusher
    chat.queue, chat.pusher = queue, pusher
    return chat


def _run_worker(chat) -> dict[str, Any]:
    """The queued jobs through the real `notify` handler, as SQS would deliver them."""
    records = [
        {"messageId": f"m{i}", "body": jobs.encode_notify(j)} for i, j in enumerate(chat.queue.jobs)
    ]
    chat.queue.jobs.clear()
    return handlers.on_notify({"Records": records}, None)


def _away(chat, cid: str, user: str, name: str, room: str = "lobby") -> None:
    """A signed-in user who joined the room, registered a device, then left (connection gone)."""
    chat.users[cid] = user
    chat.join(cid, room, name)
    chat.disconnect(cid)


def _say(chat, cid: str, text: str, room: str = "lobby") -> None:
    chat.send(cid, action="sendAll", roomId=room, message=text)


# ---------------------------------------------------------------------------- protocol


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ({}, "exactly one"),
        ({"webPush": _sub(), "mobile": {}}, "exactly one"),
        ({"webPush": {"endpoint": "http://push.example.com/x", "keys": {}}}, "https"),
        ({"webPush": {**_sub(), "endpoint": "http://127.0.0.1:9/x"}}, "https"),
        ({"webPush": {**_sub(), "endpoint": "https://u:p@push.example.com/x"}}, "https"),
        ({"webPush": {**_sub(), "endpoint": "x" * 3000}}, "at most"),
        ({"webPush": {**_sub(), "keys": {"p256dh": AUTH, "auth": AUTH}}}, "65-byte"),
        ({"webPush": {**_sub(), "keys": {"p256dh": P256DH, "auth": P256DH}}}, "16 bytes"),
        ({"webPush": {**_sub(), "keys": {"p256dh": "!!", "auth": AUTH}}}, "base64url"),
        ({"mobile": {"platform": "fcm", "token": "t"}}, "not configured"),
    ],
)
def test_a_bad_device_is_refused_with_a_clear_error(frame, error):
    with pytest.raises(Exception) as e:
        protocol.parse_register_device(frame)
    assert error in str(e.value)


def test_the_loopback_stand_in_is_allowed_only_when_configured():
    sub = {**_sub(), "endpoint": "http://127.0.0.1:8999/push/1"}
    assert protocol.parse_register_device({"webPush": sub}, allow_loopback=True)
    with pytest.raises(Exception, match="https"):
        protocol.parse_register_device({"webPush": sub}, allow_loopback=False)


def test_a_mobile_token_is_accepted_where_mobile_push_is_configured():
    req = protocol.parse_register_device(
        {"mobile": {"platform": "apns", "token": "ab" * 32}}, mobile=True
    )
    assert req.device.platform == "apns" and req.device_id


# ---------------------------------------------------------------------------- commands


def test_devices_are_per_user_capped_and_need_sign_in(notify):
    notify.connect("A")
    refused = notify.send("A", action="registerDevice", webPush=_sub())
    assert refused["code"] == "forbidden"
    notify.users["B"] = "u-bob"
    for i in range(protocol.DEVICES_MAX):
        ok = notify.send("B", action="registerDevice", webPush=_sub(i))
        assert ok["type"] == "device" and ok["devices"] == i + 1
    again = notify.send("B", action="registerDevice", webPush=_sub(0))  # the same device
    assert again["devices"] == protocol.DEVICES_MAX
    before = notify.items()["rooms"]
    full = notify.send("B", action="registerDevice", webPush=_sub("new"))
    assert full["code"] == "bad_request" and "at most" in full["message"]
    assert notify.items()["rooms"] == before  # nothing written (the rate counter apart)
    gone = notify.send("B", action="unregisterDevice", deviceId=ok["deviceId"])
    assert gone["removed"] is True and gone["devices"] == protocol.DEVICES_MAX - 1
    assert notify.send("B", action="unregisterDevice", deviceId=ok["deviceId"])["removed"] is False


def test_a_level_is_set_by_members_only_and_checked(notify):
    notify.users["A"] = "u-ana"
    assert notify.send("A", action="notifyLevel", roomId="lobby", level="all")["code"] == (
        "not_member"
    )
    notify.join("A", "lobby", "ana")
    assert notify.send("A", action="notifyLevel", roomId="lobby", level="loud")["code"] == (
        "bad_request"
    )
    ok = notify.send("A", action="notifyLevel", roomId="lobby", level="none")
    assert ok == {"type": "notifyLevel", "roomId": "lobby", "level": "none"}


def test_registering_in_a_loop_is_rate_limited(notify, settings):
    from roomchat.adapters.dynamodb import DynamoRateLimiter

    handlers.container().limiter = DynamoRateLimiter(notify.db, "history", 3)
    object.__setattr__(settings, "rate_limit_per_second", 3)
    notify.users["B"] = "u-bob"
    codes = [
        (notify.send("B", action="registerDevice", webPush=_sub(i)) or {}).get("code")
        for i in range(8)
    ]
    assert "rate_limited" in codes


# ---------------------------------------------------------------------------- the worker


def test_an_away_user_mentioned_gets_one_push_per_device_with_a_deep_link(notify):
    notify.users["B"] = "u-bob"
    notify.join("B", "lobby", "bob")
    for i in range(2):
        notify.send("B", action="registerDevice", webPush=_sub(f"bob{i}"))
    notify.disconnect("B")
    notify.join("A", "lobby", "ana")
    _say(notify, "A", "hey @bob, look")

    _run_worker(notify)

    pushes = notify.pusher.pushed
    assert sorted(e for e, _ in pushes) == [
        "https://push.example.com/s/bob0",
        "https://push.example.com/s/bob1",
    ]
    body = pushes[0][1]
    assert body["roomId"] == "lobby" and body["mention"] is True and body["count"] == 1
    assert body["url"] == f"/?room=lobby&message={body['messageId']}"
    assert body["excerpt"] == "hey @bob, look" and body["sender"] == "ana"


def test_an_online_user_gets_none(notify):
    notify.users["B"] = "u-bob"
    notify.join("B", "lobby", "bob")
    notify.send("B", action="registerDevice", webPush=_sub("bob"))
    notify.join("A", "lobby", "ana")
    _say(notify, "A", "hey @bob")
    counts = _run_worker(notify)
    assert notify.pusher.pushed == [] and counts == {"batchItemFailures": []}


def test_a_muted_room_gets_none_and_all_gets_every_message_not_only_mentions(notify):
    for cid, user, name, level in (("B", "u-bob", "bob", "none"), ("C", "u-cy", "cy", "all")):
        notify.users[cid] = user
        notify.join(cid, "lobby", name)
        notify.send(cid, action="registerDevice", webPush=_sub(name))
        notify.send(cid, action="notifyLevel", roomId="lobby", level=level)
        notify.disconnect(cid)
    notify.join("A", "lobby", "ana")
    _say(notify, "A", "hey @bob")
    _run_worker(notify)
    assert [(e, b["mention"]) for e, b in notify.pusher.pushed] == [
        ("https://push.example.com/s/cy", False)
    ]


def test_a_message_that_names_no_one_reaches_no_one_at_the_default_level(notify):
    _away(notify, "B", "u-bob", "bob")
    notify.users["B2"] = "u-bob"
    notify.send("B2", action="registerDevice", webPush=_sub("bob"))
    notify.join("A", "lobby", "ana")
    _say(notify, "A", "nothing for bob here")
    _run_worker(notify)
    assert notify.pusher.pushed == []


def test_a_burst_of_100_mentions_within_the_window_is_one_push_and_99_held(notify):
    _away(notify, "B", "u-bob", "bob")
    notify.users["B2"] = "u-bob"
    notify.send("B2", action="registerDevice", webPush=_sub("bob"))
    notify.join("A", "lobby", "ana")
    for i in range(100):
        _say(notify, "A", f"@bob {i}")
    _run_worker(notify)
    assert len(notify.pusher.pushed) == 1
    held = notify.db.get_item(
        TableName="rooms",
        Key={"roomId": {"S": "notify#lobby"}, "connectionId": {"S": "#u#u-bob"}},
    )["Item"]
    assert held["held"]["N"] == "99"  # counted on the next push after the window


def test_the_count_of_held_messages_rides_on_the_next_push_after_the_window(notify):
    store = handlers.container().notifications
    store.watch("lobby", "u-bob", "bob", 2**31)
    assert store.claim("lobby", "u-bob", 1_000_000, 60_000) == 0
    assert store.claim("lobby", "u-bob", 1_010_000, 60_000) is None
    assert store.claim("lobby", "u-bob", 1_020_000, 60_000) is None
    assert store.claim("lobby", "u-bob", 1_061_000, 60_000) == 2


def test_a_subscription_the_push_service_says_is_gone_is_removed(notify):
    _away(notify, "B", "u-bob", "bob")
    notify.users["B2"] = "u-bob"
    kept = notify.send("B2", action="registerDevice", webPush=_sub("kept"))
    notify.send("B2", action="registerDevice", webPush=_sub("gone"))
    notify.pusher.gone.add("https://push.example.com/s/gone")
    notify.join("A", "lobby", "ana")
    _say(notify, "A", "@bob hi")
    _run_worker(notify)
    left = handlers.container().notifications.devices("u-bob")
    assert [d.endpoint for d in left] == ["https://push.example.com/s/kept"]
    assert [d.device_id for d in left] == [kept["deviceId"]]


def test_sendall_only_queues_and_never_pushes_inline(notify):
    _away(notify, "B", "u-bob", "bob")
    notify.users["B2"] = "u-bob"
    notify.send("B2", action="registerDevice", webPush=_sub("bob"))
    notify.join("A", "lobby", "ana")
    _say(notify, "A", "@bob")
    assert notify.pusher.pushed == [] and len(notify.queue.jobs) == 1


def test_a_bad_record_is_dropped_and_a_failing_job_is_retried(notify):
    out = handlers.on_notify({"Records": [{"messageId": "x", "body": "{}"}]}, None)
    assert out == {"batchItemFailures": []}
    handlers.container().pusher = lambda: (_ for _ in ()).throw(RuntimeError("down"))
    body = jobs.encode_notify(NotifyJob("lobby", "01ABC"))
    out = handlers.on_notify({"Records": [{"messageId": "y", "body": body}]}, None)
    assert out == {"batchItemFailures": [{"itemIdentifier": "y"}]}


def test_recipients_rule_never_the_author():
    from roomchat.notification_ports import Watch

    w = [Watch("r", "u1", "ana", "all"), Watch("r", "u2", "bo", "mentions")]
    assert [x.user_id for x, _ in notifications.recipients(w, "@bo", "u1")] == ["u2"]
    assert [x.user_id for x, _ in notifications.recipients(w, "@bo", "u2")] == ["u1"]
