// Generated from docs/asyncapi.yaml by `roomchat sdk-types`; do not edit.

/** 1-64 characters of A-Z a-z 0-9 _ . : - */
export type RoomId = string;

/** A display name: 1-32 printable characters once leading and trailing white space is trimmed (the server trims it; frames it sends carry the trimmed name). */
export type Name = string;

/** A display name as the server sends it (already trimmed). */
export type MemberName = string;

/** A ULID (26 characters of Crockford base32); sorts by time within a room. */
export type MessageId = string;

/** The `before` of the next (older) page, or null at the start of the room. */
export type Cursor = MessageId | null;

/** The client's own id for a message (1-64 characters of A-Z a-z 0-9 _ . : -). */
export type ClientMsgId = string;

/** A signed-in user's id: the `sub` of their token, 1-128 printable characters (not trimmed; the space is printable). */
export type UserId = string;

/** Who may join and post: `open` (anyone), `private` (the owner, moderators, invited users and tokens whose `rooms` claim names the room), `announce` (anyone joins; only the owner and moderators post). */
export type Policy = "open" | "private" | "announce";

/** UTC with milliseconds. */
export type Timestamp = string;

/** The thread's parent (a message of the room) when the message is a reply; absent or null for a message of the room itself. */
export type ReplyTo = MessageId | null;

/** A reaction: one of this fixed set of emoji (grapheme clusters, some of several code points: ❤️ is U+2764 U+FE0F). */
export type Emoji = "\ud83d\udc4d" | "\ud83d\udc4e" | "\u2764\ufe0f" | "\ud83d\ude02" | "\ud83d\ude2e" | "\ud83d\ude22" | "\ud83d\ude21" | "\ud83c\udf89" | "\ud83d\ude4f" | "\ud83d\udc40" | "\ud83d\udd25" | "\u2705" | "\u274c" | "\ud83d\udcaf" | "\ud83d\ude80" | "\ud83d\udc4f" | "\ud83e\udd14" | "\ud83d\ude04" | "\ud83d\ude0d" | "\ud83d\ude4c" | "\ud83d\udca1" | "\u2b50" | "\ud83d\ude05" | "\ud83d\ude0e" | "\ud83e\udd1d" | "\ud83d\udcaa" | "\ud83d\ude42" | "\ud83d\ude2c" | "\ud83e\udd2f" | "\ud83e\udd73" | "\ud83e\udd23" | "\ud83d\udc4b" | "\u2728" | "\u26a0\ufe0f" | "\u2753" | "\ud83c\udfaf" | "\u2615" | "\ud83c\udf55" | "\ud83c\udff3\ufe0f\u200d\ud83c\udf08" | "\u2764\ufe0f\u200d\ud83d\udd25";

/** True takes back (unfollows, takes the reaction back, unpins); absent means false. */
export type Remove = boolean;

export interface Reaction {
  emoji: Emoji;
  /** How many users reacted with it (exact). */
  count: number;
  /** The authorIds of the first (at most 5) of them. */
  users: Array<UserId>;
}

export interface Mention {
  /** The mentioned member's authorId. */
  userId: UserId;
  name: MemberName;
}

/** The first 200 characters of a message (the 200th an ellipsis when cut); null once deleted. */
export type Excerpt = string | null;

export interface Pin {
  messageId: MessageId;
  /** The thread's parent, when the pinned message is a reply. */
  replyTo?: MessageId;
  /** Who pinned it (a user id). */
  pinnedBy: UserId;
  pinnedAt: Timestamp;
  /** The message's sender; null when the message is gone (expired). */
  sender: MemberName | null;
  excerpt: Excerpt;
}

/** Replies after lastRead in the thread, counted up to 20 (unreadCapped true when there are more). */
export type UnreadReplies = number;

/** 1 character up to 32,768 UTF-8 bytes (MAX_MESSAGE_BYTES; maxLength counts characters, the server counts bytes and answers too_large). Valid Unicode: no lone surrogates. */
export type MessageText = string;

export interface JoinRequest {
  action: "join";
  roomId: RoomId;
  /** The display name in this room; absent or null keeps ?name= or the current one. */
  name?: Name | null;
  /** Resume: the newest messageId the client has. `joined.recent` then holds every message after it (oldest first, within the reply budget), and `joined` says `updated`, `recovered` and `resumeNext`. */
  after?: MessageId | null;
}

export interface ResumeRequest {
  action: "resume";
  /** The display name in each room; absent or null keeps ?name= or the current one. */
  name?: Name | null;
  /** Each room once. */
  rooms: Array<{
  roomId: RoomId;
  /** As join's `after`; absent or null joins with the newest messages. */
  after?: MessageId | null;
}>;
}

export interface LeaveRequest {
  action: "leave";
  roomId: RoomId;
}

export interface SendAllRequest {
  /** Files uploaded with prepareUpload, each named once; with them `message` may be absent. */
  attachments?: Array<AttachmentRef>;
  action: "sendAll";
  roomId: RoomId;
  message?: MessageText;
  clientMsgId?: ClientMsgId | null;
  /** A reply to this message of the room (not itself a reply); it starts or extends its thread. */
  replyTo?: ReplyTo;
  /** A reply shown in the room's history too (only with replyTo); absent means false. */
  alsoToRoom?: boolean;
}

export interface HistoryRequest {
  action: "history";
  roomId: RoomId;
  /** Messages per page, 1-100; absent or null means 50. */
  limit?: number | null;
  /** The `next` of the previous page (or of joined); absent or null starts at the newest. */
  before?: MessageId | null;
  /** Instead of `before`: the page of messages newer than this (a resume's continuation: joined.resumeNext, or the `next` of the previous such page), oldest first. */
  after?: MessageId | null;
}

export interface MembersRequest {
  action: "members";
  roomId: RoomId;
}

export interface PingRequest {
  action: "ping";
}

/** Signed in only; the caller becomes the owner. */
export interface CreateRoomRequest {
  action: "createRoom";
  roomId: RoomId;
  /** Absent means open (null is refused). */
  policy?: Policy;
}

/** The room's owner or a moderator. */
export interface InviteRequest {
  action: "invite";
  roomId: RoomId;
  userId: UserId;
}

/** The room's owner, or a moderator (for a member, not a moderator). */
export interface UninviteRequest {
  action: "uninvite";
  roomId: RoomId;
  userId: UserId;
}

/** The room's owner. */
export interface PromoteRequest {
  action: "promote";
  roomId: RoomId;
  userId: UserId;
}

/** The room's owner. */
export interface DemoteRequest {
  action: "demote";
  roomId: RoomId;
  userId: UserId;
}

/** The message's author, or the room's owner or a moderator. */
export interface DeleteRequest {
  action: "delete";
  roomId: RoomId;
  messageId: MessageId;
  replyTo?: ReplyTo;
}

/** The message's author, within EDIT_WINDOW_SECONDS. */
export interface EditRequest {
  action: "edit";
  roomId: RoomId;
  messageId: MessageId;
  replyTo?: ReplyTo;
  message: MessageText;
}

export interface TypingRequest {
  action: "typing";
  roomId: RoomId;
}

export interface MarkReadRequest {
  action: "markRead";
  roomId: RoomId;
  /** The last message read; with replyTo, the last reply read in that thread. */
  messageId: MessageId;
  replyTo?: ReplyTo;
}

/** The room's owner or a moderator. */
export interface KickRequest {
  action: "kick";
  roomId: RoomId;
  /** The user's authorId (a token's sub, or a connection id without sign-in). */
  userId: UserId;
  /** Absent, null or false: no ban. Seconds (1 to 315,360,000, ten years) or "forever" (or true): no connection of the user may join the room until it ends. */
  ban?: number | "forever" | boolean | null;
}

/** The room's owner or a moderator. */
export interface DisconnectUserRequest {
  action: "disconnectUser";
  roomId: RoomId;
  userId: UserId;
}

/** Readers of the room. */
export interface ThreadRequest {
  action: "thread";
  roomId: RoomId;
  /** The thread's parent. */
  messageId: MessageId;
  /** Per page, 1-100; absent or null means 50. */
  limit?: number | null;
  /** The `next` of the previous page; absent or null starts at the newest. */
  before?: MessageId | null;
}

/** Readers of the room. */
export interface ThreadsRequest {
  action: "threads";
  roomId: RoomId;
  /** Per page, 1-20; absent or null means 10. */
  limit?: number | null;
  /** The `next` of the previous page; absent or null starts at the newest. */
  before?: MessageId | null;
}

/** Readers of the room. */
export interface FollowRequest {
  action: "follow";
  roomId: RoomId;
  /** The thread's parent. */
  messageId: MessageId;
  remove?: Remove;
}

/** Readers of the room. */
export interface ReactRequest {
  action: "react";
  roomId: RoomId;
  messageId: MessageId;
  replyTo?: ReplyTo;
  emoji: Emoji;
  remove?: Remove;
}

/** Anyone; across rooms. */
export interface MentionsRequest {
  action: "mentions";
  /** Per page, 1-50; absent or null means 20. */
  limit?: number | null;
  /** The `next` of the previous page; absent or null starts at the newest. */
  before?: MessageId | null;
}

/** The room's owner or a moderator. */
export interface PinRequest {
  action: "pin";
  roomId: RoomId;
  messageId: MessageId;
  replyTo?: ReplyTo;
  remove?: Remove;
}

/** A PushSubscription's JSON (RFC 8291, 3; docs/notifications.md). */
export interface WebPushSubscription {
  endpoint: string;
  keys: {
  p256dh: string;
  auth: string;
};
}

/** Exactly one of webPush or mobile (docs/notifications.md). */
export interface RegisterDeviceRequest {
  action: "registerDevice";
}

export interface UnregisterDeviceRequest {
  action: "unregisterDevice";
  deviceId: string;
}

export interface NotifyLevelRequest {
  action: "notifyLevel";
  roomId: RoomId;
  level: "all" | "mentions" | "none";
}

/** 1-100 characters, without / \ " or control characters, not starting or ending with a space, not "." or "..". */
export type FileName = string;

/** The file's content type, one of the server's ATTACHMENT_TYPES (these are the defaults). */
export type ContentType = "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "application/pdf" | "text/plain" | "application/zip";

/** The file's exact size in bytes, at most ATTACHMENT_MAX_BYTES (25 MiB by default). */
export type FileSize = number;

/** The uploadId prepareUpload answered. */
export type UploadId = MessageId;

export interface AttachmentRef {
  uploadId: UploadId;
  name: FileName;
  type: ContentType;
  size: FileSize;
}

/** A member of the room; at most 2 a second per connection. */
export interface PrepareUploadRequest {
  action: "prepareUpload";
  roomId: RoomId;
  name: FileName;
  type: ContentType;
  size: FileSize;
}

/** A member of the room. */
export interface AttachmentUrlRequest {
  action: "attachmentUrl";
  roomId: RoomId;
  messageId: MessageId;
  uploadId: UploadId;
  replyTo?: ReplyTo;
  /** The image's preview (a JPEG made after the upload) instead of the file. */
  thumbnail?: boolean;
}

/** What reaches $default (besides text that is not JSON at all) and is answered with an error. */
export type OtherFrame = Record<string, unknown>;

export interface MessageFrame {
  type: "message";
  roomId: RoomId;
  messageId: MessageId;
  /** When the server stored it, UTC with milliseconds. */
  sentAt: Timestamp;
  sender: MemberName;
  /** The text; null on a tombstone (a deleted message, with deletedBy and deletedAt); empty on a message of files only (attachments). */
  message: string | null;
  clientMsgId: ClientMsgId | null;
  /** Who wrote it: the token's sub when signed in, else the sending connection's id (null only for messages stored before authors were recorded without a connection id). Compare joined.you to tell one's own messages. */
  authorId: UserId | null;
  /** When it was last edited; absent if never (and on a tombstone). */
  editedAt?: Timestamp;
  /** Who deleted it (an authorId, or "operator"); only on a tombstone. */
  deletedBy?: UserId;
  /** When it was deleted; only on a tombstone. */
  deletedAt?: Timestamp;
  /** A reply's thread parent; absent on a message of the room itself. */
  replyTo?: MessageId;
  /** A reply that is in the room's history too; absent otherwise. */
  alsoToRoom?: true;
  /** A thread's parent - how many replies it has had (exact); absent when none. */
  replyCount?: number;
  /** When its latest reply was sent; with replyCount. */
  lastReplyAt?: Timestamp;
  /** Its reactions (absent when none, and on a tombstone), in the order of the emoji set. */
  reactions?: Array<Reaction>;
  /** The room's members it mentions (@name); absent when none, and on a tombstone. */
  mentions?: Array<Mention>;
  /** It mentions the whole room (@room by the owner or a moderator); absent otherwise. */
  mentionsRoom?: true;
  /** Its files (absent when none, and on a tombstone); ask attachmentUrl for one. */
  attachments?: Array<Attachment>;
  /** Only on the frame of a reply just sent - its parent's counters now. */
  thread?: {
  replyCount: number;
  lastReplyAt: Timestamp;
};
}

export interface JoinedFrame {
  type: "joined";
  roomId: RoomId;
  name: MemberName;
  /** Members in the room, the joiner included (a signed-in user counts once, however many connections they have). */
  members: number;
  /** The room's newest messages, oldest first: at most RECENT_ON_JOIN (20), and fewer when more would take the frame past the 96 KiB reply budget (API Gateway's message quota is 128 KB). */
  recent: Array<MessageFrame>;
  /** The `before` cursor of the messages older than `recent` (page back with history), or null when `recent` reaches the start of the room. */
  next: MessageId | null;
  /** The caller's authorId (the token's sub, or the connection id without sign-in). */
  you: UserId;
  /** The caller's read marker in the room (markRead), or null when none. */
  lastRead: MessageId | null;
  /** Messages after lastRead, counted up to 100. */
  unread: number;
  /** True when there are more than 100 (show "100+"). */
  unreadCapped: boolean;
  /** Only with `after`: older messages edited or deleted since `after`, as they are now, for the client to apply to those it shows. */
  updated?: Array<MessageFrame>;
  /** Only with `after`: true when `recent` holds what came after it; false when `after` is older than the history kept (`recent` is then the newest messages, as without it). */
  recovered?: boolean;
  /** Only with `after`: the `after` of the rest (history with after), or null when `recent` reaches the present. */
  resumeNext?: MessageId | null;
  /** The room's pinned messages, oldest message first, each with an excerpt as it is now. */
  pins: Array<Pin>;
}

export interface ResumedFrame {
  type: "resumed";
  /** One joined or error frame per room of the request, in its order. */
  rooms: Array<JoinedFrame | ErrorFrame>;
}

export interface LeftFrame {
  type: "left";
  roomId: RoomId;
}

export interface PresenceFrame {
  type: "presence";
  event: "join" | "leave";
  roomId: RoomId;
  name: MemberName;
}

export interface HistoryFrame {
  type: "history";
  roomId: RoomId;
  /** Oldest first; at most `limit`, and fewer when more would take the frame past the 96 KiB reply budget (then `next` continues). */
  messages: Array<MessageFrame>;
  /** The cursor of the next page in the request's direction: with `before`, the `before` of the older page (null at the start of the room); with `after`, the `after` of the newer page (null once the page reaches the present). */
  next: MessageId | null;
  /** Only with `after`, as joined's. */
  updated?: Array<MessageFrame>;
  /** Only with `after`, as joined's (false: the newest page instead). */
  recovered?: boolean;
}

export interface MembersFrame {
  type: "members";
  roomId: RoomId;
  /** Oldest member first; as many names as fit the 96 KiB reply budget. A signed-in user is listed once, however many connections they have. */
  members: Array<MemberName>;
  /** How many members' names did not fit the reply; absent when none was left out. */
  omitted?: number;
}

export interface RoomCreatedFrame {
  type: "roomCreated";
  roomId: RoomId;
  policy: Policy;
  /** The creator's user id; the owner's role never changes. */
  owner: UserId;
  createdAt: Timestamp;
}

export interface RoleFrame {
  type: "role";
  roomId: RoomId;
  userId: UserId;
  /** The user's role in the room now; null after uninvite (no role). */
  role: "member" | "moderator" | null;
}

export interface DeletedFrame {
  type: "deleted";
  roomId: RoomId;
  messageId: MessageId;
  /** The deleter's authorId, or "operator". */
  deletedBy: UserId;
  deletedAt: Timestamp;
  /** The thread's parent, when the message is a reply (for read, the thread's marker). */
  replyTo?: MessageId;
}

export interface EditedFrame {
  type: "edited";
  roomId: RoomId;
  messageId: MessageId;
  message: string;
  editedAt: Timestamp;
  /** The thread's parent, when the message is a reply (for read, the thread's marker). */
  replyTo?: MessageId;
}

export interface TypingFrame {
  type: "typing";
  roomId: RoomId;
  name: MemberName;
  /** The typist's authorId. */
  userId: UserId;
}

export interface ReadFrame {
  type: "read";
  roomId: RoomId;
  /** The marker now (never moves back, so possibly later than the one sent). */
  lastRead: MessageId;
  /** The thread's parent, when the message is a reply (for read, the thread's marker). */
  replyTo?: MessageId;
}

export interface KickedFrame {
  type: "kicked";
  roomId: RoomId;
  userId: UserId;
  /** The names the user's removed connections had in the room (empty when none was in it). */
  names: Array<MemberName>;
  banned: boolean;
  /** The ban's end in epoch seconds; null for no ban or a ban for good. */
  bannedUntil: number | null;
}

export interface DisconnectedFrame {
  type: "disconnected";
  userId: UserId;
  /** How many of the user's connections were in the room (closed, or taken out of it when in other rooms too). */
  connections: number;
}

export interface ThreadFrame {
  type: "thread";
  roomId: RoomId;
  /** The parent's. */
  messageId: MessageId;
  /** The parent (a tombstone once deleted; its thread remains). */
  parent: MessageFrame;
  /** Oldest first; at most `limit`, fewer when more would pass the 96 KiB reply budget. */
  replies: Array<MessageFrame>;
  next: Cursor;
  following: boolean;
  /** The caller's marker in the thread (markRead with replyTo), or null. */
  lastRead: MessageId | null;
  unread: UnreadReplies;
  unreadCapped: boolean;
}

export interface FollowingFrame {
  type: "following";
  roomId: RoomId;
  messageId: MessageId;
  following: boolean;
}

export interface ThreadsFrame {
  type: "threads";
  roomId: RoomId;
  /** The followed threads, newest parent first. */
  threads: Array<{
  messageId: MessageId;
  sender: MemberName;
  excerpt: Excerpt;
  replyCount: number;
  lastReplyAt: Timestamp | null;
  lastRead: MessageId | null;
  unread: UnreadReplies;
  unreadCapped: boolean;
}>;
  next: Cursor;
}

export interface ReactionFrame {
  type: "reaction";
  roomId: RoomId;
  messageId: MessageId;
  /** The thread's parent, when the message is a reply. */
  replyTo?: MessageId;
  emoji: Emoji;
  /** Who reacted (an authorId). */
  userId: UserId;
  name: MemberName;
  /** True when added, false when taken back. */
  added: boolean;
  /** The message's whole summary after this change. */
  reactions: Array<Reaction>;
  /** Grows with every change of the message's reactions: keep the summary of the highest seen (frames may arrive out of order). 0 on a repeat answered to the caller alone. */
  version: number;
}

export interface MentionsFrame {
  type: "mentions";
  /** The messages that mention the caller, newest first, each in its room (and thread). */
  messages: Array<MessageFrame>;
  next: Cursor;
}

export interface Attachment {
  uploadId: UploadId;
  name: FileName;
  type: string;
  size: number;
  /** An image - a preview may exist (attachmentUrl with thumbnail true). */
  thumbnail?: true;
}

export interface UploadFrame {
  type: "upload";
  roomId: RoomId;
  uploadId: UploadId;
  /** Where to POST the file (multipart/form-data). */
  url: string;
  /** The form fields, in this order, before the file (the last field, `file`). */
  fields: {
};
  /** When the POST's policy expires. */
  expiresAt: Timestamp;
}

export interface AttachmentUrlFrame {
  type: "attachmentUrl";
  roomId: RoomId;
  messageId: MessageId;
  uploadId: UploadId;
  /** A presigned GET, valid until expiresAt. */
  url: string;
  expiresAt: Timestamp;
  thumbnail?: true;
}

export interface PinnedFrame {
  type: "pinned";
  roomId: RoomId;
  /** True when pinned, false when unpinned. */
  pinned: boolean;
  pin: Pin;
}

export interface DeviceFrame {
  type: "device";
  deviceId: string;
  /** True after registerDevice, false after unregisterDevice. */
  registered: boolean;
  /** How many devices the user has now. */
  devices: number;
  /** unregisterDevice only; false when it was not registered. */
  removed?: boolean;
}

export interface NotifyLevelFrame {
  type: "notifyLevel";
  roomId: RoomId;
  level: "all" | "mentions" | "none";
}

export interface PongFrame {
  type: "pong";
}

export interface ClosingFrame {
  type: "closing";
  /** Why, as an error code (rate_limited). */
  code: "rate_limited";
  /** Text for a person. */
  message: string;
}

export interface ErrorFrame {
  type: "error";
  code: "bad_request" | "unknown_action" | "not_member" | "forbidden" | "not_found" | "rejected" | "too_large" | "rate_limited" | "token_expired" | "internal";
  /** Text for a person. */
  message: string;
  /** The action of the refused frame, when it reached its route. */
  action: string | null;
  /** The room, when the request named a valid one. */
  roomId?: RoomId;
  /** The refused sendAll's clientMsgId, when it had a valid one. */
  clientMsgId?: ClientMsgId;
}

/** Every frame a client may send, by its `action`. */
export type ClientFrame = JoinRequest | LeaveRequest | SendAllRequest | HistoryRequest | MembersRequest | PingRequest | CreateRoomRequest | InviteRequest | UninviteRequest | PromoteRequest | DemoteRequest | DeleteRequest | EditRequest | TypingRequest | MarkReadRequest | KickRequest | DisconnectUserRequest | ResumeRequest | ThreadRequest | ThreadsRequest | FollowRequest | ReactRequest | MentionsRequest | PinRequest | RegisterDeviceRequest | UnregisterDeviceRequest | NotifyLevelRequest | PrepareUploadRequest | AttachmentUrlRequest;
export interface ClientFrames {
  "join": JoinRequest;
  "leave": LeaveRequest;
  "sendAll": SendAllRequest;
  "history": HistoryRequest;
  "members": MembersRequest;
  "ping": PingRequest;
  "createRoom": CreateRoomRequest;
  "invite": InviteRequest;
  "uninvite": UninviteRequest;
  "promote": PromoteRequest;
  "demote": DemoteRequest;
  "delete": DeleteRequest;
  "edit": EditRequest;
  "typing": TypingRequest;
  "markRead": MarkReadRequest;
  "kick": KickRequest;
  "disconnectUser": DisconnectUserRequest;
  "resume": ResumeRequest;
  "thread": ThreadRequest;
  "threads": ThreadsRequest;
  "follow": FollowRequest;
  "react": ReactRequest;
  "mentions": MentionsRequest;
  "pin": PinRequest;
  "registerDevice": RegisterDeviceRequest;
  "unregisterDevice": UnregisterDeviceRequest;
  "notifyLevel": NotifyLevelRequest;
  "prepareUpload": PrepareUploadRequest;
  "attachmentUrl": AttachmentUrlRequest;
}
export type Action = keyof ClientFrames;

/** Every frame the server sends, by its `type`. */
export type ServerFrame = JoinedFrame | LeftFrame | PresenceFrame | MessageFrame | HistoryFrame | MembersFrame | PongFrame | ClosingFrame | RoomCreatedFrame | RoleFrame | ErrorFrame | DeletedFrame | EditedFrame | TypingFrame | ReadFrame | KickedFrame | DisconnectedFrame | ResumedFrame | ThreadFrame | FollowingFrame | ThreadsFrame | ReactionFrame | MentionsFrame | PinnedFrame | DeviceFrame | NotifyLevelFrame | UploadFrame | AttachmentUrlFrame;
export interface ServerFrames {
  "joined": JoinedFrame;
  "left": LeftFrame;
  "presence": PresenceFrame;
  "message": MessageFrame;
  "history": HistoryFrame;
  "members": MembersFrame;
  "pong": PongFrame;
  "closing": ClosingFrame;
  "roomCreated": RoomCreatedFrame;
  "role": RoleFrame;
  "error": ErrorFrame;
  "deleted": DeletedFrame;
  "edited": EditedFrame;
  "typing": TypingFrame;
  "read": ReadFrame;
  "kicked": KickedFrame;
  "disconnected": DisconnectedFrame;
  "resumed": ResumedFrame;
  "thread": ThreadFrame;
  "following": FollowingFrame;
  "threads": ThreadsFrame;
  "reaction": ReactionFrame;
  "mentions": MentionsFrame;
  "pinned": PinnedFrame;
  "device": DeviceFrame;
  "notifyLevel": NotifyLevelFrame;
  "upload": UploadFrame;
  "attachmentUrl": AttachmentUrlFrame;
}
export type FrameType = keyof ServerFrames;
