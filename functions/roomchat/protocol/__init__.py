"""The wire protocol: request validation and server frames. Pure functions, no I/O.

Every client frame is a JSON object with an ``action``; every server frame a JSON object with a
``type``. Validation raises the project's errors (``BadRequest``, ``TooLarge``, ...) with text a
person can act on; nothing here touches storage, so a refused request has written nothing.

Each capability's requests (``parse_*``) and frames are in its own module, as in
``roomchat.usecases``; everything is importable from here, ``roomchat.protocol.X``:
    common       limits, the common field checks, JSON in and out, error/pong frames, $default
    membership   join, leave, members, presence
    messages     sendAll, history, delete, edit, typing, markRead
    rooms        createRoom, invite, uninvite, promote, demote
    moderation   kick (and ban), disconnectUser
    budget       fitting history, joined.recent and members into one reply
"""

from .budget import ByteBudget, history_budget, joined_budget, members_frame_within
from .common import (
    ACTIONS,
    CLIENT_MSG_ID_RE,
    FRAME_BYTES_MAX,
    HISTORY_LIMIT_DEFAULT,
    HISTORY_LIMIT_MAX,
    MESSAGE_BYTES_DEFAULT,
    MESSAGE_JSON_BYTES_MAX,
    NAME_MAX,
    REPLY_BYTES_BUDGET,
    ROOM_ID_RE,
    UNREAD_CAP,
    USER_ID_MAX,
    action_of,
    check_message,
    check_name,
    check_room_id,
    check_user_id,
    classify_default,
    encode,
    error_frame,
    frame_bytes,
    json_bytes,
    parse_body,
    pong_frame,
)
from .membership import (
    JoinRequest,
    RoomRequest,
    joined_frame,
    left_frame,
    members_frame,
    parse_join,
    parse_room,
    presence_frame,
)
from .messages import (
    EditRequest,
    HistoryRequest,
    MessageRef,
    SendRequest,
    deleted_frame,
    edited_frame,
    history_frame,
    message_frame,
    parse_edit,
    parse_history,
    parse_message_ref,
    parse_send,
    read_frame,
    typing_frame,
)
from .moderation import (
    BAN_SECONDS_MAX,
    KickRequest,
    disconnected_frame,
    kicked_frame,
    parse_kick,
)
from .rooms import (
    POLICIES,
    CreateRoomRequest,
    UserRequest,
    parse_create_room,
    parse_user,
    role_frame,
    room_created_frame,
)

__all__ = [
    "ACTIONS",
    "BAN_SECONDS_MAX",
    "CLIENT_MSG_ID_RE",
    "FRAME_BYTES_MAX",
    "HISTORY_LIMIT_DEFAULT",
    "HISTORY_LIMIT_MAX",
    "MESSAGE_BYTES_DEFAULT",
    "MESSAGE_JSON_BYTES_MAX",
    "NAME_MAX",
    "POLICIES",
    "REPLY_BYTES_BUDGET",
    "ROOM_ID_RE",
    "UNREAD_CAP",
    "USER_ID_MAX",
    "ByteBudget",
    "CreateRoomRequest",
    "EditRequest",
    "HistoryRequest",
    "JoinRequest",
    "KickRequest",
    "MessageRef",
    "RoomRequest",
    "SendRequest",
    "UserRequest",
    "action_of",
    "check_message",
    "check_name",
    "check_room_id",
    "check_user_id",
    "classify_default",
    "deleted_frame",
    "disconnected_frame",
    "edited_frame",
    "encode",
    "error_frame",
    "frame_bytes",
    "history_budget",
    "history_frame",
    "joined_budget",
    "joined_frame",
    "json_bytes",
    "kicked_frame",
    "left_frame",
    "members_frame",
    "members_frame_within",
    "message_frame",
    "parse_body",
    "parse_create_room",
    "parse_edit",
    "parse_history",
    "parse_join",
    "parse_kick",
    "parse_message_ref",
    "parse_room",
    "parse_send",
    "parse_user",
    "pong_frame",
    "presence_frame",
    "read_frame",
    "role_frame",
    "room_created_frame",
    "typing_frame",
]
