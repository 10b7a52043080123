// Threads: replying to a message (a `sendAll` with `replyTo`, through the room's outbox, so
// replies keep their order with our messages), a thread's replies (`thread`, paged back with
// `before`), following it (`follow`), the threads we follow with their unread replies
// (`threads`) and our read marker in a thread (`markRead` with `replyTo`).
//
// A reply is kept in its thread (room.threads) and never in the room's timeline unless it was
// sent also to the room; its parent's counters (`replyCount`, `lastReplyAt`) follow each reply.

import { cleanMessage } from '../room.js';
import { frames } from '../protocol.js';
import { JOINED } from '../room.js';

export const threads = {
  methods: {
    /** Replies in `parentId`'s thread; resolves with the stored reply (as `send`). */
    reply(roomId, parentId, text, { alsoToRoom = false } = {}) {
      return this.send(roomId, text, { replyTo: parentId, alsoToRoom });
    },

    /** Asks for a thread's newest replies (or, `older`, the page before those shown). */
    openThread(roomId, parentId, { older = false } = {}) {
      const room = this.rooms.get(roomId);
      if (!room || room.status !== JOINED) return 'Not connected to this room right now.';
      const thread = room.thread(parentId);
      const before = older ? thread.olderCursor : null;
      if (older && before === null) return null;
      return this.sendFrame(frames.thread(roomId, parentId, { before })) ? null : 'Not connected right now.';
    },

    followThread(roomId, parentId, following = true) {
      return this.sendFrame(frames.follow(roomId, parentId, !following)) ? null : 'Not connected right now.';
    },

    /** Asks for the threads of the room we follow (`room.followed` once answered). */
    listThreads(roomId) {
      return this.sendFrame(frames.threads(roomId)) ? null : 'Not connected right now.';
    },

    /** Our marker in the thread moves to its newest reply shown (every device of ours). */
    markThreadRead(roomId, parentId) {
      const thread = this.rooms.get(roomId)?.threads.get(parentId);
      const newest = thread?.list().at(-1);
      if (!thread || !newest || (thread.lastRead !== null && thread.lastRead >= newest.messageId)) return;
      this.sendFrame(frames.markRead(roomId, newest.messageId, parentId));
    },

    /** A reply frame: into its thread, its parent's counters updated. {own} when it was ours. */
    addReply(room, frame) {
      const msg = cleanMessage(frame, room.id);
      if (msg === null) return null;
      let own = false;
      if (!msg.alsoToRoom && msg.clientMsgId !== null && room.pending.has(msg.clientMsgId)) {
        room.pending.delete(msg.clientMsgId);
        own = true;
      }
      const thread = room.thread(msg.replyTo);
      const fresh = !thread.replies.has(msg.messageId);
      thread.replies.set(msg.messageId, msg);
      if (fresh && !own && msg.authorId !== room.you) {
        thread.unread += 1;
      }
      const counters = frame.thread;
      if (counters && Number.isInteger(counters.replyCount)) {
        room.updateMessage(msg.replyTo, null, (m) => ({
          ...m,
          replyCount: Math.max(m.replyCount, counters.replyCount),
          lastReplyAt: counters.lastReplyAt ?? m.lastReplyAt,
        }));
      }
      room.touch();
      return { own };
    },
  },

  frames: {
    thread(frame) {
      const room = this.rooms.get(frame.roomId);
      if (!room || typeof frame.messageId !== 'string') return;
      const thread = room.thread(frame.messageId);
      const parent = cleanMessage(frame.parent, room.id);
      if (parent !== null) {
        thread.parent = parent;
        if (room.messages.has(parent.messageId)) room.messages.set(parent.messageId, parent);
      }
      for (const reply of Array.isArray(frame.replies) ? frame.replies : []) {
        const msg = cleanMessage(reply, room.id);
        if (msg !== null) thread.replies.set(msg.messageId, msg);
      }
      thread.loaded = true;
      thread.olderCursor = typeof frame.next === 'string' ? frame.next : null;
      thread.following = frame.following === true;
      thread.lastRead = typeof frame.lastRead === 'string' ? frame.lastRead : null;
      thread.unread = Number.isInteger(frame.unread) ? frame.unread : 0;
      thread.unreadCapped = frame.unreadCapped === true;
      room.touch();
      this.emit({ room: room.id });
    },

    following(frame) {
      const thread = this.rooms.get(frame.roomId)?.threads.get(frame.messageId);
      if (!thread) return;
      thread.following = frame.following === true;
      this.rooms.get(frame.roomId).touch();
      this.emit({ room: frame.roomId });
    },

    threads(frame) {
      const room = this.rooms.get(frame.roomId);
      if (!room) return;
      room.followed = Array.isArray(frame.threads) ? frame.threads : [];
      room.touch();
      this.emit({ room: room.id });
    },
  },
};
