// roomchat-client: the roomchat protocol and its session logic for browsers and Node.
//
//   import { ChatClient } from 'roomchat-client';
//   const chat = new ChatClient();              // Node 20: new ChatClient({ WebSocket }) or --experimental-websocket
//   chat.on('message', (m) => console.log(`${m.sender}: ${m.message}`));
//   chat.connect(withToken('wss://…/live', token), 'ana', ['lobby']);
//   await chat.whenJoined('lobby');
//   await chat.send('lobby', 'hello');          // resolves with the stored message

export { CLOSED, CONNECTING, ChatClient, FEATURES, IDLE, OPEN, RECONNECTING } from './client.js';
export { Emitter } from './emitter.js';
export { mentionCandidates, mentionParts } from './features/mentions.js';
export { ROLE_ACTIONS } from './features/rooms.js';
export * from './protocol.js';
export { FAILED, JOINED, JOINING, LEAVING, QUEUED, REJOINING, Room, SENDING, Thread, cleanMessage } from './room.js';
export { tokenClaims, tokenProblem, tokenUser, withToken, withoutToken } from './token.js';
