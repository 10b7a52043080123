import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  CLIENT_MSG_ID_RE,
  MAX_FRAME_BYTES,
  backoffDelay,
  POLICIES,
  checkName,
  describeError,
  encode,
  frames,
  messageProblem,
  newClientMsgId,
  parseFrame,
  policyProblem,
  roomIdProblem,
  userIdProblem,
  utf8Length,
  webSocketUrlProblem,
} from '../src/protocol.js';

describe('frames', () => {
  test('each action has the shape of the README table', () => {
    assert.deepEqual(frames.join('lobby', 'ana'), { action: 'join', roomId: 'lobby', name: 'ana' });
    assert.deepEqual(frames.join('lobby'), { action: 'join', roomId: 'lobby' });
    assert.deepEqual(frames.leave('lobby'), { action: 'leave', roomId: 'lobby' });
    assert.deepEqual(frames.sendAll('lobby', 'hi', 'c1'), {
      action: 'sendAll', roomId: 'lobby', message: 'hi', clientMsgId: 'c1',
    });
    assert.deepEqual(frames.members('lobby'), { action: 'members', roomId: 'lobby' });
    assert.deepEqual(frames.ping(), { action: 'ping' });
    assert.deepEqual(frames.createRoom('team', 'private'), {
      action: 'createRoom', roomId: 'team', policy: 'private',
    });
    assert.deepEqual(frames.createRoom('team'), { action: 'createRoom', roomId: 'team', policy: 'open' });
    for (const action of ['invite', 'uninvite', 'promote', 'demote']) {
      assert.deepEqual(frames[action]('team', 'sub-1'), { action, roomId: 'team', userId: 'sub-1' });
    }
  });

  test('history sends `before` only when paging back', () => {
    assert.deepEqual(frames.history('lobby'), { action: 'history', roomId: 'lobby', limit: 50 });
    assert.deepEqual(frames.history('lobby', { before: 'X', limit: 100 }), {
      action: 'history', roomId: 'lobby', limit: 100, before: 'X',
    });
  });
});

describe('validation mirrors the server limits', () => {
  test('room ids: 1-64 of [A-Za-z0-9_.:-]', () => {
    assert.equal(roomIdProblem('lobby'), null);
    assert.equal(roomIdProblem('a.b:c-d_e'), null);
    assert.equal(roomIdProblem('x'.repeat(64)), null);
    assert.match(roomIdProblem('x'.repeat(65)), /1-64/);
    assert.match(roomIdProblem('two words'), /no spaces/);
    assert.match(roomIdProblem('conn#1'), /letters, digits/);
    assert.match(roomIdProblem(''), /Enter a room/);
  });

  test('user ids: 1-128 printable characters, not trimmed', () => {
    assert.equal(userIdProblem('ana-sub-42'), null);
    assert.equal(userIdProblem(' padded sub '), null, 'the space is printable; the server keeps it');
    assert.equal(userIdProblem('😀'.repeat(128)), null, 'counted in code points, as Python does');
    assert.match(userIdProblem('u'.repeat(129)), /at most 128/);
    assert.match(userIdProblem(''), /Enter the user/);
    assert.match(userIdProblem(null), /Enter the user/);
    assert.match(userIdProblem('a\tb'), /printable/);
    assert.match(userIdProblem('a\u00a0b'), /printable/);
  });

  test('policies: open (the default), private, announce', () => {
    assert.deepEqual(POLICIES, ['open', 'private', 'announce']);
    for (const policy of POLICIES) assert.equal(policyProblem(policy), null);
    assert.match(policyProblem('public'), /one of: open, private, announce/);
    assert.match(policyProblem(null), /one of/);
  });

  test('names are trimmed, 1-32 printable characters', () => {
    assert.deepEqual(checkName('  ana  '), { name: 'ana', problem: null });
    assert.equal(checkName('Ana María').problem, null);
    assert.equal(checkName('😀'.repeat(32)).problem, null, 'counted in code points, as Python does');
    assert.match(checkName('x'.repeat(33)).problem, /at most 32/);
    assert.match(checkName('   ').problem, /Enter a display name/);
    assert.match(checkName('a\u0007b').problem, /printable/);
    assert.match(checkName('a\u2028b').problem, /printable/);
  });

  test('a message must fit in one 32 KB frame with its envelope', () => {
    const cid = 'c'.repeat(36);
    const envelope = utf8Length(encode(frames.sendAll('lobby', '', cid)));
    const fits = 'x'.repeat(MAX_FRAME_BYTES - envelope);
    assert.equal(messageProblem('lobby', fits, cid), null);
    assert.match(messageProblem('lobby', `${fits}x`, cid), /too long by 1 byte /);
    assert.match(messageProblem('lobby', '', cid), /Type a message/);
  });

  test('multi-byte characters count as their UTF-8 bytes', () => {
    assert.equal(utf8Length('é'), 2);
    assert.equal(utf8Length('😀'), 4);
    assert.match(messageProblem('lobby', '😀'.repeat(8192)), /too long/);
  });

  test('client message ids are valid clientMsgId values and unique', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newClientMsgId()));
    assert.equal(ids.size, 100);
    for (const value of ids) assert.match(value, CLIENT_MSG_ID_RE);
  });

  test('WebSocket URLs must be ws:// or wss://', () => {
    assert.equal(webSocketUrlProblem('ws://127.0.0.1:8080/live'), null);
    assert.equal(webSocketUrlProblem('wss://abc.execute-api.eu-west-1.amazonaws.com/prod'), null);
    assert.match(webSocketUrlProblem('http://x/live'), /ws:\/\//);
    assert.match(webSocketUrlProblem('nonsense'), /WebSocket URL/);
  });
});

describe('server frames', () => {
  test('parses objects with a type, and API Gateway\'s own error shape', () => {
    assert.deepEqual(parseFrame('{"type":"pong"}'), { type: 'pong' });
    assert.deepEqual(parseFrame('{"message":"Internal server error","connectionId":"c","requestId":"r"}'), {
      type: 'gateway_error', message: 'Internal server error',
    });
    assert.equal(parseFrame('not json'), null);
    assert.equal(parseFrame('[1,2]'), null);
    assert.equal(parseFrame('{"no":"type"}'), null);
    assert.equal(parseFrame(new ArrayBuffer(2)), null);
  });

  test('errors read as sentences with the server\'s own words', () => {
    assert.equal(
      describeError({ type: 'error', code: 'not_member', message: "you are not a member of room 'x'; join it first", roomId: 'x' }),
      "You are not in that room in #x: you are not a member of room 'x'; join it first",
    );
    assert.equal(describeError({ type: 'error', code: 'internal' }), 'Something went wrong on the server; please try again.');
    assert.match(describeError({ type: 'error', code: 'brand_new', message: 'm' }), /\(brand_new\): m/);
    assert.match(describeError({ type: 'error', code: 'rate_limited', message: 'm' }), /too fast: m/);
    assert.match(describeError({ type: 'gateway_error', message: 'Internal server error' }), /gateway.*Internal server error/);
  });
});

describe('reconnect schedule', () => {
  test('doubles from 0.5 s up to 30 s, with jitter between half and all of it', () => {
    const low = (n) => backoffDelay(n, { random: () => 0 });
    const high = (n) => backoffDelay(n, { random: () => 0.999999 });
    assert.deepEqual([0, 1, 2, 3, 4].map(high), [500, 1000, 2000, 4000, 8000]);
    assert.deepEqual([0, 1, 2].map(low), [250, 500, 1000]);
    assert.equal(high(20), 30_000);
    assert.equal(low(20), 15_000);
    for (let n = 0; n < 12; n += 1) {
      const d = backoffDelay(n);
      assert.ok(d >= low(n) && d <= high(n), `attempt ${n}: ${d}`);
    }
  });
});
