import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ChatClient } from '../src/client.js';
import { tokenClaims, tokenProblem, tokenUser, withToken, withoutToken } from '../src/token.js';
import { FakeWebSocket } from './fakes.js';

const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const jwt = (claims) => `${b64url({ alg: 'RS256', kid: 'k1' })}.${b64url(claims)}.c2lnbmF0dXJl`;
const NOW = 1_700_000_000_000;
const ANA = jwt({ sub: 'u-ana', 'cognito:username': 'ana', exp: NOW / 1000 + 3600, aud: 'client1' });

describe('tokens', () => {
  test('claims and the user they name', () => {
    assert.equal(tokenClaims(ANA).sub, 'u-ana');
    assert.deepEqual(tokenUser(ANA), { userId: 'u-ana', name: 'ana', expiresAt: NOW + 3_600_000 });
    assert.equal(tokenUser(jwt({ sub: 's1' })).name, 's1');
    assert.equal(tokenClaims('a.b'), null);
    assert.equal(tokenClaims('x.!!.y'), null);
  });

  test('a pasted token is checked for shape, user and expiry', () => {
    assert.equal(tokenProblem(ANA, NOW), null);
    assert.match(tokenProblem('', NOW), /Paste a token/);
    assert.match(tokenProblem('v1.abc', NOW), /not a token/);
    assert.match(tokenProblem(jwt({ name: 'x' }), NOW), /no user/);
    assert.match(tokenProblem(jwt({ sub: 'a', exp: NOW / 1000 - 1 }), NOW), /expired/);
  });

  test('goes in ?token= (replacing one there), and is hidden from the address shown', () => {
    const url = withToken('ws://127.0.0.1:8080/live', ANA);
    assert.equal(new URL(url).searchParams.get('token'), ANA);
    const again = withToken(`${url}&x=1`, 'other.tok.en');
    assert.deepEqual(new URL(again).searchParams.getAll('token'), ['other.tok.en']);
    assert.equal(withoutToken(url), 'ws://127.0.0.1:8080/live');
    assert.equal(withoutToken('not a url'), 'not a url');
  });
});

describe('the client passes every frame to its hooks', () => {
  test('before its own handling, and not unparseable ones', () => {
    FakeWebSocket.reset();
    const client = new ChatClient({ WebSocket: FakeWebSocket });
    const seen = [];
    client.frameHooks.add((f) => seen.push([f.type, client.rooms.get('lobby')?.status]));
    client.connect(withToken('ws://127.0.0.1:8080/live', ANA), 'ana', ['lobby']);
    const ws = FakeWebSocket.last();
    assert.equal(new URL(ws.url).searchParams.get('token'), ANA);
    ws.open();
    ws.receive('not json');
    ws.receive({ type: 'joined', roomId: 'lobby', name: 'ana', members: 1, recent: [] });
    ws.receive({ type: 'roomCreated', roomId: 'team', policy: 'open', owner: 'u-ana', createdAt: 'x' });
    assert.deepEqual(seen, [
      ['joined', 'joining'],
      ['roomCreated', 'joined'],
    ]);
    client.disconnect();
  });
});
