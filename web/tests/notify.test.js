import assert from 'node:assert/strict';
import { test } from 'node:test';

import { applicationServerKey, deepLink, notificationFromPush } from '../js/notify.js';

test('a mention push shows who, where, the excerpt, the held count and opens the message', () => {
  const shown = notificationFromPush({
    type: 'notification', roomId: 'team', messageId: '01ABC', sender: 'ana', excerpt: 'hi @bob',
    mention: true, count: 3, url: '/?room=team&message=01ABC',
  });
  assert.equal(shown.title, 'ana mentioned you in team');
  assert.equal(shown.options.body, 'hi @bob (+2 more)');
  assert.equal(shown.options.tag, 'room:team');
  assert.deepEqual(shown.options.data, { url: '/?room=team&message=01ABC' });
});

test('a push that is not ours shows nothing; a link off this site opens the home page', () => {
  assert.equal(notificationFromPush({ type: 'other' }), null);
  assert.equal(notificationFromPush(null), null);
  assert.equal(deepLink('https://evil.example/'), '/');
  assert.equal(deepLink('//evil.example/'), '/');
  assert.equal(deepLink('/?room=a&message=b'), '/?room=a&message=b');
});

test('the VAPID key becomes the bytes PushManager wants', () => {
  const key = Buffer.from([4, 1, 2, 255]).toString('base64url');
  assert.deepEqual([...applicationServerKey(key)], [4, 1, 2, 255]);
});
