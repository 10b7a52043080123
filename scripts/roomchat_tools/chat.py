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

When the connection drops (API Gateway closes every connection after 10 minutes idle and at
2 hours; networks drop), it reconnects by itself after a jittered back-off (0.25-0.5 s, doubling
up to 15-30 s; --reconnect-attempts tries in a row, 12 by default, then it gives up and says
why), with the same token, rejoins its rooms and resumes each from the last message it showed:
the missed messages once and oldest first, then the edits and deletes made meanwhile, then live
again, with no repeat where the two meet ("[room] rejoined: N missed messages"; "history
incomplete" when the last one shown is past the retention). Lines typed while it is away, and
any left unanswered by the drop, are sent once reconnected, in the order typed (one the replay
shows stored is not sent again). It does not reconnect after /quit, a refused token (an expired
one: "reconnecting was refused: ... HTTP 403"; or the server's `token_expired`: the client then
closes and says so), or a moderator's kick or ban from its last room.
A line too long for one frame (32 KB) is refused as typed: the server would close the
connection rather than answer it.

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
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

import websockets

from roomchat_client import RETRYABLE, Client, Frame, Refused
from roomchat_client.protocol import (
    ROLE_ACTIONS,
    new_client_msg_id,
    send_all,
    token_claims,
    token_user,
)
from roomchat_client.protocol import history as history_request
from roomchat_client.protocol import join as join_request
from roomchat_tools import stackfile
from roomchat_tools.reconnect import (
    RECONNECT_ATTEMPTS,
    Backoff,
    SeenIds,
    refusal_is_final,
    stop_reason,
)
from roomchat_tools.terminal import message_text, printable

DEFAULT_URL = "ws://127.0.0.1:8080/live"
PING_INTERVAL_S = 240.0  # the API closes connections idle for 10 minutes
REPLY_TIMEOUT_S = 15.0
SEND_ATTEMPTS = 4  # tries of one message (same clientMsgId) before it is reported as not sent
FRAME_MAX_BYTES = 32 * 1024  # API Gateway's WebSocket frame limit (docs/aws-behaviour.md)
RESUME_PAGES = 100  # continuation pages of one room's resume (100 messages each) at most
HELD = ("message", "edited", "deleted", "reaction")  # live frames held while a room resumes
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
    "closing": lambda frame, room: [
        f"! the server is closing this connection ({printable(frame.get('code'))}): "
        f"{printable(frame.get('message'))}"
    ],
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
        # Reconnecting (reconnect.py): what each room has shown, its live frames held while it
        # resumes, and every line typed and not answered yet, in the order typed.
        self.seen: dict[str, SeenIds] = {}
        self.holding: dict[str, list[Frame]] = {}
        self.changes_seen: set[tuple[str, str, str]] = set()  # (type, messageId, when) shown
        self.pending: dict[str, tuple[int, str, str, str | None]] = {}  # clientMsgId -> entry
        self.typed = 0
        self.removed_from: list[str] = []  # rooms a moderator took us out of, this connection
        self.online = True
        self.ended = False  # gave up reconnecting, or quit: what is pending is not sent
        self.quitting = False
        self.token_expired = False  # the server said so: no reconnect with the same token
        self.back = asyncio.Event()  # set while online (and once it has ended)
        self.back.set()
        self.introduced = False
        self.url = ""  # where it connects (said on reconnecting)
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
        if isinstance(frame, dict) and not self._news(frame):
            return
        if isinstance(frame, dict) and frame.get("type") == "members" and self.hide_members:
            self.hide_members -= 1
            self._remember(frame)
            return
        for line in self.describe(frame):
            self.out(line)
        self._remember(frame)

    def _news(self, frame: dict[str, Any]) -> bool:
        """Whether to show a frame now: a room that is resuming holds its live frames until its
        replay is shown (and leaves its own joined/history replies to resume()); a message
        already shown, or an edit or delete already told, is dropped."""
        room, kind = frame.get("roomId"), frame.get("type")
        if isinstance(room, str) and room in self.holding:
            if kind in HELD:
                self.holding[room].append(frame)
                return False
            if kind in ("joined", "history"):
                return False
        if kind == "joined" and isinstance(room, str):
            seen = self.seen.setdefault(room, SeenIds())
            for m in frame.get("recent") or []:
                if isinstance(m.get("messageId"), str):
                    seen.add(m["messageId"])
            return True
        return self._fresh(frame)

    def _fresh(self, frame: dict[str, Any]) -> bool:
        room, kind, message_id = frame.get("roomId"), frame.get("type"), frame.get("messageId")
        if not isinstance(room, str) or not isinstance(message_id, str):
            return True
        if kind == "message":
            return self.seen.setdefault(room, SeenIds()).add(message_id)
        if kind in ("edited", "deleted"):
            key = (str(kind), message_id, str(frame.get("editedAt") or frame.get("deletedAt")))
            if key in self.changes_seen:
                return False
            if len(self.changes_seen) > 10_000:
                self.changes_seen.clear()
            self.changes_seen.add(key)
        return True

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

    def _remember_error(self, frame: dict[str, Any], room: str) -> None:
        """`token_expired`: the token passed its `exp` and every action is refused; it would be
        refused on reconnecting too, so the connection is closed for good."""
        if frame.get("code") == "token_expired" and not self.token_expired:
            self.token_expired = True
            asyncio.get_running_loop().create_task(self.client.close())

    def _remember_typing(self, frame: dict[str, Any], room: str) -> None:
        self._learn(frame.get("name"), frame.get("userId"))

    def _remember_kicked(self, frame: dict[str, Any], room: str) -> None:
        for name in frame.get("names") or []:
            self._learn(name, frame.get("userId"))
        if frame.get("userId") and frame.get("userId") == self.you.get(room):
            self.removed_from.append(room)  # not rejoined; the close that follows is final
            self._left(room)

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
        except websockets.ConnectionClosed:
            self.out(
                f"! not connected: {frame.get('action')} not sent (try again once reconnected)"
            )
            return None

    def _in_room(self) -> str | None:
        if not self.current:
            self.out("! join a room first: /join <room>")
        return self.current

    # ----- reconnecting ------------------------------------------------------------------------
    def offline(self) -> None:
        """The connection closed: lines typed from now on wait for the next one."""
        self.online = False
        self.back.clear()

    async def resume(self, client: Client) -> None:
        """On a new connection: rejoin every room, each from the newest message it showed
        (`join` with `after`, then `history` with `after` while `resumeNext`/`next` say more
        follow), show what was missed once and oldest first, then the edits and deletes made
        meanwhile, then the live frames held meanwhile (repeats dropped by messageId); then send
        the lines still pending, in the order typed. A room that refuses the rejoin (a ban, an
        invitation withdrawn) is left; its error frame is shown."""
        self.client, self.ws = client, client.ws
        self.removed_from = []
        rooms = list(self.rooms)
        self.holding = {room: [] for room in rooms}
        client.listen(self.show)
        try:
            for room in rooms:
                await self._rejoin(client, room)
                self.holding.pop(room, None)  # a room that refused the rejoin: not ours now
        finally:
            # Failed half way (the next connection resumes again): what is still held is not
            # shown, or the newest message shown would skip the gap; the next replay has it.
            self.holding.clear()
        for client_msg_id, _ in sorted(self.pending.items(), key=lambda item: item[1][0]):
            self._submit(client_msg_id)
        self.online = True
        self.back.set()

    def _resume_point(self, room: str) -> str | None:
        """The newest message the room showed, or older while a line sent before it is
        unanswered (it may be stored without our knowing: the replay then shows it)."""
        seen = self.seen.get(room)
        after = seen.newest if seen else None
        for _, pending_room, _, then in self.pending.values():
            if pending_room == room and after is not None:
                after = min(after, then) if then else None
        return after

    async def _rejoin(self, client: Client, room: str) -> None:
        after = self._resume_point(room)
        joined = await client.call(join_request(room, self.name, after), "joined", REPLY_TIMEOUT_S)
        if not (isinstance(joined, dict) and joined.get("type") == "joined"):
            self._left(room)  # refused: its error frame was shown
            return
        missed = list(joined.get("recent") or [])
        updated = list(joined.get("updated") or [])
        recovered = joined.get("recovered")
        if after and recovered is True:
            more, changed, complete = await self._replay_rest(
                client, room, joined.get("resumeNext")
            )
            missed, updated = missed + more, updated + changed
            recovered = complete
        missed.sort(key=lambda m: str(m.get("messageId", "")))
        for m in missed:
            self.pending.pop(str(m.get("clientMsgId")), None)  # stored before the drop
        self._remember({**joined, "recent": []})
        self._show_replay(room, after, recovered, missed, updated)

    async def _replay_rest(
        self, client: Client, room: str, cursor: object
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
        """A resume's continuation: `history` with `after` until `next` is null; (messages,
        changes, whether the history stayed complete)."""
        missed: list[dict[str, Any]] = []
        updated: list[dict[str, Any]] = []
        for _ in range(RESUME_PAGES):
            if not isinstance(cursor, str):
                break
            page = await client.call(
                history_request(room, 100, after=cursor), "history", REPLY_TIMEOUT_S
            )
            if not (isinstance(page, dict) and page.get("type") == "history"):
                break
            if page.get("recovered") is False:
                return missed, updated, False
            missed += list(page.get("messages") or [])
            updated += list(page.get("updated") or [])
            cursor = page.get("next")
        return missed, updated, True

    def _show_replay(
        self,
        room: str,
        after: str | None,
        recovered: object,
        missed: list[dict[str, Any]],
        updated: list[dict[str, Any]],
    ) -> None:
        """The missed messages (oldest first), then the changes, then the live frames held
        meanwhile; repeats of what was shown are dropped by show()."""
        seen = self.seen.setdefault(room, SeenIds())
        news = {m.get("messageId") for m in missed if m.get("messageId") not in seen}
        held = self.holding.pop(room, [])
        plural = "" if len(news) == 1 else "s"
        self.out(f"[{printable(room)}] rejoined: {len(news)} missed message{plural}")
        if after and recovered is False:
            self.out(
                f"[{printable(room)}] ! history incomplete: the last message shown here is past "
                "the retention; what came before these is not shown"
            )
        elif after and recovered is not True:
            self.out(f"[{printable(room)}] ! history may be incomplete: the server cannot resume")
        for m in missed:
            self.show({**m, "type": "message", "roomId": room})
        for m in updated:
            self.show(_change_frame(room, m))
        for frame in held:
            self.show(frame)

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
        """Queue a message in the current room's outbox; it does not wait for the answer. It
        stays pending (in the order typed) until answered: typed while the connection is down,
        or lost with it unanswered, it is sent once reconnected (unless the replay shows it was
        stored)."""
        room = self._in_room()
        if room is None:
            return
        client_msg_id = new_client_msg_id()
        size = len(json.dumps(send_all(room, text, client_msg_id)).encode())
        if size > FRAME_MAX_BYTES:  # the server would close the connection (1009), not answer
            self.out(
                f"! not sent: too long ({size} bytes as a frame; 32 KB at most): {_short(text)}"
            )
            return
        self.typed += 1
        newest = self.seen[room].newest if room in self.seen else None
        self.pending[client_msg_id] = (self.typed, room, text, newest)
        if self.online:
            self._submit(client_msg_id)
        else:
            self.out(f"(not connected: [{printable(room)}] sent once reconnected)")

    def _submit(self, client_msg_id: str) -> None:
        _, room, text, _ = self.pending[client_msg_id]
        outbox = self.client.outbox(
            room, timeout=REPLY_TIMEOUT_S, attempts=SEND_ATTEMPTS, backoff_s=0.5
        )
        outbox.submit(text, client_msg_id).add_done_callback(partial(self._sent, client_msg_id))

    def _sent(self, client_msg_id: str, done: asyncio.Future[Frame]) -> None:
        """Say when a message was not sent; a refusal for good was printed as it came. One lost
        with the connection stays pending: resume() sends it again."""
        entry = self.pending.get(client_msg_id)
        if entry is None or done.cancelled():
            return
        _, room, text, _ = entry
        if done.exception() is not None:
            if self.ended:
                self.pending.pop(client_msg_id, None)
                self.out(f"! [{printable(room)}] not sent (connection closed): {text}")
            return
        self.pending.pop(client_msg_id, None)
        reply = done.result()
        if reply.get("type") == "message":
            return
        if "type" in reply and reply.get("code") not in (*RETRYABLE, "timeout"):
            return  # refused for good (printed by the receiver): the next message went
        self.out(f"! [{printable(room)}] not sent after {SEND_ATTEMPTS} tries: {text}")

    async def drain(self) -> None:
        """Until every queued message is answered (stored or failed for good), across
        reconnects; at once when reconnecting has ended (given up, or quit)."""
        while True:
            client = self.client
            await client.drain()
            if not self.pending or self.ended:
                return
            if self.online and client is self.client and not client.closed:
                return
            if not self.online:
                await self.back.wait()
            else:
                await asyncio.sleep(0.05)  # closed, and not noticed yet

    def unsent(self) -> None:
        """Reconnecting has ended: every line still pending is reported as not sent."""
        self.ended = True
        self.back.set()
        for _, room, text, _ in sorted(self.pending.values()):
            self.out(f"! [{printable(room)}] not sent (connection closed): {text}")
        self.pending.clear()

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
        if command in ("/quit", "/exit"):
            if self.online:  # what was typed before is answered; offline, it is not waited for
                await self.drain()
            self.quitting = True
            return False
        # A command runs after the messages typed before it are answered, as it was typed.
        await self.drain()
        try:
            await self._command(command, rest)
        except websockets.ConnectionClosed:
            self.out(f"! not connected: {command} not sent (try again once reconnected)")
        return True

    async def _command(self, command: str, rest: str) -> None:
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


def _change_frame(room: str, message: dict[str, Any]) -> dict[str, Any]:
    """A resume's `updated` entry as the live frame that would have told of it."""
    if message.get("deletedAt"):
        keys = ("messageId", "deletedBy", "deletedAt")
        return {"type": "deleted", "roomId": room, **{k: message.get(k) for k in keys}}
    keys = ("messageId", "message", "editedAt")
    return {"type": "edited", "roomId": room, **{k: message.get(k) for k in keys}}


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


async def stay_connected(
    chat: Chat,
    connect: Callable[[], Awaitable[Client]],
    backoff: Backoff,
    ping_interval: float,
    out: Callable[[str], None],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> str | None:
    """Keep ``chat`` connected: after a close it did not ask for, wait (``backoff``), connect
    again and resume (Chat.resume); None once the user quit, else why it stopped (a close that
    must not be retried, a refused handshake, or every try of ``backoff`` failed). Once it has
    stopped, nothing waits for the connection any more (Chat.drain)."""
    try:
        return await _keep_up(chat, connect, backoff, ping_interval, out, sleep)
    finally:
        chat.ended = True
        chat.back.set()


async def _keep_up(
    chat: Chat,
    connect: Callable[[], Awaitable[Client]],
    backoff: Backoff,
    ping_interval: float,
    out: Callable[[str], None],
    sleep: Callable[[float], Awaitable[None]],
) -> str | None:
    while True:
        client = chat.client
        keepalive = client.keepalive(ping_interval)
        try:
            await client.wait_closed()
        finally:
            keepalive.cancel()
        chat.offline()
        if chat.quitting:
            return None
        closed = f"disconnected: {client.close_reason()}"
        final = stop_reason(chat.quitting, chat.removed_from, chat.rooms, chat.token_expired)
        if final is not None:
            return f"{closed}; {final}"
        if backoff.attempts == 0:
            return closed  # --reconnect-attempts 0: as asked
        out(f"* {closed}; reconnecting")
        attempt, last = 0, ""
        while True:
            delay = backoff.delay(attempt)
            if delay is None:
                tries = f"{attempt} tr{'y' if attempt == 1 else 'ies'}"
                return f"{closed}; gave up reconnecting after {tries}{last}"
            await sleep(delay)
            if chat.quitting:
                return None
            attempt += 1
            try:
                fresh = await connect()
            except Refused as exc:
                if refusal_is_final(exc.status):
                    return f"{closed}; reconnecting was refused: {exc}"
                last = f" (last: {exc})"
                continue
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                last = f" (last: {printable(str(exc) or type(exc).__name__)})"
                continue
            try:
                await chat.resume(fresh)
            except (TimeoutError, websockets.ConnectionClosed):
                with contextlib.suppress(Exception):
                    await fresh.close()
                if chat.quitting:
                    return None
                last = " (last: the connection closed while rejoining)"
                continue
            out(f"* reconnected to {printable(chat.url)}")
            break


async def run(args: argparse.Namespace) -> int:
    out = _print_flush
    name = args.name or os.environ.get("USER") or _user() or "guest"
    url = args.url or default_url()

    async def connect() -> Client:
        return await Client.connect(
            url,
            token=args.token or None,
            name=name,
            buffer=False,
            reply_timeout=REPLY_TIMEOUT_S,
            max_size=None,
        )

    try:
        client = await connect()
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
    chat.url = url
    connection = asyncio.create_task(
        stay_connected(chat, connect, Backoff(args.reconnect_attempts), args.ping_interval, out)
    )
    interactive = sys.stdin.isatty() and not args.send
    stopped: str | None = None
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
                    {next_line, connection}, return_when=asyncio.FIRST_COMPLETED
                )
                if connection in done:
                    next_line.cancel()
                    break
                line = next_line.result()
                if line is None or not await chat.handle(line):
                    break
        if not connection.done():
            # Every queued message answered before we stop listening (across reconnects).
            drain = asyncio.create_task(chat.drain())
            await asyncio.wait({drain, connection}, return_when=asyncio.FIRST_COMPLETED)
            drain.cancel()
        if not connection.done() and not interactive and args.wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(connection), args.wait)
    finally:
        if connection.done() and not connection.cancelled():
            stopped = connection.result() if connection.exception() is None else "disconnected"
        chat.quitting = True  # never reconnect after this
        connection.cancel()
        with contextlib.suppress(BaseException):
            await connection
        with contextlib.suppress(Exception):
            await asyncio.wait_for(chat.client.close(), 5)
        chat.close_outboxes()
        chat.unsent()
    if stopped is None:
        return 0
    print(stopped + _expired(args.token, stopped), file=sys.stderr)
    return 1


def _expired(token: str | None, stopped: str) -> str:
    """A refused reconnect with a token past its `exp`: say that it expired."""
    exp = (token_claims(token) or {}).get("exp") if token else None
    if "reconnecting was refused" not in stopped or not isinstance(exp, int | float):
        return ""
    if exp > time.time():
        return ""
    when = datetime.fromtimestamp(exp).astimezone().strftime("%H:%M")
    return f"\nyour token expired at {when}: get a new one (make token) and start again"


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
        "--reconnect-attempts",
        type=int,
        default=RECONNECT_ATTEMPTS,
        help="tries in a row to reconnect after a drop before giving up "
        f"(default {RECONNECT_ATTEMPTS}; 0: do not reconnect)",
    )
    parser.add_argument(
        "--ping-interval",
        type=float,
        default=float(os.environ.get("ROOMCHAT_PING_INTERVAL") or PING_INTERVAL_S),
        help="seconds between keepalive pings (default 240)",
    )
    args = parser.parse_args(argv)
    if args.reconnect_attempts < 0:
        parser.error("--reconnect-attempts: 0 or more")
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
