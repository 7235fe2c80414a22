import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { EmulatorClient, FakeChannel } from '../support/fake-channel.js';
import { lastCode, tempDataDir, testApp } from '../support/app.js';

// A request that stalls in the embedded back end past its (shortened) deadline.
let app: App;
let botUrl: string;
let data: ReturnType<typeof tempDataDir>;
const channel = new FakeChannel();

beforeAll(async () => {
  data = tempDataDir();
  await channel.start();
  // 音乐会员 has a 24-hour deadline in the catalogue; scaled by 86,400 it is one second.
  app = await testApp(data.dir, { EMBEDDED_STALL_SERVICES: 'vas-music-member', SLA_TIME_SCALE: '86400', AGENTS: 'alice:alice-token-0123456789' });
  botUrl = `http://127.0.0.1:${await app.start()}`;
});

afterAll(async () => {
  await app.stop();
  await channel.stop();
  data.cleanup();
});

describe('the SLA watchdog', () => {
  it('tells the subscriber and queues the chat for agents when a request stalls past its deadline', async () => {
    const user = new EmulatorClient(botUrl, channel);
    await user.say('退订音乐会员');
    await user.say('13800138000');
    await user.say(await lastCode(app, '13800138000'));
    const receipt = await user.say('确认');
    const ticket = /TD\d{14}/.exec(receipt.map((r) => r.text).join('\n'))![0];

    const breach = app.i18n.t('sla.breached', { name: '音乐会员', ticket, newDueAt: '' }).slice(0, 10);
    await channel.waitFor(() => user.unprompted().some((a) => (a.text ?? '').startsWith(breach) && (a.text ?? '').includes(ticket)), 10_000);
    expect((await app.backend.getRequest(ticket)).status).toBe('processing');

    const queue = (await (await fetch(`${botUrl}/agent/api/queue`, { headers: { authorization: 'Bearer alice-token-0123456789' } })).json()) as { open: { reason: string; conversationId: string }[] };
    expect(queue.open.filter((t) => t.conversationId === user.conversationId).map((t) => t.reason)).toEqual(['slaBreach']);

    // Told once, not at every sweep.
    await new Promise((r) => setTimeout(r, 600));
    expect(user.unprompted().filter((a) => (a.text ?? '').includes(ticket) && (a.text ?? '').startsWith(breach))).toHaveLength(1);
  });
});
