"""The local stack (`make run`: emulator + terraform apply of infra/ + gateway + real functions),
driven by real WebSocket clients as the protocol in SPEC.md describes."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import websockets

from tests.e2e.support import Client, run
from tests.reliability.support import (
    GatewayFaults,
    Tables,
    dynamodb_fail,
    dynamodb_reset,
    keepalive,
)
from tests.stack import STACK_IDLE_TIMEOUT_S

pytestmark = pytest.mark.e2e


def _room(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def _join(client: Client, room: str, name: str) -> dict:
    return await client.request(
        {"action": "join", "roomId": room, "name": name}, {"type": "joined", "roomId": room}
    )


async def _say(client: Client, room: str, text: str, **extra) -> dict:
    return await client.request(
        {"action": "sendAll", "roomId": room, "message": text, **extra},
        {"type": "message", "roomId": room, "message": text},
    )


async def _members(client: Client, room: str) -> list[str]:
    reply = await client.request(
        {"action": "members", "roomId": room}, {"type": "members", "roomId": room}
    )
    return sorted(reply["members"])


def test_stack_is_described_in_stack_json(stack):
    # A fresh start is ready to chat before the whole apply is done (the fan-out tier and alarms
    # finish behind it): stack.json says so, with Terraform's outputs only once it is. (A warm
    # start from the suite's seed has nothing to apply; the fresh case is also
    # tests/reliability/test_fanout_tier_stack.py's first test.)
    early = stack.launch_info
    if not stack.seeded:
        assert early["applied"] is False and early["outputs"] == {}
    info = stack.applied()
    assert info["applied"] is True
    assert info["websocket_url"] == early["websocket_url"]
    assert info["websocket_url"].startswith("ws://127.0.0.1:")
    assert info["websocket_url"].endswith("/" + info["stage"])
    assert info["rooms_table"] and info["history_table"]
    assert info["outputs"]["api_id"] == info["api_id"] == early["api_id"]
    assert info["outputs"]["rooms_table_name"] == info["rooms_table"] == early["rooms_table"]
    assert info["outputs"]["history_table_name"] == info["history_table"]


def test_code_in_the_emulator_is_the_code_the_gateway_runs(stack):
    lam = stack.client("lambda")
    outputs = stack.applied()["outputs"]
    expected = outputs["lambda_zip_sha256"]
    names = outputs["function_names"].values()
    assert {lam.get_function_configuration(FunctionName=n)["CodeSha256"] for n in names} == {
        expected
    }


def test_three_clients_in_two_rooms(stack):
    lobby, dev = _room("lobby"), _room("dev")

    async def scenario():
        ana, bob, cy = [await Client.connect(stack.url) for _ in range(3)]
        joined_ana = await _join(ana, lobby, "ana")
        joined_bob = await _join(bob, lobby, "bob")
        await ana.expect({"type": "presence", "event": "join", "roomId": lobby, "name": "bob"})
        await _join(cy, dev, "cy")
        await _join(ana, dev, "ana")  # ana is in both rooms
        await cy.expect({"type": "presence", "event": "join", "roomId": dev, "name": "ana"})

        sent = await _say(bob, lobby, "hello lobby")  # the sender gets it too: its ack
        got_ana = await ana.expect({"type": "message", "roomId": lobby})
        in_dev = await _say(cy, dev, "hello dev")
        got_ana_dev = await ana.expect({"type": "message", "roomId": dev})
        bob_extra = await bob.quiet(1.0)
        cy_extra = await cy.quiet(0.2)
        members_lobby = await _members(ana, lobby)
        members_dev = await _members(ana, dev)
        for c in (ana, bob, cy):
            await c.close()
        return locals()

    r = run(scenario())
    assert r["joined_ana"]["members"] == 1 and r["joined_bob"]["members"] == 2
    assert r["joined_bob"]["name"] == "bob"
    assert r["got_ana"] == r["sent"]
    assert r["sent"]["sender"] == "bob" and r["sent"]["messageId"]
    assert r["got_ana_dev"] == r["in_dev"]
    # room-scoped: bob (lobby only) saw nothing of dev; cy (dev only) nothing of lobby
    assert not [f for f in r["bob_extra"] if f.get("roomId") == dev]
    assert not [f for f in r["cy_extra"] if f.get("roomId") == lobby]
    assert r["members_lobby"] == ["ana", "bob"]
    assert r["members_dev"] == ["ana", "cy"]


def test_history_pages_go_back_in_time(stack):
    room = _room("paging")

    async def scenario():
        ana = await Client.connect(stack.url)
        await _join(ana, room, "ana")
        sent = [(await _say(ana, room, f"m{i}"))["messageId"] for i in range(7)]
        first = await ana.request(
            {"action": "history", "roomId": room, "limit": 3}, {"type": "history"}
        )
        second = await ana.request(
            {"action": "history", "roomId": room, "limit": 3, "before": first["next"]},
            {"type": "history"},
        )
        third = await ana.request(
            {"action": "history", "roomId": room, "limit": 3, "before": second["next"]},
            {"type": "history"},
        )
        late = await Client.connect(stack.url)
        joined = await _join(late, room, "late")
        await ana.close()
        await late.close()
        return sent, first, second, third, joined

    sent, first, second, third, joined = run(scenario())
    assert [m["message"] for m in first["messages"]] == ["m4", "m5", "m6"]
    assert [m["message"] for m in second["messages"]] == ["m1", "m2", "m3"]
    assert [m["message"] for m in third["messages"]] == ["m0"]
    assert third["next"] is None
    assert [m["messageId"] for m in first["messages"]] == sent[4:]
    assert [m["message"] for m in joined["recent"]][-3:] == ["m4", "m5", "m6"]


def test_leave_tells_the_room_and_ends_membership(stack):
    room = _room("leave")

    async def scenario():
        ana, bob = await Client.connect(stack.url), await Client.connect(stack.url)
        await _join(ana, room, "ana")
        await _join(bob, room, "bob")
        left = await bob.request({"action": "leave", "roomId": room}, {"type": "left"})
        presence = await ana.expect({"type": "presence", "event": "leave", "roomId": room})
        refused = await bob.request(
            {"action": "sendAll", "roomId": room, "message": "still here?"}, {"type": "error"}
        )
        members = await _members(ana, room)
        await ana.close()
        await bob.close()
        return left, presence, refused, members

    left, presence, refused, members = run(scenario())
    assert left == {"type": "left", "roomId": room}
    assert presence["name"] == "bob"
    assert refused["code"] == "not_member"
    assert members == ["ana"]


def test_closing_a_connection_announces_leave_in_every_room(stack):
    one, two = _room("one"), _room("two")

    async def scenario():
        ana, bob = await Client.connect(stack.url), await Client.connect(stack.url)
        for room in (one, two):
            await _join(ana, room, "ana")
            await _join(bob, room, "bob")
        await bob.close()
        leaves = [
            await ana.expect({"type": "presence", "event": "leave", "roomId": room})
            for room in (one, two)
        ]
        members = [await _members(ana, room) for room in (one, two)]
        await ana.close()
        return leaves, members

    leaves, members = run(scenario())
    assert [p["name"] for p in leaves] == ["bob", "bob"]
    assert members == [["ana"], ["ana"]]


def test_vanished_client_is_gone_and_delivery_goes_on(stack):
    room = _room("vanish")

    async def scenario():
        ana, ghost = await Client.connect(stack.url), await Client.connect(stack.url)
        await _join(ana, room, "ana")
        await _join(ghost, room, "ghost")
        ghost.ws.transport.abort()  # no close frame, TCP reset
        await asyncio.sleep(0.5)
        echo = await _say(ana, room, "anyone?")
        deadline = time.monotonic() + 10
        while (members := await _members(ana, room)) != ["ana"] and time.monotonic() < deadline:
            await asyncio.sleep(0.3)
        await ana.close()
        return echo, members

    echo, members = run(scenario())
    assert echo["message"] == "anyone?"
    assert members == ["ana"]


def test_send_all_prunes_a_member_whose_connection_is_gone(stack):
    """A membership left by a missed $disconnect is deleted on the 410 of the next fan-out."""
    room = _room("prune")
    rooms_table = stack.info["rooms_table"]
    ddb = stack.client("dynamodb")

    async def scenario():
        ana = await Client.connect(stack.url)
        await _join(ana, room, "ana")
        ddb.put_item(
            TableName=rooms_table,
            Item={
                "roomId": {"S": room},
                "connectionId": {"S": "R2hvc3RHaG9zdEc="},
                "name": {"S": "ghost"},
                "joinedAt": {"S": "2024-01-01T00:00:00Z"},
                "expiresAt": {"N": str(int(time.time()) + 3600)},
            },
        )
        before = await _members(ana, room)
        echo = await _say(ana, room, "prune please")
        # The sender's copy can arrive before the fan-out has finished pruning.
        deadline = time.monotonic() + 10
        while (after := await _members(ana, room)) != ["ana"] and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        await ana.close()
        return before, echo, after

    before, echo, after = run(scenario())
    assert before == ["ana", "ghost"]
    assert echo["message"] == "prune please"
    assert after == ["ana"]
    item = ddb.get_item(
        TableName=rooms_table,
        Key={"roomId": {"S": room}, "connectionId": {"S": "R2hvc3RHaG9zdEc="}},
    )
    assert "Item" not in item


def test_retried_send_keeps_one_history_entry(stack):
    room = _room("idem")

    async def scenario():
        ana = await Client.connect(stack.url)
        await _join(ana, room, "ana")
        first = await _say(ana, room, "once", clientMsgId="retry-1")
        second = await _say(ana, room, "once", clientMsgId="retry-1")
        history = await ana.request({"action": "history", "roomId": room}, {"type": "history"})
        await ana.close()
        return first, second, history

    first, second, history = run(scenario())
    assert second["messageId"] == first["messageId"]
    assert len(history["messages"]) == 1


def test_sender_name_comes_from_membership_and_connect_query(stack):
    room = _room("names")

    async def scenario():
        zoe = await Client.connect(stack.url + "?name=zoe")
        joined = await zoe.request(
            {"action": "join", "roomId": room}, {"type": "joined", "roomId": room}
        )
        said = await _say(zoe, room, "it's me", sender="mallory", name="mallory")
        await zoe.close()
        return joined, said

    joined, said = run(scenario())
    assert joined["name"] == "zoe"
    assert said["sender"] == "zoe"


def test_ping_answers_pong(stack):
    async def scenario():
        ana = await Client.connect(stack.url)
        pong = await ana.request({"action": "ping"}, {"type": "pong"})
        await ana.close()
        return pong

    assert run(scenario()) == {"type": "pong"}


BAD_FRAMES = {
    "not-json": ("hello?", "bad_request"),
    "json-not-object": ("[1,2]", "bad_request"),
    "no-action": ({"roomId": "lobby"}, None),
    "unknown-action": ({"action": "dance"}, "unknown_action"),
    "join-no-room": ({"action": "join", "name": "ana"}, "bad_request"),
    "join-bad-room": ({"action": "join", "roomId": "no spaces!", "name": "ana"}, "bad_request"),
    "join-long-room": ({"action": "join", "roomId": "r" * 65, "name": "ana"}, "bad_request"),
    "join-long-name": ({"action": "join", "roomId": "lobby", "name": "n" * 33}, "bad_request"),
    "join-bad-name": ({"action": "join", "roomId": "lobby", "name": "a\x07b"}, "bad_request"),
    "send-not-member": ({"action": "sendAll", "roomId": "{room}", "message": "hi"}, "not_member"),
    "send-empty": ({"action": "sendAll", "roomId": "{joined}", "message": ""}, "bad_request"),
    "send-no-message": ({"action": "sendAll", "roomId": "{joined}"}, "bad_request"),
    "send-bad-room": ({"action": "sendAll", "roomId": "a/b", "message": "x"}, "bad_request"),
    "history-not-member": ({"action": "history", "roomId": "{room}"}, "not_member"),
    "history-limit-0": ({"action": "history", "roomId": "{joined}", "limit": 0}, "bad_request"),
    "history-limit-101": (
        {"action": "history", "roomId": "{joined}", "limit": 101},
        "bad_request",
    ),
    "members-not-member": ({"action": "members", "roomId": "{room}"}, "not_member"),
    "leave-no-room": ({"action": "leave"}, "bad_request"),
}


@pytest.mark.parametrize("case", list(BAD_FRAMES), ids=list(BAD_FRAMES))
def test_bad_frames_get_error_frames_and_write_nothing(stack, case):
    frame, code = BAD_FRAMES[case]
    joined_room, other_room = _room("joined"), _room("other")
    if isinstance(frame, dict):
        frame = {
            k: (v.format(room=other_room, joined=joined_room) if isinstance(v, str) else v)
            for k, v in frame.items()
        }

    async def scenario():
        ana = await Client.connect(stack.url)
        await _join(ana, joined_room, "ana")
        error = await ana.request(frame, {"type": "error"})
        history = await ana.request(
            {"action": "history", "roomId": joined_room}, {"type": "history"}
        )
        await ana.close()
        return error, history

    error, history = run(scenario())
    assert error["type"] == "error"
    assert error["code"] == (code or error["code"])
    assert code is not None or error["code"] in ("bad_request", "unknown_action")
    assert isinstance(error["message"], str) and error["message"]
    assert "action" in error
    assert history["messages"] == []


def test_binary_frame_is_a_bad_request(stack):
    async def scenario():
        ana = await Client.connect(stack.url)
        error = await ana.request(b"\x00\xff", {"type": "error"})
        await ana.close()
        return error

    assert run(scenario())["code"] == "bad_request"


def test_frame_over_32_kb_closes_the_connection_with_1009(stack):
    room = _room("big")

    async def scenario():
        ana = await Client.connect(stack.url)
        await _join(ana, room, "ana")
        await ana.send({"action": "sendAll", "roomId": room, "message": "x" * (32 * 1024)})
        with pytest.raises(websockets.ConnectionClosedError) as info:
            while True:
                await ana.next_frame()
        return info.value.rcvd.code

    assert run(scenario()) == 1009


def test_management_api_answers_gone_for_an_unknown_connection(stack):
    api = stack.management()
    with pytest.raises(api.exceptions.GoneException):
        api.post_to_connection(ConnectionId="bm9ib2R5SG9tZUE=", Data=b"hello")
    with pytest.raises(api.exceptions.GoneException):
        api.get_connection(ConnectionId="bm9ib2R5SG9tZUE=")


def test_silent_client_is_closed_after_the_idle_timeout(stack):
    room = _room("idle")

    async def scenario():
        talker, silent = await Client.connect(stack.url), await Client.connect(stack.url)
        await _join(silent, room, "silent")
        await _join(talker, room, "talker")
        started = time.monotonic()
        presence = None
        while time.monotonic() - started < STACK_IDLE_TIMEOUT_S + 8:
            await talker.request({"action": "ping"}, {"type": "pong"})  # keeps talker alive
            try:
                presence = await talker.expect(
                    {"type": "presence", "event": "leave", "name": "silent"}, timeout=1
                )
                break
            except TimeoutError:
                continue
        closed_after = time.monotonic() - started
        code = silent.ws.close_code
        talker_open = talker.ws.close_code is None
        await talker.close()
        return presence, closed_after, code, talker_open

    presence, closed_after, code, talker_open = run(scenario())
    assert presence is not None and presence["roomId"] == room
    assert STACK_IDLE_TIMEOUT_S - 1 < closed_after < STACK_IDLE_TIMEOUT_S + 8
    assert code == 1001
    assert talker_open


def test_twenty_messages_typed_at_once_are_stored_and_delivered_in_the_order_typed(stack):
    # API Gateway may run one connection's frames concurrently: only the outbox (one sendAll in
    # flight per room) keeps a fast typist's messages in order.
    room = _room("typist")
    typed = [f"m{i:02d}" for i in range(20)]
    faults = GatewayFaults(stack.info["http_url"])

    async def scenario():
        typist = await Client.connect(stack.url)
        reader = await Client.connect(stack.url)
        await _join(typist, room, "tia")
        await _join(reader, room, "rex")
        # the gateway runs the typist's first sendAll late, as API Gateway may
        faults.hold_frames(Tables(stack).member_ids(room)["tia"], "sendAll", 0.8)
        # when the typist types 20 messages as fast as possible
        outbox = typist.outbox(room)
        try:
            acks = await asyncio.gather(*[outbox.submit(text) for text in typed])
        finally:
            faults.clear()
        delivered = []
        while len(delivered) < len(typed):
            frame = await reader.expect({"type": "message", "roomId": room}, timeout=20)
            delivered.append(frame)
        page = await reader.request(
            {"action": "history", "roomId": room, "limit": 50}, {"type": "history", "roomId": room}
        )
        await typist.close()
        await reader.close()
        return acks, delivered, page, outbox.sent

    acks, delivered, page, sent = run(scenario())
    # then each was acknowledged, stored and delivered once, in the order typed
    assert [a.get("type") for a in acks] == ["message"] * 20, acks
    assert [a["message"] for a in acks] == typed
    ids = [a["messageId"] for a in acks]
    assert ids == sorted(ids) and len(set(ids)) == 20
    assert [f["message"] for f in delivered] == typed
    assert [m["message"] for m in page["messages"]] == typed
    assert [m["messageId"] for m in page["messages"]] == ids
    assert len({f["clientMsgId"] for f in sent}) == 20  # retries, if any, kept their id


def test_the_outbox_sends_a_message_again_after_internal_and_it_is_stored_once(stack):
    # The send's first DynamoDB write is throttled on every SDK attempt: the function answers
    # `internal`; the outbox sends the same clientMsgId again before the next message.
    room = _room("retry")

    async def scenario():
        typist = await Client.connect(stack.url)
        reader = await Client.connect(stack.url)
        await _join(typist, room, "tom")
        await _join(reader, room, "rita")
        outbox = typist.outbox(room)
        dynamodb_fail(stack, "PutItem", 5)  # roomchat.wiring: 5 attempts per call
        # The SDK's backoff over 5 throttled attempts can outlast the test stack's 10 s idle
        # timeout (AWS's is 10 minutes), so both clients ping meanwhile.
        try:
            async with keepalive([typist, reader], every=2.0):
                acks = await asyncio.gather(outbox.submit("first"), outbox.submit("second"))
        finally:
            dynamodb_reset(stack)
        # A try again re-delivers a stored message under its messageId (members the first try
        # missed still get it); clients drop ids they have shown.
        delivered: list[dict] = []
        while len({f["messageId"] for f in delivered}) < len(acks):
            delivered.append(await reader.expect({"type": "message", "roomId": room}, timeout=20))
        page = await reader.request(
            {"action": "history", "roomId": room, "limit": 10}, {"type": "history", "roomId": room}
        )
        errors = [f for f in await typist.quiet(0.3) if f.get("type") == "error"]
        await typist.close()
        await reader.close()
        return acks, delivered, page, outbox.sent, errors

    acks, delivered, page, sent, errors = run(scenario())
    assert [a.get("type") for a in acks] == ["message", "message"], acks
    first, second = (a["clientMsgId"] for a in acks)
    # At least one try again after `internal` (one more when a slow machine's throttled write
    # outlasts the outbox's 10 s answer timeout); the second only after the first's ack.
    ids = [f["clientMsgId"] for f in sent]
    assert ids[-1] == second and ids.count(second) == 1, ids
    assert ids[:-1] == [first] * (len(ids) - 1) and len(ids) >= 3, ids
    shown = {f["messageId"]: f["message"] for f in delivered}  # in order of first arrival
    assert list(shown.values()) == ["first", "second"]
    assert [m["message"] for m in page["messages"]] == ["first", "second"]
    assert errors == []  # the internal error was the outbox's to handle
