// Test doubles for the client: a WebSocket the test drives by hand, and a clock.

export class FakeClock {
  constructor(start = 1_700_000_000_000) {
    this.time = start;
    this.queue = new Map(); // id -> {at, fn}
    this.nextId = 1;
    this.timers = {
      setTimeout: (fn, ms) => {
        const id = this.nextId++;
        this.queue.set(id, { at: this.time + Math.max(0, ms), fn });
        return id;
      },
      clearTimeout: (id) => {
        this.queue.delete(id);
      },
    };
    this.now = () => this.time;
  }

  /** Runs every timer due within `ms`, in order, moving the clock as it goes. */
  advance(ms) {
    const end = this.time + ms;
    for (;;) {
      let next = null;
      for (const [id, timer] of this.queue) {
        if (timer.at <= end && (next === null || timer.at < next[1].at)) next = [id, timer];
      }
      if (next === null) break;
      this.queue.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
    }
    this.time = end;
  }

  pending() {
    return [...this.queue.values()].map((t) => t.at - this.time).sort((a, b) => a - b);
  }
}

export class FakeWebSocket {
  static instances = [];

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    FakeWebSocket.instances.push(this);
  }

  static reset() {
    FakeWebSocket.instances = [];
  }

  static last() {
    return FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
  }

  send(data) {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(data));
  }

  /** The frames sent since the last call (the test's view of the wire). */
  take() {
    const frames = this.sent;
    this.sent = [];
    return frames;
  }

  close(code = 1000, reason = '') {
    if (this.readyState === 3) return;
    this.closedWith = { code, reason };
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  // --- the server's side
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(frame) {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }

  serverClose(code = 1001, reason = 'Going away') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

let ulidCounter = 0;
/** Increasing ULID-like ids (26 Crockford base32 characters). */
export function id(n) {
  return `01J${String(n).padStart(23, '0')}`;
}

export function msg(n, { roomId = 'lobby', sender = 'bob', message = `m${n}`, clientMsgId = null } = {}) {
  ulidCounter += 1;
  return {
    type: 'message',
    roomId,
    messageId: id(n),
    sentAt: new Date(Date.UTC(2026, 0, 1, 12, 0, n)).toISOString(),
    sender,
    message,
    clientMsgId,
  };
}
