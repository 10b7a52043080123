// Read markers: the newest message shown in the room being read goes to the server (`markRead`,
// at most every 5 s while messages arrive), which keeps it per user and answers `read`.

import { frames } from '../protocol.js';
import { JOINED } from '../room.js';

const READ_EVERY_MS = 5000;

export const reads = {
  methods: {
    markRead(roomId) {
      const room = this.rooms.get(roomId);
      if (room) this.sendReadMarker(room);
      if (room && room.unread !== 0) {
        room.unread = 0;
        room.unreadCapped = false;
        room.touch();
        this.emit({ room: roomId });
      }
    },

    /** Moves the server's read marker to the newest message shown (every device sees it). */
    sendReadMarker(room, force = true) {
      const newest = room.newestId();
      if (room.status !== JOINED || newest === null) return;
      if (room.lastRead !== null && room.lastRead >= newest) return;
      if (room.markerSent === newest) return;
      const now = this.now();
      if (!force && room.markerSentAt && now - room.markerSentAt < READ_EVERY_MS) return;
      room.markerSent = newest;
      room.markerSentAt = now;
      this.sendFrame(frames.markRead(room.id, newest));
    },
  },

  frames: {
    read(frame) {
      const room = this.rooms.get(frame.roomId);
      if (room && typeof frame.lastRead === 'string') room.lastRead = frame.lastRead;
    },
  },

  errors: {
    markRead(frame, room) {
      if (frame.code === 'not_member') return undefined;
      if (room) room.markerSent = null; // a marker refused is sent again later
      return 'done';
    },
  },
};
