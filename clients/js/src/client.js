// The chat session over one WebSocket: the shared core every feature module builds on. It holds
// the connection state, the rooms (room.js), the listeners and the table that routes each server
// frame to the feature that handles it. What each capability does lives in its own module under
// features/ (connection and keepalive, rooms and roles, messages and the outbox, history and the
// gap fill, presence, typing, read markers, moderation, threads, reactions, mentions, pins); a new action or frame is one more
// module, or one more entry in a module's `frames`/`errors`, listed in FEATURES below.
//
// No DOM here: a page subscribes to changes (`subscribe`), a program to events (`on`), and tests
// drive it with a fake WebSocket and fake timers.

import { Emitter } from './emitter.js';
import { connection } from './features/connection.js';
import { history } from './features/history.js';
import { mentions } from './features/mentions.js';
import { messages } from './features/messages.js';
import { moderation } from './features/moderation.js';
import { attachments } from './features/attachments.js';
import { notifications } from './features/notifications.js';
import { pins } from './features/pins.js';
import { presence } from './features/presence.js';
import { reactions } from './features/reactions.js';
import { reads } from './features/reads.js';
import { rooms } from './features/rooms.js';
import { threads } from './features/threads.js';
import { typing } from './features/typing.js';
import { describeError, encode, newClientMsgId, parseFrame } from './protocol.js';

export const IDLE = 'idle'; // never connected
export const CONNECTING = 'connecting'; // first connection in progress
export const OPEN = 'open';
export const RECONNECTING = 'reconnecting'; // waiting for, or trying, the next attempt
export const CLOSED = 'closed'; // the user disconnected

const WS_OPEN = 1;
const MAX_ERRORS = 20;

/**
 * Each feature: `methods` (become ChatClient methods, `this` is the client), `frames` (server
 * frame type -> handler) and `errors` (the action of an error frame -> handler; returning 'done'
 * means the error is dealt with and not shown).
 */
export const FEATURES = [
  connection,
  rooms,
  messages,
  history,
  presence,
  typing,
  reads,
  moderation,
  threads,
  reactions,
  mentions,
  pins,
  attachments,
  notifications,
];

const defaultTimers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (id) => globalThis.clearTimeout(id),
};

export class ChatClient {
  /**
   * options: WebSocket (constructor; default: the platform's, e.g. a browser's or Node 22's),
   * timers ({setTimeout, clearTimeout}), now(), random(), newClientMsgId(), pingIntervalMs
   * (4 min; the API closes after 10 idle minutes), pongTimeoutMs, sendTimeoutMs (no echo after
   * this: re-send once on the same connection), maxSendsPerSecond (8: under the server's
   * per-connection limit of 10, so a burst of queued messages after a reconnect goes out in
   * order instead of being refused), backoff ({baseMs, capMs}), freshToken (a function
   * returning a new token, or a promise of one, or null: called when the server answers
   * `token_expired`; the client then reconnects with it, else it stops and says to sign in).
   */
  constructor(options = {}) {
    this.WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
    this.timers = options.timers ?? defaultTimers;
    this.now = options.now ?? (() => Date.now());
    this.random = options.random ?? Math.random;
    this.makeClientMsgId = options.newClientMsgId ?? (() => newClientMsgId());
    this.pingIntervalMs = options.pingIntervalMs ?? 4 * 60_000;
    this.pongTimeoutMs = options.pongTimeoutMs ?? 30_000;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 15_000;
    this.maxServerErrors = options.maxServerErrors ?? 3; // `internal` answers before giving up
    this.backoff = options.backoff ?? {};
    this.maxSendsPerSecond = options.maxSendsPerSecond ?? 8;
    this.freshToken = options.freshToken ?? null;
    this.renewing = false; // a fresh token is being fetched after `token_expired`

    this.url = null;
    this.name = null;
    this.status = IDLE;
    this.attempt = 0; // failed attempts since the last good join, for the back-off
    this.retryAt = null; // when the next attempt starts, while waiting
    this.lastClose = null; // {code, reason, at, opened}
    this.connections = 0; // sockets that opened, over the session
    this.rooms = new Map(); // roomId -> Room, in the order joined
    this.active = null;
    this.errors = []; // {id, text, at}

    this.ws = null;
    this.openedAt = null; // when the current socket opened
    this.socketSeq = 0; // events from an older socket are ignored
    this.socketOpened = false;
    this.userClosed = false;
    this.history = new Map(); // roomId -> {current, queue}: one history request in flight per room
    this.timer = { reconnect: null, ping: null, pong: null, pump: null };
    this.sendTimers = new Map(); // clientMsgId -> timer id
    this.sendTimes = []; // when the last sendAll frames went out, for pacing
    this.sendQueue = []; // {room, entry} waiting for a slot, in order
    this.listeners = new Set();
    this.events = new Emitter();
    this.errorSeq = 0;
    this.frameHooks = new Set(); // (frame) => void: every server frame, before the client's own handling
    this.mentionList = null; // {messages, next}: the messages that mention us (features/mentions.js)
  }

  // ------------------------------------------------------------------------- observing

  /** `listener(change)` after every change of state ({status, rooms, room, error}), for views. */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(change = {}) {
    for (const listener of this.listeners) listener(change);
  }

  /**
   * `fn` on an event: 'frame' (every server frame), a server frame's type ('message',
   * 'presence', 'typing', ...), 'status' (the connection's), 'sent' / 'failed' (one of our
   * messages stored, or given up: {roomId, clientMsgId, frame | problem}), 'problem' (a sentence
   * for the user: {text}), 'close' ({code, reason, text}). Returns the function that unsubscribes.
   */
  on(type, fn) {
    return this.events.on(type, fn);
  }

  off(type, fn) {
    this.events.off(type, fn);
  }

  once(type, fn) {
    return this.events.once(type, fn);
  }

  /** What the page keeps across a reload (sessionStorage). */
  snapshot() {
    return {
      url: this.url,
      name: this.name,
      rooms: [...this.rooms.values()].filter((r) => r.status !== 'leaving').map((r) => r.id),
      active: this.active,
    };
  }

  get isOpen() {
    return this.ws !== null && this.socketOpened && this.ws.readyState === WS_OPEN;
  }

  /** Sends one frame as it is (false when not connected). The features' methods build them. */
  sendFrame(frame) {
    if (!this.isOpen) return false;
    this.ws.send(encode(frame));
    return true;
  }

  // ------------------------------------------------------------------------- server frames

  onSocketMessage(data) {
    const frame = parseFrame(data);
    if (frame === null) return;
    for (const hook of this.frameHooks) hook(frame);
    this.handleFrame(frame);
    this.events.fire('frame', frame);
    this.events.fire(frame.type, frame);
  }

  handleFrame(frame) {
    const handler = FRAME_HANDLERS[frame.type];
    return handler ? handler.call(this, frame) : undefined; // a newer server's frame: ignore
  }

  onError(frame) {
    const text = describeError(frame);
    const room = typeof frame.roomId === 'string' ? this.rooms.get(frame.roomId) : undefined;
    const handler = ERROR_HANDLERS[frame.action];
    const handled = handler && handler.call(this, frame, room, text) === 'done';
    if (frame.code === 'token_expired') {
      // The token this connection was opened with has expired: every action is refused
      // until we reconnect with a fresh one (connection.js renewToken).
      this.renewToken();
      this.emit({ rooms: true, room: room?.id });
      return;
    }
    if (handled) return;
    const notMember = frame.code === 'not_member';
    if (notMember && room && room.status === 'joined' && frame.action !== 'leave') {
      // Our membership expired or was pruned while we still had the room open: join again.
      this.rejoinQuietly(room);
    }
    if (!(notMember && room)) this.pushError(text);
    this.emit({ rooms: true, room: room?.id, error: true });
  }

  pushError(text) {
    this.errorSeq += 1;
    this.errors.push({ id: this.errorSeq, text, at: this.now() });
    if (this.errors.length > MAX_ERRORS) this.errors.splice(0, this.errors.length - MAX_ERRORS);
    this.events.fire('problem', { text });
  }

  dismissError(id) {
    this.errors = this.errors.filter((e) => e.id !== id);
    this.emit({ error: true });
  }
}

const FRAME_HANDLERS = {
  error: ChatClient.prototype.onError,
  gateway_error: ChatClient.prototype.onError,
};
const ERROR_HANDLERS = {};
for (const feature of FEATURES) {
  for (const [name, method] of Object.entries(feature.methods ?? {})) {
    if (name in ChatClient.prototype) throw new Error(`two features define ${name}`);
    ChatClient.prototype[name] = method;
  }
  Object.assign(FRAME_HANDLERS, feature.frames ?? {});
  Object.assign(ERROR_HANDLERS, feature.errors ?? {});
}
