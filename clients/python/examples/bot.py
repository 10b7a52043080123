"""A bot that answers in a room: `!echo <text>` gets the text back, `!who` the room's members.

    python examples/bot.py ws://127.0.0.1:8080/live lobby     # ROOMCHAT_TOKEN when signed in

It reconnects by itself (Session) and answers each message once, also those sent while it was
away. Stop it with Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

from roomchat_client import Session

NAME = "echo-bot"


async def main(url: str, room: str) -> None:
    token = os.environ.get("ROOMCHAT_TOKEN")
    async with Session(url, name=NAME, token=token, rooms=[room]) as chat:
        replies: asyncio.Queue[str] = asyncio.Queue()

        def on_frame(frame: dict) -> None:
            text = frame.get("message") if frame.get("type") == "message" else None
            if text and frame.get("sender") != NAME and text.startswith("!"):
                replies.put_nowait(text)

        chat.listen(on_frame)
        print(f"{NAME} is in {room}", flush=True)
        while True:
            command, _, rest = (await replies.get()).partition(" ")
            if command == "!echo":
                await chat.say(room, rest or "(nothing to echo)")
            elif command == "!who":
                members = await (await chat.connected()).members(room)
                await chat.say(room, ", ".join(members.get("members", [])))


if __name__ == "__main__":
    args = sys.argv[1:] + ["ws://127.0.0.1:8080/live", "lobby"][len(sys.argv[1:]) :]
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args[0], args[1]))
