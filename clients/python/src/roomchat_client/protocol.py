"""The roomchat protocol: a builder for every action's frame, the server's input limits, error
and close-code wording, the reconnect schedule. Pure functions, no I/O. The protocol itself is
docs/asyncapi.yaml (``frames.py`` holds its types, generated from it) and docs/protocol.md."""

from __future__ import annotations

import base64
import json
import random as _random
import re
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any, Literal, get_args

from roomchat_client import frames as f

Frame = Any  # a decoded server frame (a dict for every roomchat frame), or the raw text
Match = Callable[[Frame], bool] | dict[str, Any]

ROOM_ID_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
USER_ID_MAX = 128
HISTORY_LIMIT_MAX = 100
RETRYABLE = ("internal", "rate_limited")  # a sendAll refused with these is sent again
IDLE_LIMIT_S = 600.0  # API Gateway closes a connection idle this long (code 1001)
CONNECTION_LIMIT_S = 7200.0  # and any connection this old (code 1001)

# ---- frames --------------------------------------------------------------------------------------


def join(room: str, name: str | None = None, after: str | None = None) -> f.JoinRequest:
    """``after`` (resume): the newest messageId the client has; ``joined.recent`` is then
    every message after it."""
    frame: f.JoinRequest = {"action": "join", "roomId": room}
    if name:
        frame["name"] = name
    if after:
        frame["after"] = after
    return frame


def leave(room: str) -> f.LeaveRequest:
    return {"action": "leave", "roomId": room}


def send_all(
    room: str,
    message: str,
    client_msg_id: str,
    reply_to: str | None = None,
    also_to_room: bool = False,
) -> f.SendAllRequest:
    """A message; with ``reply_to`` a reply in that message's thread (``also_to_room``: shown
    in the room too)."""
    frame: f.SendAllRequest = {
        "action": "sendAll",
        "roomId": room,
        "message": message,
        "clientMsgId": client_msg_id,
    }
    if reply_to is not None:
        frame["replyTo"] = reply_to
        if also_to_room:
            frame["alsoToRoom"] = True
    return frame


def history(
    room: str, limit: int | None = None, before: str | None = None, after: str | None = None
) -> f.HistoryRequest:
    """``before``: the older page; ``after`` (a resume's continuation): the newer one."""
    frame: f.HistoryRequest = {"action": "history", "roomId": room}
    if limit is not None:
        frame["limit"] = limit
    if before is not None:
        frame["before"] = before
    if after is not None:
        frame["after"] = after
    return frame


def resume(rooms: list[tuple[str, str | None]], name: str | None = None) -> f.ResumeRequest:
    """Up to 10 rooms at once, each (roomId, after or None): one ``resumed`` reply."""
    entries: list[dict[str, Any]] = [
        {"roomId": room, "after": after} if after else {"roomId": room} for room, after in rooms
    ]
    frame: f.ResumeRequest = {"action": "resume", "rooms": entries}
    if name:
        frame["name"] = name
    return frame


def members(room: str) -> f.MembersRequest:
    return {"action": "members", "roomId": room}


def ping() -> f.PingRequest:
    return {"action": "ping"}


def create_room(room: str, policy: f.Policy = "open") -> f.CreateRoomRequest:
    return {"action": "createRoom", "roomId": room, "policy": policy}


ROLE_ACTIONS = ("invite", "uninvite", "promote", "demote")


def invite(room: str, user_id: str) -> f.InviteRequest:
    return {"action": "invite", "roomId": room, "userId": user_id}


def uninvite(room: str, user_id: str) -> f.UninviteRequest:
    return {"action": "uninvite", "roomId": room, "userId": user_id}


def promote(room: str, user_id: str) -> f.PromoteRequest:
    return {"action": "promote", "roomId": room, "userId": user_id}


def demote(room: str, user_id: str) -> f.DemoteRequest:
    return {"action": "demote", "roomId": room, "userId": user_id}


def delete(room: str, message_id: str, reply_to: str | None = None) -> f.DeleteRequest:
    frame: f.DeleteRequest = {"action": "delete", "roomId": room, "messageId": message_id}
    if reply_to is not None:
        frame["replyTo"] = reply_to
    return frame


def edit(room: str, message_id: str, message: str, reply_to: str | None = None) -> f.EditRequest:
    frame: f.EditRequest = {
        "action": "edit",
        "roomId": room,
        "messageId": message_id,
        "message": message,
    }
    if reply_to is not None:
        frame["replyTo"] = reply_to
    return frame


def typing(room: str) -> f.TypingRequest:
    return {"action": "typing", "roomId": room}


def mark_read(room: str, message_id: str, reply_to: str | None = None) -> f.MarkReadRequest:
    """The room's read marker; with ``reply_to``, the marker in that thread."""
    frame: f.MarkReadRequest = {"action": "markRead", "roomId": room, "messageId": message_id}
    if reply_to is not None:
        frame["replyTo"] = reply_to
    return frame


def kick(room: str, user_id: str, ban: int | Literal["forever"] | None = None) -> f.KickRequest:
    frame: f.KickRequest = {"action": "kick", "roomId": room, "userId": user_id}
    if ban is not None:
        frame["ban"] = ban
    return frame


def disconnect_user(room: str, user_id: str) -> f.DisconnectUserRequest:
    return {"action": "disconnectUser", "roomId": room, "userId": user_id}


# ---- conversations: threads, reactions, mentions, pins ----------------------------------------

#: The reactions the server accepts (docs/asyncapi.yaml, Emoji).
REACTIONS: tuple[f.Emoji, ...] = get_args(f.Emoji)


def thread(
    room: str, message_id: str, limit: int | None = None, before: str | None = None
) -> f.ThreadRequest:
    frame: f.ThreadRequest = {"action": "thread", "roomId": room, "messageId": message_id}
    if limit is not None:
        frame["limit"] = limit
    if before is not None:
        frame["before"] = before
    return frame


def threads(room: str, limit: int | None = None, before: str | None = None) -> f.ThreadsRequest:
    frame: f.ThreadsRequest = {"action": "threads", "roomId": room}
    if limit is not None:
        frame["limit"] = limit
    if before is not None:
        frame["before"] = before
    return frame


def follow(room: str, message_id: str, remove: bool = False) -> f.FollowRequest:
    frame: f.FollowRequest = {"action": "follow", "roomId": room, "messageId": message_id}
    if remove:
        frame["remove"] = True
    return frame


def react(
    room: str, message_id: str, emoji: f.Emoji, remove: bool = False, reply_to: str | None = None
) -> f.ReactRequest:
    frame: f.ReactRequest = {
        "action": "react",
        "roomId": room,
        "messageId": message_id,
        "emoji": emoji,
    }
    if reply_to is not None:
        frame["replyTo"] = reply_to
    if remove:
        frame["remove"] = True
    return frame


def mentions(limit: int | None = None, before: str | None = None) -> f.MentionsRequest:
    frame: f.MentionsRequest = {"action": "mentions"}
    if limit is not None:
        frame["limit"] = limit
    if before is not None:
        frame["before"] = before
    return frame


def pin(
    room: str, message_id: str, remove: bool = False, reply_to: str | None = None
) -> f.PinRequest:
    frame: f.PinRequest = {"action": "pin", "roomId": room, "messageId": message_id}
    if reply_to is not None:
        frame["replyTo"] = reply_to
    if remove:
        frame["remove"] = True
    return frame


#: Every action a client may send, and its builder.
BUILDERS: dict[str, Callable[..., Any]] = {
    "join": join,
    "leave": leave,
    "sendAll": send_all,
    "history": history,
    "members": members,
    "ping": ping,
    "createRoom": create_room,
    "invite": invite,
    "uninvite": uninvite,
    "promote": promote,
    "demote": demote,
    "delete": delete,
    "edit": edit,
    "typing": typing,
    "markRead": mark_read,
    "kick": kick,
    "disconnectUser": disconnect_user,
    "thread": thread,
    "threads": threads,
    "follow": follow,
    "react": react,
    "mentions": mentions,
    "pin": pin,
}

# ---- input the server would refuse ---------------------------------------------------------------


def room_id_problem(room: str) -> str | None:
    """A sentence about a room id the server would refuse, or None."""
    if ROOM_ID_RE.fullmatch(room):
        return None
    return f"{room!r} is not a room id: 1-64 characters of letters, digits and _ . : - (no spaces)"


def user_id_problem(user_id: str) -> str | None:
    if 1 <= len(user_id) <= USER_ID_MAX and user_id.isprintable():
        return None
    return f"a user id is 1-{USER_ID_MAX} printable characters (a token's sub)"


# ---- reading the server --------------------------------------------------------------------------


def decode(raw: str | bytes) -> Frame:
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return raw


def subset(expected: dict[str, Any]) -> Callable[[Frame], bool]:
    """A predicate: the frame is a dict holding every key/value of ``expected``."""

    def predicate(frame: Frame) -> bool:
        return isinstance(frame, dict) and all(frame.get(k) == v for k, v in expected.items())

    return predicate


def is_gateway_error(frame: Frame) -> bool:
    """API Gateway's own error frame (``{"message", "connectionId", "requestId"}``, no type)."""
    return isinstance(frame, dict) and "type" not in frame and "requestId" in frame


ERROR_WORDS = {
    "bad_request": "the server could not accept that request",
    "unknown_action": "the server does not know that request",
    "not_member": "you are not in that room",
    "forbidden": "you may not do that in that room",
    "not_found": "that message is not there any more",
    "rejected": "that message was not accepted",
    "too_large": "that message is too long",
    "rate_limited": "you are sending too fast",
    "token_expired": "your sign-in has expired; reconnect with a fresh token",
    "internal": "something went wrong on the server; try again",
}


def describe_error(frame: dict[str, Any]) -> str:
    """One sentence from an error frame: its code in words, then the server's own text."""
    if is_gateway_error(frame):
        return f"the gateway could not handle a request: {frame.get('message')}"
    code = str(frame.get("code", "error"))
    lead = ERROR_WORDS.get(code, f"the server reported an error ({code})")
    detail = str(frame.get("message") or "").strip()
    return f"{lead}: {detail}" if detail else lead


CLOSE_WORDS = {
    1000: "closed normally",
    1001: "the server went away (stopped or restarted)",
    1006: "the connection was lost",
    1008: "closed by the server: the request broke its rules",
    1009: "closed by the server: a frame was too large (32 KB at most)",
    1011: "closed by the server after an internal error",
}


def describe_close(
    code: int | None, connected_s: float | None = None, idle_s: float | None = None
) -> str:
    """A close code in words. API Gateway closes an idle connection (10 minutes) and one past
    its 2-hour limit with 1001 too, as a stopping server does: ``connected_s`` (how long the
    connection was open) and ``idle_s`` (since this client last sent a frame) tell them apart."""
    if code == 1001 and connected_s is not None and connected_s >= CONNECTION_LIMIT_S:
        return "closed by the server at the 2-hour connection limit"
    if code == 1001 and idle_s is not None and idle_s >= IDLE_LIMIT_S:
        return "closed by the server after 10 idle minutes"
    return CLOSE_WORDS.get(code or 1006, f"closed (code {code})")


def describe_refusal(status: int) -> str:
    """Why a handshake was refused, by its HTTP status (the $connect authorizer's answers)."""
    if status == 401:
        return "no token was given, and this server needs one (--token or ROOMCHAT_TOKEN)"
    if status == 403:
        return (
            "the token was refused: check that it is for this server (its signing key or issuer "
            "and audience), that it has not expired, and that it was copied whole"
        )
    if status == 400:
        return "the server refused the request (a bad ?name=?)"
    if status == 429:
        return "too many connections at once; try again in a moment"
    return "the server refused the connection"


# ---- sending -------------------------------------------------------------------------------------


def new_client_msg_id() -> str:
    return uuid.uuid4().hex


def with_query(url: str, **params: str | None) -> str:
    """``url`` with the given query parameters added (None: left out)."""
    given = {k: v for k, v in params.items() if v is not None}
    if not given:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(given)}"


def backoff_delay(
    attempt: int,
    base_s: float = 0.5,
    cap_s: float = 30.0,
    random: Callable[[], float] = _random.random,
) -> float:
    """Seconds before reconnect attempt ``attempt`` (0: the first): exponential back-off with
    jitter between half and all of min(cap, base * 2^attempt), so a restarted server does not get
    every client back in the same instant (the web client's schedule)."""
    ceiling = min(cap_s, base_s * 2.0 ** max(0, attempt))
    return ceiling / 2 + random() * ceiling / 2


# ---- tokens --------------------------------------------------------------------------------------


def token_claims(token: str) -> dict[str, Any] | None:
    """A JWT's claims, read without checking the signature (the server's authorizer checks it;
    a client only wants to say who the token names), or None for anything not shaped like one."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        return None
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


def token_user(token: str) -> tuple[str | None, str | None]:
    """(user id, display name) a token names: its ``sub``, and the name the server will use."""
    claims = token_claims(token) or {}
    names = ("name", "cognito:username", "preferred_username", "sub")
    name = next((claims[k] for k in names if isinstance(claims.get(k), str) and claims[k]), None)
    sub = claims.get("sub")
    return (sub if isinstance(sub, str) else None), name


# ---- notifications while away (docs/notifications.md)


def register_device(
    web_push: dict[str, Any] | None = None, mobile: dict[str, str] | None = None
) -> Frame:
    """A Web Push subscription (``PushSubscription.toJSON()``: endpoint and keys) or a mobile
    token ({platform, token}): exactly one."""
    if (web_push is None) == (mobile is None):
        raise ValueError("give exactly one of web_push or mobile")
    if web_push is not None:
        return {"action": "registerDevice", "webPush": web_push}
    return {"action": "registerDevice", "mobile": mobile}


def unregister_device(device_id: str) -> f.UnregisterDeviceRequest:
    return {"action": "unregisterDevice", "deviceId": device_id}


def notify_level(room: str, level: Literal["all", "mentions", "none"]) -> f.NotifyLevelRequest:
    return {"action": "notifyLevel", "roomId": room, "level": level}
