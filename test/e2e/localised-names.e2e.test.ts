import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NameRef } from '../../src/i18n/data-names.js';
import { lastCode } from '../support/app.js';
import type { EmulatorClient, ReceivedActivity } from '../support/fake-channel.js';
import { startBot, type RunningBot } from '../support/running-bot.js';

// Whole conversations in zh-TW and en-US over /api/messages: every name that comes from the
// catalogue or the back end (services, bound accounts, ordering channels) is shown in the reply's
// language, in live replies, cards, receipts, later status pushes and SLA notices.
let bot: RunningBot;

beforeAll(async () => {
  // 音乐会员 and 游戏点播包 stall in the embedded back end; their 24-hour deadline scaled by 86,400 is one second.
  bot = await startBot({ EMBEDDED_STALL_SERVICES: 'vas-music-member,vas-game-pack', SLA_TIME_SCALE: '86400', AGENTS: 'alice:alice-token-0123456789', UNDO_WINDOW_MINUTES: '0' });
});

afterAll(() => bot.stop());

const service = (id: string, name: string): NameRef => ({ kind: 'service', id, name });
const t = (key: string, params: Record<string, string | number | NameRef | NameRef[]>, locale: string) => bot.app.i18n.t(key, params, locale);
/** What the user reads: the text, or a card's plain-text summary. */
const textOf = (replies: ReceivedActivity[]) => replies.map((r) => r.text ?? r.summary ?? '').join('\n');
const cardLines = (replies: ReceivedActivity[]) => replies.flatMap((r) => r.attachments ?? []).flatMap((a) => a.content?.body ?? []).map((b) => b.text ?? '');
const SIMPLIFIED_SERVICE_NAMES = /视频彩铃|音乐会员|流量包|套餐|宽带|微信支付|支付宝|储蓄卡|短信|营业厅/;

function client(locale: string): EmulatorClient {
  const c = bot.client();
  c.locale = locale;
  c.channelId = 'webchat';
  return c;
}

async function verify(user: EmulatorClient, msisdn: string): Promise<ReceivedActivity[]> {
  await user.say(msisdn);
  return user.say(await lastCode(bot.app, msisdn));
}

function ticketIn(replies: ReceivedActivity[]): string {
  const ticket = /TD\d{14}/.exec(textOf(replies))?.[0];
  if (!ticket) throw new Error(`no ticket in: ${textOf(replies)}`);
  return ticket;
}

async function unprompted(user: EmulatorClient, includes: string): Promise<ReceivedActivity> {
  let found: ReceivedActivity | undefined;
  await bot.channel.waitFor(() => {
    found = user.unprompted().find((a) => (a.text ?? '').includes(includes));
    return found !== undefined;
  }, 10_000);
  return found!;
}

describe('English (activity locale en-US)', () => {
  it('cancels the video ringback tone with English names in warnings, cards, the receipt, the later status update and the receipt again', async () => {
    const user = client('en-US');
    expect(textOf(await user.say('退订视频彩铃'))).toBe(t('identity.number.prompt', {}, 'en-US'));
    const warned = await verify(user, '13800138000');
    expect(textOf(warned)).toContain('Video ringback tone: ¥10 a month');
    expect(textOf(warned)).toContain('Please confirm: cancel Video ringback tone.');
    expect(cardLines(warned)).toContain('Video ringback tone: ¥10 a month');

    const receipt = await user.say('确认');
    const ticket = ticketIn(receipt);
    expect(textOf(receipt)).toMatch(new RegExp(`· Video ringback tone: ticket ${ticket}, submitted [A-Z][a-z]{2} \\d{1,2}, \\d{4}, \\d\\d:\\d\\d Beijing time`));
    expect(cardLines(receipt).some((l) => l.startsWith(`· Video ringback tone: ticket ${ticket}`))).toBe(true);

    // Pushed later by the status notifier, in the conversation's language.
    const { effectiveAt } = await bot.app.backend.getRequest(ticket);
    const completed = t('notify.status.completed', { name: service('vas-video-ringback', '视频彩铃'), ticket, effectiveAt }, 'en-US');
    expect(completed).toContain(`Good news: Video ringback tone has been cancelled (ticket ${ticket}), effective `);
    await unprompted(user, completed);

    expect(textOf(await user.say('办好了吗'))).toContain(`· Video ringback tone (${ticket}): cancelled, effective`);
    const again = await user.say('把回执再发我一次');
    expect(cardLines(again).some((l) => l.startsWith(`· Video ringback tone: ticket ${ticket}`))).toBe(true);

    const everything = bot.channel.messages(user.conversationId).map((a) => [a.text ?? a.summary ?? '', ...cardLines([a])].join('\n')).join('\n');
    expect(everything).not.toMatch(SIMPLIFIED_SERVICE_NAMES);
  });

  it('lists data add-ons with English names and prices, as buttons too, and takes a pick by its English name', async () => {
    const user = client('en-US');
    await user.say('流量包怎么取消');
    const list = await verify(user, '15800158000');
    const text = textOf(list);
    expect(text).toContain('10 GB data add-on (¥30/month)');
    expect(text).toContain('Night-time data pack (¥5/month)');
    expect(text).not.toMatch(SIMPLIFIED_SERVICE_NAMES);
    const titles = list.at(-1)?.suggestedActions?.actions.map((a) => a.title) ?? [];
    expect(titles).toEqual(expect.arrayContaining(['10 GB data add-on', 'Night-time data pack']));

    const warned = await user.say('Night-time data pack');
    expect(warned.at(-1)?.channelData?.tuiding?.state).toBe('session.awaitingConfirmation');
    expect(textOf(warned)).toContain('Please confirm: cancel Night-time data pack.');
    expect(textOf(await user.say('不退了'))).toBe(t('confirm.declined', {}, 'en-US'));
  });

  it('names bound accounts, card tails and the number itself in English before closing a number', async () => {
    const user = client('en-US');
    await user.say('我要销号');
    await verify(user, '13900139000');
    const warned = textOf(await user.say('135790'));
    expect(warned).toContain('Mobile number (closing the line)');
    expect(warned).toContain('This number is linked to: WeChat Pay and China Merchants Bank debit card ending in 6688.');
    expect(warned).toContain('Your remaining credit of ¥120 will be refunded');
    expect(warned).not.toMatch(SIMPLIFIED_SERVICE_NAMES);
    await user.say('不退了');
  });

  it('reviews monthly charges saying how each was ordered, in English', async () => {
    const user = client('en-US');
    await user.say('我每个月都扣了些什么');
    const review = textOf(await verify(user, '18612345678'));
    expect(review).toMatch(/4G Fly 58 plan: ¥58\/month, added Jun 6, 2021 at a store/);
    expect(review).toMatch(/100-text SMS pack: ¥5\/month, added Jan 1, 2022 on the website/);
    expect(review).toMatch(/Night-time data pack: ¥5\/month, added Jul 7, 2024 in the app/);
    expect(review).not.toMatch(SIMPLIFIED_SERVICE_NAMES);
    await user.say('取消');
  });

  it('tells of a missed deadline in English, naming the service', async () => {
    const user = client('en-US');
    await user.say('退订音乐会员');
    await verify(user, '13800138000');
    const ticket = ticketIn(await user.say('确认'));
    const breach = await unprompted(user, `cancelling Music membership (ticket ${ticket}) is taking longer than we promised`);
    expect(breach.text).toMatch(/expects to finish by [A-Z][a-z]{2} \d{1,2}, \d{4}\./);
  });
});

describe('Traditional Chinese (asked for with 請用繁體)', () => {
  it('cancels 視訊彩鈴 typed as shown, with Traditional names and 人民幣 amounts through to the status update', async () => {
    const user = client('zh-CN');
    expect(textOf(await user.say('請用繁體'))).toBe(t('locale.switched', {}, 'zh-TW'));
    await user.say('退訂視訊彩鈴');
    const warned = await verify(user, '13900139000');
    expect(warned.at(-1)?.channelData?.tuiding?.state).toBe('session.awaitingConfirmation');
    expect(textOf(warned)).toContain('【視訊彩鈴】月租費人民幣10元');
    expect(cardLines(warned)).toContain('【視訊彩鈴】月租費人民幣10元');

    const receipt = await user.say('确认');
    const ticket = ticketIn(receipt);
    expect(textOf(receipt)).toContain(`· 視訊彩鈴：工單編號 ${ticket}`);
    const { effectiveAt } = await bot.app.backend.getRequest(ticket);
    const completed = t('notify.status.completed', { name: service('vas-video-ringback', '视频彩铃'), ticket, effectiveAt }, 'zh-TW');
    expect(completed).toContain(`好消息：視訊彩鈴已成功退訂（工單編號 ${ticket}）`);
    await unprompted(user, completed);

    const everything = bot.channel.messages(user.conversationId).map((a) => [a.text ?? a.summary ?? '', ...cardLines([a])].join('\n')).join('\n');
    expect(everything).not.toMatch(SIMPLIFIED_SERVICE_NAMES);
  });

  it('tells of a missed deadline in Traditional Chinese', async () => {
    const user = client('zh-TW');
    await user.say('退訂遊戲點播包');
    await verify(user, '13700137000');
    const ticket = ticketIn(await user.say('確認'));
    const breach = await unprompted(user, `遊戲點播包退訂申請（工單編號 ${ticket}）`);
    expect(breach.text).not.toMatch(SIMPLIFIED_SERVICE_NAMES);
  });
});
