// Moderation (the room's owner and moderators): kick (optionally with a ban) and disconnectUser;
// a `kicked` frame about us removes the room (no quiet re-join), about another member is a notice.

import { frames, roomIdProblem, userIdProblem } from '../protocol.js';

function banProblem(ban) {
  if (ban === null || ban === undefined || ban === 'forever') return null;
  return Number.isInteger(ban) && ban >= 1 && ban <= 315_360_000 ? null : 'A ban is 1 to 315,360,000 seconds, or "forever".';
}

export const moderation = {
  methods: {
    /** Removes a user (their authorId) from a room, optionally banned: seconds or 'forever'. */
    kick(roomId, userId, ban = null) {
      const problem = roomIdProblem(roomId) ?? userIdProblem(userId) ?? banProblem(ban);
      if (problem) return problem;
      return this.sendFrame(frames.kick(roomId, userId, ban)) ? null : 'Not connected right now.';
    },

    /** Closes every connection of a user (as a room's owner or moderator). */
    disconnectUser(roomId, userId) {
      const problem = roomIdProblem(roomId) ?? userIdProblem(userId);
      if (problem) return problem;
      return this.sendFrame(frames.disconnectUser(roomId, userId)) ? null : 'Not connected right now.';
    },
  },

  frames: {
    kicked(frame) {
      const room = this.rooms.get(frame.roomId);
      if (!room) return;
      const names = Array.isArray(frame.names) ? frame.names.filter((n) => typeof n === 'string') : [];
      if (room.you !== null && frame.userId === room.you) {
        this.removeRoom(room.id);
        const ban = frame.banned ? (frame.bannedUntil ? ' and banned for a while' : ' and banned') : '';
        this.pushError(`You were removed from #${room.id}${ban}.`);
        this.emit({ rooms: true });
        return;
      }
      for (const name of names) {
        room.memberLeft(name);
        room.addNotice(`${name} was removed${frame.banned ? ' and banned' : ''}`, this.now());
      }
      this.emit({ room: room.id });
    },
  },
};
