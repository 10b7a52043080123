// Pins: the room's owner and moderators pin and unpin messages (`pin`); `joined.pins` lists a
// room's pins (room.pins) and every `pinned` frame keeps the list up to date.

import { frames } from '../protocol.js';

export const pins = {
  methods: {
    pin(roomId, messageId, { remove = false, replyTo = null } = {}) {
      return this.sendFrame(frames.pin(roomId, messageId, { remove, replyTo })) ? null : 'Not connected right now.';
    },

    isPinned(roomId, messageId) {
      return this.rooms.get(roomId)?.pins.some((p) => p.messageId === messageId) ?? false;
    },
  },

  frames: {
    pinned(frame) {
      const room = this.rooms.get(frame.roomId);
      const pin = frame.pin;
      if (!room || !pin || typeof pin.messageId !== 'string') return;
      const others = room.pins.filter((p) => p.messageId !== pin.messageId);
      room.pins = frame.pinned ? [...others, pin].sort((a, b) => (a.messageId < b.messageId ? -1 : 1)) : others;
      room.touch();
      this.emit({ room: room.id });
    },
  },
};
