import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ChatClient } from '../src/index.js';
import { postFile } from '../src/features/attachments.js';
import { FakeClock, FakeWebSocket } from './fakes.js';

function open() {
  FakeWebSocket.reset();
  const clock = new FakeClock();
  const client = new ChatClient({ WebSocket: FakeWebSocket, timers: clock.timers, now: clock.now });
  client.connect('ws://127.0.0.1:8080/live', 'ana', ['lobby']);
  const ws = FakeWebSocket.last();
  ws.open();
  ws.take();
  return { client, ws };
}

const ID = '01HZX3K9Q8V7N6M5K4J3H2G1F1';

describe('attachments', () => {
  test('prepareUpload and attachmentUrl resolve with their replies, in order; an error rejects', async () => {
    const { client, ws } = open();
    const first = client.prepareUpload('lobby', { name: 'a.png', type: 'image/png', size: 3 });
    const second = client.prepareUpload('lobby', { name: 'b.pdf', type: 'application/pdf', size: 9 });
    assert.deepEqual(ws.take(), [
      { action: 'prepareUpload', roomId: 'lobby', name: 'a.png', type: 'image/png', size: 3 },
      { action: 'prepareUpload', roomId: 'lobby', name: 'b.pdf', type: 'application/pdf', size: 9 },
    ]);
    const upload = { type: 'upload', roomId: 'lobby', uploadId: ID, url: 'http://s3', fields: { key: 'k' }, expiresAt: 't' };
    ws.receive(upload);
    ws.receive({ type: 'error', code: 'bad_request', message: 'too big', action: 'prepareUpload', roomId: 'lobby' });
    assert.equal((await first).uploadId, ID);
    await assert.rejects(second, /too big/);
    assert.deepEqual(client.errors, []); // the caller was told; nothing else to show

    const url = client.attachmentUrl('lobby', '01HZX3K9Q8V7N6M5K4J3H2G1F0', ID, { thumbnail: true });
    assert.deepEqual(ws.take(), [
      { action: 'attachmentUrl', roomId: 'lobby', messageId: '01HZX3K9Q8V7N6M5K4J3H2G1F0', uploadId: ID, thumbnail: true },
    ]);
    ws.receive({ type: 'attachmentUrl', roomId: 'lobby', messageId: '01HZX3K9Q8V7N6M5K4J3H2G1F0', uploadId: ID, url: 'http://s3/t.jpg', expiresAt: 't' });
    assert.equal(await url, 'http://s3/t.jpg');

    assert.equal(client.sendFiles('lobby', [{ uploadId: ID, name: 'a.png', type: 'image/png', size: 3 }]), null);
    assert.deepEqual(ws.take(), [
      { action: 'sendAll', roomId: 'lobby', attachments: [{ uploadId: ID, name: 'a.png', type: 'image/png', size: 3 }] },
    ]);
  });

  test('postFile sends the fields in order, the file last, and reports progress', async () => {
    const sent = [];
    class FakeXHR {
      constructor() {
        this.upload = {};
      }
      open(method, url) {
        sent.push([method, url]);
      }
      send(form) {
        sent.push([...form.keys()]);
        this.upload.onprogress({ lengthComputable: true, loaded: 1, total: 2 });
        this.status = 204;
        this.onload();
      }
    }
    const progress = [];
    const upload = { url: 'http://s3/b', fields: { key: 'k', policy: 'p', 'x-amz-signature': 's' } };
    await postFile(upload, new Blob(['hi']), { onProgress: (p) => progress.push(p), XHR: FakeXHR });
    assert.deepEqual(sent, [['POST', 'http://s3/b'], ['key', 'policy', 'x-amz-signature', 'file']]);
    assert.deepEqual(progress, [0.5]);
  });
});
