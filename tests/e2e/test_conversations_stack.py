"""Conversations on the local stack (the shared `stack` fixture): a reply in a thread, a
reaction, a mention and its listing, between real WebSocket clients through the deployed
functions (routes, roles and the gateway as `make run` has them); every frame is checked
against docs/asyncapi.yaml by the e2e client."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.support import Client, run

pytestmark = pytest.mark.e2e


async def _keep_alive(*clients: Client) -> None:
    """Ping every 3 s: the stack closes connections idle for 10 s, and on a busy machine the
    first call of each new function (a cold worker) can take that long."""
    while True:
        await asyncio.sleep(3)
        for client in clients:
            await client.send({"action": "ping"})


def test_a_thread_a_reaction_and_a_mention_between_two_people(stack):
    room = "conversations"

    async def scenario():
        ana = await Client.connect(stack.url)
        bob = await Client.connect(stack.url)
        pinger = asyncio.get_running_loop().create_task(_keep_alive(ana, bob))
        for client, name in ((ana, "ana"), (bob, "bob")):
            await client.request(
                {"action": "join", "roomId": room, "name": name}, {"type": "joined", "roomId": room}
            )
        await ana.send({"action": "sendAll", "roomId": room, "message": "lunch @bob?"})
        parent = await bob.expect({"type": "message", "message": "lunch @bob?"})
        pid = parent["messageId"]
        await bob.send({"action": "sendAll", "roomId": room, "message": "yes", "replyTo": pid})
        reply = await ana.expect({"type": "message", "replyTo": pid})
        await ana.send({"action": "react", "roomId": room, "messageId": pid, "emoji": "🎉"})
        reaction = await bob.expect({"type": "reaction", "messageId": pid})
        thread = await ana.request(
            {"action": "thread", "roomId": room, "messageId": pid}, {"type": "thread"}
        )
        history = await ana.request({"action": "history", "roomId": room}, {"type": "history"})
        mentions = await bob.request({"action": "mentions"}, {"type": "mentions"})
        followed = await ana.request({"action": "threads", "roomId": room}, {"type": "threads"})
        pinger.cancel()
        for c in (ana, bob):
            await c.close()
        return parent, reply, reaction, thread, history, mentions, followed

    parent, reply, reaction, thread, history, mentions, followed = run(scenario())
    assert parent["mentions"][0]["name"] == "bob"
    assert reply["thread"]["replyCount"] == 1
    assert reaction["reactions"] == [{"emoji": "🎉", "count": 1, "users": [reaction["userId"]]}]
    assert [r["message"] for r in thread["replies"]] == ["yes"]
    assert thread["parent"]["replyCount"] == 1
    assert [m["message"] for m in history["messages"]] == ["lunch @bob?"]
    assert [m["messageId"] for m in mentions["messages"]] == [parent["messageId"]]
    # the parent's author follows the thread, with the reply unread
    assert [(t["messageId"], t["unread"]) for t in followed["threads"]] == [
        (parent["messageId"], 1)
    ]
