// Reactions: add or take back an emoji of REACTIONS on a message (`react`), and the summary
// every `reaction` frame carries (exact counts, the first users), kept on every copy of the
// message; a summary older than one already shown (its `version`) is ignored.

import { frames, REACTIONS } from '../protocol.js';

export const reactions = {
  methods: {
    /** Adds `emoji` (or, when we already reacted with it, takes it back). */
    toggleReaction(roomId, messageId, emoji, replyTo = null) {
      const room = this.rooms.get(roomId);
      if (!room || !REACTIONS.includes(emoji)) return 'Pick one of the reactions offered.';
      const msg = room.findMessage(messageId, replyTo);
      const mine = msg?.reactions.find((r) => r.emoji === emoji)?.users.includes(room.you) ?? false;
      return this.react(roomId, messageId, emoji, { remove: mine, replyTo });
    },

    react(roomId, messageId, emoji, { remove = false, replyTo = null } = {}) {
      return this.sendFrame(frames.react(roomId, messageId, emoji, { remove, replyTo }))
        ? null
        : 'Not connected right now.';
    },
  },

  frames: {
    reaction(frame) {
      const room = this.rooms.get(frame.roomId);
      if (!room || !Array.isArray(frame.reactions)) return;
      const version = Number.isInteger(frame.version) ? frame.version : 0;
      if (version > 0 && version <= (room.reactionVersions.get(frame.messageId) ?? 0)) return;
      if (version > 0) room.reactionVersions.set(frame.messageId, version);
      const replyTo = typeof frame.replyTo === 'string' ? frame.replyTo : null;
      if (room.updateMessage(frame.messageId, replyTo, (m) => ({ ...m, reactions: frame.reactions }))) {
        this.emit({ room: room.id });
      }
    },
  },

  errors: {
    // A refused reaction is said once; nothing to retry.
    react: () => undefined,
  },
};
