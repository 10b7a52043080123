// The roomchat wire protocol: frame builders for every action, the same input limits the server
// checks (so most mistakes are caught before a round trip), error and close-code wording and the
// reconnect schedule. Pure functions only: no DOM, no sockets, no timers. The protocol itself is
// docs/asyncapi.yaml (types/protocol.d.ts is generated from it) and docs/protocol.md.

export const ROOM_ID_RE = /^[A-Za-z0-9_.:-]{1,64}$/;
export const CLIENT_MSG_ID_RE = /^[A-Za-z0-9_.:-]{1,64}$/;
export const NAME_MAX = 32;
export const USER_ID_MAX = 128; // a token's `sub`
export const POLICIES = ['open', 'private', 'announce']; // the first is the server's default
export const HISTORY_PAGE = 50;
export const GAP_PAGE = 100; // the server's maximum `limit`
// API Gateway closes the connection (1009) on a frame above 32 KB; browsers never fragment, so
// the whole JSON frame, not just the message, must fit.
export const MAX_FRAME_BYTES = 32 * 1024;

const encoder = new TextEncoder();

export function utf8Length(text) {
  return encoder.encode(text).length;
}

// ----------------------------------------------------------------------------- validation

/** An error sentence for a bad room id, or null. */
export function roomIdProblem(roomId) {
  if (typeof roomId !== 'string' || roomId.length === 0) return 'Enter a room name.';
  if (!ROOM_ID_RE.test(roomId)) {
    return 'Room names are 1-64 characters: letters, digits and _ . : - (no spaces).';
  }
  return null;
}

/** The trimmed display name and an error sentence (or null), as the server trims and checks it. */
export function checkName(raw) {
  const name = typeof raw === 'string' ? raw.trim() : '';
  if (name.length === 0) return { name, problem: 'Enter a display name.' };
  if ([...name].length > NAME_MAX) {
    return { name, problem: `Display names are at most ${NAME_MAX} characters.` };
  }
  // Python's str.isprintable(): no control, format or separator characters except the space.
  if (/[\p{C}\p{Z}]/u.test(name.replace(/ /g, ''))) {
    return { name, problem: 'Display names may only contain printable characters.' };
  }
  return { name, problem: null };
}

/** An error sentence for a bad user id (a token's `sub`: 1-128 printable characters), or null. */
export function userIdProblem(userId) {
  if (typeof userId !== 'string' || userId.length === 0) {
    return 'Enter the user id (the other person can copy theirs from the side bar).';
  }
  if ([...userId].length > USER_ID_MAX) {
    return `User ids are at most ${USER_ID_MAX} characters.`;
  }
  // Python's str.isprintable(), as for names (user ids are not trimmed).
  if (/[\p{C}\p{Z}]/u.test(userId.replace(/ /g, ''))) {
    return 'User ids may only contain printable characters.';
  }
  return null;
}

/** An error sentence for a room policy that is not one of POLICIES, or null. */
export function policyProblem(policy) {
  if (!POLICIES.includes(policy)) return `The policy must be one of: ${POLICIES.join(', ')}.`;
  return null;
}

// ----------------------------------------------------------------------------- frames

function thread(replyTo) {
  return replyTo ? { replyTo } : {};
}

function flag(remove) {
  return remove ? { remove: true } : {};
}

/** The reactions the server accepts (docs/asyncapi.yaml, Emoji), in the order summaries use. */
export const REACTIONS = Object.freeze([
  '👍', '👎', '❤️', '😂', '😮', '😢', '😡', '🎉', '🙏', '👀', '🔥', '✅', '❌', '💯', '🚀', '👏',
  '🤔', '😄', '😍', '🙌', '💡', '⭐', '😅', '😎', '🤝', '💪', '🙂', '😬', '🤯', '🥳', '🤣', '👋',
  '✨', '⚠️', '❓', '🎯', '☕', '🍕', '🏳️‍🌈', '❤️‍🔥',
]);

export const frames = {
  // `after` (resume): the newest messageId we have; the reply replays everything after it.
  join: (roomId, name, after = null) => ({
    action: 'join',
    roomId,
    ...(name ? { name } : {}),
    ...(after ? { after } : {}),
  }),
  leave: (roomId) => ({ action: 'leave', roomId }),
  // A reply: `replyTo` (its thread's parent), and `alsoToRoom` to show it in the room too.
  sendAll: (roomId, message, clientMsgId, { replyTo = null, alsoToRoom = false } = {}) => ({
    action: 'sendAll',
    roomId,
    message,
    clientMsgId,
    ...(replyTo ? { replyTo } : {}),
    ...(replyTo && alsoToRoom ? { alsoToRoom: true } : {}),
  }),
  // `before`: the older page; `after` (a resume's continuation): the newer page. Not both.
  history: (roomId, { limit = HISTORY_PAGE, before = null, after = null } = {}) => ({
    action: 'history',
    roomId,
    limit,
    ...(before ? { before } : after ? { after } : {}),
  }),
  members: (roomId) => ({ action: 'members', roomId }),
  ping: () => ({ action: 'ping' }),
  // Rooms and roles (signed in): check roomIdProblem, policyProblem and userIdProblem first.
  createRoom: (roomId, policy = POLICIES[0]) => ({ action: 'createRoom', roomId, policy }),
  invite: (roomId, userId) => ({ action: 'invite', roomId, userId }),
  uninvite: (roomId, userId) => ({ action: 'uninvite', roomId, userId }),
  promote: (roomId, userId) => ({ action: 'promote', roomId, userId }),
  demote: (roomId, userId) => ({ action: 'demote', roomId, userId }),
  delete: (roomId, messageId, replyTo = null) => ({ action: 'delete', roomId, messageId, ...thread(replyTo) }),
  edit: (roomId, messageId, message, replyTo = null) => ({
    action: 'edit',
    roomId,
    messageId,
    message,
    ...thread(replyTo),
  }),
  typing: (roomId) => ({ action: 'typing', roomId }),
  markRead: (roomId, messageId, replyTo = null) => ({ action: 'markRead', roomId, messageId, ...thread(replyTo) }),
  // Moderation (the room's owner and moderators): `ban` is seconds or 'forever'; absent: no ban.
  kick: (roomId, userId, ban = null) =>
    ban === null || ban === undefined ? { action: 'kick', roomId, userId } : { action: 'kick', roomId, userId, ban },
  disconnectUser: (roomId, userId) => ({ action: 'disconnectUser', roomId, userId }),
  // Up to 10 rooms at once, each {roomId, after?}: one `resumed` reply, one rate-limit slot per room.
  resume: (rooms, name = null) => ({
    action: 'resume',
    ...(name ? { name } : {}),
    rooms: rooms.map(({ roomId, after = null }) => (after ? { roomId, after } : { roomId })),
  }),
  // Conversations: threads, reactions, mentions, pins.
  thread: (roomId, messageId, { limit = HISTORY_PAGE, before = null } = {}) => ({
    action: 'thread',
    roomId,
    messageId,
    limit,
    ...(before ? { before } : {}),
  }),
  threads: (roomId, before = null) => ({ action: 'threads', roomId, ...(before ? { before } : {}) }),
  follow: (roomId, messageId, remove = false) => ({ action: 'follow', roomId, messageId, ...flag(remove) }),
  react: (roomId, messageId, emoji, { remove = false, replyTo = null } = {}) => ({
    action: 'react',
    roomId,
    messageId,
    emoji,
    ...thread(replyTo),
    ...flag(remove),
  }),
  mentions: (before = null) => ({ action: 'mentions', ...(before ? { before } : {}) }),
  pin: (roomId, messageId, { remove = false, replyTo = null } = {}) => ({
    action: 'pin',
    roomId,
    messageId,
    ...thread(replyTo),
    ...flag(remove),
  }),
  // Attachments: a presigned POST for one declared file, then a presigned GET (members only).
  prepareUpload: (roomId, { name, type, size }) => ({ action: 'prepareUpload', roomId, name, type, size }),
  attachmentUrl: (roomId, messageId, uploadId, { thumbnail = false } = {}) => ({
    action: 'attachmentUrl',
    roomId,
    messageId,
    uploadId,
    ...(thumbnail ? { thumbnail: true } : {}),
  }),
  // Notifications while away (docs/notifications.md).
  registerDevice: (webPush) => ({ action: 'registerDevice', webPush }),
  unregisterDevice: (deviceId) => ({ action: 'unregisterDevice', deviceId }),
  notifyLevel: (roomId, level) => ({ action: 'notifyLevel', roomId, level }),
};

/** Every action a client may send (the keys of `frames`). */
export const ACTIONS = Object.freeze(Object.keys(frames));

export function encode(frame) {
  return JSON.stringify(frame);
}

/** Why a message cannot be sent as one frame (empty, too big), or null. */
export function messageProblem(roomId, message, clientMsgId = 'x'.repeat(36)) {
  if (typeof message !== 'string' || message.length === 0) return 'Type a message first.';
  const bytes = utf8Length(encode(frames.sendAll(roomId, message, clientMsgId)));
  if (bytes > MAX_FRAME_BYTES) {
    const over = bytes - MAX_FRAME_BYTES;
    return `That message is too long by ${over} byte${over === 1 ? '' : 's'} (a frame holds 32 KB).`;
  }
  return null;
}

/** A server frame as an object with a string `type`, or null for anything else. */
export function parseFrame(text) {
  if (typeof text !== 'string') return null;
  let frame;
  try {
    frame = JSON.parse(text);
  } catch {
    return null;
  }
  if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) return null;
  if (typeof frame.type === 'string') return frame;
  // API Gateway's own frame when a route fails: {"message":"Internal server error",...}
  if (typeof frame.message === 'string') return { type: 'gateway_error', message: frame.message };
  return null;
}

/** A clientMsgId: unique per message, within the server's 1-64 `[A-Za-z0-9_.:-]`. */
export function newClientMsgId(random = globalThis.crypto) {
  if (random && typeof random.randomUUID === 'function') return random.randomUUID();
  const bytes = new Uint8Array(16);
  random.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// ----------------------------------------------------------------------------- errors

const ERROR_WORDS = {
  bad_request: 'The server could not accept that request',
  unknown_action: 'The server does not know that request',
  not_member: 'You are not in that room',
  forbidden: 'You may not do that in that room',
  not_found: 'That message is not there any more',
  rejected: 'That message was not accepted',
  too_large: 'That message is too long',
  rate_limited: 'You are sending messages too fast',
  token_expired: 'Your sign-in has expired',
  internal: 'Something went wrong on the server; please try again',
};

/** One sentence for a person, from an error frame (code + the server's own message). */
export function describeError(frame) {
  if (frame && frame.type === 'gateway_error') {
    return `The chat gateway could not handle a request: ${frame.message}`;
  }
  const code = frame && typeof frame.code === 'string' ? frame.code : 'error';
  const detail = frame && typeof frame.message === 'string' ? frame.message.trim() : '';
  const lead = ERROR_WORDS[code] ?? `The server reported an error (${code})`;
  const room = frame && typeof frame.roomId === 'string' ? ` in #${frame.roomId}` : '';
  return detail ? `${lead}${room}: ${detail}` : `${lead}${room}.`;
}

const CLOSE_WORDS = {
  1000: 'closed normally',
  1001: 'the server went away (stopped or restarted)',
  1006: 'the connection was lost',
  1008: 'closed by the server: the request broke its rules',
  1009: 'closed by the server: a frame was too large (32 KB at most)',
  1011: 'closed by the server after an internal error',
};

// API Gateway closes a connection idle for 10 minutes, or open for 2 hours, with 1001 too.
export const IDLE_LIMIT_MS = 10 * 60_000;
export const CONNECTION_LIMIT_MS = 2 * 60 * 60_000;

/**
 * One phrase for a WebSocket close code. 1001 is what a server that stops sends, and what API
 * Gateway sends at its idle and 2-hour limits: `connectedMs` (how long the connection was open)
 * and `idleMs` (since this client last sent a frame) tell those apart when known.
 */
export function describeClose(code, { connectedMs = null, idleMs = null } = {}) {
  if (code === 1001 && connectedMs !== null && connectedMs >= CONNECTION_LIMIT_MS) {
    return 'closed by the server at the 2-hour connection limit';
  }
  if (code === 1001 && idleMs !== null && idleMs >= IDLE_LIMIT_MS) {
    return 'closed by the server after 10 idle minutes';
  }
  return CLOSE_WORDS[code] ?? `closed (code ${code})`;
}

// ----------------------------------------------------------------------------- reconnecting

/**
 * Milliseconds to wait before reconnect attempt `attempt` (0 = the first retry): exponential
 * back-off with "full jitter" between half and all of min(cap, base * 2^attempt), so a gateway
 * restart does not bring every client back in the same instant.
 */
export function backoffDelay(attempt, { baseMs = 500, capMs = 30_000, random = Math.random } = {}) {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

// ----------------------------------------------------------------------------- where to connect

/** Whether a URL is something `new WebSocket()` accepts. */
export function webSocketUrlProblem(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return 'Enter a WebSocket URL such as ws://127.0.0.1:8080/live.';
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    return 'The URL must start with ws:// or wss://.';
  }
  return null;
}
