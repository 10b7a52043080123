import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { QUEUED, Room } from '../src/room.js';
import { id, msg } from './fakes.js';

describe('Room', () => {
  test('a messageId is shown once, however often it arrives', () => {
    const room = new Room('lobby');
    assert.equal(room.addMessages([msg(1), msg(2)]), 2);
    assert.equal(room.addMessages([msg(2), msg(3), msg(1)]), 1);
    assert.deepEqual(room.timeline().map((e) => e.msg.messageId), [id(1), id(2), id(3)]);
  });

  test('messages show in messageId order whatever order they arrive in', () => {
    const room = new Room('lobby');
    room.addMessages([msg(5), msg(2)]);
    room.addMessages([msg(1), msg(3)]);
    assert.deepEqual(room.timeline().map((e) => e.msg.message), ['m1', 'm2', 'm3', 'm5']);
  });

  test('our echo settles the pending entry with the same clientMsgId', () => {
    const room = new Room('lobby');
    room.addPending('c1', 'hi', 1);
    assert.equal(room.timeline().at(-1).kind, 'pending');
    const result = room.addMessage(msg(1, { clientMsgId: 'c1', message: 'hi', sender: 'ana' }));
    assert.deepEqual(result, { added: true, own: true });
    assert.equal(room.pending.size, 0);
    assert.deepEqual(room.timeline().map((e) => e.kind), ['message']);
  });

  test('a retried echo (same messageId) settles nothing twice and adds nothing', () => {
    const room = new Room('lobby');
    room.addPending('c1', 'hi', 1);
    room.addMessage(msg(1, { clientMsgId: 'c1' }));
    assert.deepEqual(room.addMessage(msg(1, { clientMsgId: 'c1' })), { added: false, own: false });
    assert.equal(room.messages.size, 1);
  });

  test('frames without a messageId or text are ignored', () => {
    const room = new Room('lobby');
    assert.equal(room.addMessages([{ message: 'x' }, { messageId: 'A' }, null, 'str']), 0);
    assert.equal(room.messages.size, 0);
  });

  test('a notice sorts after the messages shown when it came and before later ones', () => {
    const room = new Room('lobby');
    room.addNotice('before anything');
    room.addMessages([msg(1), msg(2)]);
    room.addNotice('bob joined');
    room.addMessages([msg(3), msg(0)]);
    assert.deepEqual(
      room.timeline().map((e) => (e.kind === 'notice' ? e.notice.text : e.msg.message)),
      ['before anything', 'm0', 'm1', 'm2', 'bob joined', 'm3'],
    );
  });

  test('pending entries come last, in the order typed', () => {
    const room = new Room('lobby');
    room.addPending('b', 'second', 2);
    room.addPending('a', 'first', 1);
    room.addMessages([msg(1)]);
    assert.deepEqual(room.timeline().map((e) => e.key), [`m:${id(1)}`, 'p:a', 'p:b']);
    assert.equal(room.pending.get('a').status, QUEUED);
  });

  test('the gap anchor reaches back to before an unconfirmed sent message', () => {
    const room = new Room('lobby');
    room.addMessages([msg(1), msg(2)]);
    const entry = room.addPending('c1', 'hi', 1); // typed after m2
    room.addMessages([msg(3)]);
    assert.equal(room.gapAnchor(), id(3), 'not sent yet: cannot be stored');
    entry.sent = true;
    assert.equal(room.gapAnchor(), id(2));
  });

  test('the gap anchor is null (fill from the start) when nothing was shown', () => {
    const room = new Room('lobby');
    assert.equal(room.gapAnchor(), null);
    room.addPending('c1', 'hi', 1).sent = true;
    room.addMessages([msg(4)]);
    assert.equal(room.gapAnchor(), null);
  });

  test('presence keeps the members list and count current', () => {
    const room = new Room('lobby');
    room.memberCount = 1;
    room.memberJoined('bob');
    assert.equal(room.memberCount, 2);
    room.setMembers(['ana', 'bob', 'bob']);
    room.memberLeft('bob');
    assert.deepEqual(room.members, ['ana', 'bob']);
    assert.equal(room.memberCount, 2);
  });
});
