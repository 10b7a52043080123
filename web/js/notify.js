// Notifications while away (docs/notifications.md): what the service worker (web/sw.js) shows
// for a push, and how the page subscribes this browser and registers it with the chat.

/** The notification for a push's payload: {title, options}, or null for a payload that is not ours. */
export function notificationFromPush(payload) {
  if (!payload || payload.type !== 'notification' || typeof payload.roomId !== 'string') return null;
  const more = Number.isInteger(payload.count) && payload.count > 1 ? ` (+${payload.count - 1} more)` : '';
  const who = typeof payload.sender === 'string' ? payload.sender : 'someone';
  return {
    title: payload.mention ? `${who} mentioned you in ${payload.roomId}` : `${who} in ${payload.roomId}`,
    options: {
      body: `${payload.excerpt ?? ''}${more}`,
      // One notification per room: a newer one replaces it instead of piling up.
      tag: `room:${payload.roomId}`,
      renotify: true,
      data: { url: deepLink(payload.url) },
    },
  };
}

/** The page path a notification opens: only a path of this site ("/?room=...&message=..."). */
export function deepLink(url) {
  return typeof url === 'string' && /^\/(?!\/)[^\s]*$/.test(url) ? url : '/';
}

/** The base64url VAPID public key as the Uint8Array PushManager.subscribe wants. */
export function applicationServerKey(base64url) {
  const b64 = base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/**
 * Subscribe this browser (the service worker at `swUrl`) with the deployment's VAPID public key
 * and register the subscription with the chat: null, or what went wrong in words.
 */
export async function enableNotifications({ navigator, Notification, client, vapidPublicKey, swUrl = 'sw.js' }) {
  if (!vapidPublicKey) return 'This server does not send notifications.';
  if (!navigator?.serviceWorker || !globalThis.PushManager) return 'This browser cannot receive notifications.';
  if ((await Notification.requestPermission()) !== 'granted') return 'Notifications are blocked for this site.';
  const registration = await navigator.serviceWorker.register(swUrl, { type: 'module' });
  const subscription = await registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: applicationServerKey(vapidPublicKey),
  });
  return client.registerDevice(subscription);
}
