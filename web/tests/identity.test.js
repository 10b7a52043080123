import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  RoomDirectory,
  authFromConfig,
  canSignIn,
  cognitoEndpoint,
  describeForbidden,
  describePolicy,
  needsToken,
  signInRequest,
  signInResult,
} from '../js/identity.js';

const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const jwt = (claims) => `${b64url({ alg: 'RS256', kid: 'k1' })}.${b64url(claims)}.c2lnbmF0dXJl`;
const NOW = 1_700_000_000_000;
const ANA = jwt({ sub: 'u-ana', 'cognito:username': 'ana', exp: NOW / 1000 + 3600, aud: 'client1' });

const COGNITO = {
  auth: { authMode: 'oidc', cognitoClientId: 'client1', cognitoEndpoint: 'http://127.0.0.1:5001/' },
};

describe('what the config says about signing in', () => {
  test('a Cognito stack offers sign-in with a password', () => {
    const auth = authFromConfig(COGNITO);
    assert.deepEqual(auth, { mode: 'oidc', clientId: 'client1', endpoint: 'http://127.0.0.1:5001/' });
    assert.ok(needsToken(auth) && canSignIn(auth));
  });

  test('a token stack without a pool needs a pasted token; no auth or none needs nothing', () => {
    const jwtOnly = authFromConfig({ auth: { authMode: 'jwt' } });
    assert.ok(needsToken(jwtOnly));
    assert.ok(!canSignIn(jwtOnly));
    assert.equal(authFromConfig({ stage: 'live' }), null);
    assert.equal(authFromConfig(null), null);
    assert.ok(!needsToken(authFromConfig({ auth: { authMode: 'none' } })));
    assert.ok(!needsToken(null));
  });

  test('an endpoint that is not http(s) is not used', () => {
    const auth = authFromConfig({ auth: { authMode: 'oidc', cognitoClientId: 'c', cognitoEndpoint: 'javascript:x' } });
    assert.equal(auth.endpoint, null);
    assert.ok(!canSignIn(auth));
  });

  test('the hosted page signs in at the regional endpoint', () => {
    assert.equal(cognitoEndpoint('eu-west-1'), 'https://cognito-idp.eu-west-1.amazonaws.com/');
  });
});

describe('the InitiateAuth request', () => {
  test('is an unsigned JSON POST with USER_PASSWORD_AUTH and the app client', () => {
    const { url, init } = signInRequest(authFromConfig(COGNITO), '  ana ', 'pw d');
    assert.equal(url, 'http://127.0.0.1:5001/');
    assert.equal(init.method, 'POST');
    assert.equal(init.headers['X-Amz-Target'], 'AWSCognitoIdentityProviderService.InitiateAuth');
    assert.equal(init.headers['Content-Type'], 'application/x-amz-json-1.1');
    assert.equal(init.credentials, 'omit');
    assert.deepEqual(JSON.parse(init.body), {
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: 'client1',
      AuthParameters: { USERNAME: 'ana', PASSWORD: 'pw d' },
    });
  });

  test('bad input is refused before anything is sent', () => {
    const auth = authFromConfig(COGNITO);
    assert.match(signInRequest(auth, ' ', 'x').problem, /user name/);
    assert.match(signInRequest(auth, 'ana', '').problem, /password/);
    assert.match(signInRequest(authFromConfig({ auth: { authMode: 'jwt' } }), 'a', 'b').problem, /does not offer/);
  });

  test('the answer gives the ID token, or the reason in words', () => {
    assert.deepEqual(signInResult(200, { AuthenticationResult: { IdToken: ANA, AccessToken: 'x' } }), { token: ANA });
    assert.equal(
      signInResult(400, { __type: 'NotAuthorizedException', message: 'Incorrect username or password.' }).problem,
      'Wrong user name or password.',
    );
    assert.equal(signInResult(400, { __type: 'UserNotFoundException' }).problem, 'Wrong user name or password.');
    assert.match(signInResult(200, { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 's' }).problem, /NEW_PASSWORD_REQUIRED/);
    assert.match(signInResult(500, null).problem, /HTTP 500/);
    assert.match(signInResult(400, { __type: 'x#InvalidParameterException', message: 'bad' }).problem, /InvalidParameterException\): bad/);
  });
});

describe('room actions', () => {
  test('forbidden is said in words for the action', () => {
    const frame = { type: 'error', code: 'forbidden', action: 'promote', roomId: 'team', message: 'nope' };
    assert.equal(describeForbidden(frame), 'Only the room owner may promote or demote (#team): nope.');
    assert.match(describeForbidden({ code: 'forbidden', action: 'join', roomId: 't' }), /private and you are not invited/);
    assert.equal(describeForbidden({ code: 'not_member', action: 'join' }), null);
    assert.match(describePolicy('announce'), /only the owner and moderators post/);
  });
});

describe('the room directory', () => {
  test('learns policy and role from roomCreated, role and joined frames', () => {
    const dir = new RoomDirectory('u-ana');
    dir.onFrame({ type: 'roomCreated', roomId: 'team', policy: 'private', owner: 'u-ana', createdAt: 'x' });
    dir.onFrame({ type: 'joined', roomId: 'team', name: 'ana', members: 1, recent: [] });
    assert.deepEqual(dir.info('team'), { policy: 'private', role: 'owner' });
    dir.onFrame({ type: 'role', roomId: 'team', userId: 'u-bo', role: 'member' });
    assert.equal(dir.log.at(-1).text, 'u-bo is now member of #team.');
    dir.onFrame({ type: 'joined', roomId: 'lobby', name: 'ana', members: 3, recent: [] });
    assert.deepEqual(dir.info('lobby'), { policy: null, role: 'member' });
    dir.onFrame({ type: 'role', roomId: 'lobby', userId: 'u-ana', role: 'moderator' });
    assert.equal(dir.info('lobby').role, 'moderator');
    assert.equal(dir.log.at(-1).text, 'You are now moderator of #lobby.');
    dir.onFrame({ type: 'role', roomId: 'team', userId: 'u-bo', role: null });
    assert.equal(dir.log.at(-1).text, 'u-bo is no longer invited to #team.');
  });

  test('notes refused room actions, and ignores other errors', () => {
    const dir = new RoomDirectory('u-bo');
    assert.equal(dir.onFrame({ type: 'error', code: 'rate_limited', action: 'sendAll', roomId: 'x' }), false);
    assert.ok(dir.onFrame({ type: 'error', code: 'forbidden', action: 'invite', roomId: 'team', message: 'no' }));
    assert.deepEqual(dir.log.at(-1), { text: 'Only the room owner and moderators may invite or uninvite (#team): no.', problem: true });
    dir.onFrame({ type: 'error', code: 'bad_request', action: 'createRoom', message: 'bad policy' });
    assert.equal(dir.log.at(-1).text, 'createRoom failed (bad_request): bad policy');
  });
});
