// The page's conversations: a message's body with its mentions highlighted, its reactions (a
// chip per emoji, and a short bar to add one), its thread link, the thread pane (the parent,
// the replies, a reply box, follow), the room's pins, and `@` completion in a message box.
// Everything from the network is inserted with textContent.

import { mentionCandidates, mentionParts } from '../sdk/index.js';

const QUICK = ['👍', '❤️', '😂', '🎉', '👀'];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(className, text, data) {
  const b = el('button', className, text);
  b.type = 'button';
  Object.assign(b.dataset, data);
  return b;
}

/** What changes how a message looks (for the timeline's re-render check). */
export function conversationSignature(msg, room) {
  const pinned = room.pins.some((p) => p.messageId === msg.messageId) ? 'pinned' : '';
  return `${msg.replyCount}|${JSON.stringify(msg.reactions)}|${msg.mentions.length}|${pinned}`;
}

/** The message text, each mention of a member (or of the room) highlighted. */
export function messageBody(msg, room) {
  const body = el('div', 'msg-body');
  for (const part of mentionParts(msg.message, msg, room.you)) {
    body.append(part.mention ? el('mark', part.me ? 'mention me' : 'mention', part.text) : document.createTextNode(part.text));
  }
  return body;
}

/** Reactions, the quick bar, the thread link and pin, under one message (not a tombstone). */
export function messageFooter(msg, room, { inThread = false } = {}) {
  const row = el('div', 'msg-extras');
  const reactions = el('span', 'reactions');
  for (const r of msg.reactions) {
    const mine = r.users.includes(room.you);
    const chip = button(`reaction${mine ? ' mine' : ''}`, `${r.emoji} ${r.count}`, { action: 'react', emoji: r.emoji });
    chip.title = `${r.count} reacted with ${r.emoji}`;
    reactions.append(chip);
  }
  const quick = el('span', 'quick-reactions');
  for (const emoji of QUICK) quick.append(button('link quick', emoji, { action: 'react', emoji }));
  row.append(reactions, quick);
  if (!inThread) {
    const label = msg.replyCount ? `${msg.replyCount} ${msg.replyCount === 1 ? 'reply' : 'replies'}` : 'Reply in thread';
    row.append(button('link thread-link', label, { action: 'thread' }));
    const pinned = room.pins.some((p) => p.messageId === msg.messageId);
    row.append(button('link pin-link', pinned ? 'Unpin' : 'Pin', { action: pinned ? 'unpin' : 'pin' }));
  }
  return row;
}

/** The room's pins, above the timeline. */
export function renderPins(container, room) {
  container.replaceChildren();
  container.hidden = room.pins.length === 0;
  if (room.pins.length === 0) return;
  container.append(el('span', 'pins-title', '📌 Pinned:'));
  for (const pin of room.pins) {
    const item = el('span', 'pin');
    item.dataset.messageId = pin.messageId;
    item.textContent = pin.excerpt === null ? '(deleted)' : `${pin.sender ?? '?'}: ${pin.excerpt}`;
    container.append(item);
  }
}

/** The thread pane: its parent, replies oldest first, and whether we follow it. */
export function renderThread(pane, room, parentId) {
  const thread = parentId ? room?.threads.get(parentId) : null;
  pane.hidden = !thread;
  if (!thread) return;
  const parent = thread.parent ?? room.messages.get(parentId);
  pane.querySelector('.thread-parent').textContent = parent
    ? `${parent.sender}: ${parent.deletedAt ? 'This message was deleted.' : parent.message}`
    : '';
  const follow = pane.querySelector('[data-action="follow"]');
  follow.textContent = thread.following ? 'Unfollow' : 'Follow';
  const list = pane.querySelector('.thread-replies');
  list.replaceChildren();
  for (const msg of thread.list()) {
    const li = el('li', 'msg reply');
    li.dataset.messageId = msg.messageId;
    li.dataset.replyTo = parentId;
    const head = el('div', 'msg-head');
    head.append(el('span', 'sender', msg.sender));
    li.append(head);
    if (msg.deletedAt) li.append(el('div', 'msg-body msg-deleted', 'This message was deleted.'));
    else li.append(messageBody(msg, room), messageFooter(msg, room, { inThread: true }));
    list.append(li);
  }
  const pending = [...room.pending.values()].filter((p) => p.replyTo === parentId && !p.alsoToRoom);
  for (const p of pending) list.append(el('li', 'msg reply pending', `${room.name ?? ''}: ${p.message} (sending…)`));
}

/**
 * `@` completion for a message box: while the word before the caret is `@prefix`, the names of
 * the room's members that start with it are offered; a click (or Tab) puts one in.
 */
export function mentionCompletion(textarea, list, names) {
  function word() {
    const before = textarea.value.slice(0, textarea.selectionStart);
    return /(?:^|[^\p{L}\p{N}_@])@([^\s@]{0,32})$/u.exec(before);
  }
  function update() {
    const match = word();
    const found = match ? mentionCandidates(names(), match[1]) : [];
    list.replaceChildren(...found.map((name) => button('mention-option', name, { name })));
    list.hidden = found.length === 0;
  }
  function choose(name) {
    const match = word();
    if (!match) return;
    const end = textarea.selectionStart;
    const start = end - match[1].length;
    textarea.value = `${textarea.value.slice(0, start)}${name} ${textarea.value.slice(end)}`;
    textarea.selectionStart = textarea.selectionEnd = start + name.length + 1;
    list.hidden = true;
    textarea.focus();
  }
  textarea.addEventListener('input', update);
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Tab' && !list.hidden && list.firstChild) {
      event.preventDefault();
      choose(list.firstChild.dataset.name);
    }
  });
  list.addEventListener('mousedown', (event) => {
    const option = event.target.closest('[data-name]');
    if (option) {
      event.preventDefault();
      choose(option.dataset.name);
    }
  });
}
