// History: "load older" paging (`before` = the previous page's `next`) and, after a reconnect,
// filling the gap: paging back from the oldest `recent` message until a message we already had,
// so nothing sent while we were away is missing. One history request in flight per room.

import { GAP_PAGE, HISTORY_PAGE, frames } from '../protocol.js';
import { JOINED } from '../room.js';

const MAX_GAP_PAGES = 100;

export const history = {
  methods: {
    /** "Load older": the page before the oldest shown, then each page's `next`. */
    loadOlder(roomId) {
      const room = this.rooms.get(roomId);
      if (!room || room.status !== JOINED || room.loadingOlder || room.olderExhausted) return;
      const before = room.olderCursor ?? room.oldestId();
      if (!before) {
        room.olderExhausted = true;
        room.touch();
        this.emit({ room: roomId });
        return;
      }
      room.loadingOlder = true;
      room.touch();
      this.requestHistory(
        room,
        { before, limit: HISTORY_PAGE },
        (page) => {
          room.loadingOlder = false;
          room.addMessages(page.messages);
          room.olderCursor = typeof page.next === 'string' ? page.next : null;
          room.olderExhausted = room.olderCursor === null;
          room.touch();
        },
        (text) => {
          room.loadingOlder = false;
          room.problem = text;
          room.touch();
        },
      );
      this.emit({ room: roomId });
    },

    requestHistory(room, params, onPage, onError) {
      let slot = this.history.get(room.id);
      if (!slot) {
        slot = { current: null, queue: [] };
        this.history.set(room.id, slot);
      }
      const request = { frame: frames.history(room.id, params), onPage, onError };
      if (slot.current) slot.queue.push(request);
      else this.startHistory(room.id, slot, request);
    },

    startHistory(roomId, slot, request) {
      slot.current = request;
      if (!this.sendFrame(request.frame)) {
        slot.current = null;
        request.onError('Not connected.');
      }
    },

    finishHistory(roomId) {
      const slot = this.history.get(roomId);
      if (!slot) return null;
      const request = slot.current;
      slot.current = null;
      const next = slot.queue.shift();
      if (next) this.startHistory(roomId, slot, next);
      return request;
    },

    /**
     * After a re-join: page back from the oldest `recent` message until we reach what we already
     * had (the anchor), so nothing sent while we were away is missing. Then send what waits.
     */
    fillGap(room, anchor, recent, next) {
      const reached = (list) => anchor !== null && list.some((m) => typeof m?.messageId === 'string' && m.messageId <= anchor);
      const oldest = (list) => list.reduce((min, m) => (typeof m?.messageId === 'string' && (min === null || m.messageId < min) ? m.messageId : min), null);
      const done = () => {
        room.catchingUp = false;
        room.touch();
        this.flushPending(room);
      };
      // `next` null: `recent` reaches the start of the room, nothing older to fetch.
      if (recent.length === 0 || reached(recent) || next === null) {
        done();
        return;
      }
      room.catchingUp = true;
      let pages = 0;
      const step = (before) => {
        pages += 1;
        this.requestHistory(
          room,
          { before, limit: GAP_PAGE },
          (page) => {
            const messages = Array.isArray(page.messages) ? page.messages : [];
            this.countUnread(room, room.addMessages(messages));
            const next = typeof page.next === 'string' ? page.next : null;
            if (messages.length === 0 || next === null || reached(messages) || pages >= MAX_GAP_PAGES) done();
            else step(next);
            this.emit({ room: room.id });
          },
          (text) => {
            room.problem = text;
            done();
          },
        );
      };
      step(typeof next === 'string' ? next : oldest(recent));
    },

    countUnread(room, fresh) {
      if (fresh > 0 && room.id !== this.active) room.unread += fresh;
    },
  },

  frames: {
    history(frame) {
      const room = this.rooms.get(frame.roomId);
      const request = this.finishHistory(frame.roomId);
      if (!room) return;
      if (request) request.onPage(frame);
      else room.addMessages(frame.messages);
      if (!room.catchingUp) this.settleOutbox(room); // a page may hold the message in flight
      this.emit({ room: room.id });
    },
  },

  errors: {
    history(frame, room, text) {
      // The server names the room when it can; else it was the one history request in flight.
      let roomId = frame.roomId;
      if (typeof roomId !== 'string') {
        const busy = [...this.history.entries()].filter(([, slot]) => slot.current !== null);
        roomId = busy.length === 1 ? busy[0][0] : undefined;
      }
      const request = roomId === undefined ? null : this.finishHistory(roomId);
      if (request) request.onError(text);
    },
  },
};
