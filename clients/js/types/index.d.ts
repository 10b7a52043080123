// The roomchat-client API. The frames themselves (every action and server frame) are in
// protocol.d.ts, generated from docs/asyncapi.yaml.
import type {
  Action,
  ClientFrame,
  ClientFrames,
  ErrorFrame,
  FrameType,
  Emoji,
  Mention,
  MessageFrame,
  Pin,
  Policy,
  Reaction,
  ServerFrame,
  ServerFrames,
} from './protocol.js';

export * from './protocol.js';

export type Status = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';
export declare const IDLE: 'idle';
export declare const CONNECTING: 'connecting';
export declare const OPEN: 'open';
export declare const RECONNECTING: 'reconnecting';
export declare const CLOSED: 'closed';

export type RoomStatus = 'joining' | 'joined' | 'rejoining' | 'leaving';
export type PendingStatus = 'queued' | 'sending' | 'failed';
export declare const JOINING: 'joining';
export declare const JOINED: 'joined';
export declare const REJOINING: 'rejoining';
export declare const LEAVING: 'leaving';
export declare const QUEUED: 'queued';
export declare const SENDING: 'sending';
export declare const FAILED: 'failed';

/** A message as a room keeps it (a tombstone has `message: ''` and `deletedAt`). */
export interface ShownMessage {
  roomId: string;
  messageId: string;
  sentAt: string | null;
  sender: string;
  message: string;
  clientMsgId: string | null;
  authorId: string | null;
  editedAt: string | null;
  deletedAt: string | null;
  /** A reply: its thread's parent (and shown in the room too when `alsoToRoom`). */
  replyTo: string | null;
  alsoToRoom: boolean;
  /** A thread's parent: its replies so far, and when the last came. */
  replyCount: number;
  lastReplyAt: string | null;
  reactions: Reaction[];
  mentions: Mention[];
  mentionsRoom: boolean;
}

/** One thread: its parent, the replies loaded, and our state in it. */
export declare class Thread {
  constructor(parentId: string);
  readonly parentId: string;
  parent: ShownMessage | null;
  replies: Map<string, ShownMessage>;
  olderCursor: string | null;
  loaded: boolean;
  following: boolean;
  lastRead: string | null;
  unread: number;
  unreadCapped: boolean;
  list(): ShownMessage[];
}

export interface PendingMessage {
  clientMsgId: string;
  message: string;
  replyTo: string | null;
  alsoToRoom: boolean;
  status: PendingStatus;
  problem: string | null;
  createdAt: number;
  sent: boolean;
  tries: number;
}

export type TimelineEntry =
  | { kind: 'message'; key: string; msg: ShownMessage }
  | { kind: 'notice'; key: string; notice: { key: string; sortKey: string; text: string; at: number } }
  | { kind: 'pending'; key: string; pending: PendingMessage };

export declare function cleanMessage(frame: unknown, roomId: string): ShownMessage | null;

export declare class Room {
  constructor(id: string);
  readonly id: string;
  status: RoomStatus;
  everJoined: boolean;
  /** Our name in this room (from `joined`). */
  name: string | null;
  memberCount: number | null;
  members: string[] | null;
  messages: Map<string, ShownMessage>;
  pending: Map<string, PendingMessage>;
  unread: number;
  unreadCapped: boolean;
  olderExhausted: boolean;
  loadingOlder: boolean;
  catchingUp: boolean;
  problem: string | null;
  /** Our authorId in this room (`joined.you`). */
  you: string | null;
  lastRead: string | null;
  version: number;
  threads: Map<string, Thread>;
  /** The `threads` frame's list: the threads we follow (after `listThreads`). */
  followed: unknown[] | null;
  pins: Pin[];
  findMessage(messageId: string, replyTo?: string | null): ShownMessage | null;
  isOwn(msg: ShownMessage): boolean;
  newestId(): string | null;
  oldestId(): string | null;
  typingNames(now: number): string[];
  timeline(): TimelineEntry[];
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/** A WebSocket constructor: the platform's, or one injected (e.g. the `ws` package's). */
export type WebSocketConstructor = new (url: string) => {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
};

export interface ChatClientOptions {
  WebSocket?: WebSocketConstructor;
  timers?: Timers;
  now?: () => number;
  random?: () => number;
  newClientMsgId?: () => string;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  sendTimeoutMs?: number;
  maxServerErrors?: number;
  maxSendsPerSecond?: number;
  backoff?: { baseMs?: number; capMs?: number };
  /** Called on `token_expired`: a fresh token (or a promise of one) to reconnect with, or null to stop. */
  freshToken?: () => string | null | Promise<string | null>;
}

export interface Change {
  status?: boolean;
  rooms?: boolean;
  room?: string;
  error?: boolean;
}

/** The client's own events, besides one per server frame type. */
export interface ClientEvents {
  frame: ServerFrame;
  status: Status;
  sent: { roomId: string; clientMsgId: string; frame: MessageFrame };
  failed: { roomId: string; clientMsgId: string; problem: string };
  problem: { text: string };
  close: { code: number; reason: string; text: string };
}
export type Events = ServerFrames & ClientEvents;

/** Methods answer with a sentence about bad input (nothing is sent), or null. */
export type Problem = string | null;

export declare class ChatClient {
  constructor(options?: ChatClientOptions);
  readonly status: Status;
  readonly url: string | null;
  readonly name: string | null;
  readonly rooms: Map<string, Room>;
  readonly active: string | null;
  readonly errors: Array<{ id: number; text: string; at: number }>;
  readonly retryAt: number | null;
  readonly lastClose: { code: number; reason: string; at: number; opened: boolean } | null;
  readonly isOpen: boolean;
  readonly frameHooks: Set<(frame: ServerFrame) => void>;

  on<K extends keyof Events>(type: K, fn: (event: Events[K]) => void): () => void;
  once<K extends keyof Events>(type: K, fn: (event: Events[K]) => void): () => void;
  off<K extends keyof Events>(type: K, fn: (event: Events[K]) => void): void;
  subscribe(listener: (change: Change) => void): () => boolean;
  snapshot(): { url: string | null; name: string | null; rooms: string[]; active: string | null };
  sendFrame(frame: ClientFrame): boolean;

  // connection
  connect(url: string, name: string, rooms?: string[]): Problem;
  disconnect(): void;
  reconnectNow(): void;
  dropConnection(): void;

  // rooms and roles
  join(roomId: string): Problem;
  whenJoined(roomId: string): Promise<Room>;
  leave(roomId: string): void;
  rejoin(roomId: string): void;
  setActive(roomId: string): void;
  createRoom(roomId: string, policy?: Policy): Problem;
  invite(roomId: string, userId: string): Problem;
  uninvite(roomId: string, userId: string): Problem;
  promote(roomId: string, userId: string): Problem;
  demote(roomId: string, userId: string): Problem;

  // messages
  sendMessage(roomId: string, text: string): Problem;
  send(roomId: string, text: string): Promise<MessageFrame>;
  retry(roomId: string, clientMsgId: string): void;
  discard(roomId: string, clientMsgId: string): void;
  editMessage(roomId: string, messageId: string, text: string, replyTo?: string | null): Problem;
  deleteMessage(roomId: string, messageId: string, replyTo?: string | null): Problem;

  // threads, reactions, mentions, pins
  reply(roomId: string, parentId: string, text: string, options?: { alsoToRoom?: boolean }): Promise<MessageFrame>;
  openThread(roomId: string, parentId: string, options?: { older?: boolean }): Problem;
  followThread(roomId: string, parentId: string, following?: boolean): Problem;
  listThreads(roomId: string): Problem;
  markThreadRead(roomId: string, parentId: string): void;
  toggleReaction(roomId: string, messageId: string, emoji: Emoji, replyTo?: string | null): Problem;
  react(roomId: string, messageId: string, emoji: Emoji, options?: { remove?: boolean; replyTo?: string | null }): Problem;
  listMentions(options?: { older?: boolean }): Problem;
  readonly mentionList: { messages: MessageFrame[]; next: string | null } | null;
  pin(roomId: string, messageId: string, options?: { remove?: boolean; replyTo?: string | null }): Problem;
  isPinned(roomId: string, messageId: string): boolean;

  // notifications while away (docs/notifications.md)
  registerDevice(subscription: { toJSON(): unknown } | { endpoint: string; keys: { p256dh: string; auth: string } }): Problem;
  unregisterDevice(deviceId: string): Problem;
  setNotifyLevel(roomId: string, level: 'all' | 'mentions' | 'none'): Problem;
  readonly devices?: Map<string, ServerFrames['device']>;

  // history, presence, typing, read markers, moderation
  loadOlder(roomId: string): void;
  refreshMembers(roomId: string): void;
  typing(roomId: string): void;
  markRead(roomId: string): void;
  kick(roomId: string, userId: string, ban?: number | 'forever' | null): Problem;
  disconnectUser(roomId: string, userId: string): Problem;
  dismissError(id: number): void;
}

export declare const FEATURES: ReadonlyArray<{
  methods?: Record<string, (...args: never[]) => unknown>;
  frames?: Partial<Record<FrameType, (frame: never) => unknown>>;
  errors?: Partial<Record<Action, (frame: ErrorFrame, room: Room | undefined, text: string) => unknown>>;
}>;

export declare class Emitter {
  on(type: string, fn: (value: unknown) => void): () => void;
  off(type: string, fn: (value: unknown) => void): void;
  once(type: string, fn: (value: unknown) => void): () => void;
  fire(type: string, value: unknown): void;
}

// ---- protocol.js
export declare const ROOM_ID_RE: RegExp;
export declare const CLIENT_MSG_ID_RE: RegExp;
export declare const NAME_MAX: number;
export declare const USER_ID_MAX: number;
export declare const POLICIES: Policy[];
export declare const HISTORY_PAGE: number;
export declare const GAP_PAGE: number;
export declare const MAX_FRAME_BYTES: number;
export declare const IDLE_LIMIT_MS: number;
export declare const CONNECTION_LIMIT_MS: number;
export declare const ACTIONS: ReadonlyArray<Action>;
export declare const REACTIONS: ReadonlyArray<Emoji>;
export declare function mentionCandidates(names: string[], prefix: string, limit?: number): string[];
export declare function mentionParts(
  text: string,
  msg: { mentions?: Mention[]; mentionsRoom?: boolean },
  you?: string | null,
): Array<{ text: string; mention: boolean; me: boolean }>;
export declare const ROLE_ACTIONS: ReadonlyArray<'invite' | 'uninvite' | 'promote' | 'demote'>;
export declare const frames: { [A in Action]: (...args: never[]) => ClientFrames[A] } & {
  join(roomId: string, name?: string | null, after?: string | null): ClientFrames['join'];
  leave(roomId: string): ClientFrames['leave'];
  sendAll(
    roomId: string,
    message: string,
    clientMsgId: string,
    reply?: { replyTo?: string | null; alsoToRoom?: boolean },
  ): ClientFrames['sendAll'];
  history(roomId: string, params?: { limit?: number; before?: string | null; after?: string | null }): ClientFrames['history'];
  members(roomId: string): ClientFrames['members'];
  ping(): ClientFrames['ping'];
  createRoom(roomId: string, policy?: Policy): ClientFrames['createRoom'];
  invite(roomId: string, userId: string): ClientFrames['invite'];
  uninvite(roomId: string, userId: string): ClientFrames['uninvite'];
  promote(roomId: string, userId: string): ClientFrames['promote'];
  demote(roomId: string, userId: string): ClientFrames['demote'];
  delete(roomId: string, messageId: string, replyTo?: string | null): ClientFrames['delete'];
  edit(roomId: string, messageId: string, message: string, replyTo?: string | null): ClientFrames['edit'];
  typing(roomId: string): ClientFrames['typing'];
  markRead(roomId: string, messageId: string, replyTo?: string | null): ClientFrames['markRead'];
  resume(rooms: ReadonlyArray<{ roomId: string; after?: string | null }>, name?: string | null): ClientFrames['resume'];
  thread(roomId: string, messageId: string, params?: { limit?: number; before?: string | null }): ClientFrames['thread'];
  threads(roomId: string, before?: string | null): ClientFrames['threads'];
  follow(roomId: string, messageId: string, remove?: boolean): ClientFrames['follow'];
  react(roomId: string, messageId: string, emoji: Emoji, options?: { remove?: boolean; replyTo?: string | null }): ClientFrames['react'];
  mentions(before?: string | null): ClientFrames['mentions'];
  pin(roomId: string, messageId: string, options?: { remove?: boolean; replyTo?: string | null }): ClientFrames['pin'];
  kick(roomId: string, userId: string, ban?: number | 'forever' | null): ClientFrames['kick'];
  disconnectUser(roomId: string, userId: string): ClientFrames['disconnectUser'];
  registerDevice(webPush: { endpoint: string; keys: { p256dh: string; auth: string } }): ClientFrames['registerDevice'];
  unregisterDevice(deviceId: string): ClientFrames['unregisterDevice'];
  notifyLevel(roomId: string, level: 'all' | 'mentions' | 'none'): ClientFrames['notifyLevel'];
};
export declare function utf8Length(text: string): number;
export declare function roomIdProblem(roomId: unknown): Problem;
export declare function checkName(raw: unknown): { name: string; problem: Problem };
export declare function userIdProblem(userId: unknown): Problem;
export declare function policyProblem(policy: unknown): Problem;
export declare function encode(frame: ClientFrame): string;
export declare function messageProblem(roomId: string, message: unknown, clientMsgId?: string): Problem;
export declare function parseFrame(text: unknown): ServerFrame | { type: 'gateway_error'; message: string } | null;
export declare function newClientMsgId(random?: Crypto): string;
export declare function describeError(frame: ErrorFrame | { type: 'gateway_error'; message: string }): string;
export declare function describeClose(code: number, context?: { connectedMs?: number | null; idleMs?: number | null }): string;
export declare function backoffDelay(attempt: number, options?: { baseMs?: number; capMs?: number; random?: () => number }): number;
export declare function webSocketUrlProblem(url: string): Problem;

// ---- token.js
export declare function tokenClaims(token: unknown): Record<string, unknown> | null;
export declare function tokenProblem(token: unknown, nowMs?: number): Problem;
export declare function tokenUser(token: string): { userId: string | null; name: string | null; expiresAt: number | null };
export declare function withToken(wsUrl: string, token: string | null): string;
export declare function withoutToken(wsUrl: string): string;
