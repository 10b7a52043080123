"""Terminal chat client for roomchat.

    roomchat chat --room lobby --name ana [--url ws://127.0.0.1:8080/live]

Interactive: plain lines go to the current room; commands:
  /join <room>     join a room and make it the current one
  /leave [room]    leave a room (default: the current one)
  /history [n]     the last n messages of the current room (default 20)
  /who             members of the current room
  /edit [id] text  edit your last message in the current room (or the one with that messageId)
  /delete [id]     delete your last message in the current room (or the one with that messageId)
  /create <room> [open|private|announce]   create a room you own (signed in), then join it
  /invite <user>   /uninvite <user>   /promote <user>   /demote <user>   (a user id: token sub)
  /quit            disconnect (Ctrl-D too)

Messages go through an outbox per room: one in flight at a time, the next sent when the previous
came back stored (or failed for good), so they are stored and shown in the order typed; a message
refused as rate_limited or internal, or not answered, is sent again with the same clientMsgId.

Non-interactive (stdin not a terminal, or --send): the same lines are read from stdin (or taken
from --send), each command waits for its reply, messages wait in their outbox, and the client
exits after --wait seconds of listening once the input is done and every message is answered:

  printf 'hello\\n/who\\n' | roomchat chat --room lobby --name bot
  roomchat chat --room lobby --name bot --send "hi" --wait 2

Without --url it connects to the running local stack (`.local/stack.json` from `make run`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import sys
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from roomchat_tools import stackfile
from roomchat_tools.client import RETRYABLE, Client, Frame
from roomchat_tools.terminal import printable

DEFAULT_URL = "ws://127.0.0.1:8080/live"
PING_INTERVAL_S = 240.0  # the API closes connections idle for 10 minutes
REPLY_TIMEOUT_S = 15.0
SEND_ATTEMPTS = 4  # tries of one message (same clientMsgId) before it is reported as not sent

CLOSE_REASONS = {
    1000: "closed normally",
    1001: "closed by the server (idle for 10 minutes, or the 2-hour limit)",
    1006: "connection lost",
    1009: "closed by the server: frame too large (32 KB at most)",
    1011: "closed by the server after an internal error",
}


def default_url() -> str:
    """The local stack's WebSocket URL when `make run` is up, else the default one."""
    with contextlib.suppress(stackfile.StackFileError, KeyError):
        return str(stackfile.read()["websocket_url"])
    return DEFAULT_URL


def clock(iso: str | None) -> str:
    """`2024-05-01T12:01:30.123Z` -> `12:01` in local time."""
    if not iso:
        return "--:--"
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone().strftime("%H:%M")
    except ValueError:
        return iso[11:16]


def format_message(message: dict[str, Any], room: str | None = None) -> str:
    """One line per message: control characters and escape sequences in the text or the sender
    are shown escaped (scripts/roomchat_tools/terminal.py), so no message can fake another line."""
    room = printable(message.get("roomId") or room or "?")
    if message.get("message") is None and message.get("deletedAt"):
        text = "(deleted)"
    else:
        text = printable(message.get("message", ""))
        if message.get("editedAt"):
            text += " (edited)"
    sender = printable(message.get("sender", "?"))
    return f"[{room}] {clock(message.get('sentAt'))} {sender}: {text}"


def _joined(frame: dict[str, Any], room: str) -> list[str]:
    count = frame.get("members")
    members = f"{count} member{'' if count == 1 else 's'}"
    unread = frame.get("unread") or 0
    if isinstance(unread, int) and unread:
        members += f", {unread}{'+' if frame.get('unreadCapped') else ''} unread"
    lines = [f"[{room}] joined as {printable(frame.get('name'))} ({members})"]
    return lines + [format_message(m, room) for m in frame.get("recent") or []]


def _presence(frame: dict[str, Any], room: str) -> list[str]:
    verb = "joined" if frame.get("event") == "join" else "left"
    return [f"[{room}] * {printable(frame.get('name'))} {verb}"]


def _members(frame: dict[str, Any], room: str) -> list[str]:
    members = [printable(m) for m in frame.get("members") or []]
    return [f"[{room}] members ({len(members)}): {', '.join(members)}"]


def _history(frame: dict[str, Any], room: str) -> list[str]:
    messages = frame.get("messages") or []
    lines = [f"[{room}] --- history: {len(messages)} messages ---"]
    lines += [format_message(m, room) for m in messages]
    if frame.get("next"):
        lines.append(f"[{room}] --- older messages before {printable(frame['next'])} ---")
    return lines


def _room_created(frame: dict[str, Any], room: str) -> list[str]:
    policy, owner = printable(frame.get("policy")), printable(frame.get("owner"))
    return [f"[{room}] created ({policy}), owner {owner}"]


def _role(frame: dict[str, Any], room: str) -> list[str]:
    role = printable(frame.get("role") or "no role")
    return [f"[{room}] {printable(frame.get('userId'))} is now: {role}"]


def _edited(frame: dict[str, Any], room: str) -> list[str]:
    text = printable(frame.get("message", ""))
    return [f"[{room}] * message {printable(frame.get('messageId'))} edited: {text}"]


def _kicked(frame: dict[str, Any], room: str) -> list[str]:
    ban = " and banned" if frame.get("banned") else ""
    names = ", ".join(printable(n) for n in frame.get("names") or []) or printable(
        frame.get("userId")
    )
    return [f"[{room}] * {names} removed by a moderator{ban}"]


def _disconnected(frame: dict[str, Any], room: str) -> list[str]:
    user, count = printable(frame.get("userId")), printable(frame.get("connections"))
    return [f"* {user}: {count} connection(s) closed"]


# How each kind of server frame reads; every server-given text goes through printable().
FORMATS: dict[str, Callable[[dict[str, Any], str], list[str]]] = {
    "message": lambda frame, room: [format_message(frame)],
    "joined": _joined,
    "presence": _presence,
    "left": lambda frame, room: [f"[{room}] you left"],
    "members": _members,
    "history": _history,
    "roomCreated": _room_created,
    "role": _role,
    "deleted": lambda frame, room: [
        f"[{room}] * message {printable(frame.get('messageId'))} was deleted"
    ],
    "edited": _edited,
    "kicked": _kicked,
    "disconnected": _disconnected,
    "read": lambda frame, room: [f"[{room}] read up to {printable(frame.get('lastRead'))}"],
    "typing": lambda frame, room: [],
    "pong": lambda frame, room: [],
    "error": lambda frame, room: [
        f"! {printable(frame.get('code'))}: {printable(frame.get('message'))}"
    ],
}


def format_frame(frame: Any) -> list[str]:
    """Readable lines for one server frame; every server-given text goes through printable()."""
    if not isinstance(frame, dict):
        return [f"<< {printable(frame)}"]
    format_kind = FORMATS.get(str(frame.get("type")))
    if format_kind is not None:
        return format_kind(frame, printable(frame.get("roomId", "?")))
    if "message" in frame and "requestId" in frame:  # API Gateway's own error frame
        return [f"! {printable(frame['message'])} (requestId {printable(frame['requestId'])})"]
    return [f"<< {printable(json.dumps(frame))}"]


class Chat:
    """One connection (the protocol client, roomchat_tools/client.py): prints what arrives, sends
    commands, waits for their replies."""

    def __init__(self, client: Client, name: str, out: Callable[[str], None]) -> None:
        self.client = client
        self.ws = client.ws
        self.name = name
        self.out = out
        self.rooms: list[str] = []
        self.current: str | None = None
        self.you: dict[str, str] = {}  # room -> our authorId there (joined.you)
        self.own: dict[str, list[str]] = {}  # room -> our messageIds, oldest first
        # Commands on one of our messages (the last by default): /delete [id], /edit [id] text.
        self.message_commands: dict[str, Callable[[str], Awaitable[None]]] = {
            "/delete": self.delete,
            "/edit": self.edit,
        }
        client.listen(self.show)

    def show(self, frame: Frame) -> None:
        for line in format_frame(frame):
            self.out(line)
        self._remember(frame)

    def _remember(self, frame: Any) -> None:
        """Keep the ids of our own messages, so /edit and /delete can default to the last."""
        if not isinstance(frame, dict):
            return
        room = frame.get("roomId")
        kind = frame.get("type")
        if kind == "joined" and room:
            self.you[room] = frame.get("you") or ""
            for m in frame.get("recent") or []:
                self._remember(m)
        elif kind == "message" and room and frame.get("authorId") == self.you.get(room):
            ids = self.own.setdefault(room, [])
            if frame.get("message") is not None and frame.get("messageId") not in ids:
                ids.append(frame["messageId"])
        elif kind == "deleted" and frame.get("messageId") in self.own.get(room, []):
            self.own[room].remove(frame["messageId"])

    def _target(self, rest: str) -> tuple[str | None, str]:
        """(messageId, the rest of the line): the id given first, else our last message."""
        first, _, tail = rest.partition(" ")
        if len(first) == 26 and first.isalnum() and first.upper() == first:
            return first, tail.strip()
        ids = self.own.get(self.current or "", [])
        return (ids[-1] if ids else None), rest

    # ----- receiving ---------------------------------------------------------------------------
    async def receive(self) -> None:
        """Until the connection closes (the client's reader prints every frame)."""
        await self.client.wait_closed()

    async def request(self, frame: dict[str, Any], reply_type: str) -> Any:
        """Send an action and wait for its reply (or its error frame); None after the timeout."""
        try:
            return await self.client.call(frame, reply_type, REPLY_TIMEOUT_S)
        except TimeoutError:
            self.out(f"! no reply to {frame.get('action')} within {REPLY_TIMEOUT_S:.0f} s")
            return None

    # ----- commands ----------------------------------------------------------------------------
    async def join(self, room: str) -> None:
        reply = await self.request({"action": "join", "roomId": room, "name": self.name}, "joined")
        if isinstance(reply, dict) and reply.get("type") == "joined":
            if room not in self.rooms:
                self.rooms.append(room)
            self.current = room

    async def leave(self, room: str | None) -> None:
        room = room or self.current
        if not room:
            self.out("! not in a room")
            return
        reply = await self.request({"action": "leave", "roomId": room}, "left")
        if isinstance(reply, dict) and reply.get("type") == "left":
            if room in self.rooms:
                self.rooms.remove(room)
            if self.current == room:
                self.current = self.rooms[-1] if self.rooms else None
                if self.current:
                    self.out(f"(now talking in {self.current})")

    async def say(self, text: str) -> None:
        """Queue a message in the current room's outbox; it does not wait for the answer."""
        if not self.current:
            self.out("! join a room first: /join <room>")
            return
        room = self.current
        outbox = self.client.outbox(
            room, timeout=REPLY_TIMEOUT_S, attempts=SEND_ATTEMPTS, backoff_s=0.5
        )
        outbox.submit(text).add_done_callback(lambda done: self._sent(room, text, done))

    def _sent(self, room: str, text: str, done: asyncio.Future[Frame]) -> None:
        """Say when a message was not sent; a refusal for good was printed as it came."""
        if done.cancelled():
            return
        if done.exception() is not None:
            self.out(f"! [{printable(room)}] not sent (connection closed): {text}")
            return
        reply = done.result()
        if reply.get("type") == "message":
            return
        if "type" in reply and reply.get("code") not in (*RETRYABLE, "timeout"):
            return  # refused for good (printed by the receiver): the next message went
        self.out(f"! [{printable(room)}] not sent after {SEND_ATTEMPTS} tries: {text}")

    async def drain(self) -> None:
        """Until every queued message is answered (stored or failed for good)."""
        await self.client.drain()

    def close_outboxes(self) -> None:
        for outbox in self.client.outboxes.values():
            outbox.close()

    async def history(self, limit: int) -> None:
        if not self.current:
            self.out("! join a room first: /join <room>")
            return
        room = self.current
        await self.request({"action": "history", "roomId": room, "limit": limit}, "history")

    async def who(self) -> None:
        if not self.current:
            self.out("! join a room first: /join <room>")
            return
        room = self.current
        await self.request({"action": "members", "roomId": room}, "members")

    async def ping(self) -> None:
        await self.client.send({"action": "ping"})

    async def create(self, room: str, policy: str) -> None:
        reply = await self.request(
            {"action": "createRoom", "roomId": room, "policy": policy}, "roomCreated"
        )
        if isinstance(reply, dict) and reply.get("type") == "roomCreated":
            await self.join(room)

    async def set_role(self, action: str, user: str) -> None:
        if not self.current:
            self.out("! join a room first: /join <room>")
            return
        room = self.current
        await self.request({"action": action, "roomId": room, "userId": user}, "role")

    async def delete(self, rest: str) -> None:
        if not self.current:
            self.out("! join a room first: /join <room>")
            return
        message_id, _ = self._target(rest)
        if message_id is None:
            self.out("! no message of yours to delete here")
            return
        frame = {"action": "delete", "roomId": self.current, "messageId": message_id}
        await self.request(frame, "deleted")

    async def edit(self, rest: str) -> None:
        if not self.current:
            self.out("! join a room first: /join <room>")
            return
        message_id, text = self._target(rest)
        if message_id is None or not text:
            self.out("! usage: /edit [messageId] <new text> (your last message by default)")
            return
        frame = {"action": "edit", "roomId": self.current, "messageId": message_id, "message": text}
        await self.request(frame, "edited")

    async def history_command(self, rest: str) -> None:
        try:
            limit = int(rest) if rest else 20
        except ValueError:
            self.out("! usage: /history [n]")
        else:
            await self.history(limit)

    async def handle(self, line: str) -> bool:
        """Run one input line; False means quit."""
        line = line.rstrip("\r\n")
        if not line.strip():
            return True
        if not line.startswith("/"):
            await self.say(line)
            return True
        command, _, rest = line.partition(" ")
        rest = rest.strip()
        # A command runs after the messages typed before it are answered, as it was typed.
        await self.drain()
        if command in ("/quit", "/exit"):
            return False
        if command == "/join" and rest:
            await self.join(rest)
        elif command == "/leave":
            await self.leave(rest or None)
        elif command == "/history":
            await self.history_command(rest)
        elif command in ("/who", "/members"):
            await self.who()
        elif command in self.message_commands:
            await self.message_commands[command](rest)
        elif command == "/create" and rest:
            room, _, policy = rest.partition(" ")
            await self.create(room, policy.strip() or "open")
        elif command in ("/invite", "/uninvite", "/promote", "/demote") and rest:
            await self.set_role(command[1:], rest)
        elif command == "/help":
            self.out(__doc__.split("\n\n")[2] if __doc__ else "")
        else:
            self.out(
                "! commands: /join <room>, /leave [room], /history [n], /who, /create <room> "
                "[policy], /invite|/uninvite|/promote|/demote <user>, /edit [id] <text>, "
                "/delete [id], /quit"
            )
        return True


def _stdin_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    """Read stdin on a thread (works for terminals and pipes alike); None marks EOF."""

    def reader() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=reader, daemon=True).start()


def _close_message(ws: ClientConnection) -> str:
    code = ws.close_code
    reason = ws.close_reason or ""
    text = CLOSE_REASONS.get(code or 1006, "closed")
    return f"disconnected: {text} (code {code}{', ' + reason if reason else ''})"


async def run(args: argparse.Namespace) -> int:
    out = _print_flush
    name = args.name or os.environ.get("USER") or _user() or "guest"
    url = args.url or default_url()
    try:
        client = await Client.connect(
            url,
            token=args.token or None,
            name=name,
            buffer=False,
            reply_timeout=REPLY_TIMEOUT_S,
            max_size=None,
        )
    except websockets.InvalidStatus as exc:
        status = exc.response.status_code
        hint = " (a token is required: --token or ROOMCHAT_TOKEN)" if status in (401, 403) else ""
        print(f"error: {url} refused the connection with HTTP {status}{hint}", file=sys.stderr)
        return 1
    except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
        print(
            f"error: cannot connect to {url}: {exc}\n"
            "Is the local stack running? Start it with `make run` (or pass --url).",
            file=sys.stderr,
        )
        return 1
    chat = Chat(client, name, out)
    ws = client.ws
    receiver = asyncio.create_task(chat.receive())
    interactive = sys.stdin.isatty() and not args.send
    keepalive = client.keepalive(args.ping_interval)
    closed_by_us = False
    try:
        out(f"connected to {url} as {name}")
        await chat.join(args.room)
        if args.send:
            for line in args.send:
                if not await chat.handle(line):
                    break
        else:
            if interactive:
                out("type a message, or /help")
            queue: asyncio.Queue[str | None] = asyncio.Queue()
            _stdin_lines(asyncio.get_running_loop(), queue)
            while True:
                next_line = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait(
                    {next_line, receiver}, return_when=asyncio.FIRST_COMPLETED
                )
                if receiver in done:
                    next_line.cancel()
                    break
                line = next_line.result()
                if line is None or not await chat.handle(line):
                    break
        if not receiver.done():
            # Every queued message answered before we stop listening.
            drain = asyncio.create_task(chat.drain())
            await asyncio.wait({drain, receiver}, return_when=asyncio.FIRST_COMPLETED)
            drain.cancel()
        if not receiver.done() and not interactive and args.wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(receiver), args.wait)
        if not receiver.done():
            closed_by_us = True
            await ws.close()
    except websockets.ConnectionClosed:
        pass
    finally:
        keepalive.cancel()
        chat.close_outboxes()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(receiver, 5)
    if closed_by_us:
        return 0
    print(_close_message(ws), file=sys.stderr)
    return 1


def _print_flush(line: str) -> None:
    print(line, flush=True)


def _user() -> str | None:
    with contextlib.suppress(Exception):
        return getpass.getuser()
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="roomchat terminal client",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("--room", default="lobby", help="room to join first (default: lobby)")
    parser.add_argument("--name", default="", help="your name (default: $USER)")
    parser.add_argument("--url", default="", help="WebSocket URL (default: the local stack)")
    parser.add_argument(
        "--token",
        default=os.environ.get("ROOMCHAT_TOKEN", ""),
        help="connect token when the API has the token authorizer (default: $ROOMCHAT_TOKEN)",
    )
    parser.add_argument(
        "--send", action="append", default=[], help="a line to send (repeatable); no stdin then"
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=1.0,
        help="non-interactive: seconds to keep listening after the last line (default 1)",
    )
    parser.add_argument(
        "--ping-interval",
        type=float,
        default=float(os.environ.get("ROOMCHAT_PING_INTERVAL") or PING_INTERVAL_S),
        help="seconds between keepalive pings (default 240)",
    )
    args = parser.parse_args(argv)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
