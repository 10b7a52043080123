// Rooms: join (and the automatic re-join after a reconnect), leave, the room shown, and the
// signed-in room actions (createRoom, invite, uninvite, promote, demote).

import { describeError, frames, policyProblem, roomIdProblem, userIdProblem } from '../protocol.js';
import { JOINED, JOINING, LEAVING, REJOINING, Room } from '../room.js';

export const ROLE_ACTIONS = ['invite', 'uninvite', 'promote', 'demote'];

/** Sends a role action about `userId` in a room; a sentence about bad input, or null. */
function roleAction(client, action, roomId, userId) {
  const problem = roomIdProblem(roomId) ?? userIdProblem(userId);
  if (problem) return problem;
  return client.sendFrame(frames[action](roomId, userId)) ? null : 'Not connected right now.';
}

export const rooms = {
  methods: {
    /** Joins a room (or shows it, when already joined); returns a sentence about bad input, or null. */
    join(rawRoomId) {
      const roomId = typeof rawRoomId === 'string' ? rawRoomId.trim().replace(/^#/, '') : '';
      const problem = roomIdProblem(roomId);
      if (problem) return problem;
      const existing = this.rooms.get(roomId);
      if (existing && existing.status === LEAVING) return `Still leaving #${roomId}; try again in a moment.`;
      if (!existing) {
        const room = new Room(roomId);
        this.rooms.set(roomId, room);
        this.sendFrame(frames.join(roomId, this.name));
      }
      this.setActive(roomId);
      return null;
    },

    /** Resolves with the Room once it is joined; rejects with the server's refusal in words. */
    whenJoined(roomId) {
      return new Promise((resolve, reject) => {
        const room = this.rooms.get(roomId);
        if (room && room.status === JOINED) {
          resolve(room);
          return;
        }
        const offs = [
          this.on('joined', (frame) => frame.roomId === roomId && settle(() => resolve(this.rooms.get(roomId)))),
          this.on('error', (frame) => {
            if (frame.action === 'join' && frame.roomId === roomId) settle(() => reject(new Error(describeError(frame))));
          }),
        ];
        function settle(fn) {
          for (const off of offs) off();
          fn();
        }
      });
    },

    leave(roomId) {
      const room = this.rooms.get(roomId);
      if (!room || room.status === LEAVING) return;
      if (!this.isOpen) {
        this.removeRoom(roomId); // no connection, no membership
      } else if (room.status === JOINING || room.status === REJOINING) {
        // The server may run a leave before the join in flight; leave once the join is answered.
        room.status = LEAVING;
        room.leaveAfterJoin = true;
      } else {
        this.sendFrame(frames.leave(roomId));
        room.status = LEAVING;
      }
      room.touch();
      if (this.active === roomId) this.active = this.firstOtherRoom(roomId);
      this.emit({ rooms: true });
    },

    /** Asks for a failed room again (after an error on re-join). */
    rejoin(roomId) {
      const room = this.rooms.get(roomId);
      if (!room || room.status === LEAVING) return;
      room.problem = null;
      room.status = room.everJoined ? REJOINING : JOINING;
      room.touch();
      this.sendFrame(this.joinFrame(room));
      this.emit({ room: roomId });
    },

    rejoinQuietly(room) {
      room.status = REJOINING;
      room.touch();
      this.sendFrame(this.joinFrame(room));
    },

    /**
     * The `join` of a room: a room joined before asks for what came after the newest message we
     * have (resume), or before it if one of ours may be stored unseen (Room.gapAnchor).
     */
    joinFrame(room) {
      return frames.join(room.id, this.name, room.everJoined ? room.gapAnchor() : null);
    },

    removeRoom(roomId) {
      const room = this.rooms.get(roomId);
      if (room) this.releaseOutbox(room);
      this.rooms.delete(roomId);
      this.history.delete(roomId);
      if (this.active === roomId) this.active = this.firstOtherRoom(roomId);
    },

    firstOtherRoom(roomId) {
      for (const room of this.rooms.values()) {
        if (room.id !== roomId && room.status !== LEAVING) return room.id;
      }
      return null;
    },

    setActive(roomId) {
      const room = this.rooms.get(roomId);
      if (!room) return;
      this.active = roomId;
      if (room.unread !== 0) {
        room.unread = 0;
        room.unreadCapped = false;
        room.touch();
      }
      this.sendReadMarker(room);
      if (room.status === JOINED) this.sendFrame(frames.members(roomId));
      this.emit({ rooms: true, room: roomId });
    },

    /** Creates a room we own (signed in); the `roomCreated` frame answers. */
    createRoom(roomId, policy = 'open') {
      const problem = roomIdProblem(roomId) ?? policyProblem(policy);
      if (problem) return problem;
      return this.sendFrame(frames.createRoom(roomId, policy)) ? null : 'Not connected right now.';
    },

    invite(roomId, userId) {
      return roleAction(this, 'invite', roomId, userId);
    },

    uninvite(roomId, userId) {
      return roleAction(this, 'uninvite', roomId, userId);
    },

    promote(roomId, userId) {
      return roleAction(this, 'promote', roomId, userId);
    },

    demote(roomId, userId) {
      return roleAction(this, 'demote', roomId, userId);
    },
  },

  frames: {
    joined(frame) {
      const room = this.rooms.get(frame.roomId);
      if (!room) return;
      if (room.status === LEAVING) {
        if (room.leaveAfterJoin && this.sendFrame(frames.leave(room.id))) room.leaveAfterJoin = false;
        return;
      }
      const rejoin = room.everJoined;
      const anchor = rejoin ? room.gapAnchor() : null;
      const recent = Array.isArray(frame.recent) ? frame.recent : [];
      room.status = JOINED;
      room.everJoined = true;
      room.problem = null;
      if (typeof frame.name === 'string') room.name = frame.name;
      if (typeof frame.members === 'number') room.memberCount = frame.members;
      if (typeof frame.you === 'string') room.you = frame.you;
      if (typeof frame.lastRead === 'string') room.lastRead = frame.lastRead;
      if (Array.isArray(frame.pins)) room.pins = frame.pins; // features/pins.js
      const fresh = room.addMessages(recent);
      this.attempt = 0; // a connection that gets this far is a good one
      // A server that sends `next` says whether older history exists (null: `recent` reaches the
      // start of the room) and where it starts; an older one does not, and we page from the oldest.
      const next = frame.next === null || typeof frame.next === 'string' ? frame.next : undefined;
      if (rejoin) {
        this.countUnread(room, fresh);
        room.applyUpdated(frame.updated);
        room.addNotice('Reconnected.', this.now());
        this.sendFrame(frames.members(room.id));
        // `recovered` (a join with `after`): true, `recent` is what came after our newest and
        // `resumeNext` the rest; false, our newest is older than the history kept. Absent (an
        // older server): page back from `recent` to what we had.
        if (frame.recovered === true) this.catchUp(room, typeof frame.resumeNext === 'string' ? frame.resumeNext : null);
        else if (frame.recovered === false) this.lostHistory(room);
        else this.fillGap(room, anchor, recent, next);
      } else {
        const ids = recent.map((m) => m?.messageId).filter((id) => typeof id === 'string').sort();
        room.olderCursor = next === undefined ? (ids[0] ?? null) : next;
        room.olderExhausted = next === undefined ? ids.length === 0 : next === null;
        this.sendFrame(frames.members(room.id));
        // What this user had not read before (from the server's read marker).
        if (room.id !== this.active && typeof frame.unread === 'number') {
          room.unread = frame.unread;
          room.unreadCapped = frame.unreadCapped === true;
        } else {
          this.sendReadMarker(room);
        }
        this.flushPending(room);
      }
      room.touch();
      this.emit({ room: room.id, rooms: true });
    },

    left(frame) {
      if (!this.rooms.has(frame.roomId)) return;
      this.removeRoom(frame.roomId);
      this.emit({ rooms: true });
    },
  },

  errors: {
    join(frame, room, text) {
      if (room && (!room.everJoined || room.status === LEAVING)) this.removeRoom(room.id);
      else if (room) room.problem = text;
    },
    leave(frame, room) {
      if (room && room.status === LEAVING) this.removeRoom(room.id); // out already
    },
  },
};

