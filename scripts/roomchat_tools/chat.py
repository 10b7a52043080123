"""Terminal chat client for roomchat.

    roomchat chat --room lobby --name ana [--url ws://127.0.0.1:8080/live]

Interactive: plain lines go to the current room; commands:
  /join <room>     join a room and make it the current one
  /leave [room]    leave a room (default: the current one)
  /history [n]     the last n messages of the current room (default 20)
  /who             members of the current room
  /edit [id] text  edit your last message in the current room (or the one with that messageId)
  /delete [id]     delete your last message in the current room (or the one with that messageId)
  /quit            disconnect (Ctrl-D too)

Non-interactive (stdin not a terminal, or --send): the same lines are read from stdin (or taken
from --send), each one waits for its reply, and the client exits after --wait seconds of listening
once the input is done:

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
import urllib.parse
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from roomchat_tools import stackfile

DEFAULT_URL = "ws://127.0.0.1:8080/live"
PING_INTERVAL_S = 240.0  # the API closes connections idle for 10 minutes
REPLY_TIMEOUT_S = 15.0

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
    room = message.get("roomId") or room or "?"
    if message.get("message") is None and message.get("deletedAt"):
        text = "(deleted)"
    else:
        text = str(message.get("message", "")).replace("\n", "\n    ")
        if message.get("editedAt"):
            text += " (edited)"
    return f"[{room}] {clock(message.get('sentAt'))} {message.get('sender', '?')}: {text}"


def format_frame(frame: Any) -> list[str]:
    """Readable lines for one server frame."""
    if not isinstance(frame, dict):
        return [f"<< {frame}"]
    kind = frame.get("type")
    room = frame.get("roomId", "?")
    if kind == "message":
        return [format_message(frame)]
    if kind == "joined":
        count = frame.get("members")
        members = f"{count} member{'' if count == 1 else 's'}"
        unread = frame.get("unread") or 0
        if unread:
            members += f", {unread}{'+' if frame.get('unreadCapped') else ''} unread"
        lines = [f"[{room}] joined as {frame.get('name')} ({members})"]
        return lines + [format_message(m, room) for m in frame.get("recent") or []]
    if kind == "presence":
        verb = "joined" if frame.get("event") == "join" else "left"
        return [f"[{room}] * {frame.get('name')} {verb}"]
    if kind == "left":
        return [f"[{room}] you left"]
    if kind == "members":
        members = frame.get("members") or []
        return [f"[{room}] members ({len(members)}): {', '.join(members)}"]
    if kind == "history":
        messages = frame.get("messages") or []
        lines = [f"[{room}] --- history: {len(messages)} messages ---"]
        lines += [format_message(m, room) for m in messages]
        if frame.get("next"):
            lines.append(f"[{room}] --- older messages before {frame['next']} ---")
        return lines
    if kind == "deleted":
        return [f"[{room}] * message {frame.get('messageId')} was deleted"]
    if kind == "edited":
        text = str(frame.get("message", "")).replace("\n", "\n    ")
        return [f"[{room}] * message {frame.get('messageId')} edited: {text}"]
    if kind == "kicked":
        ban = " and banned" if frame.get("banned") else ""
        names = ", ".join(frame.get("names") or []) or frame.get("userId")
        return [f"[{room}] * {names} removed by a moderator{ban}"]
    if kind == "disconnected":
        return [f"* {frame.get('userId')}: {frame.get('connections')} connection(s) closed"]
    if kind == "read":
        return [f"[{room}] read up to {frame.get('lastRead')}"]
    if kind in ("pong", "typing"):
        return []
    if kind == "error":
        return [f"! {frame.get('code')}: {frame.get('message')}"]
    if "message" in frame and "requestId" in frame:  # API Gateway's own error frame
        return [f"! {frame['message']} (requestId {frame['requestId']})"]
    return [f"<< {json.dumps(frame)}"]


class Chat:
    """One connection: prints what arrives, sends commands, waits for their replies."""

    def __init__(self, ws: ClientConnection, name: str, out: Callable[[str], None]) -> None:
        self.ws = ws
        self.name = name
        self.out = out
        self.rooms: list[str] = []
        self.current: str | None = None
        self.you: dict[str, str] = {}  # room -> our authorId there (joined.you)
        self.own: dict[str, list[str]] = {}  # room -> our messageIds, oldest first
        self._waiters: list[tuple[Callable[[Any], bool], asyncio.Future[Any]]] = []

    # ----- receiving ---------------------------------------------------------------------------
    async def receive(self) -> None:
        async for raw in self.ws:
            try:
                frame = json.loads(raw)
            except (TypeError, ValueError):
                frame = raw
            for line in format_frame(frame):
                self.out(line)
            self._remember(frame)
            for predicate, future in list(self._waiters):
                if not future.done() and predicate(frame):
                    future.set_result(frame)

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

    async def delete(self, rest: str) -> None:
        if not self.current:
            self.out("! join a room first: /join <room>")
            return
        message_id, _ = self._target(rest)
        if message_id is None:
            self.out("! no message of yours to delete here")
            return
        await self.request(
            {"action": "delete", "roomId": self.current, "messageId": message_id},
            lambda f: f.get("type") == "deleted" and f.get("messageId") == message_id,
        )

    async def edit(self, rest: str) -> None:
        if not self.current:
            self.out("! join a room first: /join <room>")
            return
        message_id, text = self._target(rest)
        if message_id is None or not text:
            self.out("! usage: /edit [messageId] <new text> (your last message by default)")
            return
        await self.request(
            {"action": "edit", "roomId": self.current, "messageId": message_id, "message": text},
            lambda f: f.get("type") == "edited" and f.get("messageId") == message_id,
        )

    async def request(self, frame: dict[str, Any], done: Callable[[Any], bool]) -> Any:
        """Send a frame and wait for the reply `done` recognises (or any error frame)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def matches(reply: Any) -> bool:
            if not isinstance(reply, dict):
                return False
            if reply.get("type") == "error" and reply.get("action") in (frame.get("action"), None):
                return True
            return done(reply) or ("requestId" in reply and "message" in reply)

        entry = (matches, future)
        self._waiters.append(entry)
        try:
            await self.ws.send(json.dumps(frame))
            return await asyncio.wait_for(future, REPLY_TIMEOUT_S)
        except TimeoutError:
            self.out(f"! no reply to {frame.get('action')} within {REPLY_TIMEOUT_S:.0f} s")
            return None
        finally:
            self._waiters.remove(entry)

    # ----- commands ----------------------------------------------------------------------------
    async def join(self, room: str) -> None:
        reply = await self.request(
            {"action": "join", "roomId": room, "name": self.name},
            lambda f: f.get("type") == "joined" and f.get("roomId") == room,
        )
        if isinstance(reply, dict) and reply.get("type") == "joined":
            if room not in self.rooms:
                self.rooms.append(room)
            self.current = room

    async def leave(self, room: str | None) -> None:
        room = room or self.current
        if not room:
            self.out("! not in a room")
            return
        reply = await self.request(
            {"action": "leave", "roomId": room},
            lambda f: f.get("type") == "left" and f.get("roomId") == room,
        )
        if isinstance(reply, dict) and reply.get("type") == "left":
            if room in self.rooms:
                self.rooms.remove(room)
            if self.current == room:
                self.current = self.rooms[-1] if self.rooms else None
                if self.current:
                    self.out(f"(now talking in {self.current})")

    async def say(self, text: str) -> None:
        if not self.current:
            self.out("! join a room first: /join <room>")
            return
        client_msg_id = uuid.uuid4().hex
        await self.request(
            {
                "action": "sendAll",
                "roomId": self.current,
                "message": text,
                "clientMsgId": client_msg_id,
            },
            lambda f: f.get("type") == "message" and f.get("clientMsgId") == client_msg_id,
        )

    async def history(self, limit: int) -> None:
        if not self.current:
            self.out("! join a room first: /join <room>")
            return
        room = self.current
        await self.request(
            {"action": "history", "roomId": room, "limit": limit},
            lambda f: f.get("type") == "history" and f.get("roomId") == room,
        )

    async def who(self) -> None:
        if not self.current:
            self.out("! join a room first: /join <room>")
            return
        room = self.current
        await self.request(
            {"action": "members", "roomId": room},
            lambda f: f.get("type") == "members" and f.get("roomId") == room,
        )

    async def ping(self) -> None:
        await self.ws.send(json.dumps({"action": "ping"}))

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
        if command in ("/quit", "/exit"):
            return False
        if command == "/join" and rest:
            await self.join(rest)
        elif command == "/leave":
            await self.leave(rest or None)
        elif command == "/history":
            try:
                limit = int(rest) if rest else 20
            except ValueError:
                self.out("! usage: /history [n]")
            else:
                await self.history(limit)
        elif command in ("/who", "/members"):
            await self.who()
        elif command == "/delete":
            await self.delete(rest)
        elif command == "/edit":
            await self.edit(rest)
        elif command == "/help":
            self.out(__doc__.split("\n\n")[2] if __doc__ else "")
        else:
            self.out(
                "! commands: /join <room>, /leave [room], /history [n], /who, "
                "/edit [id] <text>, /delete [id], /quit"
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
    params = {"name": name, **({"token": args.token} if args.token else {})}
    full_url = f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(params)}"
    try:
        ws = await websockets.connect(full_url, open_timeout=10, max_size=None)
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
    chat = Chat(ws, name, out)
    receiver = asyncio.create_task(chat.receive())
    interactive = sys.stdin.isatty() and not args.send
    keepalive = asyncio.create_task(_keepalive(chat, args.ping_interval))
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
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(receiver, 5)
    if closed_by_us:
        return 0
    print(_close_message(ws), file=sys.stderr)
    return 1


async def _keepalive(chat: Chat, interval: float) -> None:
    with contextlib.suppress(websockets.ConnectionClosed):
        while True:
            await asyncio.sleep(interval)
            await chat.ping()


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
