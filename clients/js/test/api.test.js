import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ACTIONS, ChatClient, FEATURES, describeClose, frames } from '../src/index.js';
import { FakeClock, FakeWebSocket, id, msg } from './fakes.js';

const URL = 'ws://127.0.0.1:8080/live';

function open(rooms = ['lobby']) {
  FakeWebSocket.reset();
  const clock = new FakeClock();
  let n = 0;
  const client = new ChatClient({
    WebSocket: FakeWebSocket,
    timers: clock.timers,
    now: clock.now,
    newClientMsgId: () => `c${++n}`,
  });
  client.connect(URL, 'ana', rooms);
  const ws = FakeWebSocket.last();
  ws.open();
  ws.take();
  return { client, clock, ws };
}

describe('events for programs', () => {
  test('every frame, and each frame by its type, after the client has taken it in', () => {
    const { client, ws } = open();
    const seen = [];
    client.on('frame', (f) => seen.push(`frame:${f.type}`));
    const off = client.on('message', (m) => seen.push(`message:${m.message}:${client.rooms.get('lobby').messages.size}`));
    ws.receive({ type: 'joined', roomId: 'lobby', name: 'ana', members: 1, recent: [], next: null });
    ws.receive(msg(1, { message: 'hi' }));
    off();
    ws.receive(msg(2));
    assert.deepEqual(seen, ['frame:joined', 'frame:message', 'message:hi:1', 'frame:message']);
  });

  test('whenJoined resolves with the room, or rejects with the refusal in words', async () => {
    const { client, ws } = open(['lobby', 'team']);
    const lobby = client.whenJoined('lobby');
    const team = client.whenJoined('team');
    ws.receive({ type: 'joined', roomId: 'lobby', name: 'ana', members: 1, recent: [], next: null });
    ws.receive({ type: 'error', code: 'forbidden', action: 'join', roomId: 'team', message: 'invitation-only' });
    assert.equal((await lobby).id, 'lobby');
    await assert.rejects(team, /may not do that in that room in #team: invitation-only/);
  });

  test('send resolves with the stored message, or rejects when it is refused for good', async () => {
    const { client, ws } = open();
    ws.receive({ type: 'joined', roomId: 'lobby', name: 'ana', members: 1, recent: [], next: null });
    ws.take();
    const first = client.send('lobby', 'hello');
    ws.receive(msg(1, { sender: 'ana', message: 'hello', clientMsgId: 'c1' }));
    assert.equal((await first).messageId, id(1));
    const second = client.send('lobby', 'bad');
    ws.receive({ type: 'error', code: 'rejected', action: 'sendAll', roomId: 'lobby', clientMsgId: 'c2', message: 'no' });
    await assert.rejects(second, /not accepted in #lobby: no/);
    await assert.rejects(client.send('nowhere', 'x'), /Join a room first/);
  });

  test('close says why, and 1001 is the server going away unless a limit explains it', () => {
    const { client, ws, clock } = open();
    const closes = [];
    client.on('close', (c) => closes.push(c.text));
    ws.serverClose(1001, 'Going away');
    assert.deepEqual(closes, ['the server went away (stopped or restarted)']);
    assert.equal(describeClose(1001, { connectedMs: 2 * 3600_000 }), 'closed by the server at the 2-hour connection limit');
    assert.equal(describeClose(1001, { idleMs: 11 * 60_000 }), 'closed by the server after 10 idle minutes');
    assert.equal(describeClose(4321), 'closed (code 4321)');
    void clock;
  });
});

describe('every action of the protocol', () => {
  test('has a frame builder, and moderation sends kick and disconnectUser', () => {
    assert.deepEqual([...ACTIONS].sort(), [
      'attachmentUrl', 'createRoom', 'delete', 'demote', 'disconnectUser', 'edit', 'follow', 'history', 'invite', 'join',
      'kick', 'leave', 'markRead', 'members', 'mentions', 'notifyLevel', 'pin', 'ping', 'prepareUpload', 'promote', 'react',
      'registerDevice', 'resume', 'sendAll', 'thread', 'threads', 'typing', 'uninvite', 'unregisterDevice',
    ]);
    assert.deepEqual(frames.resume([{ roomId: 'lobby', after: 'x1' }, { roomId: 'dev' }], 'ana'), {
      action: 'resume', name: 'ana', rooms: [{ roomId: 'lobby', after: 'x1' }, { roomId: 'dev' }],
    });
    assert.deepEqual(frames.history('lobby', { after: 'x1' }), { action: 'history', roomId: 'lobby', limit: 50, after: 'x1' });
    assert.deepEqual(frames.join('lobby', null, 'x1'), { action: 'join', roomId: 'lobby', after: 'x1' });
    assert.deepEqual(frames.kick('lobby', 'u1'), { action: 'kick', roomId: 'lobby', userId: 'u1' });
    assert.deepEqual(frames.kick('lobby', 'u1', 60), { action: 'kick', roomId: 'lobby', userId: 'u1', ban: 60 });
    const { client, ws } = open();
    assert.equal(client.kick('lobby', 'u1', 'forever'), null);
    assert.equal(client.disconnectUser('lobby', 'u1'), null);
    assert.equal(client.invite('lobby', 'user-bob'), null);
    assert.match(client.kick('lobby', 'u1', -5), /ban/);
    assert.match(client.createRoom('team', 'secret'), /policy/);
    assert.deepEqual(ws.take(), [
      { action: 'kick', roomId: 'lobby', userId: 'u1', ban: 'forever' },
      { action: 'disconnectUser', roomId: 'lobby', userId: 'u1' },
      { action: 'invite', roomId: 'lobby', userId: 'user-bob' },
    ]);
  });

  test('notifications: register a PushSubscription, remove it, set a level; replies are kept', () => {
    const { client, ws } = open();
    const sub = { toJSON: () => ({ endpoint: 'https://push.example.com/s/1', expirationTime: null, keys: { p256dh: 'B1', auth: 'a1' } }) };
    assert.equal(client.registerDevice(sub), null);
    assert.equal(client.unregisterDevice('d1'), null);
    assert.equal(client.setNotifyLevel('lobby', 'none'), null);
    assert.deepEqual(ws.take(), [
      { action: 'registerDevice', webPush: { endpoint: 'https://push.example.com/s/1', keys: { p256dh: 'B1', auth: 'a1' } } },
      { action: 'unregisterDevice', deviceId: 'd1' },
      { action: 'notifyLevel', roomId: 'lobby', level: 'none' },
    ]);
    ws.receive({ type: 'device', deviceId: 'd1', registered: true, devices: 1 });
    assert.equal(client.devices.get('d1').devices, 1);
    ws.receive({ type: 'device', deviceId: 'd1', registered: false, devices: 0, removed: true });
    assert.equal(client.devices.has('d1'), false);
  });

  test('each capability is a module of methods, frame handlers and error handlers', () => {
    const methods = FEATURES.flatMap((f) => Object.keys(f.methods ?? {}));
    assert.equal(new Set(methods).size, methods.length, 'no method is defined twice');
    const frameTypes = FEATURES.flatMap((f) => Object.keys(f.frames ?? {}));
    for (const type of ['joined', 'left', 'message', 'history', 'members', 'presence', 'deleted', 'edited', 'typing', 'read', 'kicked', 'pong']) {
      assert.ok(frameTypes.includes(type), `no feature handles ${type}`);
    }
  });
});

describe('runtimes', () => {
  test('without a WebSocket the client says what to pass, before touching anything', () => {
    const client = new ChatClient({ WebSocket: null });
    client.WebSocketImpl = undefined;
    assert.match(client.connect(URL, 'ana'), /no WebSocket: pass one as the WebSocket option/);
    assert.equal(client.status, 'idle');
  });
});
