"""Who may do what: every role, membership, authorization and rate decision of the use-cases.

The capability modules ask here and never decide themselves, so a rule changes in one place:
- ``role``/``role_in``: the caller's role in a room (OWNER, MODERATOR, MEMBER or None), and
  ``granted_by_operator``: the rooms only tokens' `rooms` claims grant;
- ``require_member``/``require_reader``: the membership an action of members needs;
- ``may``/``authorize``: the moderation decisions (delete, edit, kick, ban, disconnect);
- ``check_rate``/``check_typing_rate``/``check_budget``: the per-connection budgets, checked
  before any write (``BUDGETS``: which budget each conversation action counts against).
"""

from __future__ import annotations

from ..errors import Forbidden, NotMember, RateLimited, TokenExpired
from ..ports import MEMBER, MODERATOR, OWNER, PRIVATE, Member, Message, Room
from ..settings import (
    REACTIONS_PER_SECOND,
    READS_PER_SECOND,
    TYPING_PER_SECOND,
    UPLOADS_PER_SECOND,
)
from .core import Caller, Deps, iso_ms


def not_member(room_id: str) -> NotMember:
    """The one answer for a room the caller is not in: the same whether the room is private,
    open or does not exist, so it tells nothing about a private room."""
    return NotMember(f"you are not a member of room {room_id!r}; join it first", room_id=room_id)


def may_not_manage(room_id: str) -> Forbidden:
    """The one refusal of createRoom's siblings, whatever the reason (no record, not a
    member of a private room, or too low a role), so it tells nothing about a private room."""
    return Forbidden(
        f"only the owner or a moderator of room {room_id!r} may do that", room_id=room_id
    )


# ---------------------------------------------------------------------------- roles


def granted_by_operator(deps: Deps, room_id: str) -> bool:
    """Whether the room id is in the operator's namespace (GRANTED_ROOM_PREFIX): such rooms
    are granted by tokens' `rooms` claims, and nobody takes them with createRoom."""
    prefix = deps.settings.granted_room_prefix
    return bool(prefix) and room_id.startswith(prefix)


def role_in(deps: Deps, room_id: str, room: Room | None, caller: Caller) -> str | None:
    """The caller's role in a room: OWNER, MODERATOR, MEMBER or None (may not join).

    A room without a record is open to all (MEMBER), unless it is in the operator's
    namespace (``granted_by_operator``): then it is private to the users whose token grants
    it. In an open or announce room everyone is at least a MEMBER; in a private room only the
    owner, moderators, invited users and users whose token grants the room. Without sign-in
    (no user id) nobody is owner or moderator, and nobody is a member of a private room."""
    if room is None:
        if granted_by_operator(deps, room_id):
            return MEMBER if room_id in caller.grants else None
        return MEMBER
    everyone = None if room.policy == PRIVATE else MEMBER
    user = caller.user_id
    if user is None:
        return everyone
    if room.owner == user:
        return OWNER
    role = deps.rooms.get_role(room.room_id, user)
    if role == MODERATOR:
        return MODERATOR
    if role == MEMBER or room.room_id in caller.grants:
        return MEMBER
    return everyone


def role(deps: Deps, room_id: str, caller: Caller) -> str | None:
    """The caller's role in ``room_id`` (OWNER, MODERATOR, MEMBER, or None for a private
    room they may not enter): what other use-cases (moderation) check permissions by."""
    return role_in(deps, room_id, deps.rooms.get_room(room_id), caller)


def user_role(deps: Deps, room_id: str, user_id: str) -> str | None:
    """The stored role of a user (OWNER from the room record, or their role row)."""
    room = deps.rooms.get_room(room_id)
    if room is not None and room.owner == user_id:
        return OWNER
    return deps.rooms.get_role(room_id, user_id)


# ---------------------------------------------------------------------------- the token


def require_fresh_token(deps: Deps, caller: Caller) -> None:
    """Access is decided at $connect by the token, so it ends with the token: once its
    ``exp`` has passed, every action is refused (``TokenExpired``) before anything is read,
    and the client is told to reconnect with a fresh token."""
    expires = caller.token_expires_at
    if expires is not None and deps.now_s() >= expires:
        raise TokenExpired(
            "your sign-in token has expired; reconnect with a fresh token",
        )


# ---------------------------------------------------------------------------- membership


def require_member(deps: Deps, room_id: str, caller: Caller) -> Member:
    member = deps.rooms.get_member(room_id, caller.connection_id, deps.now_s())
    if member is None:
        raise not_member(room_id)
    return member


def require_reader(deps: Deps, room_id: str, caller: Caller) -> tuple[Member, Room | None, str]:
    """The caller's membership, the room and their role, for actions of members only.
    A private room's member who lost their role gets the not-a-member answer; a banned user
    is refused every action in the room (open rooms too), whatever membership they hold."""
    member = require_member(deps, room_id, caller)
    room = deps.rooms.get_room(room_id)
    found = role_in(deps, room_id, room, caller)
    if found is None:
        raise not_member(room_id)
    require_not_banned(deps, caller, room_id)
    return member, room, found


def require_not_banned(deps: Deps, caller: Caller, room_id: str) -> None:
    """``Forbidden`` while the caller's identity (every connection of a signed-in user) is
    banned from the room (a strongly consistent read of the ban)."""
    if deps.moderation is None:
        return
    ban = deps.moderation.get_ban(room_id, caller.identity, deps.now_s())
    if ban is not None:
        until = "for good" if ban.until is None else f"until {iso_ms(ban.until * 1000)}"
        raise Forbidden(f"you are banned from room {room_id!r} {until}", room_id=room_id)


# ---------------------------------------------------------------------------- moderation


def may(deps: Deps, action: str, room_id: str, caller: Caller, target: Message | str) -> bool:
    """Every authorization decision of the moderation actions, in one place.

    ``target`` is the message acted on (delete, edit) or the user id (kick, ban,
    disconnect). The operator may do everything but edit; nobody edits another's words;
    anyone deletes their own messages. Deleting another's message, kick, ban and
    disconnect need the room's owner or a moderator (``role``: so signed in, in a room
    with a record), never act on oneself or the room's owner, and a moderator's never on
    another moderator.
    """
    if caller.operator:
        return action != "edit"  # nobody edits another's words
    if action == "pin":  # the room's owner and moderators, whoever wrote the message
        return role(deps, room_id, caller) in (OWNER, MODERATOR)
    author = target.author if isinstance(target, Message) else target
    if action in ("delete", "edit") and author == caller.identity:
        return True
    if action == "edit" or author is None or author == caller.identity:
        return False
    actor = role(deps, room_id, caller)
    if actor not in (OWNER, MODERATOR):
        return False
    target_role = user_role(deps, room_id, author)
    return target_role != OWNER and not (actor == MODERATOR and target_role == MODERATOR)


def authorize(deps: Deps, action: str, room_id: str, caller: Caller, target: Message | str) -> None:
    """``Forbidden`` unless ``may`` allows it."""
    if not may(deps, action, room_id, caller, target):
        raise Forbidden(f"you may not {action} this in room {room_id!r}", room_id=room_id)


# ---------------------------------------------------------------------------- rates


def check_rate(deps: Deps, caller: Caller, room_id: str | None, what: str) -> None:
    """Count one request of this connection against its per-second limit (sendAll, join,
    leave and the other writing actions share it); over it, ``RateLimited`` before anything
    is written. ``what`` tells the caller what did not happen."""
    per_second = deps.settings.rate_limit_per_second
    if not (deps.limiter and per_second):
        return
    if not deps.limiter.allow(caller.connection_id, deps.clock()):
        raise RateLimited(f"more than {per_second} requests a second; {what}", room_id=room_id)


def check_typing_rate(deps: Deps, caller: Caller, room_id: str) -> None:
    """Typing frames have their own budget (TYPING_PER_SECOND), apart from ``check_rate``'s."""
    if deps.limiter is not None and not deps.limiter.allow(
        caller.connection_id + "#typing", deps.clock(), TYPING_PER_SECOND
    ):
        raise RateLimited(f"more than {TYPING_PER_SECOND} typing frames a second", room_id=room_id)


# Which per-connection budget each conversation action counts against, in one place: the
# key suffix of its counter (None: the budget sendAll, join and leave share, ``check_rate``)
# and its requests per second. A reply is a sendAll and counts as one.
BUDGETS: dict[str, tuple[str | None, int]] = {
    "react": ("#react", REACTIONS_PER_SECOND),  # tells the room, as typing does
    "thread": ("#read", READS_PER_SECOND),  # reads a page of replies
    "threads": ("#read", READS_PER_SECOND),  # reads parents and counts unread replies
    "mentions": ("#read", READS_PER_SECOND),  # reads a page of messages across rooms
    "follow": (None, 0),  # one small write
    "pin": (None, 0),  # one write, tells the room
    "markRead": (None, 0),  # one small write (in the room or a thread)
    # Each upload may store up to ATTACHMENT_MAX_BYTES: a budget of its own, small.
    "prepareUpload": ("#upload", UPLOADS_PER_SECOND),
    "attachmentUrl": ("#read", READS_PER_SECOND),  # reads the message, signs a URL
    # Notifications: each one or two small writes (a user's devices are capped, DEVICES_MAX).
    "registerDevice": (None, 0),
    "unregisterDevice": (None, 0),
    "notifyLevel": (None, 0),
}


def check_budget(deps: Deps, caller: Caller, room_id: str | None, action: str, what: str) -> None:
    """Count one request of a conversation action against its budget (``BUDGETS``); over
    it, ``RateLimited`` before anything is read or written. ``what`` tells the caller what
    did not happen."""
    suffix, per_second = BUDGETS[action]
    if suffix is None:
        check_rate(deps, caller, room_id, what)
        return
    if deps.limiter is not None and not deps.limiter.allow(
        caller.connection_id + suffix, deps.clock(), per_second
    ):
        raise RateLimited(
            f"more than {per_second} {action} requests a second; {what}", room_id=room_id
        )


def may_read(deps: Deps, room_id: str, caller: Caller) -> bool:
    """Whether the caller may read the room now without being in it (a listing across
    rooms): they could join it (a private room's member) and are not banned from it."""
    if role(deps, room_id, caller) is None:
        return False
    if deps.moderation is None:
        return True
    return deps.moderation.get_ban(room_id, caller.identity, deps.now_s()) is None
