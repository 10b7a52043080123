import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';

import { ChatClient, CLOSED, OPEN, RECONNECTING } from '../src/client.js';
import { FAILED, JOINED, QUEUED, REJOINING, SENDING } from '../src/room.js';
import { FakeClock, FakeWebSocket, id, msg } from './fakes.js';

const URL = 'ws://127.0.0.1:8080/live';

function setup(options = {}) {
  FakeWebSocket.reset();
  const clock = new FakeClock();
  let n = 0;
  const client = new ChatClient({
    WebSocket: FakeWebSocket,
    timers: clock.timers,
    now: clock.now,
    random: () => 0.999999, // the top of each back-off step: easy to predict
    newClientMsgId: () => `c${++n}`,
    ...options,
  });
  return { client, clock };
}

/** Connects, opens the socket and answers each join with `recent`. */
function connected(rooms = ['lobby'], recent = {}) {
  const ctx = setup();
  ctx.client.connect(URL, 'ana', rooms);
  const ws = FakeWebSocket.last();
  ws.open();
  for (const frame of ws.take()) {
    assert.equal(frame.action, 'join');
    ws.receive({ type: 'joined', roomId: frame.roomId, name: 'ana', members: 1, recent: recent[frame.roomId] ?? [] });
  }
  ws.take(); // the members requests
  return { ...ctx, ws };
}

beforeEach(() => FakeWebSocket.reset());

describe('connecting and joining', () => {
  test('joins every room once the socket opens, then asks for its members', () => {
    const { client } = setup();
    assert.equal(client.connect(URL, '  ana ', ['lobby', 'dev']), null);
    const ws = FakeWebSocket.last();
    assert.equal(ws.url, URL);
    ws.open();
    assert.deepEqual(ws.take(), [
      { action: 'join', roomId: 'lobby', name: 'ana' },
      { action: 'join', roomId: 'dev', name: 'ana' },
    ]);
    ws.receive({ type: 'joined', roomId: 'lobby', name: 'ana', members: 3, recent: [msg(1), msg(2)] });
    assert.deepEqual(ws.take(), [
      { action: 'members', roomId: 'lobby' },
      // the room shown: what it shows is read, on every device of the user
      { action: 'markRead', roomId: 'lobby', messageId: id(2) },
    ]);
    const lobby = client.rooms.get('lobby');
    assert.equal(lobby.status, JOINED);
    assert.equal(lobby.memberCount, 3);
    assert.equal(lobby.messages.size, 2);
    assert.equal(lobby.unread, 0, 'history on join is not unread');
  });

  test('refuses bad input before touching the network', () => {
    const { client } = setup();
    assert.match(client.connect('http://x', 'ana'), /ws:\/\//);
    assert.match(client.connect(URL, ''), /display name/);
    assert.match(client.connect(URL, 'ana', ['bad room']), /no spaces/);
    assert.equal(FakeWebSocket.instances.length, 0);
  });

  test('a refused join removes the room and says why', () => {
    const { client, ws } = connected([]);
    client.join('x'.repeat(64));
    ws.receive({ type: 'error', code: 'internal', message: 'boom', action: 'join', roomId: 'x'.repeat(64) });
    assert.equal(client.rooms.size, 0);
    assert.match(client.errors.at(-1).text, /went wrong.*boom/);
  });

  test('leaving waits for the left frame', () => {
    const { client, ws } = connected(['lobby', 'dev']);
    client.leave('lobby');
    assert.deepEqual(ws.take(), [{ action: 'leave', roomId: 'lobby' }]);
    assert.equal(client.active, 'dev');
    ws.receive({ type: 'left', roomId: 'lobby' });
    assert.deepEqual([...client.rooms.keys()], ['dev']);
  });

  test('leaving a room whose join is in flight leaves once the join is answered', () => {
    const { client, ws } = connected([]);
    client.join('dev');
    client.leave('dev');
    assert.deepEqual(ws.take(), [{ action: 'join', roomId: 'dev', name: 'ana' }]);
    ws.receive({ type: 'joined', roomId: 'dev', name: 'ana', members: 1, recent: [] });
    assert.deepEqual(ws.take(), [{ action: 'leave', roomId: 'dev' }]);
    ws.receive({ type: 'left', roomId: 'dev' });
    assert.equal(client.rooms.size, 0);
  });
});

describe('messages', () => {
  test('every message carries a clientMsgId and stays pending until its echo', () => {
    const { client, ws } = connected();
    assert.equal(client.sendMessage('lobby', 'hello'), null);
    assert.deepEqual(ws.take(), [{ action: 'sendAll', roomId: 'lobby', message: 'hello', clientMsgId: 'c1' }]);
    const room = client.rooms.get('lobby');
    assert.equal(room.pending.get('c1').status, SENDING);
    ws.receive(msg(7, { sender: 'ana', message: 'hello', clientMsgId: 'c1' }));
    assert.equal(room.pending.size, 0);
    assert.equal(room.messages.get(id(7)).message, 'hello');
  });

  test('no echo in time: sent again with the same clientMsgId, then marked failed', () => {
    const { client, clock, ws } = connected();
    client.sendMessage('lobby', 'hello');
    ws.take();
    clock.advance(15_000);
    assert.deepEqual(ws.take(), [{ action: 'sendAll', roomId: 'lobby', message: 'hello', clientMsgId: 'c1' }]);
    clock.advance(15_000);
    const entry = client.rooms.get('lobby').pending.get('c1');
    assert.equal(entry.status, FAILED);
    assert.match(entry.problem, /No answer/);
    client.retry('lobby', 'c1');
    assert.deepEqual(ws.take().map((f) => f.clientMsgId), ['c1']);
  });

  test('an error for a message marks that message failed, in words', () => {
    const { client, ws } = connected();
    client.sendMessage('lobby', 'hello');
    ws.receive({ type: 'error', code: 'too_large', message: 'message is 40000 bytes; the limit is 32768', action: 'sendAll', roomId: 'lobby', clientMsgId: 'c1' });
    const entry = client.rooms.get('lobby').pending.get('c1');
    assert.equal(entry.status, FAILED);
    assert.match(entry.problem, /too long.*32768/);
    client.discard('lobby', 'c1');
    assert.equal(client.rooms.get('lobby').pending.size, 0);
  });

  /** The server's side of an outbox: echoes each sendAll as the stored message, in order. */
  function echoAll(ws, start = 100) {
    const sent = ws.take().filter((f) => f.action === 'sendAll');
    sent.forEach((f, i) => ws.receive(msg(start + i, { sender: 'ana', message: f.message, clientMsgId: f.clientMsgId })));
    return sent.map((f) => f.message);
  }

  test('the outbox sends one message at a time, the next once the previous is echoed', () => {
    const { client, ws } = connected();
    for (let i = 1; i <= 20; i += 1) client.sendMessage('lobby', `m${i}`);
    // typed as fast as possible: only the first is on the wire
    assert.deepEqual(ws.take().map((f) => f.message), ['m1']);
    const room = client.rooms.get('lobby');
    assert.equal(room.pending.get('c1').status, SENDING);
    assert.equal(room.pending.get('c2').status, QUEUED);
    ws.receive(msg(101, { sender: 'ana', message: 'm1', clientMsgId: 'c1' }));
    // (the active room's read marker moves too: a markRead frame, not a message)
    assert.deepEqual(ws.take().filter((f) => f.action === 'sendAll').map((f) => f.message), ['m2']);
  });

  test('20 messages typed at once are sent, echoed and shown in the order typed', () => {
    const { client, clock, ws } = connected();
    const typed = Array.from({ length: 20 }, (_, i) => `m${i + 1}`);
    for (const text of typed) client.sendMessage('lobby', text);
    const wire = [];
    for (let round = 0; round < 40 && wire.length < 20; round += 1) {
      const sent = ws.take().filter((f) => f.action === 'sendAll');
      assert.ok(sent.length <= 1, 'never two in flight');
      for (const f of sent) {
        wire.push(f.message);
        ws.receive(msg(100 + wire.length, { sender: 'ana', message: f.message, clientMsgId: f.clientMsgId }));
      }
      if (sent.length === 0) clock.advance(250); // waiting for a send slot (8 a second)
    }
    assert.deepEqual(wire, typed);
    const room = client.rooms.get('lobby');
    assert.equal(room.pending.size, 0);
    const shown = room.timeline().filter((e) => e.kind === 'message').map((e) => e.msg.message);
    assert.deepEqual(shown, typed);
  });

  test('a burst goes out at most 8 a second, even when echoed at once', () => {
    const { client, clock, ws } = connected();
    for (let i = 1; i <= 12; i += 1) client.sendMessage('lobby', `m${i}`);
    const first = [];
    for (let i = 0; i < 12; i += 1) first.push(...echoAll(ws, 100 + first.length));
    assert.deepEqual(first, ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8']);
    assert.equal(client.rooms.get('lobby').pending.get('c9').status, QUEUED);
    clock.advance(1001);
    assert.deepEqual(echoAll(ws, 200), ['m9']);
  });

  test('a failed message does not hold up the ones typed after it', () => {
    const { client, ws } = connected();
    client.sendMessage('lobby', 'bad');
    client.sendMessage('lobby', 'good');
    assert.deepEqual(ws.take().map((f) => f.clientMsgId), ['c1']);
    ws.receive({ type: 'error', code: 'bad_request', message: 'nope', action: 'sendAll', roomId: 'lobby', clientMsgId: 'c1' });
    assert.equal(client.rooms.get('lobby').pending.get('c1').status, FAILED);
    assert.deepEqual(ws.take().map((f) => f.clientMsgId), ['c2']);
  });

  test('an internal error sends the same message again after a back-off, before the next', () => {
    const { client, clock, ws } = connected();
    client.sendMessage('lobby', 'first');
    client.sendMessage('lobby', 'second');
    ws.take();
    const internal = { type: 'error', code: 'internal', message: 'try again', action: 'sendAll', roomId: 'lobby', clientMsgId: 'c1' };
    ws.receive(internal);
    assert.equal(client.errors.length, 0);
    assert.deepEqual(ws.take(), []);
    clock.advance(500);
    assert.deepEqual(ws.take().map((f) => f.clientMsgId), ['c1']);
    ws.receive(internal);
    clock.advance(1000);
    assert.deepEqual(ws.take().map((f) => f.clientMsgId), ['c1']);
    ws.receive(internal); // the third: failed for good, and said
    assert.equal(client.rooms.get('lobby').pending.get('c1').status, FAILED);
    assert.equal(client.errors.length, 1);
    assert.deepEqual(ws.take().map((f) => f.clientMsgId), ['c2']);
  });

  test('a rate-limited message is sent again a second later, same clientMsgId, no alert', () => {
    const { client, clock, ws } = connected();
    client.sendMessage('lobby', 'hello');
    ws.take();
    ws.receive({ type: 'error', code: 'rate_limited', message: 'more than 10 messages a second; this one was not sent', action: 'sendAll', roomId: 'lobby', clientMsgId: 'c1' });
    assert.equal(client.rooms.get('lobby').pending.get('c1').status, QUEUED);
    assert.equal(client.errors.length, 0);
    clock.advance(999);
    assert.deepEqual(ws.take(), []);
    clock.advance(2);
    assert.deepEqual(ws.take(), [{ action: 'sendAll', roomId: 'lobby', message: 'hello', clientMsgId: 'c1' }]);
  });

  test('a message too big for one frame is refused locally', () => {
    const { client, ws } = connected();
    assert.match(client.sendMessage('lobby', 'x'.repeat(32 * 1024)), /too long/);
    assert.deepEqual(ws.take(), []);
  });

  test('messages in other rooms count as unread until the room is shown', () => {
    const { client, ws } = connected(['lobby', 'dev']);
    assert.equal(client.active, 'lobby');
    ws.receive(msg(1, { roomId: 'dev' }));
    ws.receive(msg(2, { roomId: 'dev' }));
    ws.receive(msg(2, { roomId: 'dev' })); // a duplicate is not a new unread
    ws.receive(msg(3, { roomId: 'lobby' }));
    assert.equal(client.rooms.get('dev').unread, 2);
    assert.equal(client.rooms.get('lobby').unread, 0);
    client.setActive('dev');
    assert.equal(client.rooms.get('dev').unread, 0);
  });

  test('frames for rooms we are not in are ignored', () => {
    const { client, ws } = connected();
    ws.receive(msg(1, { roomId: 'elsewhere' }));
    ws.receive({ type: 'presence', event: 'join', roomId: 'elsewhere', name: 'x' });
    assert.deepEqual([...client.rooms.keys()], ['lobby']);
  });

  test('presence adds a notice and updates the members', () => {
    const { client, ws } = connected();
    ws.receive({ type: 'members', roomId: 'lobby', members: ['ana'] });
    ws.receive({ type: 'presence', event: 'join', roomId: 'lobby', name: 'bob' });
    const room = client.rooms.get('lobby');
    assert.deepEqual(room.members, ['ana', 'bob']);
    ws.receive({ type: 'presence', event: 'leave', roomId: 'lobby', name: 'bob' });
    assert.deepEqual(room.members, ['ana']);
    assert.deepEqual(room.notices.map((n) => n.text), ['bob joined', 'bob left']);
  });
});

describe('history', () => {
  test('"load older" starts before the oldest recent message, then follows `next`', () => {
    const { client, ws } = connected(['lobby'], { lobby: [msg(10), msg(11)] });
    client.loadOlder('lobby');
    assert.deepEqual(ws.take(), [{ action: 'history', roomId: 'lobby', limit: 50, before: id(10) }]);
    client.loadOlder('lobby'); // one page at a time
    assert.deepEqual(ws.take(), []);
    ws.receive({ type: 'history', roomId: 'lobby', messages: [msg(8), msg(9)], next: id(8) });
    client.loadOlder('lobby');
    assert.deepEqual(ws.take(), [{ action: 'history', roomId: 'lobby', limit: 50, before: id(8) }]);
    ws.receive({ type: 'history', roomId: 'lobby', messages: [msg(7)], next: null });
    const room = client.rooms.get('lobby');
    assert.equal(room.olderExhausted, true);
    assert.deepEqual([...room.messages.keys()].sort(), [7, 8, 9, 10, 11].map(id));
    client.loadOlder('lobby');
    assert.deepEqual(ws.take(), []);
  });

  test('`joined.next` null: `recent` reaches the start of the room, nothing older to load', () => {
    const { client } = setup();
    client.connect(URL, 'ana', ['lobby']);
    const ws = FakeWebSocket.last();
    ws.open();
    ws.take();
    ws.receive({ type: 'joined', roomId: 'lobby', name: 'ana', members: 1, recent: [msg(1), msg(2)], next: null });
    ws.take();
    const room = client.rooms.get('lobby');
    assert.equal(room.olderExhausted, true);
    client.loadOlder('lobby');
    assert.deepEqual(ws.take(), []);
  });

  test('`joined.next` a cursor: "load older" starts there (recent trimmed to fit 128 KB)', () => {
    const ctx = setup();
    ctx.client.connect(URL, 'ana', ['lobby']);
    const ws = FakeWebSocket.last();
    ws.open();
    ws.take();
    ws.receive({ type: 'joined', roomId: 'lobby', name: 'ana', members: 1, recent: [msg(12)], next: id(12) });
    ws.take();
    assert.equal(ctx.client.rooms.get('lobby').olderExhausted, false);
    ctx.client.loadOlder('lobby');
    assert.deepEqual(ws.take(), [{ action: 'history', roomId: 'lobby', limit: 50, before: id(12) }]);
  });

  test('after a reconnect, `joined.next` null means no gap to fill from history', () => {
    const { client, clock, ws } = connected(['lobby'], { lobby: [msg(1)] });
    ws.serverClose(1006, '');
    clock.advance(500);
    const ws2 = FakeWebSocket.last();
    ws2.open();
    ws2.take();
    ws2.receive({ type: 'joined', roomId: 'lobby', name: 'ana', members: 1, recent: [msg(2), msg(3)], next: null });
    assert.deepEqual(ws2.take(), [{ action: 'members', roomId: 'lobby' }]);
    assert.equal(client.rooms.get('lobby').catchingUp, false);
  });

  test('an empty room has nothing older to load', () => {
    const { client, ws } = connected();
    client.loadOlder('lobby');
    assert.deepEqual(ws.take(), []);
    assert.equal(client.rooms.get('lobby').olderExhausted, true);
  });

  test('a history error without a roomId ends the one request in flight', () => {
    const { client, ws } = connected(['lobby'], { lobby: [msg(10)] });
    client.loadOlder('lobby');
    ws.receive({ type: 'error', code: 'bad_request', message: "'limit' must be from 1 to 100", action: 'history' });
    assert.equal(client.rooms.get('lobby').loadingOlder, false);
    assert.match(client.errors.at(-1).text, /could not accept.*limit/);
  });

  test('a history error ends the loading state and shows the reason', () => {
    const { client, ws } = connected(['lobby'], { lobby: [msg(10)] });
    client.loadOlder('lobby');
    ws.receive({ type: 'error', code: 'internal', message: 'try again', action: 'history', roomId: 'lobby' });
    const room = client.rooms.get('lobby');
    assert.equal(room.loadingOlder, false);
    assert.match(room.problem, /try again/);
  });
});

describe('reconnecting', () => {
  test('any close we did not ask for reconnects with growing back-off', () => {
    const { client, clock, ws } = connected();
    ws.serverClose(1001, 'Going away');
    assert.equal(client.status, RECONNECTING);
    assert.deepEqual(clock.pending(), [500]);
    clock.advance(500);
    assert.equal(FakeWebSocket.instances.length, 2);
    FakeWebSocket.last().serverClose(1006, ''); // refused before opening
    assert.deepEqual(clock.pending(), [1000]);
    clock.advance(1000);
    FakeWebSocket.last().serverClose(1006, '');
    assert.deepEqual(clock.pending(), [2000]);
    assert.equal(client.rooms.get('lobby').status, REJOINING);
  });

  test('a good re-join resets the back-off', () => {
    const { client, clock, ws } = connected();
    ws.serverClose();
    clock.advance(500);
    FakeWebSocket.last().serverClose(1006);
    clock.advance(1000);
    const ws3 = FakeWebSocket.last();
    ws3.open();
    ws3.receive({ type: 'joined', roomId: 'lobby', name: 'ana', members: 1, recent: [] });
    ws3.serverClose();
    assert.deepEqual(clock.pending(), [500]);
    assert.equal(client.status, RECONNECTING);
  });

  test('re-joins from the newest message it has (after): the replay, its continuation and the edits and deletes since, each message once', () => {
    const { client, clock, ws } = connected(['lobby'], { lobby: [msg(1), msg(2), msg(3)] });
    client.sendMessage('lobby', 'typed before the drop'); // c1: sent, never echoed
    ws.take();
    ws.serverClose(1006, '');
    clock.advance(500);
    const ws2 = FakeWebSocket.last();
    ws2.open();
    assert.deepEqual(ws2.take(), [{ action: 'join', roomId: 'lobby', name: 'ana', after: id(3) }]);
    ws2.receive({
      type: 'joined', roomId: 'lobby', name: 'ana', members: 2, recent: [msg(4), msg(5)], next: id(4),
      updated: [{ ...msg(1), message: null, deletedBy: 'bob', deletedAt: '2026-01-01T12:01:00.000Z' },
        { ...msg(2), message: 'm2, edited', editedAt: '2026-01-01T12:01:01.000Z' }, msg(99)],
      recovered: true, resumeNext: id(5),
    });
    assert.deepEqual(ws2.take(), [
      { action: 'members', roomId: 'lobby' },
      { action: 'history', roomId: 'lobby', limit: 100, after: id(5) },
    ]);
    const room = client.rooms.get('lobby');
    assert.equal(room.catchingUp, true);
    assert.equal(room.messages.get(id(1)).deletedAt, '2026-01-01T12:01:00.000Z');
    assert.equal(room.messages.get(id(2)).message, 'm2, edited');
    assert.equal(room.messages.has(id(99)), false, 'an update of a message we never had is not shown');
    ws2.receive(msg(7)); // live, while the continuation is read: shown once
    ws2.receive({ type: 'history', roomId: 'lobby', messages: [msg(6)], next: id(6), updated: [], recovered: true });
    assert.deepEqual(ws2.take(), [{ action: 'history', roomId: 'lobby', limit: 100, after: id(6) }]);
    ws2.receive({ type: 'history', roomId: 'lobby', messages: [msg(7), msg(8, { sender: 'ana', message: 'typed before the drop', clientMsgId: 'c1' })], next: null, updated: [], recovered: true });
    // c1 was stored before the drop: found in the replay, not sent again
    assert.deepEqual(ws2.take(), []);
    assert.equal(room.pending.size, 0);
    assert.equal(room.catchingUp, false);
    assert.deepEqual([...room.messages.keys()].sort(), [1, 2, 3, 4, 5, 6, 7, 8].map(id));
  });

  test('a resume point past the history kept: a notice, no paging back, what waits is sent', () => {
    const { client, clock, ws } = connected(['lobby'], { lobby: [msg(1)] });
    ws.serverClose(1006, '');
    client.sendMessage('lobby', 'typed while away');
    clock.advance(500);
    const ws2 = FakeWebSocket.last();
    ws2.open();
    assert.deepEqual(ws2.take(), [{ action: 'join', roomId: 'lobby', name: 'ana', after: id(1) }]);
    ws2.receive({ type: 'joined', roomId: 'lobby', name: 'ana', members: 1, recent: [msg(50)], next: id(50), updated: [], recovered: false, resumeNext: null });
    assert.deepEqual(ws2.take(), [
      { action: 'members', roomId: 'lobby' },
      { action: 'sendAll', roomId: 'lobby', message: 'typed while away', clientMsgId: 'c1' },
    ]);
    const room = client.rooms.get('lobby');
    assert.ok(room.notices.some((n) => /older than the history kept/.test(n.text)));
  });

  test('re-joins a server without resume: fills the gap from history without duplicates, then resends what was not stored', () => {
    const { client, clock, ws } = connected(['lobby'], { lobby: [msg(1), msg(2)] });
    client.sendMessage('lobby', 'lost on the way'); // c1: sent, never echoed
    ws.take();
    ws.serverClose(1000, 'Connection deleted');
    client.sendMessage('lobby', 'typed while away'); // c2: queued
    assert.equal(client.rooms.get('lobby').pending.get('c2').status, QUEUED);
    clock.advance(500);
    const ws2 = FakeWebSocket.last();
    ws2.open();
    assert.deepEqual(ws2.take(), [{ action: 'join', roomId: 'lobby', name: 'ana', after: id(2) }]);
    // 5 messages arrived while away; `recent` holds the last 2 of them (no `recovered`).
    ws2.receive({ type: 'joined', roomId: 'lobby', name: 'ana', members: 2, recent: [msg(6), msg(7)] });
    assert.deepEqual(ws2.take(), [
      { action: 'members', roomId: 'lobby' },
      { action: 'history', roomId: 'lobby', limit: 100, before: id(6) },
    ]);
    assert.equal(client.rooms.get('lobby').catchingUp, true);
    ws2.receive({ type: 'history', roomId: 'lobby', messages: [msg(4), msg(5)], next: id(4) });
    assert.deepEqual(ws2.take(), [{ action: 'history', roomId: 'lobby', limit: 100, before: id(4) }]);
    ws2.receive({ type: 'history', roomId: 'lobby', messages: [msg(2), msg(3)], next: id(2) });
    // reached what we had: the pending messages go out through the outbox, oldest first, one
    // at a time, same clientMsgIds
    assert.deepEqual(ws2.take(), [
      { action: 'sendAll', roomId: 'lobby', message: 'lost on the way', clientMsgId: 'c1' },
    ]);
    ws2.receive(msg(8, { sender: 'ana', message: 'lost on the way', clientMsgId: 'c1' }));
    assert.deepEqual(ws2.take(), [
      { action: 'sendAll', roomId: 'lobby', message: 'typed while away', clientMsgId: 'c2' },
    ]);
    ws2.receive(msg(9, { sender: 'ana', message: 'typed while away', clientMsgId: 'c2' }));
    const room = client.rooms.get('lobby');
    assert.deepEqual([...room.messages.keys()].sort(), [1, 2, 3, 4, 5, 6, 7, 8, 9].map(id));
    assert.equal(room.timeline().filter((e) => e.kind === 'message').length, 9);
    assert.equal(room.catchingUp, false);
  });

  test('a message stored before the drop is found in history and not sent again', () => {
    const { client, clock, ws } = connected(['lobby'], { lobby: [msg(1)] });
    client.sendMessage('lobby', 'did it arrive?');
    ws.take();
    ws.serverClose(1006, '');
    clock.advance(500);
    const ws2 = FakeWebSocket.last();
    ws2.open();
    ws2.take();
    ws2.receive({
      type: 'joined', roomId: 'lobby', name: 'ana', members: 1,
      recent: [msg(1), msg(2, { sender: 'ana', message: 'did it arrive?', clientMsgId: 'c1' })],
    });
    assert.deepEqual(ws2.take(), [{ action: 'members', roomId: 'lobby' }]);
    const room = client.rooms.get('lobby');
    assert.equal(room.pending.size, 0);
    assert.equal(room.messages.size, 2);
  });

  test('gap messages in a background room count as unread', () => {
    const { client, clock, ws } = connected(['lobby', 'dev'], { dev: [msg(1, { roomId: 'dev' })] });
    ws.serverClose();
    clock.advance(500);
    const ws2 = FakeWebSocket.last();
    ws2.open();
    ws2.receive({ type: 'joined', roomId: 'dev', name: 'ana', members: 1, recent: [msg(1, { roomId: 'dev' }), msg(2, { roomId: 'dev' })] });
    assert.equal(client.rooms.get('dev').unread, 1);
  });

  test('disconnecting on purpose does not reconnect', () => {
    const { client, clock, ws } = connected();
    client.disconnect();
    assert.equal(ws.closedWith.code, 1000);
    assert.equal(client.status, CLOSED);
    clock.advance(60_000);
    assert.equal(FakeWebSocket.instances.length, 1);
  });

  test('a history answer from the old connection cannot confuse the new one', () => {
    const { client, clock, ws } = connected(['lobby'], { lobby: [msg(5)] });
    client.loadOlder('lobby');
    ws.serverClose();
    ws.receive({ type: 'history', roomId: 'lobby', messages: [msg(1)], next: null }); // late, ignored
    assert.equal(client.rooms.get('lobby').messages.size, 1);
    clock.advance(500);
    assert.equal(client.rooms.get('lobby').loadingOlder, false);
  });

  test('not_member for a room we are in re-joins it and resends the message', () => {
    const { client, ws } = connected(['lobby'], { lobby: [msg(1)] });
    client.sendMessage('lobby', 'hi');
    ws.take();
    ws.receive({ type: 'error', code: 'not_member', message: 'join it first', action: 'sendAll', roomId: 'lobby', clientMsgId: 'c1' });
    assert.deepEqual(ws.take(), [{ action: 'join', roomId: 'lobby', name: 'ana', after: id(1) }]);
    assert.equal(client.errors.length, 0, 'handled without bothering the user');
    ws.receive({ type: 'joined', roomId: 'lobby', name: 'ana', members: 1, recent: [msg(1)] });
    assert.deepEqual(ws.take().filter((f) => f.action === 'sendAll').map((f) => f.clientMsgId), ['c1']);
  });
});

describe('keepalive', () => {
  test('pings every 4 minutes while open', () => {
    const { clock, ws } = connected();
    clock.advance(4 * 60_000 - 1);
    assert.deepEqual(ws.take(), []);
    clock.advance(1);
    assert.deepEqual(ws.take(), [{ action: 'ping' }]);
    ws.receive({ type: 'pong' });
    clock.advance(4 * 60_000);
    assert.deepEqual(ws.take(), [{ action: 'ping' }]);
  });

  test('a pong resets the back-off, even in no room', () => {
    const { client, clock, ws } = connected([]);
    ws.serverClose();
    clock.advance(500);
    FakeWebSocket.last().serverClose(1006);
    clock.advance(1000);
    const ws3 = FakeWebSocket.last();
    ws3.open();
    clock.advance(4 * 60_000);
    ws3.receive({ type: 'pong' });
    ws3.serverClose();
    assert.deepEqual(clock.pending(), [500]);
    assert.equal(client.status, RECONNECTING);
  });

  test('no pong: the connection is dropped and re-made', () => {
    const { client, clock, ws } = connected();
    clock.advance(4 * 60_000);
    clock.advance(30_000);
    assert.equal(ws.closedWith.code, 4000);
    assert.equal(client.status, RECONNECTING);
    clock.advance(500);
    FakeWebSocket.last().open();
    assert.equal(client.status, OPEN);
  });
});

describe('the life of a message, typing and read markers', () => {
  test('a joined room not shown takes its unread count from the server', () => {
    const { client } = setup();
    client.connect(URL, 'ana', ['lobby', 'dev']);
    client.setActive('lobby');
    const ws = FakeWebSocket.last();
    ws.open();
    ws.take();
    ws.receive({ type: 'joined', roomId: 'dev', name: 'ana', members: 2, recent: [msg(1, { roomId: 'dev' })], you: 'A', lastRead: null, unread: 100, unreadCapped: true });
    const dev = client.rooms.get('dev');
    assert.equal(dev.unread, 100);
    assert.equal(dev.unreadCapped, true);
    client.setActive('dev');
    assert.equal(dev.unread, 0);
    assert.deepEqual(ws.take().filter((f) => f.action === 'markRead'), [{ action: 'markRead', roomId: 'dev', messageId: id(1) }]);
  });

  test('deleted and edited frames change a shown message in place', () => {
    const { client, ws } = connected(['lobby'], { lobby: [msg(1), msg(2)] });
    ws.receive({ type: 'edited', roomId: 'lobby', messageId: id(1), message: 'new', editedAt: '2024-01-01T00:00:00.000Z' });
    ws.receive({ type: 'deleted', roomId: 'lobby', messageId: id(2), deletedBy: 'B', deletedAt: '2024-01-01T00:00:01.000Z' });
    const lobby = client.rooms.get('lobby');
    assert.equal(lobby.messages.get(id(1)).message, 'new');
    assert.equal(lobby.messages.get(id(1)).editedAt, '2024-01-01T00:00:00.000Z');
    assert.equal(lobby.messages.get(id(2)).message, '');
    assert.ok(lobby.messages.get(id(2)).deletedAt);
    assert.deepEqual([...lobby.messages.keys()], [id(1), id(2)], 'same place');
  });

  test('own messages are those carrying joined.you as authorId; tombstones are nobody\'s', () => {
    const { client } = setup();
    client.connect(URL, 'ana', ['lobby']);
    const sock = FakeWebSocket.last();
    sock.open();
    sock.take();
    sock.receive({ type: 'joined', roomId: 'lobby', name: 'ana', members: 1, you: 'A', recent: [
      { ...msg(1), authorId: 'A' }, { ...msg(2), authorId: 'B' },
      { ...msg(3), authorId: 'A', message: null, deletedAt: '2024-01-01T00:00:00.000Z', deletedBy: 'A' },
    ] });
    const lobby = client.rooms.get('lobby');
    assert.equal(lobby.isOwn(lobby.messages.get(id(1))), true);
    assert.equal(lobby.isOwn(lobby.messages.get(id(2))), false);
    assert.equal(lobby.isOwn(lobby.messages.get(id(3))), false);
  });

  test('typing is sent at most every 3 s and shown for 4 s', () => {
    const { client, ws, clock } = connected(['lobby']);
    client.typing('lobby');
    client.typing('lobby');
    assert.deepEqual(ws.take(), [{ action: 'typing', roomId: 'lobby' }]);
    clock.advance(3000);
    client.typing('lobby');
    assert.deepEqual(ws.take(), [{ action: 'typing', roomId: 'lobby' }]);
    ws.receive({ type: 'typing', roomId: 'lobby', name: 'bob', userId: 'B' });
    const lobby = client.rooms.get('lobby');
    assert.deepEqual(lobby.typingNames(clock.now()), ['bob']);
    clock.advance(4100);
    assert.deepEqual(lobby.typingNames(clock.now()), []);
  });

  test('typing again right after sending a message is announced at once', () => {
    const { client, ws } = connected(['lobby']);
    client.typing('lobby');
    assert.equal(client.sendMessage('lobby', 'hi'), null);
    ws.take();
    client.typing('lobby');
    assert.deepEqual(ws.take(), [{ action: 'typing', roomId: 'lobby' }]);
  });

  test('edit and delete send their frames; a bad edit is refused before sending', () => {
    const { client, ws } = connected(['lobby'], { lobby: [msg(1)] });
    assert.equal(client.editMessage('lobby', id(1), 'fixed'), null);
    assert.equal(client.deleteMessage('lobby', id(1)), null);
    assert.notEqual(client.editMessage('lobby', id(1), ''), null);
    assert.deepEqual(ws.take(), [
      { action: 'edit', roomId: 'lobby', messageId: id(1), message: 'fixed' },
      { action: 'delete', roomId: 'lobby', messageId: id(1) },
    ]);
  });

  test('a kick of ours removes the room instead of re-joining; one of another member is a notice', () => {
    const { client } = setup();
    client.connect(URL, 'ana', ['lobby', 'dev']);
    const ws = FakeWebSocket.last();
    ws.open();
    ws.take();
    for (const roomId of ['lobby', 'dev']) {
      ws.receive({ type: 'joined', roomId, name: 'ana', members: 2, recent: [], you: 'A' });
    }
    ws.take();
    ws.receive({ type: 'kicked', roomId: 'dev', userId: 'M', names: ['mal'], banned: false, bannedUntil: null });
    assert.ok(client.rooms.get('dev').notices.some((n) => n.text === 'mal was removed'));
    ws.receive({ type: 'kicked', roomId: 'lobby', userId: 'A', names: ['ana'], banned: true, bannedUntil: null });
    assert.equal(client.rooms.has('lobby'), false);
    assert.deepEqual(ws.take(), [], 'no quiet re-join');
    assert.match(client.errors.at(-1).text, /removed from #lobby and banned/);
  });

  test('a refused typing or read-marker frame is not shown as an error', () => {
    const { client, ws } = connected(['lobby'], { lobby: [msg(1)] });
    ws.receive({ type: 'error', code: 'rate_limited', message: 'slow down', action: 'typing', roomId: 'lobby' });
    ws.receive({ type: 'error', code: 'rate_limited', message: 'slow down', action: 'markRead', roomId: 'lobby' });
    assert.deepEqual(client.errors, []);
    assert.equal(client.rooms.get('lobby').markerSent, null, 'sent again later');
  });
});

describe('an expired token', () => {
  test('token_expired: reconnects with a fresh token, joins again and sends the message again', async () => {
    FakeWebSocket.reset();
    const clock = new FakeClock();
    let n = 0;
    const client = new ChatClient({
      WebSocket: FakeWebSocket,
      timers: clock.timers,
      now: clock.now,
      random: () => 0.999999,
      newClientMsgId: () => `c${++n}`,
      freshToken: () => 'fresh.token.value',
    });
    client.connect(`${URL}?token=old.token.value`, 'ana', ['lobby']);
    const first = FakeWebSocket.last();
    first.open();
    first.receive({ type: 'joined', roomId: 'lobby', name: 'ana', members: 1, recent: [] });
    first.take();
    client.send('lobby', 'after expiry');
    const [sent] = first.take().filter((f) => f.action === 'sendAll');
    first.receive({
      type: 'error', code: 'token_expired', action: 'sendAll', roomId: 'lobby',
      clientMsgId: sent.clientMsgId, message: 'your sign-in token has expired; reconnect with a fresh token',
    });
    await new Promise((resolve) => setImmediate(resolve)); // the fresh token's promise
    const second = FakeWebSocket.last();
    assert.notEqual(second, first);
    assert.equal(first.closedWith.code, 4001);
    assert.equal(new globalThis.URL(second.url).searchParams.get('token'), 'fresh.token.value');
    second.open();
    const rejoin = second.take();
    assert.equal(rejoin[0].action, 'join');
    second.receive({ type: 'joined', roomId: 'lobby', name: 'ana', members: 1, recent: [] });
    const again = second.take().filter((f) => f.action === 'sendAll');
    assert.equal(again.length, 1);
    assert.equal(again[0].clientMsgId, sent.clientMsgId); // the same message, not lost
    assert.equal(client.errors.length, 0);
  });

  test('token_expired without a way to get a fresh token: stops and says to sign in again', async () => {
    const { client, ws } = connected();
    ws.receive({ type: 'error', code: 'token_expired', action: 'typing', roomId: 'lobby', message: 'expired' });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(client.status, CLOSED);
    assert.equal(FakeWebSocket.instances.length, 1); // no reconnect with the same dead token
    assert.match(client.errors.at(-1).text, /sign in again/);
  });
});

describe('closed by the server', () => {
  test('a closing frame is shown, and the reconnect waits longer than after a plain drop', () => {
    const { client, ws, clock } = connected();
    ws.receive({ type: 'closing', code: 'rate_limited', message: 'too many requests refused; slow down' });
    assert.match(client.errors.at(-1).text, /slow down/);
    ws.close(1000, ''); // the @connections DELETE
    assert.equal(client.status, RECONNECTING);
    assert.ok(clock.pending()[0] >= 2000, clock.pending()); // back-off from the 4th step
  });
});
