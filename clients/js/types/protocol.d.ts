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

/** 1 character up to 32,768 UTF-8 bytes (MAX_MESSAGE_BYTES; maxLength counts characters, the server counts bytes and answers too_large). Valid Unicode: no lone surrogates. */
export type MessageText = string;

export interface JoinRequest {
  action: "join";
  roomId: RoomId;
  /** The display name in this room; absent or null keeps ?name= or the current one. */
  name?: Name | null;
}

export interface LeaveRequest {
  action: "leave";
  roomId: RoomId;
}

export interface SendAllRequest {
  action: "sendAll";
  roomId: RoomId;
  message: MessageText;
  clientMsgId?: ClientMsgId | null;
}

export interface HistoryRequest {
  action: "history";
  roomId: RoomId;
  /** Messages per page, 1-100; absent or null means 50. */
  limit?: number | null;
  /** The `next` of the previous page (or of joined); absent or null starts at the newest. */
  before?: MessageId | null;
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
}

/** The message's author, within EDIT_WINDOW_SECONDS. */
export interface EditRequest {
  action: "edit";
  roomId: RoomId;
  messageId: MessageId;
  message: MessageText;
}

export interface TypingRequest {
  action: "typing";
  roomId: RoomId;
}

export interface MarkReadRequest {
  action: "markRead";
  roomId: RoomId;
  messageId: MessageId;
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

/** What reaches $default (besides text that is not JSON at all) and is answered with an error. */
export type OtherFrame = Record<string, unknown>;

export interface MessageFrame {
  type: "message";
  roomId: RoomId;
  messageId: MessageId;
  /** When the server stored it, UTC with milliseconds. */
  sentAt: Timestamp;
  sender: MemberName;
  /** The text; null on a tombstone (a deleted message, with deletedBy and deletedAt). */
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
  next: Cursor;
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
}

export interface EditedFrame {
  type: "edited";
  roomId: RoomId;
  messageId: MessageId;
  message: string;
  editedAt: Timestamp;
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
  /** How many of the user's connections in the room were closed. */
  connections: number;
}

export interface PongFrame {
  type: "pong";
}

export interface ErrorFrame {
  type: "error";
  code: "bad_request" | "unknown_action" | "not_member" | "forbidden" | "not_found" | "rejected" | "too_large" | "rate_limited" | "internal";
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
export type ClientFrame = JoinRequest | LeaveRequest | SendAllRequest | HistoryRequest | MembersRequest | PingRequest | CreateRoomRequest | InviteRequest | UninviteRequest | PromoteRequest | DemoteRequest | DeleteRequest | EditRequest | TypingRequest | MarkReadRequest | KickRequest | DisconnectUserRequest;
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
}
export type Action = keyof ClientFrames;

/** Every frame the server sends, by its `type`. */
export type ServerFrame = JoinedFrame | LeftFrame | PresenceFrame | MessageFrame | HistoryFrame | MembersFrame | PongFrame | RoomCreatedFrame | RoleFrame | ErrorFrame | DeletedFrame | EditedFrame | TypingFrame | ReadFrame | KickedFrame | DisconnectedFrame;
export interface ServerFrames {
  "joined": JoinedFrame;
  "left": LeftFrame;
  "presence": PresenceFrame;
  "message": MessageFrame;
  "history": HistoryFrame;
  "members": MembersFrame;
  "pong": PongFrame;
  "roomCreated": RoomCreatedFrame;
  "role": RoleFrame;
  "error": ErrorFrame;
  "deleted": DeletedFrame;
  "edited": EditedFrame;
  "typing": TypingFrame;
  "read": ReadFrame;
  "kicked": KickedFrame;
  "disconnected": DisconnectedFrame;
}
export type FrameType = keyof ServerFrames;
