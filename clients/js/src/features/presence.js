// Presence: who is in a room (`members`, kept up to date by `presence` join/leave frames).

import { frames } from '../protocol.js';
import { JOINED } from '../room.js';

export const presence = {
  methods: {
    refreshMembers(roomId) {
      const room = this.rooms.get(roomId);
      if (room && room.status === JOINED) this.sendFrame(frames.members(roomId));
    },
  },

  frames: {
    members(frame) {
      const room = this.rooms.get(frame.roomId);
      if (!room) return;
      room.setMembers(frame.members);
      this.emit({ room: room.id });
    },

    presence(frame) {
      const room = this.rooms.get(frame.roomId);
      if (!room || typeof frame.name !== 'string') return;
      if (frame.event === 'join') {
        room.memberJoined(frame.name);
        room.addNotice(`${frame.name} joined`, this.now());
      } else if (frame.event === 'leave') {
        room.memberLeft(frame.name);
        room.addNotice(`${frame.name} left`, this.now());
      } else {
        return;
      }
      this.emit({ room: room.id });
    },
  },
};
