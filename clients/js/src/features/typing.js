// Typing: tell a room we are typing (at most every 3 s; the server allows 2 a second), and show
// who else is, for 4 s after their last `typing` frame or until their message arrives.

import { frames } from '../protocol.js';
import { JOINED } from '../room.js';

const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 4000;

export const typing = {
  methods: {
    /** Tells the room we are typing, at most once every TYPING_EVERY_MS. */
    typing(roomId) {
      const room = this.rooms.get(roomId);
      if (!room || room.status !== JOINED) return;
      const now = this.now();
      if (room.typingSentAt && now - room.typingSentAt < TYPING_EVERY_MS) return;
      room.typingSentAt = now;
      this.sendFrame(frames.typing(roomId));
    },
  },

  frames: {
    typing(frame) {
      const room = this.rooms.get(frame.roomId);
      if (!room || typeof frame.name !== 'string') return;
      room.setTyping(frame.name, this.now() + TYPING_SHOWN_MS);
      this.emit({ room: room.id });
      // Emit again once it has expired, so the view drops it.
      this.timers.setTimeout(() => {
        room.touch();
        this.emit({ room: room.id });
      }, TYPING_SHOWN_MS + 50);
    },
  },

  errors: {
    // Best effort, nothing the reader can act on.
    typing: (frame) => (frame.code === 'not_member' ? undefined : 'done'),
  },
};
