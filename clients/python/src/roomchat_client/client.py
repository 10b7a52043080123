"""``Client``: one connection with every action of the protocol (features.py, and the
conversations: conversations.py), the outbox per
room (outbox.py) and the waits of ``Connection``. ``Session`` (session.py) adds reconnecting.

    client = await Client.connect(url, token=token, name="ana")
    joined = await client.join("lobby")
    ack = await client.say("lobby", "hello")       # through the room's outbox
    async for page in client.history_pages("lobby", limit=50):
        ...
    frame = await client.expect({"type": "presence", "roomId": "lobby"})
    await client.close()
"""

from __future__ import annotations

from typing import Any

from roomchat_client.attachments import Attachments
from roomchat_client.connection import Connection
from roomchat_client.conversations import Mentions, Pins, Reactions, Threads
from roomchat_client.features import History, Messages, Moderation, Presence, Reads, Rooms, Typing
from roomchat_client.notifications import Notifications
from roomchat_client.outbox import Outbox


class Client(
    Connection,
    Rooms,
    Messages,
    History,
    Presence,
    Typing,
    Reads,
    Moderation,
    Threads,
    Reactions,
    Mentions,
    Pins,
    Attachments,
    Notifications,
):
    def __init__(self, ws: Any, **options: Any) -> None:
        self._outboxes: dict[str, Outbox] = {}
        super().__init__(ws, **options)

    async def close(self) -> None:
        for outbox in self._outboxes.values():
            outbox.close()
        await super().close()
