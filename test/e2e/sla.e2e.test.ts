import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type RunningBot } from '../support/running-bot.js';
import { lastCode } from '../support/app.js';

// A request that stalls in the embedded back end past its (shortened) deadline.
let bot: RunningBot;

beforeAll(async () => {
  // 音乐会员 has a 24-hour deadline in the catalogue; scaled by 86,400 it is one second.
  bot = await startBot({ EMBEDDED_STALL_SERVICES: 'vas-music-member', SLA_TIME_SCALE: '86400', AGENTS: 'alice:alice-token-0123456789' });
});

afterAll(() => bot.stop());

describe('the SLA watchdog', () => {
  it('tells the subscriber and queues the chat for agents when a request stalls past its deadline', async () => {
    const user = bot.client();
    await user.say('退订音乐会员');
    await user.say('13800138000');
    await user.say(await lastCode(bot.app, '13800138000'));
    const receipt = await user.say('确认');
    const ticket = /TD\d{14}/.exec(receipt.map((r) => r.text).join('\n'))![0];

    const breach = bot.app.i18n.t('sla.breached', { name: '音乐会员', ticket, newDueAt: '' }).slice(0, 10);
    await bot.channel.waitFor(() => user.unprompted().some((a) => (a.text ?? '').startsWith(breach) && (a.text ?? '').includes(ticket)), 10_000);
    expect((await bot.app.backend.getRequest(ticket)).status).toBe('processing');

    const queue = (await (await fetch(`${bot.url}/agent/api/queue`, { headers: { authorization: 'Bearer alice-token-0123456789' } })).json()) as { open: { reason: string; conversationId: string }[] };
    expect(queue.open.filter((t) => t.conversationId === user.conversationId).map((t) => t.reason)).toEqual(['slaBreach']);

    // Told once, not at every sweep.
    await new Promise((r) => setTimeout(r, 600));
    expect(user.unprompted().filter((a) => (a.text ?? '').includes(ticket) && (a.text ?? '').startsWith(breach))).toHaveLength(1);
  });

  it('watches a refund claim against its own deadline (72 hours, one request type of the catalogue)', async () => {
    const user = bot.client();
    await user.say('我没订过音乐会员，怎么扣费了');
    await user.say('13800138000');
    await user.say(await lastCode(bot.app, '13800138000'));
    const receipt = await user.say('确认');
    const claim = /TS\d{14}/.exec(receipt.map((r) => r.text).join('\n'))![0];

    const breach = bot.app.i18n.t('sla.breached.dispute', { name: '音乐会员', ticket: claim, newDueAt: '' }).slice(0, 10);
    await bot.channel.waitFor(() => user.unprompted().some((a) => (a.text ?? '').startsWith(breach) && (a.text ?? '').includes(claim)), 10_000);
    expect((await bot.app.backend.getRequest(claim)).status).toBe('processing');
    const queue = (await (await fetch(`${bot.url}/agent/api/queue`, { headers: { authorization: 'Bearer alice-token-0123456789' } })).json()) as { open: { reason: string; conversationId: string }[] };
    expect(queue.open.filter((t) => t.conversationId === user.conversationId).map((t) => t.reason)).toEqual(['slaBreach']);
  });
});
