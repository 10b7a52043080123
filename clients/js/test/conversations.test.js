import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ChatClient, REACTIONS, mentionCandidates, mentionParts } from '../src/index.js';
import { FakeClock, FakeWebSocket, id, msg } from './fakes.js';

function joined() {
  FakeWebSocket.reset();
  const clock = new FakeClock();
  let n = 0;
  const client = new ChatClient({
    WebSocket: FakeWebSocket,
    timers: clock.timers,
    now: clock.now,
    newClientMsgId: () => `c${++n}`,
  });
  client.connect('ws://127.0.0.1:8080/live', 'ana', ['lobby']);
  const ws = FakeWebSocket.last();
  ws.open();
  ws.take();
  ws.receive({ type: 'joined', roomId: 'lobby', name: 'ana', members: 2, recent: [msg(1)], next: null, you: 'ana-id', pins: [] });
  ws.take();
  return { client, ws, room: client.rooms.get('lobby') };
}

describe('threads', () => {
  test('a reply goes through the outbox with replyTo and stays out of the room timeline', () => {
    const { client, ws, room } = joined();
    client.reply('lobby', id(1), 'me too');
    const [sent] = ws.take();
    assert.deepEqual(sent, { action: 'sendAll', roomId: 'lobby', message: 'me too', clientMsgId: 'c1', replyTo: id(1) });
    assert.equal(room.timeline().filter((e) => e.kind === 'pending').length, 0);
    ws.receive({ ...msg(2, { message: 'me too', clientMsgId: 'c1', sender: 'ana' }), replyTo: id(1), thread: { replyCount: 1, lastReplyAt: 'x' } });
    assert.equal(room.pending.size, 0);
    assert.deepEqual([...room.messages.keys()], [id(1)]);
    assert.deepEqual(room.threads.get(id(1)).list().map((m) => m.message), ['me too']);
    assert.equal(room.messages.get(id(1)).replyCount, 1);
  });

  test('a reply sent also to the room is in both; a thread page fills the thread', () => {
    const { client, ws, room } = joined();
    ws.receive({ ...msg(3), replyTo: id(1), alsoToRoom: true });
    assert.ok(room.messages.has(id(3)) && room.threads.get(id(1)).replies.has(id(3)));
    client.openThread('lobby', id(1));
    assert.deepEqual(ws.take(), [{ action: 'thread', roomId: 'lobby', messageId: id(1), limit: 50 }]);
    ws.receive({ type: 'thread', roomId: 'lobby', messageId: id(1), parent: { ...msg(1), replyCount: 2 }, replies: [{ ...msg(2), replyTo: id(1) }], next: null, following: true, lastRead: null, unread: 1, unreadCapped: false });
    const thread = room.threads.get(id(1));
    assert.deepEqual(thread.list().map((m) => m.messageId), [id(2), id(3)]);
    assert.equal(thread.following, true);
    assert.equal(thread.parent.replyCount, 2);
  });
});

describe('reactions', () => {
  test('toggling sends add then remove, and only newer summaries are shown', () => {
    const { client, ws, room } = joined();
    client.toggleReaction('lobby', id(1), '👍');
    assert.deepEqual(ws.take(), [{ action: 'react', roomId: 'lobby', messageId: id(1), emoji: '👍' }]);
    const summary = [{ emoji: '👍', count: 1, users: ['ana-id'] }];
    ws.receive({ type: 'reaction', roomId: 'lobby', messageId: id(1), emoji: '👍', userId: 'ana-id', name: 'ana', added: true, reactions: summary, version: 2 });
    ws.receive({ type: 'reaction', roomId: 'lobby', messageId: id(1), emoji: '👍', userId: 'bob', name: 'bob', added: true, reactions: [], version: 1 });
    assert.deepEqual(room.messages.get(id(1)).reactions, summary);
    client.toggleReaction('lobby', id(1), '👍');
    assert.deepEqual(ws.take(), [{ action: 'react', roomId: 'lobby', messageId: id(1), emoji: '👍', remove: true }]);
    assert.match(client.toggleReaction('lobby', id(1), 'x'), /reactions/);
    assert.equal(REACTIONS.length, 40);
  });
});

describe('mentions and pins', () => {
  test('completion candidates and highlighted parts', () => {
    assert.deepEqual(mentionCandidates(['bob', 'bo', 'ana', 'Bobby'], 'bo'), ['bo', 'bob', 'Bobby']);
    const message = { mentions: [{ userId: 'ana-id', name: 'ana' }, { userId: 'b', name: 'bob smith' }] };
    assert.deepEqual(mentionParts('hi @ana and @bob smith, mail x@ana', message, 'ana-id'), [
      { text: 'hi ', mention: false, me: false },
      { text: '@ana', mention: true, me: true },
      { text: ' and ', mention: false, me: false },
      { text: '@bob smith', mention: true, me: false },
      { text: ', mail x@ana', mention: false, me: false },
    ]);
  });

  test('pinned frames keep the room pins, joined sets them', () => {
    const { client, ws, room } = joined();
    const pin = { messageId: id(1), pinnedBy: 'o', pinnedAt: 'x', sender: 'bob', excerpt: 'm1' };
    ws.receive({ type: 'pinned', roomId: 'lobby', pinned: true, pin });
    assert.equal(client.isPinned('lobby', id(1)), true);
    ws.receive({ type: 'pinned', roomId: 'lobby', pinned: false, pin });
    assert.deepEqual(room.pins, []);
    client.pin('lobby', id(1), { remove: true });
    client.listMentions();
    assert.deepEqual(ws.take(), [{ action: 'pin', roomId: 'lobby', messageId: id(1), remove: true }, { action: 'mentions' }]);
  });
});
