import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Activity, ConversationReference, TurnContext } from 'botbuilder';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CachingBotFrameworkAuthentication } from '../../src/channels/connector-cache.js';
import { ReplyBatchingAdapter } from '../../src/channels/reply-adapter.js';
import { ReplyThread, type ReplyOperation } from '../../src/channels/reply-thread.js';

/** A channel that records what it is sent and answers with an id; `failOn` answers that text with a 403. */
let server: Server;
let url: string;
let received: { path: string; text?: string }[];
let failOn: string | undefined;

beforeEach(async () => {
  received = [];
  failOn = undefined;
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
    req.on('end', () => {
      const text = (JSON.parse(body) as { text?: string }).text;
      if (text === failOn) {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'Forbidden', message: 'not allowed' } }));
        return;
      }
      received.push({ path: req.url ?? '', text });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `sent-${received.length}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

/** An adapter sending through a reply thread, and the operations the thread was asked for. */
function setUp(): { adapter: ReplyBatchingAdapter; thread: ReplyThread; asked: ReplyOperation[] } {
  const thread = new ReplyThread({ credentials: {} });
  const asked: ReplyOperation[] = [];
  const call = (thread as unknown as { call(op: ReplyOperation, ...rest: unknown[]): Promise<unknown> }).call.bind(thread);
  (thread as unknown as { call(op: ReplyOperation, ...rest: unknown[]): Promise<unknown> }).call = (op, ...rest) => {
    asked.push(op);
    return call(op, ...rest);
  };
  const auth = new CachingBotFrameworkAuthentication({});
  auth.sendRepliesThrough(thread);
  return { adapter: new ReplyBatchingAdapter(auth), thread, asked };
}

function reference(): Partial<ConversationReference> {
  return { channelId: 'emulator', serviceUrl: url, conversation: { id: 'conv-1' } as ConversationReference['conversation'], bot: { id: 'bot', name: 'bot' }, user: { id: 'u1', name: 'u1' } };
}

async function send(adapter: ReplyBatchingAdapter, activities: Partial<Activity>[]): Promise<unknown> {
  let responses: unknown;
  await adapter.continueConversationAsync('', reference(), async (context: TurnContext) => {
    responses = await context.sendActivities(activities);
  });
  return responses;
}

describe('ReplyBatchingAdapter', () => {
  it("hands a turn's replies to the reply thread in one request, which sends them in order", async () => {
    const { adapter, thread, asked } = setUp();
    const responses = await send(adapter, [{ type: 'message', text: '第一条' }, { type: 'message', text: '第二条' }, { type: 'message', text: '第三条' }]);
    await thread.close();
    expect(asked).toEqual(['sendAll']);
    // Replies to the turn's activity, as CloudAdapter sends them.
    expect(received.map((r) => r.text)).toEqual(['第一条', '第二条', '第三条']);
    expect(received.map((r) => r.path)).toEqual(Array(3).fill(expect.stringMatching(/^\/v3\/conversations\/conv-1\/activities\/[\w-]+$/)));
    expect(responses).toEqual([{ id: 'sent-1' }, { id: 'sent-2' }, { id: 'sent-3' }]);
  });

  it('sends a single reply, and a list with a delay in it, the way CloudAdapter does', async () => {
    const { adapter, thread, asked } = setUp();
    await send(adapter, [{ type: 'message', text: '一条' }]);
    await send(adapter, [{ type: 'message', text: '先' }, { type: 'delay', value: 1 }, { type: 'message', text: '后' }]);
    await thread.close();
    expect(asked).toEqual(['replyToActivity', 'replyToActivity', 'replyToActivity']);
    expect(received.map((r) => r.text)).toEqual(['一条', '先', '后']);
  });

  it('fails with the channel error at the first reply the channel refuses, after sending the ones before it', async () => {
    const { adapter, thread } = setUp();
    failOn = '第二条';
    const err = await send(adapter, [{ type: 'message', text: '第一条' }, { type: 'message', text: '第二条' }, { type: 'message', text: '第三条' }]).catch((e: unknown) => e);
    await thread.close();
    expect(err).toMatchObject({ statusCode: 403 });
    expect(received.map((r) => r.text)).toEqual(['第一条']);
  });
});
