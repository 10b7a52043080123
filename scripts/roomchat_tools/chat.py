"""Terminal chat client for roomchat.

    roomchat chat --room lobby --name ana [--url ws://127.0.0.1:8080/live]

Interactive: plain lines go to the current room; commands:
  /join <room>     join a room and make it the current one
  /leave [room]    leave a room (default: the current one)
  /history [n]     the last n messages of the current room (default 20)
  /who             members of the current room (signed in: with their user ids, where known)
  /edit [id] text  edit your last message in the current room (or the one with that messageId)
  /delete [id]     delete your last message in the current room (or the one with that messageId)
  /reply <id> text reply in that message's thread (/replyall: also shown in the room)
  /thread <id>     that message's thread: its replies, newest page
  /react <id> <emoji>   add a reaction (/unreact takes it back); /follow <id>, /unfollow <id>
  /threads         the threads you follow here, with unread replies; /mentions: what mentions you
  /pin <id>, /unpin <id>   the room's owner and moderators; pins are listed when you join
  /create <room> [open|private|announce]   create a room you own (signed in), then join it
  /invite <user>   /uninvite <user>   /promote <user>   /demote <user>
                   a user id (a token's sub), or the display name of someone seen here
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
import difflib
import getpass
import json
import os
import sys
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

import websockets

from roomchat_client import RETRYABLE, Client, Frame, Refused
from roomchat_client.protocol import ROLE_ACTIONS, token_user
from roomchat_tools import stackfile
from roomchat_tools.terminal import message_text, printable

DEFAULT_URL = "ws://127.0.0.1:8080/live"
PING_INTERVAL_S = 240.0  # the API closes connections idle for 10 minutes
REPLY_TIMEOUT_S = 15.0
SEND_ATTEMPTS = 4  # tries of one message (same clientMsgId) before it is reported as not sent
COMMANDS = (
    "/join <room>, /leave [room], /history [n], /who, /create <room> [policy], "
    "/reply|/replyall <id> <text>, /thread <id>, /react|/unreact <id> <emoji>, "
    "/follow|/unfollow <id>, /threads, /mentions, /pin|/unpin <id>, "
    "/invite|/uninvite|/promote|/demote <user>, /edit [id] <text>, /delete [id], "
    "/get <id> <uploadId>, /quit"
)


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
    are shown escaped (scripts/roomchat_tools/terminal.py), so no message can fake another line.
    A reply says whose thread it is in; a parent its replies; reactions follow the text."""
    room = printable(message.get("roomId") or room or "?")
    sender = printable(message.get("sender", "?"))
    where = f" ↳{printable(message['replyTo'])[-6:]}" if message.get("replyTo") else ""
    extras = ""
    if message.get("replyCount"):
        extras += f" [{message['replyCount']} replies]"
    for r in message.get("reactions") or []:
        extras += f" {printable(r.get('emoji'))}{printable(r.get('count'))}"
    for a in message.get("attachments") or []:
        extras += (
            f" [file {printable(a.get('name'))}, {file_size(a.get('size'))}:"
            f" /get {printable(message.get('messageId'))} {printable(a.get('uploadId'))}]"
        )
    return (
        f"[{room}]{where} {clock(message.get('sentAt'))} {sender}: {message_text(message)}{extras}"
    )


def file_size(size: Any) -> str:
    """A file's size for people: 512 B, 48.2 KB, 3.1 MB."""
    if not isinstance(size, int):
        return "? B"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


# The conversation commands that take a messageId (and /react, /unreact an emoji).
CONVERSATION_COMMANDS = ("/thread", "/react", "/unreact", "/follow", "/unfollow", "/pin", "/unpin")


def _thread(frame: dict[str, Any], room: str) -> list[str]:
    parent = frame.get("parent") or {}
    lines = [f"[{room}] --- thread of {format_message(parent, room)} ---"]
    lines += [format_message(m, room) for m in frame.get("replies") or []]
    unread = frame.get("unread") or 0
    state = "following" if frame.get("following") else "not following"
    lines.append(
        f"[{room}] --- {state}, {unread}{'+' if frame.get('unreadCapped') else ''} unread ---"
    )
    return lines


def _threads(frame: dict[str, Any], room: str) -> list[str]:
    lines = [f"[{room}] threads you follow: {len(frame.get('threads') or [])}"]
    for t in frame.get("threads") or []:
        lines.append(
            f"[{room}]   {printable(t.get('messageId'))} {printable(t.get('sender'))}: "
            f"{printable(t.get('excerpt') or '(deleted)')} ({printable(t.get('replyCount'))} "
            f"replies, {printable(t.get('unread'))} unread)"
        )
    return lines


def _reaction(frame: dict[str, Any], room: str) -> list[str]:
    verb = "reacted" if frame.get("added") else "took back"
    summary = " ".join(
        f"{printable(r.get('emoji'))}{printable(r.get('count'))}"
        for r in frame.get("reactions") or []
    )
    return [
        f"[{room}] * {printable(frame.get('name'))} {verb} {printable(frame.get('emoji'))} on "
        f"{printable(frame.get('messageId'))}: {summary or 'no reactions'}"
    ]


def _pinned(frame: dict[str, Any], room: str) -> list[str]:
    pin = frame.get("pin") or {}
    verb = "pinned" if frame.get("pinned") else "unpinned"
    return [f"[{room}] * {printable(pin.get('messageId'))} {verb}: {printable(pin.get('excerpt'))}"]


def _mentions(frame: dict[str, Any], room: str) -> list[str]:
    messages = frame.get("messages") or []
    return [f"--- {len(messages)} mentions ---"] + [format_message(m) for m in messages]


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
    "thread": _thread,
    "threads": _threads,
    "following": lambda frame, room: [
        f"[{room}] {'following' if frame.get('following') else 'not following'} "
        f"{printable(frame.get('messageId'))}"
    ],
    "reaction": _reaction,
    "pinned": _pinned,
    "mentions": _mentions,
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
    """One connection (the Python SDK's ``Client``, clients/python): prints what arrives, sends
    commands, waits for their replies. Signed in, it learns who is who (display name -> user id)
    from the frames it sees, so role commands take a name and /who shows ids."""

    def __init__(
        self, client: Client, name: str, out: Callable[[str], None], signed_in: bool = False
    ) -> None:
        self.client = client
        self.ws = client.ws
        self.name = name
        self.out = out
        self.signed_in = signed_in
        self.rooms: list[str] = []
        self.current: str | None = None
        self.you: dict[str, str] = {}  # room -> our authorId there (joined.you)
        self.own: dict[str, list[str]] = {}  # room -> our messageIds, oldest first
        self.ids: dict[str, str] = {}  # display name -> user id, from the frames seen
        self.members: dict[str, list[str]] = {}  # room -> names, from members and presence
        self.texts: dict[str, tuple[str, str]] = {}  # messageId -> (sender, text) seen
        self.leaving: set[str] = set()  # rooms we asked to leave
        self.introduced = False
        self.hide_members = 0  # members replies asked for by the client itself, not shown
        # Commands that take the rest of the line as it is (or nothing).
        self.commands: dict[str, Callable[[str], Awaitable[None]]] = {
            "/leave": lambda rest: self.leave(rest or None),
            "/history": self.history_command,
            "/who": lambda _: self.who(),
            "/members": lambda _: self.who(),
            "/delete": self.delete,  # on one of our messages (the last by default)
            "/edit": self.edit,
            "/reply": self.reply,
            "/replyall": lambda rest: self.reply(rest, also_to_room=True),
            "/threads": lambda _: self.threads(),
            "/mentions": lambda _: self.mentions(),
            "/get": self.get_file,
            **{c: partial(self.conversation, command=c) for c in CONVERSATION_COMMANDS},
        }
        client.listen(self.show)

    def show(self, frame: Frame) -> None:
        if isinstance(frame, dict) and frame.get("type") == "members" and self.hide_members:
            self.hide_members -= 1
            self._remember(frame)
            return
        for line in self.describe(frame):
            self.out(line)
        self._remember(frame)

    def describe(self, frame: Frame) -> list[str]:
        """format_frame, with what this session knows: who is who, the texts of messages."""
        if not isinstance(frame, dict):
            return format_frame(frame)
        room = printable(frame.get("roomId", "?"))
        kind = frame.get("type")
        if kind == "members" and self.signed_in:
            names = [self._with_id(n) for n in frame.get("members") or []]
            return [f"[{room}] members ({len(names)}): {', '.join(names)}"]
        if kind in ("edited", "deleted"):
            return [f"[{room}] * {self._changed(frame)}"]
        if kind == "left" and frame.get("roomId") not in self.leaving:
            return [f"[{room}] you are no longer in {room} (removed from its members)"]
        lines = format_frame(frame)
        if kind == "joined" and self.signed_in and not self.introduced:
            self.introduced = True
            you = printable(frame.get("you"))
            lines.append(
                f"you are {printable(frame.get('name'))}, user id {you} "
                f"(others invite you with: /invite {you})"
            )
        return lines

    def _with_id(self, name: str) -> str:
        user = self.ids.get(name)
        return f"{printable(name)} ({printable(user) if user else 'id not seen yet'})"

    def _changed(self, frame: dict[str, Any]) -> str:
        """An edit or delete, named by the message's sender and text (the chat lines show no
        ids; /edit and /delete act on your last message by default)."""
        seen = self.texts.get(str(frame.get("messageId")))
        what = f'{printable(seen[0])}\'s message "{_short(seen[1])}"' if seen else "a message"
        if frame.get("type") == "deleted":
            return f"{what} was deleted"
        return f"{what} was edited: {printable(frame.get('message', ''))}"

    def _remember(self, frame: Any) -> None:
        """Keep the ids of our own messages (so /edit and /delete default to the last), who is
        who, the rooms' members and the texts of messages."""
        if isinstance(frame, dict) and isinstance(frame.get("type"), str):
            remember = getattr(self, f"_remember_{frame['type']}", None)
            if remember is not None:
                remember(frame, frame.get("roomId") or "")

    def _remember_joined(self, frame: dict[str, Any], room: str) -> None:
        self.you[room] = frame.get("you") or ""
        self._learn(frame.get("name"), frame.get("you"))
        for m in frame.get("recent") or []:
            self._remember_message(m, room)

    def _remember_history(self, frame: dict[str, Any], room: str) -> None:
        for m in frame.get("messages") or []:
            self._remember_message(m, room)

    def _remember_message(self, frame: dict[str, Any], room: str) -> None:
        self._learn(frame.get("sender"), frame.get("authorId"))
        if frame.get("message") is None:
            return
        self.texts[frame["messageId"]] = (frame.get("sender", "?"), frame["message"])
        ids = self.own.setdefault(room, [])
        if frame.get("authorId") == self.you.get(room) and frame["messageId"] not in ids:
            ids.append(frame["messageId"])

    def _remember_edited(self, frame: dict[str, Any], room: str) -> None:
        if frame.get("messageId") in self.texts:
            sender, _ = self.texts[frame["messageId"]]
            self.texts[frame["messageId"]] = (sender, str(frame.get("message", "")))

    def _remember_deleted(self, frame: dict[str, Any], room: str) -> None:
        if frame.get("messageId") in self.own.get(room, []):
            self.own[room].remove(frame["messageId"])

    def _remember_typing(self, frame: dict[str, Any], room: str) -> None:
        self._learn(frame.get("name"), frame.get("userId"))

    def _remember_kicked(self, frame: dict[str, Any], room: str) -> None:
        for name in frame.get("names") or []:
            self._learn(name, frame.get("userId"))

    def _remember_members(self, frame: dict[str, Any], room: str) -> None:
        self.members[room] = list(frame.get("members") or [])

    def _remember_presence(self, frame: dict[str, Any], room: str) -> None:
        names = self.members.get(room)
        if names is None:
            return
        if frame.get("event") == "join":
            names.append(frame.get("name", ""))
        elif frame.get("name") in names:
            names.remove(frame["name"])

    def _remember_left(self, frame: dict[str, Any], room: str) -> None:
        self._left(room)

    def _learn(self, name: Any, user_id: Any) -> None:
        if self.signed_in and isinstance(name, str) and isinstance(user_id, str) and user_id:
            self.ids[name] = user_id

    def _left(self, room: str) -> None:
        """Out of a room: asked for, or removed (uninvited from a private room)."""
        self.leaving.discard(room)
        if room in self.rooms:
            self.rooms.remove(room)
        if self.current == room:
            self.current = self.rooms[-1] if self.rooms else None
            if self.current:
                self.out(f"(now talking in {self.current})")

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

    def _in_room(self) -> str | None:
        if not self.current:
            self.out("! join a room first: /join <room>")
        return self.current

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
        self.leaving.add(room)
        await self.request({"action": "leave", "roomId": room}, "left")

    async def say(self, text: str) -> None:
        """Queue a message in the current room's outbox; it does not wait for the answer."""
        room = self._in_room()
        if room is None:
            return
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
        room = self._in_room()
        if room is not None:
            await self.request({"action": "history", "roomId": room, "limit": limit}, "history")

    async def who(self) -> None:
        room = self._in_room()
        if room is not None:
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
        room = self._in_room()
        if room is None:
            return
        user_id = await self.resolve_user(user)
        if user_id is not None:
            await self.request({"action": action, "roomId": room, "userId": user_id}, "role")

    async def resolve_user(self, user: str) -> str | None:
        """The user id a role command means: a display name seen here becomes its id; a name
        whose id is not known, or a near miss, is refused with what to type instead (the server
        takes any string as an id, so inviting a name would invite nobody)."""
        if user in self.ids:
            user_id = self.ids[user]
            if user_id != user:
                self.out(f"({printable(user)} is user id {printable(user_id)})")
            return user_id
        if user in self.ids.values():
            return user
        names = await self._member_names()
        if user in names:
            self.out(
                f"! {printable(user)} is a display name, and their user id is not known here "
                f"yet: ask them for it (their chat shows 'user id …'), or wait until they write"
            )
            return None
        known = {*self.ids, *self.ids.values(), *names}
        close = difflib.get_close_matches(user, known, n=3, cutoff=0.6) + [
            k for k in known if k.lower() == user.lower()
        ]
        if close:
            hints = ", ".join(dict.fromkeys(self._with_id(c) for c in close))
            self.out(f"! no user {printable(user)!r} seen here: did you mean {hints}?")
            return None
        return user  # an id of someone not seen in these rooms: the server decides

    async def _member_names(self) -> set[str]:
        """Every name in the rooms we are in (asked for quietly where not known yet)."""
        for room in self.rooms:
            if room not in self.members:
                self.hide_members += 1
                reply = await self.request({"action": "members", "roomId": room}, "members")
                if not (isinstance(reply, dict) and reply.get("type") == "members"):
                    self.hide_members = max(0, self.hide_members - 1)
        return {name for names in self.members.values() for name in names}

    async def delete(self, rest: str) -> None:
        if self._in_room() is None:
            return
        message_id, _ = self._target(rest)
        if message_id is None:
            self.out("! no message of yours to delete here")
            return
        frame = {"action": "delete", "roomId": self.current, "messageId": message_id}
        await self.request(frame, "deleted")

    async def edit(self, rest: str) -> None:
        if self._in_room() is None:
            return
        message_id, text = self._target(rest)
        if message_id is None or not text:
            self.out("! usage: /edit [messageId] <new text> (your last message by default)")
            return
        frame = {"action": "edit", "roomId": self.current, "messageId": message_id, "message": text}
        await self.request(frame, "edited")

    async def reply(self, rest: str, also_to_room: bool = False) -> None:
        room = self._in_room()
        parent, _, text = rest.partition(" ")
        if room is None:
            return
        if not parent or not text.strip():
            self.out(f"! usage: /reply{'all' if also_to_room else ''} <messageId> <text>")
            return
        reply = await self.client.reply(room, parent, text.strip(), also_to_room)
        if isinstance(reply, dict) and reply.get("type") == "error":
            self.out(format_frame(reply)[0])

    async def conversation(self, rest: str, command: str = "") -> None:
        """/thread, /react, /unreact, /follow, /unfollow, /pin, /unpin <messageId> [emoji]."""
        room = self._in_room()
        message_id, _, arg = rest.partition(" ")
        emoji = arg.strip()
        needs_emoji = "react" in command
        if room is None:
            return
        if not message_id or (needs_emoji and not emoji):
            self.out(f"! usage: {command} <messageId>{' <emoji>' if needs_emoji else ''}")
            return
        calls = {
            "/thread": lambda: self.client.thread(room, message_id),
            "/react": lambda: self.client.react(room, message_id, emoji),
            "/unreact": lambda: self.client.react(room, message_id, emoji, remove=True),
            "/follow": lambda: self.client.follow(room, message_id),
            "/unfollow": lambda: self.client.follow(room, message_id, following=False),
            "/pin": lambda: self.client.pin(room, message_id),
            "/unpin": lambda: self.client.pin(room, message_id, pinned=False),
        }
        await calls[command]()

    async def get_file(self, rest: str) -> None:
        """/get <messageId> <uploadId>: a download command for a file of a message (its URL is
        valid a few minutes; curl names the file as the server says)."""
        room = self._in_room()
        message_id, _, upload_id = rest.partition(" ")
        if room is None:
            return
        if not message_id or not upload_id.strip():
            self.out("! usage: /get <messageId> <uploadId>")
            return
        reply = await self.client.attachment_url(room, message_id, upload_id.strip())
        if reply.get("type") == "attachmentUrl":
            until, url = clock(reply.get("expiresAt")), printable(reply["url"])
            self.out(f"download (until {until}): curl -fOJ '{url}'")

    async def threads(self) -> None:
        room = self._in_room()
        if room is not None:
            await self.client.threads(room)

    async def mentions(self) -> None:
        await self.client.mentions()

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
        if command in self.commands:
            await self.commands[command](rest)
        elif command == "/join" and rest:
            await self.join(rest)
        elif command == "/create" and rest:
            room, _, policy = rest.partition(" ")
            await self.create(room, policy.strip() or "open")
        elif command[1:] in ROLE_ACTIONS and rest:
            await self.set_role(command[1:], rest)
        elif command == "/help":
            self.out(__doc__.split("\n\n")[2] if __doc__ else "")
        elif command in ("/join", "/create", *(f"/{a}" for a in ROLE_ACTIONS)):
            self.out(f"! {command} needs an argument; commands: {COMMANDS}")
        else:
            self.out(f"! unknown command {printable(command)}; commands: {COMMANDS}")
        return True


def _short(text: str, limit: int = 30) -> str:
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _stdin_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    """Read stdin on a thread (works for terminals and pipes alike); None marks EOF."""

    def reader() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=reader, daemon=True).start()


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
    except Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
        print(
            f"error: cannot connect to {url}: {exc}\n"
            "Is the local stack running? Start it with `make run` (or pass --url).",
            file=sys.stderr,
        )
        return 1
    chat = Chat(client, name, out, signed_in=bool(args.token))
    ws = client.ws
    receiver = asyncio.create_task(chat.receive())
    interactive = sys.stdin.isatty() and not args.send
    keepalive = client.keepalive(args.ping_interval)
    closed_by_us = False
    try:
        out(_connected_line(url, name, args.token))
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
    print(f"disconnected: {client.close_reason()}", file=sys.stderr)
    return 1


def _connected_line(url: str, name: str, token: str | None) -> str:
    """Signed in, the server names you from the token, not from --name: say so."""
    if not token:
        return f"connected to {url} as {name}"
    user_id, token_name = token_user(token)
    who = f"{printable(token_name)} (user id {printable(user_id)})" if user_id else "its user"
    return f"connected to {url} with a token for {who}"


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
