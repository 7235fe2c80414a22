import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../../src/app.js';
import { lastCode, tempDataDir, testApp } from '../../support/app.js';
import { DirectLineClient, Stream } from './client.js';

// What a Direct Line client missed while the bot was down is still there when it reconnects.
const apps: App[] = [];
const dirs: ReturnType<typeof tempDataDir>[] = [];

afterEach(async () => {
  for (const app of apps.splice(0)) await app.stop();
  for (const dir of dirs.splice(0)) dir.cleanup();
});

async function boot(dataDir: string, env: Record<string, string> = {}): Promise<{ app: App; base: string }> {
  const app = await testApp(dataDir, env);
  apps.push(app);
  return { app, base: `http://127.0.0.1:${await app.start()}` };
}

describe('a bot restart', () => {
  it('keeps tokens valid and delivers the completion sent after the restart to the reconnecting client', async () => {
    const data = tempDataDir();
    dirs.push(data);
    // Slow enough that the request completes only after the restart.
    const first = await boot(data.dir, { EMBEDDED_STATUS_DELAY_MS: '1500' });
    const client = await DirectLineClient.fromPage(first.base);
    await client.start();
    const stream = await Stream.open((await client.reconnect()).body.streamUrl!);
    await client.say('帮我把视频彩铃退了');
    await client.say('13800138000');
    await client.say(await lastCode(first.app, '13800138000'));
    const confirmId = await client.say('确认');
    // The receipt comes as an Adaptive Card, with its plain text as the summary.
    const receipt = await stream.waitFor((a) => a.replyToId === confirmId && /TD\d{14}/.test(a.summary ?? ''));
    const ticket = /TD\d{14}/.exec(receipt.summary!)![0];
    expect(receipt.attachments?.[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(receipt.attachments![0]!.content.body!.map((b) => b.text).join('\n')).toContain(ticket);
    const seen = stream.watermark!;
    await stream.close();
    await first.app.stop();

    // A new process on the same data, on another port: the conversation reference still points at
    // the old port, and the Direct Line channel re-aims it.
    const second = await boot(data.dir, { EMBEDDED_STATUS_DELAY_MS: '1500' });
    expect(second.base).not.toBe(first.base);
    const again = new DirectLineClient(second.base, client.token);
    again.conversationId = client.conversationId;
    const reconnected = await again.reconnect(seen);
    expect(reconnected.status).toBe(200);
    const resumed = await Stream.open(reconnected.body.streamUrl!);
    const done = await resumed.waitFor((a) => (a.text ?? '').includes('已成功退订') && (a.text ?? '').includes(ticket), 15_000);
    expect(done.from.role).toBe('bot');
    expect(resumed.activities.some((a) => a.id === receipt.id)).toBe(false);
    await resumed.close();
  }, 30_000);

  it('is off when a MicrosoftAppId is set (Azure Bot Service provides Direct Line then)', async () => {
    const data = tempDataDir();
    dirs.push(data);
    const { base } = await boot(data.dir, { MicrosoftAppId: '00000000-0000-0000-0000-000000000001', MicrosoftAppPassword: 'not-used-here' });
    expect((await fetch(`${base}/v3/directline/conversations`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/webchat/token`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/`)).status).toBe(404);
  });
});
