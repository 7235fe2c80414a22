import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/app.js';
import { lastCode, tempDataDir, testApp } from '../../support/app.js';
import { DirectLineClient, Stream, type DlActivity } from './client.js';

// The Direct Line 3.0 channel over real HTTP and WebSocket against the whole app on a free port.
const SECRET = 'test-directline-secret-0123456789abcdef';
let app: App;
let data: ReturnType<typeof tempDataDir>;
let base: string;

beforeAll(async () => {
  data = tempDataDir();
  app = await testApp(data.dir, { DIRECTLINE_SECRET: SECRET });
  base = `http://127.0.0.1:${await app.start()}`;
});

afterAll(async () => {
  await app?.stop();
  data?.cleanup();
});

const t = (key: string, params?: Record<string, string | number>) => app.i18n.t(key, params, 'zh-CN');
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const texts = (activities: DlActivity[]) => activities.map((a) => a.text ?? '').join('\n');

async function started(): Promise<DirectLineClient> {
  const client = await DirectLineClient.fromPage(base);
  const res = await client.start();
  expect(res.status).toBe(201);
  return client;
}

describe('starting a conversation', () => {
  it('starts the token\'s conversation once and greets the user', async () => {
    const client = await DirectLineClient.fromPage(base);
    const res = await client.start();
    expect(res.status).toBe(201);
    expect(res.body.conversationId).toBe(client.conversationId);
    expect(res.body.expires_in).toBe(1800);
    expect(res.body.streamUrl).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:\\d+/v3/directline/conversations/${client.conversationId}/stream\\?t=`));

    const { body } = await client.activities();
    expect(body.activities.map((a) => [a.type, a.from.role, a.text])).toEqual([['message', 'bot', t('welcome.text')]]);
    expect(body.activities[0]).toMatchObject({ channelId: 'directline', conversation: { id: client.conversationId } });
    expect(body.activities[0]!.serviceUrl).toBeUndefined();

    const again = await client.start();
    expect(again.status).toBe(200);
    expect((await client.activities()).body.activities).toHaveLength(1);
  });

  it('lets the secret holder start conversations and generate tokens for others', async () => {
    const generated = await new DirectLineClient(base, SECRET).call<{ conversationId: string; token: string }>('POST', '/tokens/generate', { user: { id: 'u-42' } });
    expect(generated.status).toBe(200);
    const client = new DirectLineClient(base, generated.body.token);
    expect((await client.start()).status).toBe(201);
    expect(client.conversationId).toBe(generated.body.conversationId);
    await client.say('帮助');
    const { body } = await client.activities();
    expect(body.activities.find((a) => a.from.role === 'user')?.from.id).toBe('u-42');

    const bySecret = new DirectLineClient(base, SECRET);
    const res = await bySecret.start({ user: { id: 'kiosk-1' }, locale: 'zh-CN' });
    expect(res.status).toBe(201);
    expect(res.body.token).toBeTruthy();
    expect((await bySecret.activities()).body.activities[0]?.text).toBe(t('welcome.text'));

    expect((await new DirectLineClient(base, 'wrong-secret').call('POST', '/tokens/generate')).status).toBe(403);
    expect((await client.call('POST', '/tokens/generate')).status).toBe(403);
  });

  it('refreshes a token for the same conversation', async () => {
    const client = await started();
    const refreshed = await client.call<{ conversationId: string; token: string }>('POST', '/tokens/refresh');
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.conversationId).toBe(client.conversationId);
    client.token = refreshed.body.token;
    expect((await client.activities()).status).toBe(200);
    expect((await new DirectLineClient(base, SECRET).call('POST', '/tokens/refresh')).status).toBe(400);
  });
});

describe('posting and reading activities', () => {
  it('echoes the user\'s activity with an id and its clientActivityID, then the bot\'s replies', async () => {
    const client = await started();
    const res = await client.post({
      type: 'message', text: '帮我把视频彩铃退了', from: { id: 'someone-else', name: '张三' }, channelData: { clientActivityID: 'web-1' },
    });
    expect(res.status).toBe(200);
    const { body } = await client.activities('1');
    const [echo, ...replies] = body.activities;
    expect(echo).toMatchObject({ id: res.body.id, type: 'message', text: '帮我把视频彩铃退了', channelData: { clientActivityID: 'web-1' } });
    // The token decides who is speaking, not the client.
    expect(echo!.from).toMatchObject({ id: client.userId, role: 'user' });
    expect(replies.map((r) => r.text)).toEqual([t('identity.number.prompt')]);
    expect(replies[0]).toMatchObject({ replyToId: res.body.id, from: { role: 'bot' } });
    expect(Date.parse(replies[0]!.timestamp)).toBeGreaterThan(Date.parse(echo!.timestamp));
  });

  it('pages through a long conversation with the watermark', async () => {
    const client = await started();
    for (let i = 0; i < 30; i++) await client.say('帮助');
    const first = await client.activities();
    expect(first.body.activities).toHaveLength(50);
    expect(first.body.watermark).toBe('50');
    const second = await client.activities(first.body.watermark);
    expect(second.body.activities.length).toBeGreaterThanOrEqual(11);
    const ids = [...first.body.activities, ...second.body.activities].map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    const third = await client.activities(second.body.watermark);
    expect(third.body).toEqual({ activities: [], watermark: second.body.watermark });
  });

  it('answers a malformed activity with 400 and an unknown conversation with 404', async () => {
    const client = await started();
    expect((await client.post({ text: 'no type' })).status).toBe(400);
    expect((await client.call('POST', `/conversations/${client.conversationId}/upload`, {})).status).toBe(400);
    const res = await new DirectLineClient(base, SECRET).call<{ error: { code: string } }>('GET', '/conversations/nope/activities');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NotFound');
    // A body restify's parser refuses is answered in the protocol's error shape too.
    const malformed = await fetch(`${base}/v3/directline/conversations/${client.conversationId}/activities`, {
      method: 'POST', headers: { authorization: `Bearer ${client.token}`, 'content-type': 'application/json' }, body: '{"type":"message",',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
  });
});

/** Sends a raw HTTP/1.1 request (no Content-Length, as curl -X POST does) and returns the status line. */
function rawStatus(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(base);
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.on('data', (chunk) => { text += chunk.toString('utf8'); });
    socket.on('end', () => resolve(text.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

describe('HTTP details clients rely on', () => {
  it('answers CORS preflights and takes bodiless POSTs without a Content-Length', async () => {
    const preflight = await fetch(`${base}/v3/directline/conversations`, {
      method: 'OPTIONS', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    const generated = await rawStatus(`POST /v3/directline/tokens/generate HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${SECRET}\r\nConnection: close\r\n\r\n`);
    expect(generated).toBe('HTTP/1.1 200 OK');
  });
});

describe('keeping conversations apart', () => {
  it('refuses a token for one conversation on another (403) and a call without one (401)', async () => {
    const a = await started();
    const b = await started();
    const intruder = new DirectLineClient(base, a.token);
    intruder.conversationId = b.conversationId;
    expect((await intruder.activities()).status).toBe(403);
    expect((await intruder.post({ type: 'message', text: 'hi' })).status).toBe(403);
    expect((await intruder.reconnect()).status).toBe(403);
    expect((await b.activities()).body.activities.filter((x) => x.from.role === 'user')).toEqual([]);

    const streamA = (await a.reconnect()).body.streamUrl!;
    expect(await Stream.refusal(streamA.replace(a.conversationId, b.conversationId))).toBe(403);
    expect(await Stream.refusal(streamA.replace(/t=[^&]+/, 't=forged'))).toBe(403);

    expect((await new DirectLineClient(base, '').call('GET', `/conversations/${a.conversationId}/activities`, undefined, null)).status).toBe(401);
    const tampered = `${a.token.slice(0, -4)}AAAA`;
    expect((await new DirectLineClient(base, tampered).call('GET', `/conversations/${a.conversationId}/activities`)).status).toBe(403);
    // A stream token is not a conversation token.
    const streamToken = new URL(streamA).searchParams.get('t')!;
    expect((await new DirectLineClient(base, streamToken).call('GET', `/conversations/${a.conversationId}/activities`)).status).toBe(403);
  });

  it('ignores bot-side calls that do not carry the connector key', async () => {
    const client = await started();
    const res = await fetch(`${base}/directline/connector/not-the-key/v3/conversations/${client.conversationId}/activities`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'message', text: '请把验证码发给我' }),
    });
    expect(res.status).toBe(404);
    expect(texts((await client.activities()).body.activities)).not.toContain('验证码发给我');
  });
});

describe('the WebSocket stream', () => {
  it('streams the backlog, then new activities, and a reconnect gets what was missed', async () => {
    const client = await started();
    const streamUrl = (await client.start()).body.streamUrl!;
    const stream = await Stream.open(streamUrl);
    await stream.waitFor((a) => a.text === t('welcome.text'));
    await client.say('帮我把视频彩铃退了');
    await stream.waitFor((a) => a.text === t('identity.number.prompt'));
    expect(stream.activities.map((a) => a.from.role)).toEqual(['bot', 'user', 'bot']);
    const seen = stream.watermark!;
    await stream.close();

    // While disconnected:
    await client.say('13800138000');
    const again = await client.reconnect(seen);
    expect(again.status).toBe(200);
    expect(again.body.streamUrl).toContain(`watermark=${seen}`);
    const resumed = await Stream.open(again.body.streamUrl!);
    await resumed.waitFor((a) => (a.text ?? '').startsWith(t('identity.code.prompt', { msisdn: '13800138000' }).slice(0, 8)));
    expect(resumed.sets[0]!.activities.map((a) => a.text)[0]).toBe('13800138000');
    expect(resumed.activities.some((a) => a.text === t('welcome.text'))).toBe(false);
    await resumed.close();
  });

  it('carries a whole cancellation, including the completion the bot sends on its own', async () => {
    const client = await started();
    const stream = await Stream.open((await client.reconnect()).body.streamUrl!);
    await client.say('帮我把视频彩铃退了');
    await client.say('13800138000');
    await client.say(await lastCode(app, '13800138000'));
    const confirm = await stream.waitFor((a) => (a.suggestedActions?.actions ?? []).some((x) => x.title === t('choice.confirm')));
    expect(confirm.channelData?.tuiding?.state).toBe('session.awaitingConfirmation');
    const confirmId = await client.say(t('choice.confirm'));
    // The receipt comes as an Adaptive Card, with its plain text as the summary.
    const receipt = await stream.waitFor((a) => a.replyToId === confirmId && /TD\d{14}/.test(a.summary ?? ''));
    const ticket = /TD\d{14}/.exec(receipt.summary!)![0];
    expect(receipt.attachments?.[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(receipt.attachments![0]!.content.body!.map((b) => b.text).join('\n')).toContain(ticket);
    const done = await stream.waitFor((a) => (a.text ?? '').includes('已成功退订') && (a.text ?? '').includes(ticket));
    expect(done.from.role).toBe('bot');
    await stream.close();
  });
});

describe('deleting personal data', () => {
  it('also drops the channel\'s stored copy of the messages, so a reloaded page shows none of them', async () => {
    const client = await started();
    await client.say('退订来电提醒');
    await client.say('13900139000');
    await client.say(await lastCode(app, '13900139000'));
    const before = texts((await client.activities()).body.activities);
    expect(before).toContain('13900139000');
    await client.say('算了，先不退了');
    await client.say('删除我的个人信息');
    await client.say(t('choice.confirm'));
    const after = (await client.activities()).body.activities;
    const shown = texts(after);
    expect(shown).not.toContain('13900139000');
    expect(shown).toContain(t('privacy.done'));
    // Only what came after the deletion is left: the bot's confirmation and nothing earlier.
    expect(after.every((a) => a.from.role === 'bot' || a.text === t('choice.confirm'))).toBe(true);
  });
});

describe('serving the page', () => {
  it('serves the chat page, the Web Chat bundle from node_modules and page tokens', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<title>退订助手</title>');
    expect(html).toContain('/webchat/webchat.js');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");

    const bundle = await fetch(`${base}/webchat/webchat.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-encoding')).toBe('gzip');
    expect((await bundle.text()).length).toBeGreaterThan(1_000_000);
    const cached = await fetch(`${base}/webchat/webchat.js`, { headers: { 'if-none-match': bundle.headers.get('etag')! } });
    expect(cached.status).toBe(304);
    expect((await fetch(`${base}/webchat/chat.js`)).status).toBe(200);
  });

  it('serves the page in the browser\'s language, or the one asked for, and Simplified Chinese otherwise', async () => {
    const pageIn = async (headers: Record<string, string>, query = '') => {
      const res = await fetch(`${base}/${query}`, { headers });
      return { lang: /<html lang="([^"]+)"/.exec(await res.text())?.[1], contentLanguage: res.headers.get('content-language'), vary: res.headers.get('vary') };
    };
    expect(await pageIn({ 'accept-language': 'zh-HK,zh;q=0.9,en;q=0.8' })).toEqual({ lang: 'zh-TW', contentLanguage: 'zh-TW', vary: 'Accept-Encoding, Accept-Language' });
    expect((await pageIn({ 'accept-language': 'fr-FR,en-GB;q=0.7' })).lang).toBe('en-US');
    expect((await pageIn({ 'accept-language': 'ja-JP' })).lang).toBe('zh-CN');
    expect((await pageIn({ 'accept-language': 'en-US' }, '?locale=zh-TW')).lang).toBe('zh-TW');
    const english = await (await fetch(`${base}/`, { headers: { 'accept-language': 'en' } })).text();
    expect(english).toContain(escape(app.i18n.t('webchat.brand.tagline', {}, 'en-US')));
  });

  it('resumes a started conversation for a reloaded page, and starts afresh otherwise', async () => {
    const client = await started();
    const resume = await fetch(`${base}/webchat/token`, { method: 'POST', headers: { authorization: `Bearer ${client.token}` } });
    const resumed = (await resume.json()) as { conversationId: string; resumed: boolean; token: string };
    expect(resumed).toMatchObject({ conversationId: client.conversationId, resumed: true });
    expect(resume.headers.get('cache-control')).toBe('no-store');

    const unstarted = await DirectLineClient.fromPage(base);
    const fresh = (await (await fetch(`${base}/webchat/token`, { method: 'POST', headers: { authorization: `Bearer ${unstarted.token}` } })).json()) as { conversationId: string; resumed: boolean };
    expect(fresh.resumed).toBe(false);
    expect(fresh.conversationId).not.toBe(unstarted.conversationId);
  });
});
