import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCALES_DIR } from '../../src/paths.js';
import { receiptCode } from '../../src/domain/receipt.js';
import { lastCode } from '../support/app.js';
import type { EmulatorClient, ReceivedActivity } from '../support/fake-channel.js';
import { startBot, textOf, type RunningBot } from '../support/running-bot.js';

// The cases subscribers actually bring (issue 8), as whole conversations in Chinese over /api/messages.
let bot: RunningBot;
const AGENT = 'alice-token-0123456789';

beforeAll(async () => {
  // 音乐会员 stalls in processing: a cancellation that has not gone through.
  bot = await startBot({
    UNDO_WINDOW_MINUTES: '0', EMBEDDED_STATUS_DELAY_MS: '150', EMBEDDED_STALL_SERVICES: 'vas-music-member', AGENTS: `alice:${AGENT}`,
  });
});

afterAll(() => bot.stop());

const t = (key: string, params?: Record<string, string | number>) => bot.t(key, params);

const zhCN = JSON.parse(readFileSync(join(LOCALES_DIR, 'zh-CN.json'), 'utf8')) as Record<string, string>;

/** The start of a zh-CN text, up to its first placeholder: enough to recognise the message. */
const lead = (key: string) => zhCN[key]!.split('{')[0]!.slice(0, 12);

async function verify(user: EmulatorClient, msisdn: string): Promise<ReceivedActivity[]> {
  await user.say(msisdn);
  return user.say(await lastCode(bot.app, msisdn));
}

function ticketIn(replies: ReceivedActivity[] | string, prefix: 'TD' | 'TS' | 'TK'): string {
  const text = typeof replies === 'string' ? replies : textOf(replies);
  const ticket = new RegExp(`${prefix}\\d{14}`).exec(text)?.[0];
  if (!ticket) throw new Error(`no ${prefix} ticket in: ${text}`);
  return ticket;
}

/** Waits for an unprompted message containing every one of `parts`. */
async function proactive(user: EmulatorClient, ...parts: string[]): Promise<string> {
  let found: string | undefined;
  await bot.channel.waitFor(() => {
    found = user.unprompted().map((a) => a.text ?? '').find((text) => parts.every((p) => text.includes(p)));
    return found !== undefined;
  });
  return found!;
}

async function agentQueue(): Promise<{ id: string; reason: string; conversationId: string }[]> {
  const res = await fetch(`${bot.url}/agent/api/queue`, { headers: { authorization: `Bearer ${AGENT}` } });
  return ((await res.json()) as { open: { id: string; reason: string; conversationId: string }[] }).open;
}

describe('subscription review', () => {
  it('lists the paid items with usage and savings, and cancels the two chosen ones after one confirmation', async () => {
    const user = bot.client();
    expect(textOf(await user.say('我每个月都扣了些什么'))).toBe(t('identity.number.prompt'));
    const review = textOf(await verify(user, '13800138000'));
    expect(review).toContain(t('review.header'));
    expect(review).toContain('视频彩铃');
    // 视频彩铃 was never used and the voice pack not for 130 days: ¥10 + ¥10 a month.
    expect(review).toContain(t('review.unused', { names: '视频彩铃、100分钟语音包', savingFen: 2000 }));

    const warned = textOf(await user.say('第一个和第四个'));
    expect(warned).toContain(t('warn.service.title', { name: '视频彩铃', feeFen: 1000 }));
    expect(warned).toContain(t('warn.service.title', { name: '100分钟语音包', feeFen: 1000 }));
    expect(warned).toContain(t('confirm.prompt', { names: '视频彩铃、100分钟语音包' }));
    expect(await bot.app.backend.listRequests({ msisdn: '13800138000' })).toEqual([]);

    const receipt = textOf(await user.say('确认'));
    expect(receipt.match(/TD\d{14}/g)).toHaveLength(2);
    const filed = await bot.app.backend.listRequests({ msisdn: '13800138000' });
    expect(filed.map((r) => r.serviceName).sort()).toEqual(['100分钟语音包', '视频彩铃']);
  });
});

describe('unwanted charges', () => {
  it('shows the order record, cancels it and files a refund claim whose progress arrives in the chat', async () => {
    const user = bot.client();
    await user.say('我没订过云盘会员，怎么扣费了');
    const shown = textOf(await verify(user, '15800158000'));
    expect(shown).toContain(t('dispute.next'));
    expect(shown).toContain('云盘会员');
    expect(shown).toContain(t('dispute.confirm', { names: '云盘会员' }));

    const receipt = textOf(await user.say('确认'));
    const claim = ticketIn(receipt, 'TS');
    ticketIn(receipt, 'TD');
    const filed = await bot.app.backend.getRequest(claim);
    expect(filed).toMatchObject({ kind: 'dispute', serviceName: '云盘会员' });
    expect(receipt).toContain(t('dispute.receipt', { ticket: claim, name: '云盘会员', claimedFen: filed.amountFen!, dueAt: filed.dueAt! }));

    await proactive(user, claim, lead('notify.dispute.processing'));
    const refunded = await proactive(user, claim, lead('notify.dispute.completed'));
    expect(refunded).toContain(t('notify.dispute.completed', { name: '云盘会员', amountFen: filed.amountFen!, ticket: claim }));

    const status = textOf(await user.say('办好了吗'));
    expect(status).toContain(t('status.dispute.completed', { name: '云盘会员', ticket: claim, amountFen: filed.amountFen! }));
  });
  it('warns before filing when the order was confirmed, and brings the refusal with its reason to the chat', async () => {
    const user = bot.client();
    await user.say('游戏点播包我根本没订过，为什么扣我钱');
    const shown = textOf(await verify(user, '13700137000'));
    expect(shown).toContain('游戏点播包');
    expect(shown).toContain(t('dispute.confirmedOrder.sms'));

    const receipt = textOf(await user.say('确认'));
    const claim = ticketIn(receipt, 'TS');
    const refused = await proactive(user, claim, lead('notify.dispute.rejected'));
    expect(refused).toContain(t('notify.dispute.rejected', { name: '游戏点播包', ticket: claim, reasonKey: 'status.reason.orderConfirmedSms' }));
    expect(textOf(await user.say('办好了吗'))).toContain(t('status.dispute.rejected', { name: '游戏点播包', ticket: claim, reasonKey: 'status.reason.orderConfirmedSms' }));
  });
});

describe('still charged after cancelling', () => {
  it('claims back a charge booked after the cancellation took effect, by itself, saying what, which ticket and by when', async () => {
    const user = bot.client();
    await user.say('退订手机报');
    await verify(user, '13900139000');
    const ticket = ticketIn(await user.say('确认'), 'TD');
    await proactive(user, ticket, lead('notify.status.completed'));

    const answer = textOf(await user.say('我已经退订了怎么还在扣钱'));
    const cancelled = await bot.app.backend.getRequest(ticket);
    const [charge] = await bot.app.backend.listCharges('13900139000');
    expect(answer).toContain(t('charges.chargedAfter', {
      name: '手机报', ticket, effectiveAt: cancelled.effectiveAt, amountFen: charge!.amountFen, chargedAt: charge!.chargedAt,
    }));
    const claim = ticketIn(answer, 'TS');
    const filed = await bot.app.backend.getRequest(claim);
    expect(filed).toMatchObject({ kind: 'dispute', parentTicket: ticket, amountFen: charge!.amountFen });
    expect(answer).toContain(t('refund.auto.header'));
    expect(answer).toContain(t('refund.auto.item', { name: '手机报', ticket: claim, claimedFen: charge!.amountFen, dueAt: filed.dueAt! }));
    expect((await agentQueue()).filter((q) => q.conversationId === user.conversationId)).toEqual([]);

    // Asking again files nothing twice.
    const again = textOf(await user.say('退订了还在扣钱'));
    expect(ticketIn(again, 'TS')).toBe(claim);
    expect((await bot.app.backend.listRequests({ msisdn: '13900139000' })).filter((r) => r.kind === 'dispute')).toHaveLength(1);

    await proactive(user, claim, lead('notify.dispute.completed'));
  });

  it('hands a cancellation that has not gone through to a human', async () => {
    const user = bot.client();
    await user.say('退订音乐会员');
    await verify(user, '13800138000');
    const ticket = ticketIn(await user.say('确认'), 'TD');
    await expect.poll(async () => (await bot.app.backend.getRequest(ticket)).status).toBe('processing');

    const answer = textOf(await user.say('退订了还在扣钱'));
    expect(answer).toContain(t('charges.pending', { name: '音乐会员', ticket }));
    expect(answer).not.toMatch(/TS\d{14}/);
    expect((await agentQueue()).filter((q) => q.conversationId === user.conversationId).map((q) => q.reason)).toEqual(['stillCharged']);
  });
});

describe('closing a number', () => {
  it('reports the balance refund as its own steps after the closure, and repeats it in the receipt and status', async () => {
    const user = bot.client();
    await user.say('我要销号');
    await verify(user, '18612345678');
    await user.say('975310');
    const receipt = textOf(await user.say('确认销号'));
    const closure = ticketIn(receipt, 'TD');
    const refund = ticketIn(receipt, 'TK');
    expect(receipt).toContain(t('receipt.balanceRefund', { amountFen: 8800, ticket: refund }));

    await proactive(user, closure, lead('notify.status.completed'));
    const paying = await proactive(user, refund, lead('notify.balanceRefund.processing'));
    expect(paying).toBe(t('notify.balanceRefund.processing', { amountFen: 8800, channelKey: 'refund.channel.original', ticket: refund }));
    await proactive(user, t('notify.balanceRefund.completed', { amountFen: 8800, channelKey: 'refund.channel.original', ticket: refund }));
    expect(user.unprompted().map((a) => a.text ?? '').filter((text) => text.includes(refund))).toHaveLength(2);

    const status = textOf(await user.say('办好了吗'));
    expect(status).toContain(t('status.balanceRefund.completed', { ticket: refund, amountFen: 8800, channelKey: 'refund.channel.original' }));
    expect(status).toContain(closure);

    // 把回执再发我一次: the receipt again, with a verification code the operator's record checks out.
    const again = textOf(await user.say('把回执再发我一次'));
    expect(again).toContain(t('receipt.again'));
    expect(again).toContain(receiptCode(await bot.app.backend.getRequest(closure)));
    expect(again).toContain(t('receipt.balanceRefund.item', { ticket: refund, amountFen: 8800, channelKey: 'refund.channel.original' }));

    // The number is no longer ours, yet 退订了还在扣钱 still gets an answer.
    const charged = textOf(await user.say('退订了还在扣钱'));
    expect(charged).toContain(t('charges.header'));
    expect(charged).not.toContain(t('status.failed'));
  });
});

describe('lost phone', () => {
  it('suspends the line after the service password, then changes the password without ever showing or keeping it', async () => {
    const user = bot.client();
    const advice = textOf(await user.say('手机丢了怎么办'));
    expect(advice).toContain(t('lost.advice'));
    expect(textOf(await user.say('13700137000'))).toBe(t('lost.secret.prompt'));
    expect(textOf(await user.say('864200'))).toContain(lead('lost.confirm'));
    const suspended = textOf(await user.say('确认'));
    expect(suspended).toContain(lead('lost.done'));
    expect(suspended).toContain(t('password.offer'));

    expect(textOf(await user.say('改服务密码'))).toBe(t('password.prompt'));
    expect(textOf(await user.say('123456'))).toBe(t('password.weak'));
    // Six digits out of the phone number.
    expect(textOf(await user.say('370013'))).toBe(t('password.weak'));
    const done = await user.say('582947');
    expect(textOf(done)).toContain(lead('password.done'));
    expect(await bot.app.backend.verifySecret('13700137000', 'servicePassword', '582947')).toBe(true);
    expect(await bot.app.backend.verifySecret('13700137000', 'servicePassword', '864200')).toBe(false);

    // Nowhere to be found afterwards: not in replies, the transcript, the agent's view or the stored dialog.
    const everything = user.unprompted().concat(done).map((a) => a.text ?? '').join('\n');
    expect(everything).not.toContain('582947');
    const transcript = JSON.stringify(await bot.app.transcripts.read(user.conversationId));
    expect(transcript).toContain('******');
    expect(transcript).not.toContain('582947');
    expect(JSON.stringify(await bot.app.store.getConversation(user.conversationId))).not.toContain('582947');
    await user.say('转人工');
    const ticket = (await agentQueue()).find((q) => q.conversationId === user.conversationId)!;
    for (const path of [`/agent/api/tickets/${ticket.id}`, `/agent/api/tickets/${ticket.id}/transcript`]) {
      const view = await fetch(`${bot.url}${path}`, { headers: { authorization: `Bearer ${AGENT}` } });
      expect(view.status).toBe(200);
      expect(await view.text()).not.toContain('582947');
    }
  });

  it('changes the service password on request after an SMS code and the old password', async () => {
    const user = bot.client();
    expect(textOf(await user.say('我想修改服务密码'))).toBe(t('identity.number.prompt'));
    expect(textOf(await verify(user, '15800158000'))).toBe(t('password.secret.prompt'));
    expect(textOf(await user.say('314159'))).toBe(t('password.prompt'));
    expect(textOf(await user.say('111111'))).toBe(t('password.weak'));
    expect(textOf(await user.say('760428'))).toContain(lead('password.done'));
    expect(await bot.app.backend.verifySecret('15800158000', 'servicePassword', '760428')).toBe(true);
  });
});
