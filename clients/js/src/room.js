// What the client knows about one room: messages deduplicated by messageId, messages of ours not
// yet echoed (by clientMsgId), join/leave notices, members, unread count and the history cursor.
// Pure data: no sockets, no DOM.

/** Room status: joining (first time), joined, rejoining (after a reconnect), leaving. */
export const JOINING = 'joining';
export const JOINED = 'joined';
export const REJOINING = 'rejoining';
export const LEAVING = 'leaving';

/** Pending message status: queued (not sent on this connection yet), sending, failed. */
export const QUEUED = 'queued';
export const SENDING = 'sending';
export const FAILED = 'failed';

let noticeSeq = 0;

/**
 * A message frame reduced to the fields we show, or null when it is not a usable message. A
 * deleted message (a tombstone: `message` null, `deletedAt` set) keeps its place with no text.
 */
export function cleanMessage(frame, roomId) {
  if (!frame || typeof frame !== 'object') return null;
  const { messageId, sentAt, sender, message, clientMsgId } = frame;
  if (typeof messageId !== 'string' || messageId === '') return null;
  const deletedAt = typeof frame.deletedAt === 'string' ? frame.deletedAt : null;
  if (typeof message !== 'string' && deletedAt === null) return null;
  return {
    roomId,
    messageId,
    sentAt: typeof sentAt === 'string' ? sentAt : null,
    sender: typeof sender === 'string' ? sender : '?',
    message: deletedAt === null ? message : '',
    clientMsgId: typeof clientMsgId === 'string' ? clientMsgId : null,
    authorId: typeof frame.authorId === 'string' ? frame.authorId : null,
    editedAt: typeof frame.editedAt === 'string' ? frame.editedAt : null,
    deletedAt,
    // Conversations: a reply's thread, a parent's counters, reactions and mentions.
    replyTo: typeof frame.replyTo === 'string' ? frame.replyTo : null,
    alsoToRoom: frame.alsoToRoom === true,
    replyCount: Number.isInteger(frame.replyCount) ? frame.replyCount : 0,
    lastReplyAt: typeof frame.lastReplyAt === 'string' ? frame.lastReplyAt : null,
    reactions: deletedAt === null && Array.isArray(frame.reactions) ? frame.reactions : [],
    mentions: deletedAt === null && Array.isArray(frame.mentions) ? frame.mentions : [],
    mentionsRoom: deletedAt === null && frame.mentionsRoom === true,
  };
}

/** One thread as the client knows it: its parent, the replies loaded, and our state in it. */
export class Thread {
  constructor(parentId) {
    this.parentId = parentId;
    this.parent = null; // the parent's shown message, from the `thread` frame
    this.replies = new Map(); // messageId -> shown message
    this.olderCursor = null;
    this.loaded = false; // a `thread` page came
    this.following = false;
    this.lastRead = null;
    this.unread = 0;
    this.unreadCapped = false;
  }

  /** Replies oldest first. */
  list() {
    return [...this.replies.values()].sort((a, b) => (a.messageId < b.messageId ? -1 : 1));
  }
}

export class Room {
  constructor(id) {
    this.id = id;
    this.status = JOINING;
    this.everJoined = false;
    this.name = null; // our name in this room, from `joined`
    this.memberCount = null;
    this.members = null; // names from the last `members` frame, kept up to date by presence
    this.messages = new Map(); // messageId -> message
    this.notices = []; // {key, sortKey, text, at}
    this.pending = new Map(); // clientMsgId -> {clientMsgId, message, status, problem, afterId, createdAt, sent, tries}
    this.unread = 0;
    this.olderCursor = null; // `before` for the next "load older" page
    this.olderExhausted = false;
    this.loadingOlder = false;
    this.catchingUp = false; // filling the gap after a reconnect
    this.problem = null; // last error about this room, in words
    this.leaveAfterJoin = false; // left while a join was in flight: leave once it is answered
    this.inFlight = null; // clientMsgId of the outbox's message in flight (one at a time)
    this.retryTimer = null; // the outbox waits to send that message again
    this.version = 0; // bumped on every change, so a view can skip unchanged rooms
    this.you = null; // our authorId in this room (`joined.you`): our messages carry it
    this.unreadCapped = false; // the server counted past its cap: show "100+"
    this.lastRead = null; // our read marker, as the server last confirmed it
    this.typing = new Map(); // name -> until (ms): who is typing now
    this.threads = new Map(); // parentId -> Thread, for the threads opened or replied to
    this.followed = null; // the `threads` frame's list (threads we follow), when asked
    this.pins = []; // `joined.pins`, kept up to date by `pinned` frames
    this.reactionVersions = new Map(); // messageId -> the newest summary's version seen
  }

  /** The shown message of that id, in the room or in one of its threads. */
  findMessage(messageId, replyTo = null) {
    if (replyTo === null) return this.messages.get(messageId) ?? null;
    return this.threads.get(replyTo)?.replies.get(messageId) ?? this.messages.get(messageId) ?? null;
  }

  /** Every copy shown of one message (a reply sent also to the room is shown twice). */
  copiesOf(messageId, replyTo = null) {
    const found = [];
    if (this.messages.has(messageId)) found.push([this.messages, messageId]);
    const thread = replyTo === null ? null : this.threads.get(replyTo);
    if (thread?.replies.has(messageId)) found.push([thread.replies, messageId]);
    if (thread?.parent?.messageId === messageId) found.push([null, messageId]);
    return found;
  }

  /** Changes every copy of a message with `change(msg) -> msg`; true when one was there. */
  updateMessage(messageId, replyTo, change) {
    let done = false;
    for (const [store, id] of this.copiesOf(messageId, replyTo)) {
      if (store === null) {
        const thread = this.threads.get(replyTo);
        thread.parent = change(thread.parent);
      } else {
        store.set(id, change(store.get(id)));
      }
      done = true;
    }
    if (replyTo === null) {
      for (const thread of this.threads.values()) {
        if (thread.parent?.messageId === messageId) {
          thread.parent = change(thread.parent);
          done = true;
        }
      }
    }
    if (done) this.touch();
    return done;
  }

  thread(parentId) {
    let thread = this.threads.get(parentId);
    if (!thread) {
      thread = new Thread(parentId);
      this.threads.set(parentId, thread);
    }
    return thread;
  }

  /** Our own message, which we may edit or delete. */
  isOwn(msg) {
    return this.you !== null && msg.authorId === this.you && msg.deletedAt === null;
  }

  /** A `deleted` frame: the message keeps its place, its text is gone. */
  applyDeleted(frame) {
    const replyTo = typeof frame.replyTo === 'string' ? frame.replyTo : null;
    const msg = this.findMessage(frame.messageId, replyTo);
    if (!msg || msg.deletedAt !== null) return false;
    const deletedAt = typeof frame.deletedAt === 'string' ? frame.deletedAt : 'deleted';
    const gone = { message: '', deletedAt, reactions: [], mentions: [], mentionsRoom: false };
    return this.updateMessage(frame.messageId, replyTo, (m) => ({ ...m, ...gone }));
  }

  /** An `edited` frame: the new text, in the same place. */
  applyEdited(frame) {
    const replyTo = typeof frame.replyTo === 'string' ? frame.replyTo : null;
    const msg = this.findMessage(frame.messageId, replyTo);
    if (!msg || msg.deletedAt !== null || typeof frame.message !== 'string') return false;
    const editedAt = typeof frame.editedAt === 'string' ? frame.editedAt : msg.editedAt;
    return this.updateMessage(frame.messageId, replyTo, (m) => ({ ...m, message: frame.message, editedAt }));
  }

  /** Someone is typing; true when it changes what is shown. */
  setTyping(name, until) {
    const shown = this.typing.has(name);
    this.typing.set(name, until);
    if (!shown) this.touch();
    return !shown;
  }

  /** Names typing at `now` (expired ones are dropped). */
  typingNames(now) {
    for (const [name, until] of this.typing) if (until <= now) this.typing.delete(name);
    return [...this.typing.keys()];
  }

  touch() {
    this.version += 1;
  }

  /** Newest and oldest messageId shown (ULIDs sort by time within a room). */
  newestId() {
    let newest = null;
    for (const id of this.messages.keys()) if (newest === null || id > newest) newest = id;
    return newest;
  }

  oldestId() {
    let oldest = null;
    for (const id of this.messages.keys()) if (oldest === null || id < oldest) oldest = id;
    return oldest;
  }

  /**
   * Adds a message unless its messageId is already shown. A message carrying the clientMsgId of
   * one of ours that is pending settles it. Returns {added, own}.
   */
  addMessage(frame) {
    const msg = cleanMessage(frame, this.id);
    if (msg === null) return { added: false, own: false };
    let own = false;
    if (msg.clientMsgId !== null && this.pending.has(msg.clientMsgId)) {
      this.pending.delete(msg.clientMsgId);
      own = true;
      this.touch();
    }
    const known = this.messages.get(msg.messageId);
    if (known) {
      // A page read after a delete or an edit knows better than what we showed.
      if ((msg.deletedAt && !known.deletedAt) || (msg.editedAt && msg.editedAt !== known.editedAt)) {
        this.messages.set(msg.messageId, msg);
        this.touch();
      }
      return { added: false, own };
    }
    this.messages.set(msg.messageId, msg);
    this.touch();
    return { added: true, own };
  }

  /**
   * A resume's `updated`: older messages edited or deleted while we were away, as they are now.
   * Only those we show are changed (the others we never had).
   */
  applyUpdated(list) {
    for (const frame of Array.isArray(list) ? list : []) {
      if (typeof frame?.messageId === 'string' && this.messages.has(frame.messageId)) this.addMessage(frame);
    }
  }

  /** Adds a list (recent, a history page); returns how many were new and not our own. */
  addMessages(list) {
    let fresh = 0;
    for (const frame of Array.isArray(list) ? list : []) {
      const { added, own } = this.addMessage(frame);
      if (added && !own) fresh += 1;
    }
    return fresh;
  }

  hasClientMsgId(clientMsgId) {
    for (const msg of this.messages.values()) if (msg.clientMsgId === clientMsgId) return true;
    return false;
  }

  /** A notice sorts after the newest message shown when it arrived, before any later one. */
  addNotice(text, at = Date.now()) {
    noticeSeq += 1;
    const newest = this.newestId();
    const seq = String(noticeSeq).padStart(10, '0');
    // '~' sorts after every ULID character, ' ' before them.
    const sortKey = newest === null ? ` ${seq}` : `${newest}~${seq}`;
    this.notices.push({ key: `n:${noticeSeq}`, sortKey, text, at });
    if (this.notices.length > 200) this.notices.splice(0, this.notices.length - 200);
    this.touch();
  }

  addPending(clientMsgId, message, now = Date.now(), { replyTo = null, alsoToRoom = false } = {}) {
    const entry = {
      clientMsgId,
      message,
      replyTo, // a reply: shown in its thread while it waits
      alsoToRoom,
      status: QUEUED,
      problem: null,
      afterId: this.newestId(),
      createdAt: now,
      sent: false, // transmitted at least once, on any connection: it may be stored already
      tries: 0, // transmissions on the current connection
      serverErrors: 0, // `internal` answers to it
    };
    this.pending.set(clientMsgId, entry);
    this.touch();
    return entry;
  }

  /**
   * How far back a gap fill must reach after a reconnect: the newest message we had, or older if
   * one of our messages was sent before it and never echoed (it may be stored without our knowing).
   * null when we had nothing (then fill back to the room's first message).
   */
  gapAnchor() {
    let anchor = this.newestId();
    let fromStart = anchor === null;
    for (const entry of this.pending.values()) {
      if (!entry.sent) continue;
      if (entry.afterId === null) fromStart = true;
      else if (anchor === null || entry.afterId < anchor) anchor = entry.afterId;
    }
    return fromStart ? null : anchor;
  }

  memberJoined(name) {
    if (Array.isArray(this.members)) this.members.push(name);
    if (typeof this.memberCount === 'number') this.memberCount += 1;
    this.touch();
  }

  memberLeft(name) {
    if (Array.isArray(this.members)) {
      const i = this.members.indexOf(name);
      if (i >= 0) this.members.splice(i, 1);
    }
    if (typeof this.memberCount === 'number' && this.memberCount > 0) this.memberCount -= 1;
    this.touch();
  }

  setMembers(names) {
    this.members = Array.isArray(names) ? names.filter((n) => typeof n === 'string') : [];
    this.memberCount = this.members.length;
    this.touch();
  }

  /** Messages and notices in display order, then our pending messages in the order typed. */
  timeline() {
    const items = [];
    for (const msg of this.messages.values()) {
      items.push({ sortKey: msg.messageId, entry: { kind: 'message', key: `m:${msg.messageId}`, msg } });
    }
    for (const notice of this.notices) {
      items.push({ sortKey: notice.sortKey, entry: { kind: 'notice', key: notice.key, notice } });
    }
    items.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    const pending = [...this.pending.values()]
      .filter((p) => !p.replyTo || p.alsoToRoom)
      .sort((a, b) => a.createdAt - b.createdAt);
    return [
      ...items.map((item) => item.entry),
      ...pending.map((p) => ({ kind: 'pending', key: `p:${p.clientMsgId}`, pending: p })),
    ];
  }
}
