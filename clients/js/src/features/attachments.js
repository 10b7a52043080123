// Attachments (issue 24): `prepareUpload` answers an S3 presigned POST for one declared file; the
// browser posts the file straight to S3 (progress reported), then `sendFiles` sends the message
// that refers to it; `attachmentUrl` answers a short-lived GET for members. Replies come in the
// order asked, per room and action, so each request waits for the next matching reply.

import { frames } from '../protocol.js';

function waiters(client, key) {
  client.attachmentWaiters ??= new Map();
  let list = client.attachmentWaiters.get(key);
  if (!list) {
    list = [];
    client.attachmentWaiters.set(key, list);
  }
  return list;
}

function ask(client, key, frame) {
  return new Promise((resolve, reject) => {
    if (!client.sendFrame(frame)) {
      reject(new Error('Not connected right now.'));
      return;
    }
    waiters(client, key).push({ resolve, reject });
  });
}

function settle(client, key, ok, value) {
  const next = waiters(client, key).shift();
  if (!next) return false;
  if (ok) next.resolve(value);
  else next.reject(new Error(value));
  return true;
}

/** POST a file with an `upload` frame's url and fields (fields first, the file last). */
export function postFile(upload, file, { onProgress = null, XHR = globalThis.XMLHttpRequest } = {}) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append('file', file);
    const xhr = new XHR();
    xhr.open('POST', upload.url);
    if (onProgress && xhr.upload) {
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(e.loaded / e.total);
      };
    }
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(`upload refused (${xhr.status})`)));
    xhr.onerror = () => reject(new Error('upload failed'));
    xhr.send(form);
  });
}

export const attachments = {
  methods: {
    /** The presigned POST for one file ({name, type, size}): resolves with the `upload` frame. */
    prepareUpload(roomId, file) {
      return ask(this, `upload:${roomId}`, frames.prepareUpload(roomId, file));
    },

    /** Prepare and post a File (browser): resolves with the attachment to send. */
    async uploadFile(roomId, file, { onProgress = null } = {}) {
      const declared = { name: file.name, type: file.type || 'application/octet-stream', size: file.size };
      const upload = await this.prepareUpload(roomId, declared);
      await postFile(upload, file, { onProgress });
      return { uploadId: upload.uploadId, ...declared };
    },

    /** A message with files (and text); the `message` frame everyone gets is the ack. */
    sendFiles(roomId, files, text = '') {
      const frame = { action: 'sendAll', roomId, attachments: files, ...(text ? { message: text } : {}) };
      return this.sendFrame(frame) ? null : 'Not connected right now.';
    },

    /** A presigned GET of a message's file (or its thumbnail): resolves with its URL. */
    attachmentUrl(roomId, messageId, uploadId, { thumbnail = false } = {}) {
      const frame = frames.attachmentUrl(roomId, messageId, uploadId, { thumbnail });
      return ask(this, `url:${roomId}`, frame).then((reply) => reply.url);
    },
  },

  frames: {
    upload(frame) {
      settle(this, `upload:${frame.roomId}`, true, frame);
    },
    attachmentUrl(frame) {
      settle(this, `url:${frame.roomId}`, true, frame);
    },
  },

  errors: {
    prepareUpload(frame, room, text) {
      return settle(this, `upload:${frame.roomId}`, false, text) ? 'done' : undefined;
    },
    attachmentUrl(frame, room, text) {
      return settle(this, `url:${frame.roomId}`, false, text) ? 'done' : undefined;
    },
  },
};
