// The connection: connect with a URL (a token goes in its `?token=`), keepalive pings, and
// reconnecting with exponential back-off and jitter after any close the user did not ask for
// (idle timeout, the 2 h limit, a dropped network, a DELETE on @connections). On each new socket
// every room is joined again from the newest message it has (rooms.js: `join` with `after`) and
// the rest of what it missed fetched (history.js).

import { backoffDelay, checkName, describeClose, frames, roomIdProblem, webSocketUrlProblem } from '../protocol.js';
import { JOINING, LEAVING, REJOINING, Room } from '../room.js';
import { withToken } from '../token.js';

const SIGN_IN_AGAIN = 'Your sign-in has expired; sign in again to go on chatting.';

const NO_WEBSOCKET =
  'This runtime has no WebSocket: pass one as the WebSocket option (e.g. `ws` on Node 20, or run ' +
  'node --experimental-websocket), or use Node 22 or a browser.';

export const connection = {
  methods: {
    /** Starts a session; returns a sentence about bad input, or null. */
    connect(url, rawName, rooms = []) {
      if (typeof this.WebSocketImpl !== 'function') return NO_WEBSOCKET;
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
      for (const roomId of rooms) this.rooms.set(roomId, new Room(roomId));
      this.active = rooms[0] ?? null;
      this.setStatus('connecting');
      this.openSocket();
      this.emit({ status: true, rooms: true });
      return null;
    },

    /** Ends the session at the user's request: no reconnecting, rooms forgotten. */
    disconnect() {
      this.userClosed = true;
      this.closeSocket(1000, 'bye');
      this.cancelReconnect();
      this.rooms = new Map();
      this.active = null;
      this.setStatus('closed');
      this.emit({ status: true, rooms: true });
    },

    /** While waiting to reconnect: try now (the network came back, or the user asked). */
    reconnectNow() {
      if (this.status !== 'reconnecting' || this.timer.reconnect === null) return;
      this.cancelReconnect();
      this.openSocket();
      this.emit({ status: true });
    },

    /**
     * The server answered `token_expired`: the connection's token is past its `exp`, so every
     * action is refused. With a `freshToken` option, get a new token and reconnect with it (the
     * rooms are joined again and what was in flight is sent again); without one, or when it
     * gives none, stop and ask the user to sign in again.
     */
    renewToken() {
      if (this.renewing || this.userClosed) return;
      this.renewing = true;
      let fresh;
      try {
        fresh = this.freshToken ? this.freshToken() : null;
      } catch {
        fresh = null;
      }
      Promise.resolve(fresh)
        .catch(() => null)
        .then((token) => {
          this.renewing = false;
          if (this.userClosed) return;
          if (typeof token === 'string' && token.trim() !== '') {
            this.url = withToken(this.url, token);
            this.attempt = 0;
            this.closeSocket(4001, 'token expired');
            this.openSocket();
            this.setStatus('connecting');
            this.emit({ status: true, rooms: true });
            return;
          }
          this.pushError(SIGN_IN_AGAIN);
          this.disconnect();
        });
    },

    /** Closes the socket as a network failure would, so the client reconnects (for tests). */
    dropConnection() {
      if (this.ws) this.ws.close(4000, 'dropped by the page');
    },

    setStatus(status) {
      if (this.status === status) return;
      this.status = status;
      this.events.fire('status', status);
    },

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
      this.openedAt = null;
      ws.onopen = () => seq === this.socketSeq && this.onSocketOpen();
      ws.onmessage = (event) => seq === this.socketSeq && this.onSocketMessage(event.data);
      ws.onclose = (event) => this.onSocketClosed(seq, event.code, event.reason);
      ws.onerror = () => {}; // a close event follows, with what little the platform tells
    },

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
    },

    cancelReconnect() {
      if (this.timer.reconnect !== null) this.timers.clearTimeout(this.timer.reconnect);
      this.timer.reconnect = null;
      this.retryAt = null;
    },

    onSocketOpen() {
      this.socketOpened = true;
      this.openedAt = this.now();
      this.connections += 1;
      this.setStatus('open');
      this.scheduleKeepalive();
      for (const room of this.rooms.values()) {
        if (room.status === LEAVING) continue;
        room.status = room.everJoined ? REJOINING : JOINING;
        this.sendFrame(this.joinFrame(room));
      }
      this.emit({ status: true, rooms: true });
    },

    onSocketClosed(seq, code, reason) {
      if (seq !== this.socketSeq) return; // a socket we already replaced or closed ourselves
      this.socketSeq += 1; // nothing more from that socket counts
      const opened = this.socketOpened;
      this.ws = null;
      this.socketOpened = false;
      this.stopKeepalive();
      this.forgetInFlight();
      const at = this.now();
      this.lastClose = { code, reason: reason || '', at, opened };
      const connectedMs = opened && this.openedAt !== null ? at - this.openedAt : null;
      this.events.fire('close', { code, reason: reason || '', text: describeClose(code, { connectedMs }) });
      for (const room of [...this.rooms.values()]) {
        // The server drops every membership of a closed connection, so a leave is done.
        if (room.status === LEAVING) this.removeRoom(room.id);
        else room.status = room.everJoined ? REJOINING : JOINING;
        room.touch();
      }
      if (this.userClosed) {
        this.setStatus('closed');
        this.emit({ status: true, rooms: true });
        return;
      }
      const delay = backoffDelay(this.attempt, { ...this.backoff, random: this.random });
      this.attempt += 1;
      this.setStatus('reconnecting');
      this.retryAt = this.now() + delay;
      this.timer.reconnect = this.timers.setTimeout(() => {
        this.timer.reconnect = null;
        this.openSocket();
        this.emit({ status: true });
      }, delay);
      this.emit({ status: true, rooms: true });
    },

    /** What was in flight on a socket that closed: sent again after the re-join. */
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
        this.releaseOutbox(room);
      }
    },

    scheduleKeepalive() {
      this.stopKeepalive();
      this.timer.ping = this.timers.setTimeout(() => {
        this.timer.ping = null;
        if (!this.sendFrame(frames.ping())) return;
        this.timer.pong = this.timers.setTimeout(() => {
          // No pong: the connection is dead without having said so. Drop it and reconnect.
          this.timer.pong = null;
          this.dropConnection();
        }, this.pongTimeoutMs);
      }, this.pingIntervalMs);
    },

    stopKeepalive() {
      for (const key of ['ping', 'pong']) {
        if (this.timer[key] !== null) this.timers.clearTimeout(this.timer[key]);
        this.timer[key] = null;
      }
    },
  },

  frames: {
    pong() {
      if (this.timer.pong !== null) this.timers.clearTimeout(this.timer.pong);
      this.timer.pong = null;
      this.attempt = 0; // a live connection, even one in no room
      this.scheduleKeepalive();
    },

    /** The server closes this connection next (too many requests refused for rate): say why. */
    closing(frame) {
      const why = typeof frame.message === 'string' ? frame.message : 'the server closed the connection';
      this.pushError(`Disconnected by the server: ${why}`);
      this.attempt = Math.max(this.attempt, 3); // come back later than a plain drop would
      this.emit({ error: true });
    },
  },
};
