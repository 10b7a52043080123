import assert from 'node:assert/strict';
import { test } from 'node:test';

import { connectionText, formatTime, nameHue, summarizeMembers } from '../js/format.js';

test('times today show the clock only; older ones add the day or date', () => {
  const now = new Date(2026, 5, 15, 18, 0);
  assert.equal(formatTime(new Date(2026, 5, 15, 9, 5).toISOString(), now, 'en-GB'), '09:05');
  assert.match(formatTime(new Date(2026, 5, 13, 9, 5).toISOString(), now, 'en-GB'), /^Sat 09:05$/);
  assert.match(formatTime(new Date(2026, 0, 2, 9, 5).toISOString(), now, 'en-GB'), /^2 Jan 09:05$/);
  assert.match(formatTime(new Date(2025, 0, 2, 9, 5).toISOString(), now, 'en-GB'), /2025/);
  assert.equal(formatTime('garbage', now), '');
});

test('a name keeps its colour', () => {
  assert.equal(nameHue('ana'), nameHue('ana'));
  assert.ok(nameHue('ana') >= 0 && nameHue('ana') < 360);
});

test('members are sorted and duplicate names folded', () => {
  assert.deepEqual(summarizeMembers(['bob', 'Ana', 'bob', 'carl']), [
    { name: 'Ana', count: 1 },
    { name: 'bob', count: 2 },
    { name: 'carl', count: 1 },
  ]);
});

test('the connection line says what is going on', () => {
  assert.equal(connectionText({ status: 'open' }), 'Connected');
  assert.equal(
    connectionText({ status: 'reconnecting', retryAt: 5_000, lastClose: { opened: true } }, 1_200),
    'Connection lost. Retrying in 4 s',
  );
  assert.equal(
    connectionText({ status: 'reconnecting', retryAt: 5_000, lastClose: { opened: false } }, 4_900),
    'Cannot reach the server. Retrying in 1 s',
  );
  assert.equal(connectionText({ status: 'reconnecting', retryAt: null }), 'Reconnecting…');
});
