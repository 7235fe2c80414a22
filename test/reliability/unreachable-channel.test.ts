import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type RunningBot } from '../support/running-bot.js';

// A conversation whose channel cannot be reached must not hold up the others, and its state stays consistent.
let bot: RunningBot;

beforeAll(async () => {
  bot = await startBot();
});

afterAll(() => bot.stop());

const activity = (conversationId: string, serviceUrl: string, text: string) => JSON.stringify({
  type: 'message', id: `${conversationId}-1`, text, channelId: 'emulator', serviceUrl, locale: 'zh-CN',
  conversation: { id: conversationId }, from: { id: 'u' }, recipient: { id: 'bot' },
});

describe('an unreachable serviceUrl', () => {
  it('does not block other conversations; the turn is saved and the failure answered without a crash', async () => {
    const started = Date.now();
    // Port 9 on loopback: nothing listens, so every reply POST is refused (and retried by the connector).
    const stuck = fetch(`${bot.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: activity('dead-channel', 'http://127.0.0.1:9', '退订音乐会员') });
    await new Promise((r) => setTimeout(r, 200));

    const user = bot.client();
    const replies = await user.say('退订视频彩铃');
    expect(replies.map((r) => r.text)).toEqual([bot.t('identity.number.prompt')]);
    expect(Date.now() - started).toBeLessThan(5_000);

    const res = await stuck;
    // The connector retries and gives up; the turn error handler logs it and the channel gets a normal answer.
    expect(res.status).toBe(200);
    console.log(`[reliability] unreachable channel: inbound answered ${res.status} after ${Date.now() - started} ms; other conversations unaffected`);
    // The dialog moved on even though the reply could not be delivered: the user's next message continues it.
    const record = await bot.app.store.getConversation('dead-channel');
    expect((record?.snapshot as { value: unknown }).value).toEqual({ session: 'askingNumber' });
    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
  }, 60_000);
});
