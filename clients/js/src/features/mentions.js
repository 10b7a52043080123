// Mentions: the server resolves `@name` against the room's members; a message names whom it
// mentions (`mentions`, `mentionsRoom`). Here: the messages that mention us across rooms
// (`mentions`, in `client.mentionList`), the names to complete an `@` with, and a message's
// text split into plain and mentioning parts for a view to highlight.

import { frames } from '../protocol.js';

/** Member names starting with `prefix` (case-insensitive), for completing `@prefix`. */
export function mentionCandidates(names, prefix, limit = 8) {
  const want = prefix.toLocaleLowerCase();
  const found = [...new Set(names)].filter((n) => n.toLocaleLowerCase().startsWith(want));
  return found.sort((a, b) => a.length - b.length || a.localeCompare(b)).slice(0, limit);
}

/**
 * `text` as parts {text, mention, me}: each `@name` of a member the message mentions (and
 * `@room` when it mentions the room) is a mention; `me` when it names `you`.
 */
export function mentionParts(text, msg, you = null) {
  const names = new Map();
  for (const m of msg.mentions ?? []) names.set(m.name.toLocaleLowerCase(), m.userId === you);
  if (msg.mentionsRoom) names.set('room', true);
  if (names.size === 0) return [{ text, mention: false, me: false }];
  const sorted = [...names.keys()].sort((a, b) => b.length - a.length);
  const parts = [];
  let plain = '';
  for (let i = 0; i < text.length; ) {
    const before = i === 0 ? '' : text[i - 1];
    const name = text[i] === '@' && !/[\p{L}\p{N}_@]/u.test(before)
      ? sorted.find((n) => text.slice(i + 1, i + 1 + n.length).toLocaleLowerCase() === n)
      : undefined;
    if (name === undefined) {
      plain += text[i];
      i += 1;
      continue;
    }
    if (plain) parts.push({ text: plain, mention: false, me: false });
    plain = '';
    parts.push({ text: text.slice(i, i + 1 + name.length), mention: true, me: names.get(name) });
    i += 1 + name.length;
  }
  if (plain) parts.push({ text: plain, mention: false, me: false });
  return parts;
}

export const mentions = {
  methods: {
    /** Asks for the messages that mention us (`older`: the next page). */
    listMentions({ older = false } = {}) {
      const before = older ? (this.mentionList?.next ?? null) : null;
      if (older && before === null) return null;
      return this.sendFrame(frames.mentions(before)) ? null : 'Not connected right now.';
    },
  },

  frames: {
    mentions(frame) {
      const messages = Array.isArray(frame.messages) ? frame.messages : [];
      const kept = this.mentionList && frame.before !== undefined ? this.mentionList.messages : [];
      this.mentionList = { messages: [...kept, ...messages], next: typeof frame.next === 'string' ? frame.next : null };
      this.emit({ mentions: true });
    },
  },
};
