// Signing in and managing rooms, as pure functions (no DOM, no sockets, no fetch), so
// `node --test web/tests/` covers all of it: where the page learns how the stack authenticates,
// the Cognito InitiateAuth request it sends, reading the answer, the ID token's claims (the
// SDK's token.js) and the words the page uses for policies, roles and refused room actions (the
// actions themselves are the SDK's: client.createRoom, client.invite, ...).

import { ROLE_ACTIONS, tokenClaims } from '../sdk/index.js';

export { tokenClaims, tokenProblem, tokenUser, withToken, withoutToken } from '../sdk/index.js';

export const AUTH_NONE = 'none';
export const ROLES = ['owner', 'moderator', 'member'];
export { ROLE_ACTIONS };

// ----------------------------------------------------------------------------- configuration

/**
 * The stack's sign-in settings from a config object (the local gateway's /devstack.json or the
 * hosted page's config.json): `{"auth": {"authMode", "cognitoClientId", "cognitoEndpoint"}}`.
 * Returns {mode, clientId, endpoint} (clientId/endpoint null when the stack has no Cognito
 * pool: then only a pasted token works), or null when the config says nothing about auth.
 */
export function authFromConfig(config) {
  const auth = config && typeof config === 'object' ? config.auth : null;
  if (!auth || typeof auth !== 'object' || typeof auth.authMode !== 'string') return null;
  const text = (v) => (typeof v === 'string' && v.trim() ? v.trim() : null);
  const endpoint = text(auth.cognitoEndpoint);
  return {
    mode: auth.authMode,
    clientId: text(auth.cognitoClientId),
    endpoint: endpoint && /^https?:\/\//.test(endpoint) ? endpoint : null,
  };
}

/** Whether connecting needs a token. */
export function needsToken(auth) {
  return Boolean(auth) && auth.mode !== AUTH_NONE;
}

/** Whether the page can sign in with a user name and password (a Cognito app client is known). */
export function canSignIn(auth) {
  return needsToken(auth) && Boolean(auth.clientId) && Boolean(auth.endpoint);
}

/** The regional Cognito endpoint: https://cognito-idp.<region>.amazonaws.com/ */
export function cognitoEndpoint(region) {
  return `https://cognito-idp.${region}.amazonaws.com/`;
}

// ----------------------------------------------------------------------------- signing in

/**
 * The fetch() arguments of Cognito's InitiateAuth with USER_PASSWORD_AUTH: a POST of JSON with
 * the X-Amz-Target header, no AWS signature (the call is unauthenticated by design):
 * https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_InitiateAuth.html
 * The app client must allow ALLOW_USER_PASSWORD_AUTH and have no secret (infra/cognito.tf).
 * Returns {url, init} or {problem}.
 */
export function signInRequest(auth, username, password) {
  if (!canSignIn(auth)) return { problem: 'This server does not offer sign-in with a password.' };
  const user = typeof username === 'string' ? username.trim() : '';
  if (!user) return { problem: 'Enter your user name.' };
  if (typeof password !== 'string' || password.length === 0) return { problem: 'Enter your password.' };
  return {
    url: auth.endpoint,
    init: {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'AWSCognitoIdentityProviderService.InitiateAuth',
      },
      body: JSON.stringify({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: auth.clientId,
        AuthParameters: { USERNAME: user, PASSWORD: password },
      }),
      cache: 'no-store',
      credentials: 'omit',
    },
  };
}

const SIGN_IN_ERRORS = {
  NotAuthorizedException: 'Wrong user name or password.',
  UserNotFoundException: 'Wrong user name or password.',
  UserNotConfirmedException: 'This account is not confirmed yet.',
  PasswordResetRequiredException: 'This account needs a new password first.',
  TooManyRequestsException: 'Too many sign-in attempts; wait a moment and try again.',
  LimitExceededException: 'Too many sign-in attempts; wait a moment and try again.',
};

/**
 * Reads InitiateAuth's answer (HTTP status and parsed JSON body): {token} (the ID token: its
 * `aud` is the app client, which the $connect authorizer checks), or {problem} in words. A
 * challenge (new password, MFA) is not supported by this page: it says so.
 */
export function signInResult(status, body) {
  const data = body && typeof body === 'object' ? body : {};
  if (status >= 200 && status < 300) {
    const token = data.AuthenticationResult?.IdToken;
    if (typeof token === 'string' && tokenClaims(token) !== null) return { token };
    if (typeof data.ChallengeName === 'string') {
      return { problem: `Sign-in needs a further step this page does not offer (${data.ChallengeName}).` };
    }
    return { problem: 'The sign-in service answered without an ID token.' };
  }
  const type = String(data.__type ?? data.code ?? '').split('#').pop();
  const known = SIGN_IN_ERRORS[type];
  if (known) return { problem: known };
  const detail = typeof data.message === 'string' ? data.message : typeof data.Message === 'string' ? data.Message : '';
  return { problem: `Sign-in failed (${type || `HTTP ${status}`})${detail ? `: ${detail}` : '.'}` };
}

// ----------------------------------------------------------------------------- rooms and roles

const POLICY_WORDS = {
  open: 'open: anyone may join',
  private: 'private: invited members only',
  announce: 'announce: only the owner and moderators post',
};

export function describePolicy(policy) {
  return POLICY_WORDS[policy] ?? 'open: anyone may join';
}

const ROLE_WORDS = { owner: 'owner', moderator: 'moderator', member: 'member' };

export function describeRole(role) {
  return ROLE_WORDS[role] ?? 'not a member';
}

/** A line about a `role` answer: what the action did to the user. */
export function describeRoleFrame(frame, selfId = null) {
  const who = frame.userId === selfId ? 'You are' : `${frame.userId} is`;
  if (frame.role === null) return `${who} no longer invited to #${frame.roomId}.`;
  return `${who} now ${describeRole(frame.role)} of #${frame.roomId}.`;
}

const FORBIDDEN_WORDS = {
  createRoom: 'That room name is taken (or you are not signed in); pick another',
  join: 'You may not enter that room: it is private and you are not invited',
  invite: 'Only the room owner and moderators may invite or uninvite',
  uninvite: 'Only the room owner and moderators may invite or uninvite',
  promote: 'Only the room owner may promote or demote',
  demote: 'Only the room owner may promote or demote',
  sendAll: 'Only the owner and moderators may post in an announce room',
};

/** The words for a `forbidden` error of a room action (null for other errors). */
export function describeForbidden(frame) {
  if (!frame || frame.code !== 'forbidden') return null;
  const lead = FORBIDDEN_WORDS[frame.action] ?? 'You may not do that in that room';
  const room = typeof frame.roomId === 'string' ? ` (#${frame.roomId})` : '';
  const detail = typeof frame.message === 'string' && frame.message.trim() ? `: ${frame.message.trim()}` : '';
  return `${lead}${room}${detail}.`;
}

const ADMIN_ACTIONS = new Set(['createRoom', ...ROLE_ACTIONS]);
const LOG_MAX = 20;

/**
 * What the page knows about rooms' policies and the user's roles, from the frames it sees: the
 * server does not repeat them on `joined`, so a room the user created shows its policy and
 * "owner", a `role` frame about the user sets their role, and a room joined otherwise shows
 * "member" (joining proves at least that) with its policy unknown. `onFrame` returns whether
 * anything changed. `log` holds the answers to this page's room actions, newest last.
 */
export class RoomDirectory {
  constructor(selfId = null) {
    this.selfId = selfId;
    this.rooms = new Map(); // roomId -> {policy, role}
    this.log = []; // {text, problem}
  }

  info(roomId) {
    return this.rooms.get(roomId) ?? { policy: null, role: null };
  }

  set(roomId, change) {
    this.rooms.set(roomId, { ...this.info(roomId), ...change });
  }

  note(text, problem = false) {
    this.log.push({ text, problem });
    if (this.log.length > LOG_MAX) this.log.splice(0, this.log.length - LOG_MAX);
  }

  onFrame(frame) {
    switch (frame.type) {
      case 'roomCreated': {
        const mine = this.selfId === null || frame.owner === this.selfId;
        this.set(frame.roomId, { policy: frame.policy, role: mine ? 'owner' : this.info(frame.roomId).role });
        this.note(`Created #${frame.roomId} (${describePolicy(frame.policy)}).`);
        return true;
      }
      case 'role':
        if (frame.userId === this.selfId) this.set(frame.roomId, { role: frame.role });
        this.note(describeRoleFrame(frame, this.selfId));
        return true;
      case 'joined':
        if (!this.info(frame.roomId).role) this.set(frame.roomId, { role: 'member' });
        return true;
      case 'left':
        if (this.info(frame.roomId).role === 'member') this.set(frame.roomId, { role: null });
        return true;
      case 'error':
        if (!ADMIN_ACTIONS.has(frame.action) && !(frame.code === 'forbidden' && frame.action === 'join')) {
          return false;
        }
        this.note(describeForbidden(frame) ?? describeAdminError(frame), true);
        return true;
      default:
        return false;
    }
  }
}

function describeAdminError(frame) {
  const detail = typeof frame.message === 'string' ? frame.message.trim() : '';
  return `${frame.action} failed (${frame.code})${detail ? `: ${detail}` : '.'}`;
}
