// Compiled by `tsc -p .` (tests/unit/test_js_sdk.py): a typed use of the declarations. Each
// `@ts-expect-error` line must fail to compile, so the types really say what they claim.
import {
  ChatClient,
  frames,
  type ClientFrame,
  type JoinedFrame,
  type MessageFrame,
  type ServerFrame,
} from 'roomchat-client';

const chat = new ChatClient({ pingIntervalMs: 60_000 });
const problem: string | null = chat.connect('ws://127.0.0.1:8080/live', 'ana', ['lobby']);
chat.on('message', (m: MessageFrame) => m.message?.toUpperCase());
chat.on('joined', (j: JoinedFrame) => j.recent.map((m) => m.messageId));
chat.on('frame', (f: ServerFrame) => (f.type === 'kicked' ? f.bannedUntil : null));
chat.on('close', ({ code, text }) => `${code} ${text}`);
async function talk(): Promise<string> {
  const room = await chat.whenJoined('lobby');
  const stored = await chat.send(room.id, 'hello');
  return stored.messageId;
}
const frame: ClientFrame = frames.kick('lobby', 'user-bob', 'forever');
const history: ClientFrame = frames.history('lobby', { before: null, limit: 10 });
void [problem, talk, frame, history];

// @ts-expect-error: a message frame has no `text`
chat.on('message', (m) => m.text);
// @ts-expect-error: sendAll needs its clientMsgId
frames.sendAll('lobby', 'hi');
// @ts-expect-error: no such policy
chat.createRoom('team', 'secret');
// @ts-expect-error: no such action
const bad: ClientFrame = { action: 'shout', roomId: 'lobby' };
void bad;
