// The chat session over one WebSocket: joins, sends, history paging, keepalive, and reconnecting
// with back-off after any close the user did not ask for (idle timeout, the 2 h limit, a dropped
// network, a DELETE on @connections), then re-joining every room, filling the gap from history
// and re-sending our unconfirmed messages without duplicates. No DOM here: the page subscribes to
// changes, and tests drive it with a fake WebSocket and fake timers.
//
// Each room has an outbox: one `sendAll` in flight at a time, the next one sent only when the
// previous is acknowledged (its `message` frame with our clientMsgId came back) or has failed
// for good. API Gateway may run one connection's frames concurrently, so messages sent without
// waiting can be stored and delivered in another order than typed. A retryable failure
// (`rate_limited`, `internal`, no answer, a dropped connection) sends the same message again
// with the same clientMsgId, which the server stores at most once.

import {
  GAP_PAGE,
  HISTORY_PAGE,
  backoffDelay,
  checkName,
  describeError,
  encode,
  frames,
  messageProblem,
  newClientMsgId,
  parseFrame,
  roomIdProblem,
  webSocketUrlProblem,
} from './protocol.js';
import { FAILED, JOINED, JOINING, LEAVING, QUEUED, REJOINING, Room, SENDING } from './room.js';

export const IDLE = 'idle'; // never connected
export const CONNECTING = 'connecting'; // first connection in progress
export const OPEN = 'open';
export const RECONNECTING = 'reconnecting'; // waiting for, or trying, the next attempt
export const CLOSED = 'closed'; // the user disconnected

const WS_OPEN = 1;
const MAX_GAP_PAGES = 100;
const MAX_ERRORS = 20;
// A typing frame at most every 3 s while typing (the server allows 2 a second); others show it
// for 4 s after the last one.
const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 4000;
// Messages arriving in the room being read move the read marker at most every 5 s.
const READ_EVERY_MS = 5000;

const defaultTimers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (id) => globalThis.clearTimeout(id),
};

export class ChatClient {
  /**
   * options: WebSocket (constructor), timers ({setTimeout, clearTimeout}), now(), random(),
   * newClientMsgId(), pingIntervalMs (4 min; the API closes after 10 idle minutes),
   * pongTimeoutMs, sendTimeoutMs (no echo after this: re-send once on the same connection),
   * maxSendsPerSecond (8: under the server's per-connection limit of 10, so a burst of queued
   * messages after a reconnect goes out in order instead of being refused).
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
    this.socketSeq = 0; // events from an older socket are ignored
    this.socketOpened = false;
    this.userClosed = false;
    this.history = new Map(); // roomId -> {current, queue}: one history request in flight per room
    this.timer = { reconnect: null, ping: null, pong: null, pump: null };
    this.sendTimers = new Map(); // clientMsgId -> timer id
    this.sendTimes = []; // when the last sendAll frames went out, for pacing
    this.sendQueue = []; // {room, entry} waiting for a slot, in order
    this.listeners = new Set();
    this.errorSeq = 0;
    this.frameHooks = new Set(); // (frame) => void: every server frame, before the client's own handling
  }

  // ------------------------------------------------------------------------- observing

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(change = {}) {
    for (const listener of this.listeners) listener(change);
  }

  /** What the page keeps across a reload (sessionStorage). */
  snapshot() {
    return {
      url: this.url,
      name: this.name,
      rooms: [...this.rooms.values()].filter((r) => r.status !== LEAVING).map((r) => r.id),
      active: this.active,
    };
  }

  // ------------------------------------------------------------------------- connection

  /** Starts a session; returns a sentence about bad input, or null. */
  connect(url, rawName, rooms = []) {
    const urlProblem = webSocketUrlProblem(url);
    if (urlProblem) return urlProblem;
    const { name, problem } = checkName(rawName);
    if (problem) return problem;
    for (const roomId of rooms) {
      const roomProblem = roomIdProblem(roomId);
      if (roomProblem) return roomProblem;
    }
    this.closeSocket();
    this.url = url;
    this.name = name;
    this.userClosed = false;
    this.attempt = 0;
    this.rooms = new Map();
    this.active = null;
    for (const roomId of rooms) this.rooms.set(roomId, new Room(roomId));
    this.active = rooms[0] ?? null;
    this.status = CONNECTING;
    this.openSocket();
    this.emit({ status: true, rooms: true });
    return null;
  }

  /** Ends the session at the user's request: no reconnecting, rooms forgotten. */
  disconnect() {
    this.userClosed = true;
    this.closeSocket(1000, 'bye');
    this.cancelReconnect();
    this.rooms = new Map();
    this.active = null;
    this.status = CLOSED;
    this.emit({ status: true, rooms: true });
  }

  /** While waiting to reconnect: try now (the network came back, or the user asked). */
  reconnectNow() {
    if (this.status !== RECONNECTING || this.timer.reconnect === null) return;
    this.cancelReconnect();
    this.openSocket();
    this.emit({ status: true });
  }

  /** Closes the socket as a network failure would, so the client reconnects (for tests). */
  dropConnection() {
    if (this.ws) this.ws.close(4000, 'dropped by the page');
  }

  get isOpen() {
    return this.ws !== null && this.socketOpened && this.ws.readyState === WS_OPEN;
  }

  openSocket() {
    this.retryAt = null;
    const seq = ++this.socketSeq;
    this.socketOpened = false;
    let ws;
    try {
      ws = new this.WebSocketImpl(this.url);
    } catch (err) {
      this.ws = null;
      this.timers.setTimeout(() => this.onSocketClosed(seq, 0, String(err?.message ?? err)), 0);
      return;
    }
    this.ws = ws;
    ws.onopen = () => seq === this.socketSeq && this.onSocketOpen();
    ws.onmessage = (event) => seq === this.socketSeq && this.onSocketMessage(event.data);
    ws.onclose = (event) => this.onSocketClosed(seq, event.code, event.reason);
    ws.onerror = () => {}; // a close event follows, with what little the browser tells
  }

  closeSocket(code = 1000, reason = '') {
    const ws = this.ws;
    this.socketSeq += 1; // whatever that socket still says is no longer ours
    this.ws = null;
    this.socketOpened = false;
    this.stopKeepalive();
    this.forgetInFlight();
    if (ws) {
      try {
        ws.close(code, reason);
      } catch {
        // already closing
      }
    }
  }

  cancelReconnect() {
    if (this.timer.reconnect !== null) this.timers.clearTimeout(this.timer.reconnect);
    this.timer.reconnect = null;
    this.retryAt = null;
  }

  onSocketOpen() {
    this.socketOpened = true;
    this.connections += 1;
    this.status = OPEN;
    this.scheduleKeepalive();
    for (const room of this.rooms.values()) {
      if (room.status === LEAVING) continue;
      room.status = room.everJoined ? REJOINING : JOINING;
      this.send(frames.join(room.id, this.name));
    }
    this.emit({ status: true, rooms: true });
  }

  onSocketMessage(data) {
    const frame = parseFrame(data);
    if (frame === null) return;
    for (const hook of this.frameHooks) hook(frame);
    this.handleFrame(frame);
  }

  onSocketClosed(seq, code, reason) {
    if (seq !== this.socketSeq) return; // a socket we already replaced or closed ourselves
    this.socketSeq += 1; // nothing more from that socket counts
    const opened = this.socketOpened;
    this.ws = null;
    this.socketOpened = false;
    this.stopKeepalive();
    this.forgetInFlight();
    this.lastClose = { code, reason: reason || '', at: this.now(), opened };
    for (const room of [...this.rooms.values()]) {
      // The server drops every membership of a closed connection, so a leave is done.
      if (room.status === LEAVING) this.removeRoom(room.id);
      else room.status = room.everJoined ? REJOINING : JOINING;
      room.touch();
    }
    if (this.userClosed) {
      this.status = CLOSED;
      this.emit({ status: true, rooms: true });
      return;
    }
    const delay = backoffDelay(this.attempt, { ...this.backoff, random: this.random });
    this.attempt += 1;
    this.status = RECONNECTING;
    this.retryAt = this.now() + delay;
    this.timer.reconnect = this.timers.setTimeout(() => {
      this.timer.reconnect = null;
      this.openSocket();
      this.emit({ status: true });
    }, delay);
    this.emit({ status: true, rooms: true });
  }

  forgetInFlight() {
    this.history.clear();
    this.sendQueue = [];
    if (this.timer.pump !== null) this.timers.clearTimeout(this.timer.pump);
    this.timer.pump = null;
    for (const id of this.sendTimers.values()) this.timers.clearTimeout(id);
    this.sendTimers.clear();
    for (const room of this.rooms.values()) {
      room.loadingOlder = false;
      room.catchingUp = false;
      this.releaseOutbox(room); // what was in flight goes again after the re-join
    }
  }

  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(encode(frame));
    return true;
  }

  // ------------------------------------------------------------------------- keepalive

  scheduleKeepalive() {
    this.stopKeepalive();
    this.timer.ping = this.timers.setTimeout(() => {
      this.timer.ping = null;
      if (!this.send(frames.ping())) return;
      this.timer.pong = this.timers.setTimeout(() => {
        // No pong: the connection is dead without having said so. Drop it and reconnect.
        this.timer.pong = null;
        this.dropConnection();
      }, this.pongTimeoutMs);
    }, this.pingIntervalMs);
  }

  stopKeepalive() {
    for (const key of ['ping', 'pong']) {
      if (this.timer[key] !== null) this.timers.clearTimeout(this.timer[key]);
      this.timer[key] = null;
    }
  }

  // ------------------------------------------------------------------------- rooms

  /** Joins a room (or shows it, when already joined); returns a sentence about bad input, or null. */
  join(rawRoomId) {
    const roomId = typeof rawRoomId === 'string' ? rawRoomId.trim().replace(/^#/, '') : '';
    const problem = roomIdProblem(roomId);
    if (problem) return problem;
    const existing = this.rooms.get(roomId);
    if (existing && existing.status === LEAVING) return `Still leaving #${roomId}; try again in a moment.`;
    if (!existing) {
      const room = new Room(roomId);
      this.rooms.set(roomId, room);
      this.send(frames.join(roomId, this.name));
    }
    this.setActive(roomId);
    return null;
  }

  leave(roomId) {
    const room = this.rooms.get(roomId);
    if (!room || room.status === LEAVING) return;
    if (!this.isOpen) {
      this.removeRoom(roomId); // no connection, no membership
    } else if (room.status === JOINING || room.status === REJOINING) {
      // The server may run a leave before the join in flight; leave once the join is answered.
      room.status = LEAVING;
      room.leaveAfterJoin = true;
    } else {
      this.send(frames.leave(roomId));
      room.status = LEAVING;
    }
    room.touch();
    if (this.active === roomId) this.active = this.firstOtherRoom(roomId);
    this.emit({ rooms: true });
  }

  /** Asks for a failed room again (after an error on re-join). */
  rejoin(roomId) {
    const room = this.rooms.get(roomId);
    if (!room || room.status === LEAVING) return;
    room.problem = null;
    room.status = room.everJoined ? REJOINING : JOINING;
    room.touch();
    this.send(frames.join(roomId, this.name));
    this.emit({ room: roomId });
  }

  removeRoom(roomId) {
    const room = this.rooms.get(roomId);
    if (room) this.releaseOutbox(room);
    this.rooms.delete(roomId);
    this.history.delete(roomId);
    if (this.active === roomId) this.active = this.firstOtherRoom(roomId);
  }

  firstOtherRoom(roomId) {
    for (const room of this.rooms.values()) {
      if (room.id !== roomId && room.status !== LEAVING) return room.id;
    }
    return null;
  }

  setActive(roomId) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.active = roomId;
    if (room.unread !== 0) {
      room.unread = 0;
      room.unreadCapped = false;
      room.touch();
    }
    this.sendReadMarker(room);
    if (room.status === JOINED) this.send(frames.members(roomId));
    this.emit({ rooms: true, room: roomId });
  }

  markRead(roomId) {
    const room = this.rooms.get(roomId);
    if (room) this.sendReadMarker(room);
    if (room && room.unread !== 0) {
      room.unread = 0;
      room.unreadCapped = false;
      room.touch();
      this.emit({ room: roomId });
    }
  }

  /** Moves the server's read marker to the newest message shown (every device sees it). */
  sendReadMarker(room, force = true) {
    const newest = room.newestId();
    if (room.status !== JOINED || newest === null) return;
    if (room.lastRead !== null && room.lastRead >= newest) return;
    if (room.markerSent === newest) return;
    const now = this.now();
    if (!force && room.markerSentAt && now - room.markerSentAt < READ_EVERY_MS) return;
    room.markerSent = newest;
    room.markerSentAt = now;
    this.send(frames.markRead(room.id, newest));
  }

  // ------------------------------------------------------------------------- the life of a message

  deleteMessage(roomId, messageId) {
    const room = this.rooms.get(roomId);
    if (!room || room.status !== JOINED) return 'Not connected to this room right now.';
    return this.send(frames.delete(roomId, messageId)) ? null : 'Not connected right now.';
  }

  /** Sends an edit of one of our messages; returns a sentence about bad input, or null. */
  editMessage(roomId, messageId, text) {
    const room = this.rooms.get(roomId);
    if (!room || room.status !== JOINED) return 'Not connected to this room right now.';
    const problem = messageProblem(roomId, text);
    if (problem) return problem;
    return this.send(frames.edit(roomId, messageId, text)) ? null : 'Not connected right now.';
  }

  /** Tells the room we are typing, at most once every TYPING_EVERY_MS. */
  typing(roomId) {
    const room = this.rooms.get(roomId);
    if (!room || room.status !== JOINED) return;
    const now = this.now();
    if (room.typingSentAt && now - room.typingSentAt < TYPING_EVERY_MS) return;
    room.typingSentAt = now;
    this.send(frames.typing(roomId));
  }

  onChanged(frame) {
    const room = this.rooms.get(frame.roomId);
    if (!room) return;
    const changed = frame.type === 'deleted' ? room.applyDeleted(frame) : room.applyEdited(frame);
    if (changed) this.emit({ room: room.id });
  }

  onTyping(frame) {
    const room = this.rooms.get(frame.roomId);
    if (!room || typeof frame.name !== 'string') return;
    room.setTyping(frame.name, this.now() + TYPING_SHOWN_MS);
    this.emit({ room: room.id });
    // Emit again once it has expired, so the view drops it.
    this.timers.setTimeout(() => {
      room.touch();
      this.emit({ room: room.id });
    }, TYPING_SHOWN_MS + 50);
  }

  /** A moderator removed someone: us (the room goes; no quiet re-join) or another member. */
  onKicked(frame) {
    const room = this.rooms.get(frame.roomId);
    if (!room) return;
    const names = Array.isArray(frame.names) ? frame.names.filter((n) => typeof n === 'string') : [];
    if (room.you !== null && frame.userId === room.you) {
      this.removeRoom(room.id);
      const ban = frame.banned ? (frame.bannedUntil ? ' and banned for a while' : ' and banned') : '';
      this.pushError(`You were removed from #${room.id}${ban}.`);
      this.emit({ rooms: true });
      return;
    }
    for (const name of names) {
      room.memberLeft(name);
      room.addNotice(`${name} was removed${frame.banned ? ' and banned' : ''}`, this.now());
    }
    this.emit({ room: room.id });
  }

  onRead(frame) {
    const room = this.rooms.get(frame.roomId);
    if (room && typeof frame.lastRead === 'string') room.lastRead = frame.lastRead;
  }

  refreshMembers(roomId) {
    const room = this.rooms.get(roomId);
    if (room && room.status === JOINED) this.send(frames.members(roomId));
  }

  // ------------------------------------------------------------------------- messages

  /** Sends a message (queued while disconnected); returns a sentence about bad input, or null. */
  sendMessage(roomId, text) {
    const room = this.rooms.get(roomId);
    if (!room || room.status === LEAVING) return 'Join a room first.';
    const clientMsgId = this.makeClientMsgId();
    const problem = messageProblem(roomId, text, clientMsgId);
    if (problem) return problem;
    room.addPending(clientMsgId, text, this.now());
    // The others stop showing us as typing when this message reaches them, so the next
    // keystroke says so again at once rather than up to TYPING_EVERY_MS later.
    room.typingSentAt = null;
    this.pumpOutbox(room);
    this.emit({ room: roomId });
    return null;
  }

  /** Sends a failed message again, with the same clientMsgId. */
  retry(roomId, clientMsgId) {
    const room = this.rooms.get(roomId);
    const entry = room?.pending.get(clientMsgId);
    if (!entry) return;
    entry.status = QUEUED;
    entry.problem = null;
    entry.tries = 0;
    entry.serverErrors = 0;
    room.touch();
    this.pumpOutbox(room);
    this.emit({ room: roomId });
  }

  discard(roomId, clientMsgId) {
    const room = this.rooms.get(roomId);
    if (room?.pending.delete(clientMsgId)) {
      this.clearSendTimer(clientMsgId);
      room.touch();
      this.settleOutbox(room);
      this.emit({ room: roomId });
    }
  }

  // ------------------------------------------------------------------------- the outbox

  /**
   * Sends the room's oldest waiting message, unless one is in flight (sent and not yet answered,
   * or waiting for a retry or a send slot): one at a time, in the order typed. Failed messages
   * are skipped; they go again when the user retries them.
   */
  pumpOutbox(room) {
    if (this.rooms.get(room.id) !== room || room.status !== JOINED || room.catchingUp) return;
    if (!this.isOpen || room.inFlight !== null) return;
    for (const entry of room.pending.values()) {
      if (entry.status === QUEUED || entry.status === SENDING) {
        room.inFlight = entry.clientMsgId;
        this.transmit(room, entry);
        return;
      }
    }
  }

  /** After an answer: when the message in flight is settled (echoed, failed, gone), the next. */
  settleOutbox(room) {
    const entry = room.inFlight === null ? undefined : room.pending.get(room.inFlight);
    if (room.inFlight !== null && (entry === undefined || entry.status === FAILED)) {
      this.releaseOutbox(room);
    }
    this.pumpOutbox(room);
  }

  releaseOutbox(room) {
    if (room.inFlight !== null) this.clearSendTimer(room.inFlight);
    room.inFlight = null;
    if (room.retryTimer !== null) this.timers.clearTimeout(room.retryTimer);
    room.retryTimer = null;
  }

  /** A retryable failure: the same message again after `delay`, still first in the outbox. */
  retryLater(room, entry, delay) {
    entry.status = QUEUED;
    entry.tries = 0;
    room.touch();
    if (room.retryTimer !== null) this.timers.clearTimeout(room.retryTimer);
    const seq = this.socketSeq;
    room.retryTimer = this.timers.setTimeout(() => {
      room.retryTimer = null;
      if (seq !== this.socketSeq || room.inFlight !== entry.clientMsgId) return;
      if (room.pending.get(entry.clientMsgId) !== entry || entry.status !== QUEUED) return;
      this.transmit(room, entry);
      this.emit({ room: room.id });
    }, delay);
  }

  transmit(room, entry) {
    if (!this.isOpen) {
      entry.status = QUEUED;
      return;
    }
    if (!this.takeSendSlot()) {
      this.enqueueSend(room, entry);
      return;
    }
    this.send(frames.sendAll(room.id, entry.message, entry.clientMsgId));
    entry.status = SENDING;
    entry.sent = true;
    entry.tries += 1;
    entry.problem = null;
    room.touch();
    this.clearSendTimer(entry.clientMsgId);
    const seq = this.socketSeq;
    const timer = this.timers.setTimeout(() => {
      this.sendTimers.delete(entry.clientMsgId);
      if (seq !== this.socketSeq || room.pending.get(entry.clientMsgId) !== entry) return;
      if (entry.status !== SENDING) return;
      if (entry.tries < 2) {
        // Same connection, same clientMsgId: the server stores it at most once.
        this.transmit(room, entry);
      } else {
        entry.status = FAILED;
        entry.problem = 'No answer from the server.';
        room.touch();
        this.settleOutbox(room);
      }
      this.emit({ room: room.id });
    }, this.sendTimeoutMs);
    this.sendTimers.set(entry.clientMsgId, timer);
  }

  takeSendSlot() {
    const now = this.now();
    this.sendTimes = this.sendTimes.filter((t) => now - t < 1000);
    if (this.sendQueue.length > 0 || this.sendTimes.length >= this.maxSendsPerSecond) return false;
    this.sendTimes.push(now);
    return true;
  }

  enqueueSend(room, entry) {
    entry.status = QUEUED;
    room.touch();
    if (!this.sendQueue.some((queued) => queued.entry === entry)) this.sendQueue.push({ room, entry });
    if (this.timer.pump !== null) return;
    const now = this.now();
    const oldest = this.sendTimes.length > 0 ? Math.min(...this.sendTimes) : now;
    const wait = Math.max(0, oldest + 1000 - now) + 1;
    this.timer.pump = this.timers.setTimeout(() => {
      this.timer.pump = null;
      const queue = this.sendQueue;
      this.sendQueue = [];
      for (const { room: r, entry: e } of queue) {
        const current = this.rooms.get(r.id) === r && r.pending.get(e.clientMsgId) === e;
        if (current && e.status === QUEUED && r.inFlight === e.clientMsgId) this.transmit(r, e);
      }
      this.emit({ rooms: true });
    }, wait);
  }

  clearSendTimer(clientMsgId) {
    const timer = this.sendTimers.get(clientMsgId);
    if (timer !== undefined) this.timers.clearTimeout(timer);
    this.sendTimers.delete(clientMsgId);
  }

  /** Sends what waits in a room through its outbox, oldest first: typed while away, or
   * unconfirmed when we dropped (same clientMsgId: stored at most once). */
  flushPending(room) {
    this.releaseOutbox(room);
    for (const entry of room.pending.values()) {
      if (entry.status === SENDING) entry.status = QUEUED;
      if (entry.status === QUEUED) entry.tries = 0;
    }
    this.pumpOutbox(room);
  }

  // ------------------------------------------------------------------------- history

  /** "Load older": the page before the oldest shown, then each page's `next`. */
  loadOlder(roomId) {
    const room = this.rooms.get(roomId);
    if (!room || room.status !== JOINED || room.loadingOlder || room.olderExhausted) return;
    const before = room.olderCursor ?? room.oldestId();
    if (!before) {
      room.olderExhausted = true;
      room.touch();
      this.emit({ room: roomId });
      return;
    }
    room.loadingOlder = true;
    room.touch();
    this.requestHistory(
      room,
      { before, limit: HISTORY_PAGE },
      (page) => {
        room.loadingOlder = false;
        room.addMessages(page.messages);
        room.olderCursor = typeof page.next === 'string' ? page.next : null;
        room.olderExhausted = room.olderCursor === null;
        room.touch();
      },
      (text) => {
        room.loadingOlder = false;
        room.problem = text;
        room.touch();
      },
    );
    this.emit({ room: roomId });
  }

  requestHistory(room, params, onPage, onError) {
    let slot = this.history.get(room.id);
    if (!slot) {
      slot = { current: null, queue: [] };
      this.history.set(room.id, slot);
    }
    const request = { frame: frames.history(room.id, params), onPage, onError };
    if (slot.current) slot.queue.push(request);
    else this.startHistory(room.id, slot, request);
  }

  startHistory(roomId, slot, request) {
    slot.current = request;
    if (!this.send(request.frame)) {
      slot.current = null;
      request.onError('Not connected.');
    }
  }

  finishHistory(roomId) {
    const slot = this.history.get(roomId);
    if (!slot) return null;
    const request = slot.current;
    slot.current = null;
    const next = slot.queue.shift();
    if (next) this.startHistory(roomId, slot, next);
    return request;
  }

  /**
   * After a re-join: page back from the oldest `recent` message until we reach what we already
   * had (the anchor), so nothing sent while we were away is missing. Then send what waits.
   */
  fillGap(room, anchor, recent, next) {
    const reached = (list) => anchor !== null && list.some((m) => typeof m?.messageId === 'string' && m.messageId <= anchor);
    const oldest = (list) => list.reduce((min, m) => (typeof m?.messageId === 'string' && (min === null || m.messageId < min) ? m.messageId : min), null);
    const done = () => {
      room.catchingUp = false;
      room.touch();
      this.flushPending(room);
    };
    // `next` null: `recent` reaches the start of the room, nothing older to fetch.
    if (recent.length === 0 || reached(recent) || next === null) {
      done();
      return;
    }
    room.catchingUp = true;
    let pages = 0;
    const step = (before) => {
      pages += 1;
      this.requestHistory(
        room,
        { before, limit: GAP_PAGE },
        (page) => {
          const messages = Array.isArray(page.messages) ? page.messages : [];
          this.countUnread(room, room.addMessages(messages));
          const next = typeof page.next === 'string' ? page.next : null;
          if (messages.length === 0 || next === null || reached(messages) || pages >= MAX_GAP_PAGES) done();
          else step(next);
          this.emit({ room: room.id });
        },
        (text) => {
          room.problem = text;
          done();
        },
      );
    };
    step(typeof next === 'string' ? next : oldest(recent));
  }

  countUnread(room, fresh) {
    if (fresh > 0 && room.id !== this.active) room.unread += fresh;
  }

  // ------------------------------------------------------------------------- server frames

  handleFrame(frame) {
    switch (frame.type) {
      case 'joined':
        return this.onJoined(frame);
      case 'left':
        return this.onLeft(frame);
      case 'message':
        return this.onMessage(frame);
      case 'history':
        return this.onHistory(frame);
      case 'members':
        return this.onMembers(frame);
      case 'presence':
        return this.onPresence(frame);
      case 'deleted':
      case 'edited':
        return this.onChanged(frame);
      case 'typing':
        return this.onTyping(frame);
      case 'read':
        return this.onRead(frame);
      case 'kicked':
        return this.onKicked(frame);
      case 'pong':
        if (this.timer.pong !== null) this.timers.clearTimeout(this.timer.pong);
        this.timer.pong = null;
        this.attempt = 0; // a live connection, even one in no room
        this.scheduleKeepalive();
        return undefined;
      case 'error':
      case 'gateway_error':
        return this.onError(frame);
      default:
        return undefined; // a newer server's frame: ignore
    }
  }

  onJoined(frame) {
    const room = this.rooms.get(frame.roomId);
    if (!room) return;
    if (room.status === LEAVING) {
      if (room.leaveAfterJoin && this.send(frames.leave(room.id))) room.leaveAfterJoin = false;
      return;
    }
    const rejoin = room.everJoined;
    const anchor = rejoin ? room.gapAnchor() : null;
    const recent = Array.isArray(frame.recent) ? frame.recent : [];
    room.status = JOINED;
    room.everJoined = true;
    room.problem = null;
    if (typeof frame.name === 'string') room.name = frame.name;
    if (typeof frame.members === 'number') room.memberCount = frame.members;
    if (typeof frame.you === 'string') room.you = frame.you;
    if (typeof frame.lastRead === 'string') room.lastRead = frame.lastRead;
    const fresh = room.addMessages(recent);
    this.attempt = 0; // a connection that gets this far is a good one
    // A server that sends `next` says whether older history exists (null: `recent` reaches the
    // start of the room) and where it starts; an older one does not, and we page from the oldest.
    const next = frame.next === null || typeof frame.next === 'string' ? frame.next : undefined;
    if (rejoin) {
      this.countUnread(room, fresh);
      room.addNotice('Reconnected.', this.now());
      this.send(frames.members(room.id));
      this.fillGap(room, anchor, recent, next);
    } else {
      const ids = recent.map((m) => m?.messageId).filter((id) => typeof id === 'string').sort();
      room.olderCursor = next === undefined ? (ids[0] ?? null) : next;
      room.olderExhausted = next === undefined ? ids.length === 0 : next === null;
      // What this user had not read before (from the server's read marker).
      this.send(frames.members(room.id));
      if (room.id !== this.active && typeof frame.unread === 'number') {
        room.unread = frame.unread;
        room.unreadCapped = frame.unreadCapped === true;
      } else {
        this.sendReadMarker(room);
      }
      this.flushPending(room);
    }
    room.touch();
    this.emit({ room: room.id, rooms: true });
  }

  onLeft(frame) {
    if (!this.rooms.has(frame.roomId)) return;
    this.removeRoom(frame.roomId);
    this.emit({ rooms: true });
  }

  onMessage(frame) {
    const room = this.rooms.get(frame.roomId);
    if (!room) return;
    if (typeof frame.sender === 'string') room.typing.delete(frame.sender);
    const { added, own } = room.addMessage(frame);
    if (own) {
      this.clearSendTimer(frame.clientMsgId);
      this.settleOutbox(room); // acknowledged: the next message of the outbox goes
    }
    if (added && !own) this.countUnread(room, 1);
    if (added && room.id === this.active) this.sendReadMarker(room, false);
    if (added || own) this.emit({ room: room.id, rooms: true });
  }

  onHistory(frame) {
    const room = this.rooms.get(frame.roomId);
    const request = this.finishHistory(frame.roomId);
    if (!room) return;
    if (request) request.onPage(frame);
    else room.addMessages(frame.messages);
    if (!room.catchingUp) this.settleOutbox(room); // a page may hold the message in flight
    this.emit({ room: room.id });
  }

  onMembers(frame) {
    const room = this.rooms.get(frame.roomId);
    if (!room) return;
    room.setMembers(frame.members);
    this.emit({ room: room.id });
  }

  onPresence(frame) {
    const room = this.rooms.get(frame.roomId);
    if (!room || typeof frame.name !== 'string') return;
    if (frame.event === 'join') {
      room.memberJoined(frame.name);
      room.addNotice(`${frame.name} joined`, this.now());
    } else if (frame.event === 'leave') {
      room.memberLeft(frame.name);
      room.addNotice(`${frame.name} left`, this.now());
    } else {
      return;
    }
    this.emit({ room: room.id });
  }

  onError(frame) {
    const text = describeError(frame);
    const room = typeof frame.roomId === 'string' ? this.rooms.get(frame.roomId) : undefined;
    if ((frame.action === 'typing' || frame.action === 'markRead') && frame.code !== 'not_member') {
      // Best effort, nothing the reader can act on: a marker refused is sent again later.
      if (room && frame.action === 'markRead') room.markerSent = null;
      return;
    }
    const notMember = frame.code === 'not_member';
    switch (frame.action) {
      case 'join':
        if (room && (!room.everJoined || room.status === LEAVING)) this.removeRoom(room.id);
        else if (room) room.problem = text;
        break;
      case 'leave':
        if (room && room.status === LEAVING) this.removeRoom(room.id); // out already
        break;
      case 'sendAll': {
        const entry = room && frame.clientMsgId ? room.pending.get(frame.clientMsgId) : undefined;
        if (entry) {
          this.clearSendTimer(entry.clientMsgId);
          if (frame.code === 'rate_limited') {
            // Not stored: wait a full second and send it again, same clientMsgId.
            const now = this.now();
            this.sendTimes = Array.from({ length: this.maxSendsPerSecond }, () => now);
            entry.tries = 0;
            this.enqueueSend(room, entry);
            this.emit({ room: room.id });
            return;
          }
          if (frame.code === 'internal' && (entry.serverErrors ?? 0) + 1 < this.maxServerErrors) {
            // A server fault, maybe passing: the same message again after a back-off.
            entry.serverErrors = (entry.serverErrors ?? 0) + 1;
            this.retryLater(room, entry, backoffDelay(entry.serverErrors - 1, { random: this.random }));
            this.emit({ room: room.id });
            return;
          }
          // Not a member (any more): it goes out again after the automatic re-join below.
          entry.status = notMember ? QUEUED : FAILED;
          entry.problem = notMember ? null : text;
          room.touch();
          if (notMember) this.releaseOutbox(room);
          else this.settleOutbox(room); // failed for good: the next message goes
        }
        break;
      }
      case 'history': {
        // The server names the room when it can; else it was the one history request in flight.
        let roomId = frame.roomId;
        if (typeof roomId !== 'string') {
          const busy = [...this.history.entries()].filter(([, slot]) => slot.current !== null);
          roomId = busy.length === 1 ? busy[0][0] : undefined;
        }
        const request = roomId === undefined ? null : this.finishHistory(roomId);
        if (request) request.onError(text);
        break;
      }
      default:
        break;
    }
    if (notMember && room && room.status === JOINED && frame.action !== 'leave') {
      // Our membership expired or was pruned while we still had the room open: join again.
      room.status = REJOINING;
      room.touch();
      this.send(frames.join(room.id, this.name));
    }
    if (!(notMember && room)) this.pushError(text);
    this.emit({ rooms: true, room: room?.id, error: true });
  }

  pushError(text) {
    this.errorSeq += 1;
    this.errors.push({ id: this.errorSeq, text, at: this.now() });
    if (this.errors.length > MAX_ERRORS) this.errors.splice(0, this.errors.length - MAX_ERRORS);
  }

  dismissError(id) {
    this.errors = this.errors.filter((e) => e.id !== id);
    this.emit({ error: true });
  }
}
