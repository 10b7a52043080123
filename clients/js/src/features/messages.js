// Messages: sending through an outbox per room, editing and deleting.
//
// Each room has an outbox: one `sendAll` in flight at a time, the next one sent only when the
// previous is acknowledged (its `message` frame with our clientMsgId came back) or has failed
// for good. API Gateway may run one connection's frames concurrently, so messages sent without
// waiting can be stored and delivered in another order than typed. A retryable failure
// (`rate_limited`, `internal`, no answer, a dropped connection) sends the same message again
// with the same clientMsgId, which the server stores at most once.

import { backoffDelay, frames, messageProblem } from '../protocol.js';
import { FAILED, JOINED, LEAVING, QUEUED, SENDING } from '../room.js';

export const messages = {
  methods: {
    /** Sends a message (queued while disconnected); returns a sentence about bad input, or null. */
    sendMessage(roomId, text) {
      return this.queueMessage(roomId, text).problem;
    },

    /**
     * Sends a message through the room's outbox and resolves with the stored `message` frame (the
     * server's echo); rejects with an Error saying why when it is refused or given up.
     */
    send(roomId, text, options = {}) {
      const { problem, clientMsgId } = this.queueMessage(roomId, text, options);
      if (problem) return Promise.reject(new Error(problem));
      return new Promise((resolve, reject) => {
        const mine = (event) => event.roomId === roomId && event.clientMsgId === clientMsgId;
        const offSent = this.on('sent', (event) => mine(event) && settle(() => resolve(event.frame)));
        const offFailed = this.on('failed', (event) => mine(event) && settle(() => reject(new Error(event.problem))));
        function settle(fn) {
          offSent();
          offFailed();
          fn();
        }
      });
    },

    /** options: {replyTo, alsoToRoom} for a reply (features/threads.js). */
    queueMessage(roomId, text, options = {}) {
      const room = this.rooms.get(roomId);
      if (!room || room.status === LEAVING) return { problem: 'Join a room first.', clientMsgId: null };
      const clientMsgId = this.makeClientMsgId();
      const problem = messageProblem(roomId, text, clientMsgId);
      if (problem) return { problem, clientMsgId: null };
      room.addPending(clientMsgId, text, this.now(), options);
      // The others stop showing us as typing when this message reaches them, so the next
      // keystroke says so again at once rather than up to TYPING_EVERY_MS later.
      room.typingSentAt = null;
      this.pumpOutbox(room);
      this.emit({ room: roomId });
      return { problem: null, clientMsgId };
    },

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
    },

    discard(roomId, clientMsgId) {
      const room = this.rooms.get(roomId);
      if (room?.pending.delete(clientMsgId)) {
        this.clearSendTimer(clientMsgId);
        room.touch();
        this.events.fire('failed', { roomId, clientMsgId, problem: 'Discarded.' });
        this.settleOutbox(room);
        this.emit({ room: roomId });
      }
    },

    deleteMessage(roomId, messageId, replyTo = null) {
      const room = this.rooms.get(roomId);
      if (!room || room.status !== JOINED) return 'Not connected to this room right now.';
      return this.sendFrame(frames.delete(roomId, messageId, replyTo)) ? null : 'Not connected right now.';
    },

    /** Sends an edit of one of our messages; returns a sentence about bad input, or null. */
    editMessage(roomId, messageId, text, replyTo = null) {
      const room = this.rooms.get(roomId);
      if (!room || room.status !== JOINED) return 'Not connected to this room right now.';
      const problem = messageProblem(roomId, text);
      if (problem) return problem;
      return this.sendFrame(frames.edit(roomId, messageId, text, replyTo)) ? null : 'Not connected right now.';
    },

    // ----------------------------------------------------------------------- the outbox

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
    },

    /** After an answer: when the message in flight is settled (echoed, failed, gone), the next. */
    settleOutbox(room) {
      const entry = room.inFlight === null ? undefined : room.pending.get(room.inFlight);
      if (room.inFlight !== null && (entry === undefined || entry.status === FAILED)) {
        this.releaseOutbox(room);
      }
      this.pumpOutbox(room);
    },

    releaseOutbox(room) {
      if (room.inFlight !== null) this.clearSendTimer(room.inFlight);
      room.inFlight = null;
      if (room.retryTimer !== null) this.timers.clearTimeout(room.retryTimer);
      room.retryTimer = null;
    },

    /** A message given up: marked failed (Retry sends it again), and the next one goes. */
    failMessage(room, entry, problem) {
      entry.status = FAILED;
      entry.problem = problem;
      room.touch();
      this.events.fire('failed', { roomId: room.id, clientMsgId: entry.clientMsgId, problem });
      this.settleOutbox(room);
    },

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
    },

    transmit(room, entry) {
      if (!this.isOpen) {
        entry.status = QUEUED;
        return;
      }
      if (!this.takeSendSlot()) {
        this.enqueueSend(room, entry);
        return;
      }
      this.sendFrame(frames.sendAll(room.id, entry.message, entry.clientMsgId, entry));
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
        // Same connection, same clientMsgId: the server stores it at most once.
        if (entry.tries < 2) this.transmit(room, entry);
        else this.failMessage(room, entry, 'No answer from the server.');
        this.emit({ room: room.id });
      }, this.sendTimeoutMs);
      this.sendTimers.set(entry.clientMsgId, timer);
    },

    takeSendSlot() {
      const now = this.now();
      this.sendTimes = this.sendTimes.filter((t) => now - t < 1000);
      if (this.sendQueue.length > 0 || this.sendTimes.length >= this.maxSendsPerSecond) return false;
      this.sendTimes.push(now);
      return true;
    },

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
    },

    clearSendTimer(clientMsgId) {
      const timer = this.sendTimers.get(clientMsgId);
      if (timer !== undefined) this.timers.clearTimeout(timer);
      this.sendTimers.delete(clientMsgId);
    },

    /** Sends what waits in a room through its outbox, oldest first: typed while away, or
     * unconfirmed when we dropped (same clientMsgId: stored at most once). */
    flushPending(room) {
      this.releaseOutbox(room);
      for (const entry of room.pending.values()) {
        if (entry.status === SENDING) entry.status = QUEUED;
        if (entry.status === QUEUED) entry.tries = 0;
      }
      this.pumpOutbox(room);
    },
  },

  frames: {
    message(frame) {
      const room = this.rooms.get(frame.roomId);
      if (!room) return;
      if (typeof frame.sender === 'string') room.typing.delete(frame.sender);
      // A reply goes to its thread (features/threads.js), and to the room only if sent there too.
      const threaded = typeof frame.replyTo === 'string' ? this.addReply(room, frame) : null;
      if (threaded !== null && frame.alsoToRoom !== true) {
        if (threaded.own) {
          this.clearSendTimer(frame.clientMsgId);
          this.events.fire('sent', { roomId: room.id, clientMsgId: frame.clientMsgId, frame });
          this.settleOutbox(room);
        }
        this.emit({ room: room.id, rooms: true });
        return;
      }
      const { added, own } = room.addMessage(frame);
      if (own) {
        this.clearSendTimer(frame.clientMsgId);
        this.events.fire('sent', { roomId: room.id, clientMsgId: frame.clientMsgId, frame });
        this.settleOutbox(room); // acknowledged: the next message of the outbox goes
      }
      if (added && !own) this.countUnread(room, 1);
      if (added && room.id === this.active) this.sendReadMarker(room, false);
      if (added || own) this.emit({ room: room.id, rooms: true });
    },

    deleted(frame) {
      const room = this.rooms.get(frame.roomId);
      if (room && room.applyDeleted(frame)) this.emit({ room: room.id });
    },

    edited(frame) {
      const room = this.rooms.get(frame.roomId);
      if (room && room.applyEdited(frame)) this.emit({ room: room.id });
    },
  },

  errors: {
    sendAll(frame, room, text) {
      const entry = room && frame.clientMsgId ? room.pending.get(frame.clientMsgId) : undefined;
      if (!entry) return undefined;
      this.clearSendTimer(entry.clientMsgId);
      if (frame.code === 'rate_limited') {
        // Not stored: wait a full second and send it again, same clientMsgId.
        const now = this.now();
        this.sendTimes = Array.from({ length: this.maxSendsPerSecond }, () => now);
        entry.tries = 0;
        this.enqueueSend(room, entry);
        this.emit({ room: room.id });
        return 'done';
      }
      if (frame.code === 'internal' && (entry.serverErrors ?? 0) + 1 < this.maxServerErrors) {
        // A server fault, maybe passing: the same message again after a back-off.
        entry.serverErrors = (entry.serverErrors ?? 0) + 1;
        this.retryLater(room, entry, backoffDelay(entry.serverErrors - 1, { random: this.random }));
        this.emit({ room: room.id });
        return 'done';
      }
      if (frame.code === 'not_member' || frame.code === 'token_expired') {
        // Not a member (any more), or the token expired: it goes out again after the
        // automatic re-join (on a connection with a fresh token for the latter).
        entry.status = QUEUED;
        entry.problem = null;
        room.touch();
        this.releaseOutbox(room);
      } else {
        this.failMessage(room, entry, text);
      }
      return undefined;
    },
  },
};
