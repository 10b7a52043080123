"""The protocol's frames as types.

Generated from docs/asyncapi.yaml by `roomchat sdk-types`; do not edit.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypeAlias, TypedDict

RoomId: TypeAlias = str
Name: TypeAlias = str
MemberName: TypeAlias = str
MessageId: TypeAlias = str
Cursor: TypeAlias = MessageId | None
ClientMsgId: TypeAlias = str
UserId: TypeAlias = str
Policy: TypeAlias = Literal["open", "private", "announce"]
Timestamp: TypeAlias = str
ReplyTo: TypeAlias = MessageId | None
Emoji: TypeAlias = Literal[
    "👍",
    "👎",
    "❤️",
    "😂",
    "😮",
    "😢",
    "😡",
    "🎉",
    "🙏",
    "👀",
    "🔥",
    "✅",
    "❌",
    "💯",
    "🚀",
    "👏",
    "🤔",
    "😄",
    "😍",
    "🙌",
    "💡",
    "⭐",
    "😅",
    "😎",
    "🤝",
    "💪",
    "🙂",
    "😬",
    "🤯",
    "🥳",
    "🤣",
    "👋",
    "✨",
    "⚠️",
    "❓",
    "🎯",
    "☕",
    "🍕",
    "🏳️\u200d🌈",
    "❤️\u200d🔥",
]
Remove: TypeAlias = bool
Excerpt: TypeAlias = str | None
UnreadReplies: TypeAlias = int
MessageText: TypeAlias = str
FileName: TypeAlias = str
ContentType: TypeAlias = Literal[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "application/zip",
]
FileSize: TypeAlias = int
UploadId: TypeAlias = MessageId
OtherFrame: TypeAlias = dict[str, Any]


class Reaction(TypedDict):
    emoji: Emoji
    count: int
    users: list[UserId]


class Mention(TypedDict):
    userId: UserId
    name: MemberName


class Pin(TypedDict):
    messageId: MessageId
    replyTo: NotRequired[MessageId]
    pinnedBy: UserId
    pinnedAt: Timestamp
    sender: MemberName | None
    excerpt: Excerpt


class JoinRequest(TypedDict):
    action: Literal["join"]
    roomId: RoomId
    name: NotRequired[Name | None]
    after: NotRequired[MessageId | None]


class ResumeRequest(TypedDict):
    action: Literal["resume"]
    name: NotRequired[Name | None]
    rooms: list[dict[str, Any]]


class LeaveRequest(TypedDict):
    action: Literal["leave"]
    roomId: RoomId


class SendAllRequest(TypedDict):
    attachments: NotRequired[list[AttachmentRef]]
    action: Literal["sendAll"]
    roomId: RoomId
    message: NotRequired[MessageText]
    clientMsgId: NotRequired[ClientMsgId | None]
    replyTo: NotRequired[ReplyTo]
    alsoToRoom: NotRequired[bool]


class HistoryRequest(TypedDict):
    action: Literal["history"]
    roomId: RoomId
    limit: NotRequired[int | None]
    before: NotRequired[MessageId | None]
    after: NotRequired[MessageId | None]


class MembersRequest(TypedDict):
    action: Literal["members"]
    roomId: RoomId


class PingRequest(TypedDict):
    action: Literal["ping"]


class CreateRoomRequest(TypedDict):
    """Signed in only; the caller becomes the owner."""

    action: Literal["createRoom"]
    roomId: RoomId
    policy: NotRequired[Policy]


class InviteRequest(TypedDict):
    """The room's owner or a moderator."""

    action: Literal["invite"]
    roomId: RoomId
    userId: UserId


class UninviteRequest(TypedDict):
    """The room's owner, or a moderator (for a member, not a moderator)."""

    action: Literal["uninvite"]
    roomId: RoomId
    userId: UserId


class PromoteRequest(TypedDict):
    """The room's owner."""

    action: Literal["promote"]
    roomId: RoomId
    userId: UserId


class DemoteRequest(TypedDict):
    """The room's owner."""

    action: Literal["demote"]
    roomId: RoomId
    userId: UserId


class DeleteRequest(TypedDict):
    """The message's author, or the room's owner or a moderator."""

    action: Literal["delete"]
    roomId: RoomId
    messageId: MessageId
    replyTo: NotRequired[ReplyTo]


class EditRequest(TypedDict):
    """The message's author, within EDIT_WINDOW_SECONDS."""

    action: Literal["edit"]
    roomId: RoomId
    messageId: MessageId
    replyTo: NotRequired[ReplyTo]
    message: MessageText


class TypingRequest(TypedDict):
    action: Literal["typing"]
    roomId: RoomId


class MarkReadRequest(TypedDict):
    action: Literal["markRead"]
    roomId: RoomId
    messageId: MessageId
    replyTo: NotRequired[ReplyTo]


class KickRequest(TypedDict):
    """The room's owner or a moderator."""

    action: Literal["kick"]
    roomId: RoomId
    userId: UserId
    ban: NotRequired[int | Literal["forever"] | bool | None]


class DisconnectUserRequest(TypedDict):
    """The room's owner or a moderator."""

    action: Literal["disconnectUser"]
    roomId: RoomId
    userId: UserId


class ThreadRequest(TypedDict):
    """Readers of the room."""

    action: Literal["thread"]
    roomId: RoomId
    messageId: MessageId
    limit: NotRequired[int | None]
    before: NotRequired[MessageId | None]


class ThreadsRequest(TypedDict):
    """Readers of the room."""

    action: Literal["threads"]
    roomId: RoomId
    limit: NotRequired[int | None]
    before: NotRequired[MessageId | None]


class FollowRequest(TypedDict):
    """Readers of the room."""

    action: Literal["follow"]
    roomId: RoomId
    messageId: MessageId
    remove: NotRequired[Remove]


class ReactRequest(TypedDict):
    """Readers of the room."""

    action: Literal["react"]
    roomId: RoomId
    messageId: MessageId
    replyTo: NotRequired[ReplyTo]
    emoji: Emoji
    remove: NotRequired[Remove]


class MentionsRequest(TypedDict):
    """Anyone; across rooms."""

    action: Literal["mentions"]
    limit: NotRequired[int | None]
    before: NotRequired[MessageId | None]


class PinRequest(TypedDict):
    """The room's owner or a moderator."""

    action: Literal["pin"]
    roomId: RoomId
    messageId: MessageId
    replyTo: NotRequired[ReplyTo]
    remove: NotRequired[Remove]


class WebPushSubscription(TypedDict):
    """A PushSubscription's JSON (RFC 8291, 3; docs/notifications.md)."""

    endpoint: str
    keys: dict[str, Any]


class RegisterDeviceRequest(TypedDict):
    """Exactly one of webPush or mobile (docs/notifications.md)."""

    action: Literal["registerDevice"]


class UnregisterDeviceRequest(TypedDict):
    action: Literal["unregisterDevice"]
    deviceId: str


class NotifyLevelRequest(TypedDict):
    action: Literal["notifyLevel"]
    roomId: RoomId
    level: Literal["all", "mentions", "none"]


class AttachmentRef(TypedDict):
    uploadId: UploadId
    name: FileName
    type: ContentType
    size: FileSize


class PrepareUploadRequest(TypedDict):
    """A member of the room; at most 2 a second per connection."""

    action: Literal["prepareUpload"]
    roomId: RoomId
    name: FileName
    type: ContentType
    size: FileSize


class AttachmentUrlRequest(TypedDict):
    """A member of the room."""

    action: Literal["attachmentUrl"]
    roomId: RoomId
    messageId: MessageId
    uploadId: UploadId
    replyTo: NotRequired[ReplyTo]
    thumbnail: NotRequired[bool]


class MessageFrame(TypedDict):
    type: Literal["message"]
    roomId: RoomId
    messageId: MessageId
    sentAt: Timestamp
    sender: MemberName
    message: str | None
    clientMsgId: ClientMsgId | None
    authorId: UserId | None
    editedAt: NotRequired[Timestamp]
    deletedBy: NotRequired[UserId]
    deletedAt: NotRequired[Timestamp]
    replyTo: NotRequired[MessageId]
    alsoToRoom: NotRequired[Literal[True]]
    replyCount: NotRequired[int]
    lastReplyAt: NotRequired[Timestamp]
    reactions: NotRequired[list[Reaction]]
    mentions: NotRequired[list[Mention]]
    mentionsRoom: NotRequired[Literal[True]]
    attachments: NotRequired[list[Attachment]]
    thread: NotRequired[dict[str, Any]]


class JoinedFrame(TypedDict):
    type: Literal["joined"]
    roomId: RoomId
    name: MemberName
    members: int
    recent: list[MessageFrame]
    next: MessageId | None
    you: UserId
    lastRead: MessageId | None
    unread: int
    unreadCapped: bool
    updated: NotRequired[list[MessageFrame]]
    recovered: NotRequired[bool]
    resumeNext: NotRequired[MessageId | None]
    pins: list[Pin]


class ResumedFrame(TypedDict):
    type: Literal["resumed"]
    rooms: list[JoinedFrame | ErrorFrame]


class LeftFrame(TypedDict):
    type: Literal["left"]
    roomId: RoomId


class PresenceFrame(TypedDict):
    type: Literal["presence"]
    event: Literal["join", "leave"]
    roomId: RoomId
    name: MemberName


class HistoryFrame(TypedDict):
    type: Literal["history"]
    roomId: RoomId
    messages: list[MessageFrame]
    next: MessageId | None
    updated: NotRequired[list[MessageFrame]]
    recovered: NotRequired[bool]


class MembersFrame(TypedDict):
    type: Literal["members"]
    roomId: RoomId
    members: list[MemberName]
    omitted: NotRequired[int]


class RoomCreatedFrame(TypedDict):
    type: Literal["roomCreated"]
    roomId: RoomId
    policy: Policy
    owner: UserId
    createdAt: Timestamp


class RoleFrame(TypedDict):
    type: Literal["role"]
    roomId: RoomId
    userId: UserId
    role: Literal["member", "moderator"] | None


class DeletedFrame(TypedDict):
    type: Literal["deleted"]
    roomId: RoomId
    messageId: MessageId
    deletedBy: UserId
    deletedAt: Timestamp
    replyTo: NotRequired[MessageId]


class EditedFrame(TypedDict):
    type: Literal["edited"]
    roomId: RoomId
    messageId: MessageId
    message: str
    editedAt: Timestamp
    replyTo: NotRequired[MessageId]


class TypingFrame(TypedDict):
    type: Literal["typing"]
    roomId: RoomId
    name: MemberName
    userId: UserId


class ReadFrame(TypedDict):
    type: Literal["read"]
    roomId: RoomId
    lastRead: MessageId
    replyTo: NotRequired[MessageId]


class KickedFrame(TypedDict):
    type: Literal["kicked"]
    roomId: RoomId
    userId: UserId
    names: list[MemberName]
    banned: bool
    bannedUntil: int | None


class DisconnectedFrame(TypedDict):
    type: Literal["disconnected"]
    userId: UserId
    connections: int


class ThreadFrame(TypedDict):
    type: Literal["thread"]
    roomId: RoomId
    messageId: MessageId
    parent: MessageFrame
    replies: list[MessageFrame]
    next: Cursor
    following: bool
    lastRead: MessageId | None
    unread: UnreadReplies
    unreadCapped: bool


class FollowingFrame(TypedDict):
    type: Literal["following"]
    roomId: RoomId
    messageId: MessageId
    following: bool


class ThreadsFrame(TypedDict):
    type: Literal["threads"]
    roomId: RoomId
    threads: list[dict[str, Any]]
    next: Cursor


class ReactionFrame(TypedDict):
    type: Literal["reaction"]
    roomId: RoomId
    messageId: MessageId
    replyTo: NotRequired[MessageId]
    emoji: Emoji
    userId: UserId
    name: MemberName
    added: bool
    reactions: list[Reaction]
    version: int


class MentionsFrame(TypedDict):
    type: Literal["mentions"]
    messages: list[MessageFrame]
    next: Cursor


class Attachment(TypedDict):
    uploadId: UploadId
    name: FileName
    type: str
    size: int
    thumbnail: NotRequired[Literal[True]]


class UploadFrame(TypedDict):
    type: Literal["upload"]
    roomId: RoomId
    uploadId: UploadId
    url: str
    fields: dict[str, Any]
    expiresAt: Timestamp


class AttachmentUrlFrame(TypedDict):
    type: Literal["attachmentUrl"]
    roomId: RoomId
    messageId: MessageId
    uploadId: UploadId
    url: str
    expiresAt: Timestamp
    thumbnail: NotRequired[Literal[True]]


class PinnedFrame(TypedDict):
    type: Literal["pinned"]
    roomId: RoomId
    pinned: bool
    pin: Pin


class DeviceFrame(TypedDict):
    type: Literal["device"]
    deviceId: str
    registered: bool
    devices: int
    removed: NotRequired[bool]


class NotifyLevelFrame(TypedDict):
    type: Literal["notifyLevel"]
    roomId: RoomId
    level: Literal["all", "mentions", "none"]


class PongFrame(TypedDict):
    type: Literal["pong"]


class ClosingFrame(TypedDict):
    type: Literal["closing"]
    code: Literal["rate_limited"]
    message: str


class ErrorFrame(TypedDict):
    type: Literal["error"]
    code: Literal[
        "bad_request",
        "unknown_action",
        "not_member",
        "forbidden",
        "not_found",
        "rejected",
        "too_large",
        "rate_limited",
        "token_expired",
        "internal",
    ]
    message: str
    action: str | None
    roomId: NotRequired[RoomId]
    clientMsgId: NotRequired[ClientMsgId]


ClientFrame: TypeAlias = (
    JoinRequest
    | LeaveRequest
    | SendAllRequest
    | HistoryRequest
    | MembersRequest
    | PingRequest
    | CreateRoomRequest
    | InviteRequest
    | UninviteRequest
    | PromoteRequest
    | DemoteRequest
    | DeleteRequest
    | EditRequest
    | TypingRequest
    | MarkReadRequest
    | KickRequest
    | DisconnectUserRequest
    | ResumeRequest
    | ThreadRequest
    | ThreadsRequest
    | FollowRequest
    | ReactRequest
    | MentionsRequest
    | PinRequest
    | RegisterDeviceRequest
    | UnregisterDeviceRequest
    | NotifyLevelRequest
    | PrepareUploadRequest
    | AttachmentUrlRequest
)
ServerFrame: TypeAlias = (
    JoinedFrame
    | LeftFrame
    | PresenceFrame
    | MessageFrame
    | HistoryFrame
    | MembersFrame
    | PongFrame
    | ClosingFrame
    | RoomCreatedFrame
    | RoleFrame
    | ErrorFrame
    | DeletedFrame
    | EditedFrame
    | TypingFrame
    | ReadFrame
    | KickedFrame
    | DisconnectedFrame
    | ResumedFrame
    | ThreadFrame
    | FollowingFrame
    | ThreadsFrame
    | ReactionFrame
    | MentionsFrame
    | PinnedFrame
    | DeviceFrame
    | NotifyLevelFrame
    | UploadFrame
    | AttachmentUrlFrame
)

#: action -> the frame a client sends for it
CLIENT_FRAMES: dict[str, type[Any]] = {
    "join": JoinRequest,
    "leave": LeaveRequest,
    "sendAll": SendAllRequest,
    "history": HistoryRequest,
    "members": MembersRequest,
    "ping": PingRequest,
    "createRoom": CreateRoomRequest,
    "invite": InviteRequest,
    "uninvite": UninviteRequest,
    "promote": PromoteRequest,
    "demote": DemoteRequest,
    "delete": DeleteRequest,
    "edit": EditRequest,
    "typing": TypingRequest,
    "markRead": MarkReadRequest,
    "kick": KickRequest,
    "disconnectUser": DisconnectUserRequest,
    "resume": ResumeRequest,
    "thread": ThreadRequest,
    "threads": ThreadsRequest,
    "follow": FollowRequest,
    "react": ReactRequest,
    "mentions": MentionsRequest,
    "pin": PinRequest,
    "registerDevice": RegisterDeviceRequest,
    "unregisterDevice": UnregisterDeviceRequest,
    "notifyLevel": NotifyLevelRequest,
    "prepareUpload": PrepareUploadRequest,
    "attachmentUrl": AttachmentUrlRequest,
}
#: frame type -> the frame the server sends
SERVER_FRAMES: dict[str, type[Any]] = {
    "joined": JoinedFrame,
    "left": LeftFrame,
    "presence": PresenceFrame,
    "message": MessageFrame,
    "history": HistoryFrame,
    "members": MembersFrame,
    "pong": PongFrame,
    "closing": ClosingFrame,
    "roomCreated": RoomCreatedFrame,
    "role": RoleFrame,
    "error": ErrorFrame,
    "deleted": DeletedFrame,
    "edited": EditedFrame,
    "typing": TypingFrame,
    "read": ReadFrame,
    "kicked": KickedFrame,
    "disconnected": DisconnectedFrame,
    "resumed": ResumedFrame,
    "thread": ThreadFrame,
    "following": FollowingFrame,
    "threads": ThreadsFrame,
    "reaction": ReactionFrame,
    "mentions": MentionsFrame,
    "pinned": PinnedFrame,
    "device": DeviceFrame,
    "notifyLevel": NotifyLevelFrame,
    "upload": UploadFrame,
    "attachmentUrl": AttachmentUrlFrame,
}
