// Chat from Node: node examples/node-chat.mjs [ws-url] [room] [text]  (ROOMCHAT_TOKEN when signed in)
// Node 20 needs --experimental-websocket (or pass the `ws` package's WebSocket); Node 22 has one.
import { ChatClient, withToken } from 'roomchat-client';

const [url = 'ws://127.0.0.1:8080/live', room = 'lobby', text = 'hello from Node'] = process.argv.slice(2);
const token = process.env.ROOMCHAT_TOKEN;
const chat = new ChatClient();
chat.on('message', (m) => console.log(`[${m.roomId}] ${m.sender}: ${m.message ?? '(deleted)'}`));
chat.on('problem', ({ text: problem }) => console.error(problem));
const problem = chat.connect(token ? withToken(url, token) : url, 'node-example', [room]);
if (problem) throw new Error(problem);

await chat.whenJoined(room);
const stored = await chat.send(room, text);
console.log(`sent as ${stored.messageId}`);
// Listen for one answer from someone else (up to 5 s), then say goodbye.
await new Promise((resolve) => {
  chat.on('message', (m) => m.sender !== 'node-example' && resolve());
  setTimeout(resolve, Number(process.env.WAIT_MS ?? 5000));
});
chat.disconnect();
