import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReplyThread } from '../../src/channels/reply-thread.js';
import { runWithTurnSyncs, TurnSyncs } from '../../src/store/append-file.js';

/** A channel that records what it is sent and answers with an id, after `delayMs`. */
let server: Server;
let url: string;
let received: { path: string; body: { text?: string } }[];
let delayMs: number;
/** A message the channel takes its time over. */
let slowText: string | undefined;

beforeEach(async () => {
  received = [];
  delayMs = 0;
  slowText = undefined;
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
    req.on('end', () => {
      const parsed = JSON.parse(body) as { text?: string };
      setTimeout(() => {
        received.push({ path: req.url ?? '', body: parsed });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: `sent-${received.length}` }));
      }, parsed.text === slowText ? 150 : delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('ReplyThread', () => {
  it('sends replies from the worker, in order, to the Bot Framework routes, and returns their ids', async () => {
    const thread = new ReplyThread({ credentials: {} });
    const conversations = thread.conversations({ claims: [], serviceUrl: url });
    const first = await conversations.replyToActivity('conv-1', 'act-1', { type: 'message', text: '您好', conversation: { id: 'conv-1' }, replyToId: 'act-1' });
    const second = await conversations.sendToConversation('conv-1', { type: 'message', text: '第二条', conversation: { id: 'conv-1' } });
    await thread.close();
    expect(first).toEqual({ id: 'sent-1' });
    expect(second).toEqual({ id: 'sent-2' });
    expect(received.map((r) => r.path)).toEqual(['/v3/conversations/conv-1/activities/act-1', '/v3/conversations/conv-1/activities']);
    expect(received.map((r) => r.body.text)).toEqual(['您好', '第二条']);
  });

  it('fails a send the channel cannot take with an error shaped as botbuilder gives it', async () => {
    const thread = new ReplyThread({ credentials: {}, retry: { maxRetries: 1, minTimeoutMs: 10 } });
    const unreachable = thread.conversations({ claims: [], serviceUrl: 'http://127.0.0.1:9' });
    const err = await unreachable.sendToConversation('conv-1', { type: 'message', text: 'x', conversation: { id: 'conv-1' } }).catch((e: unknown) => e);
    await thread.close();
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'RestError', code: 'ECONNREFUSED' });
  });

  it('fails a send to a service URL that is no URL, and goes on sending to the good ones', async () => {
    const thread = new ReplyThread({ credentials: {} });
    const bad = await thread.conversations({ claims: [], serviceUrl: 'not a url' }).sendToConversation('conv-7', { type: 'message', text: 'x' }).catch((e: unknown) => e);
    const good = await thread.conversations({ claims: [], serviceUrl: url }).sendToConversation('conv-7', { type: 'message', text: '好的', conversation: { id: 'conv-7' } });
    await thread.close();
    expect(bad).toBeInstanceOf(Error);
    expect(good).toEqual({ id: 'sent-1' });
  });

  it('reports a worker that died and starts a new one for the next send', async () => {
    const errors: Error[] = [];
    const thread = new ReplyThread({ credentials: {} }, (err) => errors.push(err));
    const conversations = thread.conversations({ claims: [], serviceUrl: url });
    await conversations.sendToConversation('conv-3', { type: 'message', text: '一', conversation: { id: 'conv-3' } });
    // The worker is gone (a crash, out of memory): the thread hears of it.
    await (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await new Promise((r) => setTimeout(r, 50));
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('exited')]);
    await expect(conversations.sendToConversation('conv-3', { type: 'message', text: '二', conversation: { id: 'conv-3' } })).resolves.toEqual({ id: 'sent-2' });
    await thread.close();
    expect(received.map((r) => r.body.text)).toEqual(['一', '二']);
  });

  it('lets the sends in flight finish before it closes, and refuses new ones after', async () => {
    delayMs = 200;
    const thread = new ReplyThread({ credentials: {} });
    const conversations = thread.conversations({ claims: [], serviceUrl: url });
    const sending = conversations.sendToConversation('conv-2', { type: 'message', text: '稍后到', conversation: { id: 'conv-2' } });
    // Give the worker time to start and send before close() is asked.
    await new Promise((r) => setTimeout(r, 50));
    await thread.close();
    await expect(sending).resolves.toEqual({ id: 'sent-1' });
    await expect(conversations.sendToConversation('conv-2', { type: 'message', text: 'x' })).rejects.toThrow('closed');
  });

  it("syncs the files of a turn's durable writes before it sends the turn's reply, and sends nothing when that fails", async () => {
    const thread = new ReplyThread({ credentials: {} });
    const conversations = thread.conversations({ claims: [], serviceUrl: url });
    const turn = new TurnSyncs();
    // A file of the turn, and one compaction removed meanwhile (nothing left to sync).
    turn.add(new URL(import.meta.url).pathname);
    turn.add('/tmp/tuiding-no-such-file.log');
    await runWithTurnSyncs(turn, () => conversations.sendToConversation('conv-4', { type: 'message', text: '已受理', conversation: { id: 'conv-4' } }));
    expect(turn.size).toBe(0);
    // A file that cannot be synced: the reply is not sent, and the error says why.
    turn.add(`/tmp/${'x'.repeat(300)}`);
    const err = await runWithTurnSyncs(turn, () => conversations.sendToConversation('conv-4', { type: 'message', text: '不该发出', conversation: { id: 'conv-4' } })).catch((e: unknown) => e);
    await expect(thread.sync([new URL(import.meta.url).pathname])).resolves.toBeUndefined();
    await thread.close();
    expect(err).toMatchObject({ code: 'ENAMETOOLONG' });
    expect(received.map((r) => r.body.text)).toEqual(['已受理']);
  });

  it("sends a conversation's replies in the order they were asked for, also when the first waits for its turn's syncs", async () => {
    const thread = new ReplyThread({ credentials: {} });
    const conversations = thread.conversations({ claims: [], serviceUrl: url });
    slowText = '回执';
    const turn = new TurnSyncs();
    turn.add(new URL(import.meta.url).pathname);
    const receipt = runWithTurnSyncs(turn, () => conversations.sendToConversation('conv-5', { type: 'message', text: '回执', conversation: { id: 'conv-5' } }));
    const next = conversations.sendToConversation('conv-5', { type: 'message', text: '下一条', conversation: { id: 'conv-5' } });
    // Another conversation does not wait.
    const other = conversations.sendToConversation('conv-6', { type: 'message', text: '别的会话', conversation: { id: 'conv-6' } });
    await Promise.all([receipt, next, other]);
    await thread.close();
    expect(received.map((r) => r.body.text)).toEqual(['别的会话', '回执', '下一条']);
  });
});
