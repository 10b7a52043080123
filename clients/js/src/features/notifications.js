// Notifications while away: register this device (a Web Push subscription: what
// `PushSubscription.toJSON()` gives), remove it, and choose a room's level (`all`, `mentions`,
// `none`). Replies: `device` (kept in client.devices by id) and `notifyLevel` (room.notifyLevel).
// The pushes themselves reach the page's service worker, not this connection
// (docs/notifications.md).

import { frames } from '../protocol.js';

export const notifications = {
  methods: {
    registerDevice(subscription) {
      const sub = typeof subscription?.toJSON === 'function' ? subscription.toJSON() : subscription;
      const webPush = { endpoint: sub?.endpoint, keys: { p256dh: sub?.keys?.p256dh, auth: sub?.keys?.auth } };
      return this.sendFrame(frames.registerDevice(webPush)) ? null : 'Not connected right now.';
    },

    unregisterDevice(deviceId) {
      return this.sendFrame(frames.unregisterDevice(deviceId)) ? null : 'Not connected right now.';
    },

    setNotifyLevel(roomId, level) {
      return this.sendFrame(frames.notifyLevel(roomId, level)) ? null : 'Not connected right now.';
    },
  },

  frames: {
    device(frame) {
      if (!this.devices) this.devices = new Map();
      if (frame.registered) this.devices.set(frame.deviceId, frame);
      else this.devices.delete(frame.deviceId);
      this.emit({ device: frame.deviceId });
    },

    notifyLevel(frame) {
      const room = this.rooms.get(frame.roomId);
      if (room) {
        room.notifyLevel = frame.level;
        room.touch();
      }
      this.emit({ room: frame.roomId });
    },
  },
};
