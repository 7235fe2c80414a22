import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { tempDataDir, testApp } from '../support/app.js';
import { FakeChannel, type ReceivedActivity } from '../support/fake-channel.js';

// Hostile and odd input at the HTTP edge of the real app (port 0, no app id, as the Emulator sees it).
// Malformed requests must get a 4xx and leave the server answering; odd but well-formed messages
// must get a polite reply at the channel, never the turn-error apology.

const MAX_BODY_BYTES = 64 * 1024; // small, but a 10,000-character Chinese message (≈30 KB) still fits

let app: App;
let botUrl: string;
let cleanup: () => void;
const channel = new FakeChannel();
const tried = { rejected: 0, ignored: 0, polite: 0 };

beforeAll(async () => {
  const data = tempDataDir();
  cleanup = data.cleanup;
  await channel.start();
  app = await testApp(data.dir, { MAX_BODY_BYTES: String(MAX_BODY_BYTES), CODE_MAX_PER_HOUR: '1000' });
  botUrl = `http://127.0.0.1:${await app.start()}`;
});

afterAll(async () => {
  const total = tried.rejected + tried.ignored + tried.polite;
  console.log(`[reliability] bad inputs tried: ${total} (rejected with 4xx: ${tried.rejected}, ignored without a reply: ${tried.ignored}, answered politely: ${tried.polite})`);
  await app?.stop();
  await channel.stop();
  cleanup?.();
});

const t = (key: string) => app.i18n.t(key, {}, 'zh-CN');

function envelope(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'message',
    id: randomUUID(),
    channelId: 'emulator',
    serviceUrl: channel.url,
    conversation: { id: `conv-${randomUUID()}` },
    from: { id: 'user-1', name: 'User', role: 'user' },
    recipient: { id: 'bot-1', name: 'Bot', role: 'bot' },
    locale: 'zh-CN',
    timestamp: new Date().toISOString(),
    ...extra,
  };
}

async function post(body: string | Buffer, contentType: string | null = 'application/json'): Promise<Response> {
  const headers: Record<string, string> = {};
  if (contentType !== null) headers['content-type'] = contentType;
  return fetch(`${botUrl}/api/messages`, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
}

async function expectAlive(label: string): Promise<void> {
  const health = await fetch(`${botUrl}/healthz`);
  expect(health.status, `healthz after ${label}`).toBe(200);
}

describe('malformed requests get a 4xx, never a 500, and the server keeps answering', () => {
  const valid = () => envelope({ text: '你好' });
  const without = (key: string) => { const a = valid(); delete a[key]; return a; };
  const cases: { name: string; body: () => string | Buffer; contentType?: string | null; status?: number }[] = [
    { name: 'malformed JSON', body: () => '{"type":"message","text":' },
    { name: 'JSON with a trailing comma', body: () => '{"type":"message",}' },
    { name: 'an empty body', body: () => '' },
    { name: 'invalid UTF-8 bytes', body: () => Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) },
    { name: 'a JSON array', body: () => '[]' },
    { name: 'an array of activities', body: () => JSON.stringify([valid()]) },
    { name: 'a JSON string', body: () => '"帮我退订视频彩铃"' },
    { name: 'a JSON number', body: () => '42' },
    { name: 'JSON null', body: () => 'null' },
    { name: 'JSON true', body: () => 'true' },
    { name: 'an empty object', body: () => '{}' },
    { name: 'a missing type', body: () => JSON.stringify(without('type')) },
    { name: 'an empty type', body: () => JSON.stringify({ ...valid(), type: '' }) },
    { name: 'a numeric type', body: () => JSON.stringify({ ...valid(), type: 42 }) },
    { name: 'an object as type', body: () => JSON.stringify({ ...valid(), type: { message: true } }) },
    { name: 'a missing conversation', body: () => JSON.stringify(without('conversation')) },
    { name: 'a conversation without id', body: () => JSON.stringify({ ...valid(), conversation: {} }) },
    { name: 'a numeric conversation id', body: () => JSON.stringify({ ...valid(), conversation: { id: 12345 } }) },
    { name: 'a conversation that is a string', body: () => JSON.stringify({ ...valid(), conversation: 'conv-1' }) },
    { name: 'a missing serviceUrl', body: () => JSON.stringify(without('serviceUrl')) },
    { name: 'a numeric locale', body: () => JSON.stringify({ ...valid(), locale: 42 }) },
    { name: 'an object as locale', body: () => JSON.stringify({ ...valid(), locale: { tag: 'zh-CN' } }) },
    { name: 'membersAdded that is not an array', body: () => JSON.stringify(envelope({ type: 'conversationUpdate', membersAdded: 'not an array' })) },
    { name: 'membersRemoved that is not an array', body: () => JSON.stringify(envelope({ type: 'conversationUpdate', membersRemoved: { id: 'x' } })) },
    { name: 'membersAdded holding null and strings', body: () => JSON.stringify(envelope({ type: 'conversationUpdate', membersAdded: [null, 42, 'user-2'] })) },
    { name: 'attachments holding null', body: () => JSON.stringify({ ...valid(), attachments: [null] }) },
    { name: 'attachments that are not an array', body: () => JSON.stringify({ ...valid(), attachments: 'x.png' }) },
    { name: 'a deeply nested body', body: () => `${'['.repeat(5000)}${']'.repeat(5000)}` },
    { name: 'a body over MAX_BODY_BYTES', body: () => JSON.stringify(envelope({ text: '退'.repeat(MAX_BODY_BYTES) })), status: 413 },
    { name: 'text/plain content', body: () => JSON.stringify(valid()), contentType: 'text/plain' },
    { name: 'XML content', body: () => '<activity type="message"/>', contentType: 'application/xml' },
    { name: 'a form post', body: () => 'type=message&text=hi', contentType: 'application/x-www-form-urlencoded' },
    { name: 'no content type', body: () => JSON.stringify(valid()), contentType: null },
    { name: 'a multipart body', body: () => '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n', contentType: 'multipart/form-data; boundary=x' },
  ];

  for (const c of cases) {
    it(`answers ${c.name} with ${c.status ?? 'a 4xx'}`, async () => {
      const res = await post(c.body(), c.contentType === undefined ? 'application/json' : c.contentType);
      const text = await res.text();
      tried.rejected++;
      if (c.status) expect(res.status, text).toBe(c.status);
      expect(res.status, `${c.name}: ${text}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${c.name}: ${text}`).toBeLessThan(500);
      // One error shape, whether the bot or restify (body parser, content type) refused it.
      expect(JSON.parse(text), `${c.name}: ${text}`).toEqual({ error: expect.any(String) });
      // A refused content type says what to send instead, not just the type it refused.
      if (res.status === 415) expect((JSON.parse(text) as { error: string }).error).toContain('application/json');
      await expectAlive(c.name);
    });
  }
});

describe('activities the bot does not handle are ignored without a reply or a server error', () => {
  for (const extra of [
    { type: 'typing' },
    { type: 'endOfConversation' },
    { type: 'deleteUserData' },
    { type: 'contactRelationUpdate', action: 'add' },
    { type: 'installationUpdate', action: 'add' },
    { type: 'messageReaction', reactionsAdded: [{ type: 'like' }] },
    { type: 'event', name: 'someEvent', value: { a: 1 } },
    { type: 'event', name: 'handoff.status', value: 'not an object' },
    { type: 'event', name: 'handoff.status', value: { state: 'nonsense' } },
    { type: 'conversationUpdate' },
    { type: 'conversationUpdate', membersAdded: [{ name: 'no id' }, { id: 42 }] },
    { type: 'conversationUpdate', membersRemoved: [{ id: 'user-9' }] },
    { type: 'message', text: '你好', from: 'not an object', recipient: 42 },
  ]) {
    it(`ignores ${JSON.stringify(extra)}`, async () => {
      const activity = envelope(extra);
      const res = await post(JSON.stringify(activity));
      const text = await res.text();
      tried.ignored++;
      expect(res.status, text).toBeLessThan(500);
      const replies = channel.received.filter((a) => a.conversation.id === (activity.conversation as { id: string }).id);
      expect(replies.map((r) => r.text)).not.toContain(t('error.turn'));
      await expectAlive(JSON.stringify(extra));
    });
  }
});

describe('activity types the Bot Framework protocol does not define', () => {
  for (const type of ['nonsense-type', '💥', 'MESSAGE']) {
    it(`answers 400 to type ${JSON.stringify(type)} and keeps serving`, async () => {
      const res = await post(JSON.stringify(envelope({ type })));
      tried.rejected++;
      expect(res.status).toBe(400);
      await expectAlive(type);
    });
  }
});

describe('an invoke the bot does not implement', () => {
  it('gets the Bot Framework answer 501 Not Implemented, not a 500, and the server keeps answering', async () => {
    // ActivityHandler answers an invoke nobody handles with 501 (the protocol's "not supported"); channels expect that.
    const res = await post(JSON.stringify(envelope({ type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb: 'x' } } })));
    tried.ignored++;
    expect(res.status).toBe(501);
    await expectAlive('an invoke');
  });
});

describe('odd but well-formed messages get a polite reply', () => {
  async function politely(label: string, extra: Record<string, unknown>): Promise<ReceivedActivity[]> {
    const activity = envelope({ text: undefined, ...extra });
    const res = await post(JSON.stringify(activity));
    expect(res.status, `${label}: ${await res.text()}`).toBe(200);
    const replies = channel.received.filter((a) => a.replyToId === activity.id);
    tried.polite++;
    expect(replies.length, `${label}: no reply`).toBeGreaterThan(0);
    for (const r of replies) {
      expect(r.type).toBe('message');
      expect((r.text ?? '').trim().length, `${label}: empty reply`).toBeGreaterThan(0);
      expect(r.text, `${label}: apology for a failed turn`).not.toBe(t('error.turn'));
    }
    await expectAlive(label);
    return replies;
  }

  it('asks for words when the text is empty or blank', async () => {
    expect((await politely('empty text', { text: '' }))[0]!.text).toBe(t('input.empty'));
    expect((await politely('whitespace', { text: ' \n\t　' }))[0]!.text).toBe(t('input.empty'));
    expect((await politely('no text at all', {}))[0]!.text).toBe(t('input.empty'));
  });

  it('answers emoji, punctuation and control characters', async () => {
    await politely('emoji only', { text: '😀🙏🏻👍' });
    await politely('a flag and ZWJ sequence', { text: '🇨🇳👨‍👩‍👧' });
    await politely('punctuation only', { text: '？？？！！！。。。' });
    await politely('control characters', { text: '\u0000\u0007\u001b[31m退订\u0008\u007f' });
    await politely('a lone surrogate', { text: '\ud83d退订' });
    await politely('right-to-left and zero-width characters', { text: '\u202e订退\u200b\u200d\ufeff' });
    await politely('HTML and a script', { text: '<script>alert(1)</script>' });
  });

  it('asks to shorten a 10,000-character message', async () => {
    const [reply] = await politely('10,000 characters', { text: '退订视频彩铃'.repeat(2000).slice(0, 10_000) });
    expect(reply!.text).toBe(t('input.tooLong'));
  });

  it('answers attachments without text', async () => {
    const [reply] = await politely('an image', { attachments: [{ contentType: 'image/png', contentUrl: 'http://127.0.0.1:1/x.png', name: 'x.png' }] });
    expect(reply!.text).toBe(t('input.nonText'));
    await politely('an attachment without contentType', { attachments: [{}] });
    await politely('an empty attachment list', { attachments: [] });
  });

  it('answers card post-backs with odd values', async () => {
    await politely('a numeric value', { value: 42 });
    await politely('a nested object value', { value: { a: { b: [1, { c: null }] } } });
    await politely('an array value', { value: [1, '确认', { text: '确认' }] });
    await politely('a null value', { value: null });
    await politely('a boolean value', { value: true });
    await politely('a value whose text is a number', { value: { text: 12345 } });
    await politely('a value whose text is an object', { value: { text: { nested: '确认' } } });
    await politely('a value with an empty text', { value: { text: '' } });
    await politely('a value text of 10,000 characters', { value: { text: '好'.repeat(10_000) } });
  });

  it('answers a text field that is not a string', async () => {
    await politely('a numeric text', { text: 13800138000 });
    await politely('an object text', { text: { zh: '退订' } });
    await politely('an array text', { text: ['退订', '视频彩铃'] });
  });

  it('answers odd locales, conversation ids and missing parties', async () => {
    await politely('an unknown locale', { text: '你好', locale: 'xx-YY' });
    await politely('a malformed locale', { text: '你好', locale: '../../etc/passwd' });
    await politely('a conversation id with tab, newline and slashes', { text: '你好', conversation: { id: `a\tb\nc/../${randomUUID()}` } });
    await politely('a 1,000-character conversation id', { text: '你好', conversation: { id: `c${'x'.repeat(999)}${randomUUID()}` } });
    await politely('no from and recipient', { text: '你好', from: undefined, recipient: undefined });
  });

  it('never sent the turn-error apology to anyone', () => {
    expect(channel.received.filter((a) => a.text === t('error.turn'))).toEqual([]);
  });
});
