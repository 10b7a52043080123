// The page: turns ChatClient state into DOM and user input into ChatClient calls. Every string
// that came from the network or the user is inserted with textContent, never as HTML.

import { ChatClient, FAILED, JOINED, JOINING, LEAVING, QUEUED, REJOINING, checkName, roomIdProblem } from '../sdk/index.js';
import { conversationSignature, mentionCompletion, messageBody, messageFooter, renderPins, renderThread } from './conversations.js';
import { connectionText, formatFullTime, formatTime, nameHue, plural, summarizeMembers } from './format.js';
import { discoverWebSocketUrl, tokenDestinationProblem } from './protocol.js';
import {
  ROLE_ACTIONS,
  RoomDirectory,
  authFromConfig,
  canSignIn,
  describePolicy,
  describeRole,
  needsToken,
  signInRequest,
  signInResult,
  tokenProblem,
  tokenUser,
  withToken,
  withoutToken,
} from './identity.js';

const SESSION_KEY = 'roomchat.session';
const NAME_KEY = 'roomchat.name';
const ALERT_MS = 12_000;

const $ = (id) => document.getElementById(id);
const ui = {
  conn: $('conn'),
  connText: $('conn-text'),
  retryNow: $('retry-now'),
  me: $('me'),
  meName: $('me-name'),
  disconnect: $('disconnect'),
  alerts: $('alerts'),
  connectView: $('connect-view'),
  connectForm: $('connect-form'),
  name: $('name'),
  firstRoom: $('first-room'),
  wsUrl: $('ws-url'),
  wsSource: $('ws-source'),
  connectProblem: $('connect-problem'),
  chatView: $('chat-view'),
  roomList: $('room-list'),
  joinForm: $('join-form'),
  joinRoom: $('join-room'),
  joinProblem: $('join-problem'),
  room: $('room'),
  roomTitle: $('room-title'),
  roomMeta: $('room-meta'),
  roomProblem: $('room-problem'),
  membersToggle: $('members-toggle'),
  membersClose: $('members-close'),
  leave: $('leave'),
  scroller: $('scroller'),
  loadOlder: $('load-older'),
  olderState: $('older-state'),
  timeline: $('timeline'),
  composer: $('composer'),
  message: $('message'),
  composerProblem: $('composer-problem'),
  members: $('members'),
  memberCount: $('member-count'),
  memberList: $('member-list'),
  noRoom: $('no-room'),
  pins: $('pins'),
  mentionOptions: $('mention-options'),
  thread: $('thread'),
  threadReplies: $('thread-replies'),
  threadForm: $('thread-form'),
  threadMessage: $('thread-message'),
  threadAlso: $('thread-also'),
  threadOptions: $('thread-mention-options'),
};
// The thread shown in the thread pane: {roomId, parentId}, or null.
let openThread = null;

// Optional settings a host page or a test sets before this module runs, e.g.
// window.roomchatOptions = {pingIntervalMs: 3000} against a gateway with a short idle timeout.
const options = window.roomchatOptions ?? {};
const client = new ChatClient({
  pingIntervalMs: options.pingIntervalMs,
  pongTimeoutMs: options.pongTimeoutMs,
  sendTimeoutMs: options.sendTimeoutMs,
  backoff: options.backoff,
  // The server refused an action as `token_expired`: reconnect with the page's token if the user
  // has signed in again since (a token still valid), else the client stops and says to sign in.
  freshToken: () => {
    const expiresAt = identity.user?.expiresAt;
    if (identity.token && expiresAt && expiresAt > Date.now()) return identity.token;
    idui.problem.textContent = 'Your sign-in has expired; sign in again.';
    return null;
  },
});
// For the browser tests and the console: the page's state and a way to drop the connection.
window.roomchat = { client };

const wide = window.matchMedia('(min-width: 900px)');
let membersOpen = wide.matches;
let renderQueued = false;
const shownAlerts = new Set();

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ------------------------------------------------------------------------------- rendering

function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(() => {
    renderQueued = false;
    render();
  });
}

function render() {
  renderStatus();
  renderAlerts();
  renderRooms();
  renderRoom();
  renderIdentity();
  saveSession();
}

function renderStatus() {
  const inSession = client.status !== 'idle' && client.status !== 'closed';
  ui.conn.dataset.status = client.status;
  ui.connText.textContent = connectionText(client);
  ui.retryNow.hidden = !(client.status === 'reconnecting' && client.retryAt !== null);
  ui.me.hidden = !inSession;
  ui.meName.textContent = client.name ?? '';
  ui.connectView.hidden = inSession;
  ui.chatView.hidden = !inSession;
  let unread = 0;
  for (const room of client.rooms.values()) unread += room.unread;
  document.title = unread > 0 ? `(${unread}) roomchat` : 'roomchat';
}

function renderAlerts() {
  const live = new Set(client.errors.map((e) => e.id));
  for (const node of [...ui.alerts.children]) {
    if (!live.has(Number(node.dataset.id))) node.remove();
  }
  for (const error of client.errors) {
    if (shownAlerts.has(error.id)) continue;
    shownAlerts.add(error.id);
    const node = el('div', 'alert');
    node.dataset.id = String(error.id);
    node.setAttribute('role', 'alert');
    node.append(el('span', 'alert-text', error.text));
    const close = el('button', 'alert-close', '×');
    close.type = 'button';
    close.setAttribute('aria-label', 'Dismiss');
    close.addEventListener('click', () => client.dismissError(error.id));
    node.append(close);
    ui.alerts.append(node);
    setTimeout(() => client.dismissError(error.id), ALERT_MS);
  }
}

function roomStateText(room) {
  if (room.status === JOINING) return 'joining…';
  if (room.status === REJOINING) return 'rejoining…';
  if (room.status === LEAVING) return 'leaving…';
  return '';
}

function renderRooms() {
  const rooms = [...client.rooms.values()].filter((r) => r.status !== LEAVING);
  const existing = new Map([...ui.roomList.children].map((li) => [li.dataset.room, li]));
  let previous = null;
  for (const room of rooms) {
    let li = existing.get(room.id);
    existing.delete(room.id);
    if (!li) {
      li = el('li', 'room-item');
      li.dataset.room = room.id;
      li.setAttribute('role', 'presentation');
      const tab = el('button', 'room-tab');
      tab.type = 'button';
      tab.dataset.room = room.id;
      tab.setAttribute('role', 'tab');
      tab.setAttribute('aria-controls', 'room');
      tab.append(el('span', 'room-name', `#${room.id}`), el('span', 'room-state'), el('span', 'badge'));
      li.append(tab);
    }
    const tab = li.firstElementChild;
    const selected = room.id === client.active;
    tab.setAttribute('aria-selected', String(selected));
    tab.classList.toggle('selected', selected);
    tab.classList.toggle('pending', room.status !== JOINED);
    tab.querySelector('.room-state').textContent = roomStateText(room);
    const badge = tab.querySelector('.badge');
    badge.textContent = room.unread > 99 || room.unreadCapped ? '99+' : String(room.unread);
    badge.hidden = room.unread === 0;
    badge.setAttribute('aria-label', plural(room.unread, 'unread message'));
    const expected = previous ? previous.nextSibling : ui.roomList.firstChild;
    if (expected !== li) ui.roomList.insertBefore(li, expected);
    previous = li;
  }
  for (const li of existing.values()) li.remove();
}

function renderRoom() {
  const room = client.active ? client.rooms.get(client.active) : null;
  const hasRoom = Boolean(room) && room.status !== LEAVING;
  ui.room.hidden = !hasRoom;
  ui.members.hidden = !hasRoom;
  ui.noRoom.hidden = hasRoom;
  ui.chatView.classList.toggle('members-open', membersOpen);
  ui.membersToggle.setAttribute('aria-expanded', String(membersOpen));
  if (!hasRoom) {
    ui.timeline.replaceChildren();
    ui.timeline.dataset.room = '';
    return;
  }
  ui.roomTitle.textContent = `#${room.id}`;
  const meta = [];
  if (typeof room.memberCount === 'number') meta.push(plural(room.memberCount, 'member'));
  const state = roomStateText(room);
  if (state) meta.push(state);
  if (room.catchingUp) meta.push('catching up…');
  const typing = room.typingNames(Date.now());
  if (typing.length > 0) meta.push(`${typing.join(', ')} ${typing.length === 1 ? 'is' : 'are'} typing…`);
  ui.roomMeta.textContent = meta.join(' · ');
  ui.roomProblem.textContent = room.problem ?? '';
  ui.roomProblem.hidden = !room.problem;
  ui.message.placeholder = `Message #${room.id}`;

  ui.loadOlder.hidden = room.olderExhausted || room.status !== JOINED;
  ui.loadOlder.disabled = room.loadingOlder;
  ui.olderState.textContent = room.loadingOlder
    ? 'Loading…'
    : room.olderExhausted && room.messages.size > 0
      ? 'This is the start of the room.'
      : room.olderExhausted
        ? 'No messages yet. Say hello!'
        : '';

  renderTimeline(room);
  renderMembers(room);
  renderPins(ui.pins, room);
  renderThread(ui.thread, room, openThread?.roomId === room.id ? openThread.parentId : null);
  ui.chatView.classList.toggle('thread-open', !ui.thread.hidden);
}

const GROUP_MS = 5 * 60_000;

/** A message follows on from the one before it: same sender, within five minutes. */
function continues(entry, before) {
  if (entry.kind !== 'message' || before?.kind !== 'message') return false;
  if (entry.msg.sender !== before.msg.sender) return false;
  const gap = Date.parse(entry.msg.sentAt) - Date.parse(before.msg.sentAt);
  return gap >= 0 && gap < GROUP_MS;
}

function entrySignature(entry, cont) {
  if (entry.kind === 'pending') return `${entry.pending.status}|${entry.pending.problem ?? ''}|${client.isOpen}`;
  if (entry.kind === 'message') {
    const { msg } = entry;
    const own = client.rooms.get(msg.roomId)?.isOwn(msg) ? 'own' : '';
    const room = client.rooms.get(msg.roomId);
    const state = `${msg.deletedAt ?? ''}|${msg.editedAt ?? ''}|${own}|${room ? conversationSignature(msg, room) : ''}`;
    return cont ? `message|cont|${state}` : `message|${state}`;
  }
  return cont ? `${entry.kind}|cont` : entry.kind;
}

function renderEntry(entry, room, cont) {
  if (entry.kind === 'notice') {
    const li = el('li', 'notice');
    li.append(el('span', 'notice-text', entry.notice.text));
    return li;
  }
  if (entry.kind === 'message') {
    const { msg } = entry;
    const li = el('li', 'msg');
    li.dataset.messageId = msg.messageId;
    if (msg.sender === room.name) li.classList.add('own');
    if (cont) {
      li.classList.add('cont');
      if (msg.sentAt) li.title = formatFullTime(msg.sentAt);
    }
    const head = el('div', 'msg-head');
    const sender = el('span', 'sender', msg.sender);
    sender.style.setProperty('--hue', String(nameHue(msg.sender)));
    const time = el('time', 'time', formatTime(msg.sentAt));
    if (msg.sentAt) {
      time.dateTime = msg.sentAt;
      time.title = formatFullTime(msg.sentAt);
    }
    head.append(sender, time);
    if (msg.editedAt && !msg.deletedAt) head.append(el('span', 'edited', '(edited)'));
    if (room.isOwn(msg)) {
      for (const [action, label] of [['edit', 'Edit'], ['delete', 'Delete']]) {
        const button = el('button', 'link msg-action', label);
        button.type = 'button';
        button.dataset.action = action;
        head.append(button);
      }
    }
    if (msg.deletedAt) {
      li.classList.add('deleted');
      li.append(head, el('div', 'msg-body msg-deleted', 'This message was deleted.'));
    } else {
      li.append(head, messageBody(msg, room), messageFooter(msg, room));
    }
    return li;
  }
  const p = entry.pending;
  const li = el('li', `msg own pending ${p.status}`);
  li.dataset.clientMsgId = p.clientMsgId;
  const head = el('div', 'msg-head');
  const sender = el('span', 'sender', room.name ?? client.name ?? '');
  sender.style.setProperty('--hue', String(nameHue(room.name ?? client.name ?? '')));
  const stateText =
    p.status === FAILED
      ? 'Not sent'
      : p.status === QUEUED
        ? client.isOpen
          ? 'Waiting its turn…' // the room's outbox sends one message at a time
          : 'Waiting for the connection…'
        : 'Sending…';
  head.append(sender, el('span', 'pending-state', stateText));
  li.append(head, el('div', 'msg-body', p.message));
  if (p.status === FAILED) {
    const row = el('div', 'msg-failed');
    if (p.problem) row.append(el('span', 'msg-problem', p.problem));
    const retry = el('button', 'link', 'Retry');
    retry.type = 'button';
    retry.dataset.action = 'retry';
    const discard = el('button', 'link', 'Discard');
    discard.type = 'button';
    discard.dataset.action = 'discard';
    row.append(retry, discard);
    li.append(row);
  }
  return li;
}

function renderTimeline(room) {
  const scroller = ui.scroller;
  const switched = ui.timeline.dataset.room !== room.id;
  if (switched) {
    ui.timeline.replaceChildren();
    ui.timeline.dataset.room = room.id;
  }
  if (!switched && ui.timeline.dataset.version === String(room.version)) return;
  ui.timeline.dataset.version = String(room.version);

  const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48;
  // Keep what the reader looks at in place when older messages arrive above it.
  let anchor = null;
  let anchorOffset = 0;
  if (!atBottom) {
    for (const node of ui.timeline.children) {
      if (node.offsetTop + node.offsetHeight > scroller.scrollTop) {
        anchor = node;
        anchorOffset = node.offsetTop - scroller.scrollTop;
        break;
      }
    }
  }

  const existing = new Map([...ui.timeline.children].map((node) => [node.dataset.key, node]));
  let previous = null;
  let before = null;
  for (const entry of room.timeline()) {
    let node = existing.get(entry.key);
    existing.delete(entry.key);
    const cont = continues(entry, before);
    before = entry;
    const signature = entrySignature(entry, cont);
    if (!node || node.dataset.sig !== signature) {
      const fresh = renderEntry(entry, room, cont);
      fresh.dataset.key = entry.key;
      fresh.dataset.sig = signature;
      if (node) {
        if (anchor === node) anchor = fresh;
        node.replaceWith(fresh);
      }
      node = fresh;
    }
    const expected = previous ? previous.nextSibling : ui.timeline.firstChild;
    if (expected !== node) ui.timeline.insertBefore(node, expected);
    previous = node;
  }
  for (const node of existing.values()) {
    if (anchor === node) anchor = null;
    node.remove();
  }

  if (switched || atBottom) scroller.scrollTop = scroller.scrollHeight;
  else if (anchor) scroller.scrollTop = anchor.offsetTop - anchorOffset;
}

function renderMembers(room) {
  const names = room.members;
  ui.memberCount.textContent = typeof room.memberCount === 'number' ? `(${room.memberCount})` : '';
  ui.memberList.replaceChildren();
  if (!Array.isArray(names)) {
    ui.memberList.append(el('li', 'muted', 'Loading…'));
    return;
  }
  for (const { name, count } of summarizeMembers(names)) {
    const li = el('li', 'member');
    const label = el('span', 'member-name', name);
    label.style.setProperty('--hue', String(nameHue(name)));
    li.append(label);
    if (name === room.name) li.append(el('span', 'member-you', ' (you)'));
    if (count > 1) li.append(el('span', 'member-count', ` ×${count}`));
    ui.memberList.append(li);
  }
}

// ------------------------------------------------------------------------------- session

function readSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    return session && typeof session.url === 'string' && typeof session.name === 'string' ? session : null;
  } catch {
    return null;
  }
}

function saveSession() {
  try {
    if (client.status === 'idle' || client.status === 'closed') sessionStorage.removeItem(SESSION_KEY);
    else sessionStorage.setItem(SESSION_KEY, JSON.stringify(client.snapshot()));
  } catch {
    // storage disabled: a reload starts over
  }
}

// ------------------------------------------------------------------------------- input

ui.connectForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const room = ui.firstRoom.value.trim().replace(/^#/, '');
  const tokenBad = authProblem(ui.wsUrl.value.trim());
  if (tokenBad) {
    ui.connectProblem.textContent = tokenBad;
    return;
  }
  const problem =
    checkName(ui.name.value).problem ||
    (room ? roomIdProblem(room) : null) ||
    client.connect(connectUrl(ui.wsUrl.value.trim()), ui.name.value, room ? [room] : []);
  ui.connectProblem.textContent = problem ?? '';
  if (problem) return;
  try {
    localStorage.setItem(NAME_KEY, checkName(ui.name.value).name);
  } catch {
    // not remembered: fine
  }
  ui.message.focus();
});

ui.disconnect.addEventListener('click', () => client.disconnect());
ui.retryNow.addEventListener('click', () => client.reconnectNow());

ui.roomList.addEventListener('click', (event) => {
  const tab = event.target.closest('.room-tab');
  if (tab) client.setActive(tab.dataset.room);
});

ui.joinForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const problem = client.join(ui.joinRoom.value);
  ui.joinProblem.textContent = problem ?? '';
  if (!problem) ui.joinRoom.value = '';
});

ui.leave.addEventListener('click', () => {
  if (client.active) client.leave(client.active);
});

ui.loadOlder.addEventListener('click', () => {
  if (client.active) client.loadOlder(client.active);
});

ui.membersToggle.addEventListener('click', () => {
  membersOpen = !membersOpen;
  if (membersOpen && client.active) client.refreshMembers(client.active);
  scheduleRender();
});

ui.membersClose.addEventListener('click', () => {
  membersOpen = false;
  scheduleRender();
});

// The message being edited in the composer ({roomId, messageId}), or null when composing anew.
let editing = null;

function stopEditing() {
  editing = null;
  ui.composer.classList.remove('editing');
  ui.composerProblem.textContent = '';
}

function sendFromComposer() {
  if (!client.active) return;
  const text = ui.message.value;
  if (text.trim() === '') return;
  const problem =
    editing && editing.roomId === client.active
      ? client.editMessage(editing.roomId, editing.messageId, text)
      : client.sendMessage(client.active, text);
  if (!problem) stopEditing();
  ui.composerProblem.textContent = problem ?? '';
  if (problem) return;
  ui.message.value = '';
  autoGrow();
  ui.scroller.scrollTop = ui.scroller.scrollHeight;
}

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  sendFromComposer();
});

ui.message.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    sendFromComposer();
  }
});

function autoGrow() {
  ui.message.style.height = 'auto';
  ui.message.style.height = `${Math.min(ui.message.scrollHeight, 160)}px`;
}
ui.message.addEventListener('input', () => {
  if (!editing) ui.composerProblem.textContent = '';
  autoGrow();
  if (client.active && ui.message.value !== '') client.typing(client.active);
});

ui.message.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && editing) {
    stopEditing();
    ui.message.value = '';
    autoGrow();
  }
});

/** The conversation buttons of a message (react, thread, pin), in the timeline or a thread. */
function conversationAction(button, messageId, replyTo) {
  const roomId = client.active;
  const action = button.dataset.action;
  let problem = null;
  if (action === 'react') problem = client.toggleReaction(roomId, messageId, button.dataset.emoji, replyTo);
  else if (action === 'pin' || action === 'unpin') {
    problem = client.pin(roomId, messageId, { remove: action === 'unpin', replyTo });
  } else if (action === 'thread') {
    openThread = { roomId, parentId: messageId };
    problem = client.openThread(roomId, messageId);
    ui.threadMessage.focus();
  } else return false;
  ui.composerProblem.textContent = problem ?? '';
  scheduleRender();
  return true;
}

ui.thread.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button || !openThread) return;
  if (button.dataset.action === 'close-thread') openThread = null;
  else if (button.dataset.action === 'follow') {
    const thread = client.rooms.get(openThread.roomId)?.threads.get(openThread.parentId);
    client.followThread(openThread.roomId, openThread.parentId, !thread?.following);
  } else {
    const item = button.closest('[data-message-id]');
    if (item) conversationAction(button, item.dataset.messageId, openThread.parentId);
  }
  scheduleRender();
});

ui.threadForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = ui.threadMessage.value;
  if (!openThread || text.trim() === '') return;
  client.reply(openThread.roomId, openThread.parentId, text, { alsoToRoom: ui.threadAlso.checked }).catch((error) => {
    ui.composerProblem.textContent = error.message;
  });
  ui.threadMessage.value = '';
  ui.threadAlso.checked = false;
  scheduleRender();
});

ui.threadMessage.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && ui.threadOptions.hidden) {
    event.preventDefault();
    ui.threadForm.requestSubmit();
  }
});

const memberNames = () => client.rooms.get(client.active)?.members ?? [];
mentionCompletion(ui.message, ui.mentionOptions, memberNames);
mentionCompletion(ui.threadMessage, ui.threadOptions, memberNames);

ui.timeline.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  const sent = button?.closest('[data-message-id]');
  if (button && sent && client.active) {
    const messageId = sent.dataset.messageId;
    if (conversationAction(button, messageId, null)) return;
    if (button.dataset.action === 'delete') {
      ui.composerProblem.textContent = client.deleteMessage(client.active, messageId) ?? '';
    } else if (button.dataset.action === 'edit') {
      const msg = client.rooms.get(client.active)?.messages.get(messageId);
      if (!msg) return;
      editing = { roomId: client.active, messageId };
      ui.composer.classList.add('editing');
      ui.message.value = msg.message;
      ui.composerProblem.textContent = 'Editing your message: Enter saves, Esc cancels.';
      autoGrow();
      ui.message.focus();
    }
    return;
  }
  const item = button?.closest('[data-client-msg-id]');
  if (!button || !item || !client.active) return;
  if (button.dataset.action === 'retry') client.retry(client.active, item.dataset.clientMsgId);
  else client.discard(client.active, item.dataset.clientMsgId);
});

window.addEventListener('online', () => client.reconnectNow());
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && client.active) client.markRead(client.active);
});
wide.addEventListener('change', () => {
  membersOpen = wide.matches;
  scheduleRender();
});
// The "retrying in N s" countdown.
setInterval(() => {
  if (client.status === 'reconnecting') renderStatus();
}, 1000);

client.subscribe(scheduleRender);

// ------------------------------------------------------------------------------- signing in, rooms and roles
// The token lives in memory and in the connection URL (`?token=`), which the tab's session
// (sessionStorage) keeps so a reload reconnects; Disconnect forgets both. The password is sent
// once to Cognito and never kept: the field is cleared as soon as the request goes.

const idui = {
  box: $('auth-box'),
  signInFields: $('sign-in-fields'),
  user: $('auth-user'),
  password: $('auth-password'),
  signIn: $('sign-in'),
  token: $('auth-token'),
  state: $('auth-state'),
  problem: $('auth-problem'),
  admin: $('room-admin'),
  myUserId: $('my-user-id'),
  createForm: $('create-form'),
  createRoom: $('create-room'),
  createPolicy: $('create-policy'),
  roleForm: $('role-form'),
  roleUser: $('role-user'),
  roleAction: $('role-action'),
  log: $('room-admin-log'),
  access: $('room-access'),
};
const identity = { auth: null, token: null, user: null, directory: new RoomDirectory() };
window.roomchat.identity = identity;

function setToken(token) {
  identity.token = token;
  identity.user = token ? tokenUser(token) : null;
  identity.directory = new RoomDirectory(identity.user?.userId ?? null);
  if (identity.user?.name && !ui.name.value.trim()) ui.name.value = identity.user.name.slice(0, 32);
  renderAuthBox();
}

/** The token to connect with (signed in, else pasted), or null. */
function currentToken() {
  const pasted = idui.token.value.trim();
  return pasted || identity.token;
}

// The one WebSocket origin this page's configuration names (discoverWebSocketUrl): the only
// place a token is ever sent, whatever the Server field or a link's ?ws= says.
let home = null;

function authProblem(wsUrl) {
  if (!needsToken(identity.auth)) return null;
  const token = currentToken();
  const problem = tokenProblem(token) || tokenDestinationProblem(wsUrl, home);
  if (!problem && token !== identity.token) setToken(token);
  return problem;
}

function connectUrl(wsUrl) {
  const token = needsToken(identity.auth) ? currentToken() : null;
  try {
    return token ? withToken(wsUrl, token) : wsUrl;
  } catch {
    return wsUrl; // the client reports the bad URL
  }
}

function renderAuthBox() {
  idui.box.hidden = !needsToken(identity.auth);
  idui.signInFields.hidden = !canSignIn(identity.auth);
  const user = identity.user;
  idui.state.textContent = user?.userId ? `Signed in as ${user.name} (user id ${user.userId}).` : '';
}

async function signIn() {
  const request = signInRequest(identity.auth, idui.user.value, idui.password.value);
  idui.password.value = ''; // never kept, whatever happens next
  if (request.problem) {
    idui.problem.textContent = request.problem;
    return;
  }
  idui.problem.textContent = '';
  idui.state.textContent = 'Signing in…';
  idui.signIn.disabled = true;
  let result;
  try {
    const response = await fetch(request.url, request.init);
    result = signInResult(response.status, await response.json().catch(() => null));
  } catch (error) {
    result = { problem: `Could not reach the sign-in service (${error.message}).` };
  } finally {
    idui.signIn.disabled = false;
  }
  if (result.problem) {
    idui.state.textContent = '';
    idui.problem.textContent = result.problem;
    return;
  }
  idui.token.value = '';
  setToken(result.token);
}

function renderIdentity() {
  const signedIn = Boolean(identity.user?.userId) && client.status !== 'idle' && client.status !== 'closed';
  idui.admin.hidden = !signedIn;
  idui.myUserId.textContent = identity.user?.userId ?? '';
  const room = client.active ? client.rooms.get(client.active) : null;
  const info = room ? identity.directory.info(room.id) : null;
  const access = [];
  if (signedIn && info) {
    if (info.policy) access.push(describePolicy(info.policy));
    if (info.role) access.push(`you: ${describeRole(info.role)}`);
  }
  idui.access.textContent = access.join(' · ');
  idui.access.hidden = access.length === 0;
  idui.roleForm.hidden = !room;
  const lines = identity.directory.log;
  if (idui.log.childElementCount !== lines.length || idui.log.dataset.last !== lines.at(-1)?.text) {
    idui.log.replaceChildren(
      ...lines.map((line) => el('li', line.problem ? 'admin-line problem' : 'admin-line', line.text)),
    );
    idui.log.dataset.last = lines.at(-1)?.text ?? '';
  }
}

/** createRoom or a role action through the SDK, which checks the input and sends the frame. */
function sendRoomAction(action, roomId, arg) {
  let problem;
  if (action === 'createRoom') problem = client.createRoom(roomId, arg);
  else if (ROLE_ACTIONS.includes(action)) problem = client[action](roomId, arg);
  else problem = `Unknown room action: ${action}.`;
  if (problem) identity.directory.note(problem, true);
  scheduleRender();
  return !problem;
}

// An expired token cannot reconnect (the authorizer refuses it): stop and ask to sign in again
// instead of retrying for ever.
client.subscribe(() => {
  const expiresAt = identity.user?.expiresAt;
  if (client.status !== 'reconnecting' || !expiresAt || expiresAt > Date.now()) return;
  client.disconnect();
  idui.token.value = '';
  setToken(null);
  idui.problem.textContent = 'Your sign-in has expired; sign in again.';
});

client.frameHooks.add((frame) => {
  if (identity.directory.onFrame(frame)) {
    // The creator joins the room just created.
    if (frame.type === 'roomCreated' && !client.rooms.has(frame.roomId)) client.join(frame.roomId);
    scheduleRender();
  }
});

idui.signIn.addEventListener('click', () => signIn());
idui.password.addEventListener('keydown', (event) => {
  if (event.key === 'Enter') {
    event.preventDefault();
    signIn();
  }
});
idui.token.addEventListener('input', () => {
  idui.problem.textContent = '';
});
ui.disconnect.addEventListener('click', () => {
  idui.token.value = '';
  setToken(null);
});

idui.createForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const roomId = idui.createRoom.value.trim().replace(/^#/, '');
  if (sendRoomAction('createRoom', roomId, idui.createPolicy.value)) idui.createRoom.value = '';
});

idui.roleForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!client.active) return;
  if (sendRoomAction(idui.roleAction.value, client.active, idui.roleUser.value.trim())) idui.roleUser.value = '';
});

/** The local gateway's /devstack.json says how to sign in; without it (a hosted page), config.json. */
async function discoverAuth(fetchConfig) {
  const devstack = await fetchConfig('devstack.json').catch(() => null);
  const config = devstack ? devstack : await fetchConfig('config.json').catch(() => null);
  identity.auth = authFromConfig(config);
  renderAuthBox();
}

/** fetchJson that asks for each path once (the URL and the sign-in discovery read the same files). */
function fetchOnce() {
  const answers = new Map();
  return (path) => {
    if (!answers.has(path)) answers.set(path, fetchJson(path));
    return answers.get(path);
  };
}

// ------------------------------------------------------------------------------- start

async function fetchJson(path) {
  const response = await fetch(new URL(path, window.location.href), { cache: 'no-store' });
  return response.ok ? response.json() : null;
}

async function start() {
  let session = readSession();
  const fetchConfig = fetchOnce();
  const found = await discoverWebSocketUrl(window.location, fetchConfig);
  home = found.home;
  await discoverAuth(fetchConfig);
  const fromParam = found.source === 'the ?ws= parameter';
  const sessionToken = session ? new URL(session.url, window.location.href).searchParams.get('token') : null;
  // A token is carried on only to this page's server.
  if (sessionToken && tokenDestinationProblem(session.url, home)) session = null;
  else if (sessionToken) setToken(sessionToken);
  ui.wsUrl.value = withoutToken(session && !fromParam ? session.url : found.url);
  ui.wsSource.textContent = `Prefilled from ${found.source}.${found.ignored ? ` Ignored: ${found.ignored}.` : ''}`;
  let savedName = '';
  try {
    savedName = localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    // no storage
  }
  ui.name.value = session?.name ?? savedName;
  if (session && (!fromParam || withoutToken(session.url) === withoutToken(found.url))) {
    // A reload: carry on where this tab was.
    client.connect(session.url, session.name, Array.isArray(session.rooms) ? session.rooms : []);
    if (session.active && client.rooms.has(session.active)) client.setActive(session.active);
  }
  document.documentElement.dataset.ready = 'true';
  render();
}

start();
