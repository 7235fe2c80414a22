import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, textOf, type RunningBot } from '../support/running-bot.js';
import { lastCode } from '../support/app.js';

// The undo window: 撤销 right after filing, and closing a number held for the window.
let bot: RunningBot;

beforeAll(async () => {
  // Processing starts 100 ms after filing, except for closing a number, which is held for the window.
  bot = await startBot({ UNDO_WINDOW_MINUTES: '10', EMBEDDED_STATUS_DELAY_MS: '100' });
});

afterAll(() => bot.stop());

const t = (key: string, params?: Record<string, string | number>) => bot.t(key, params);

describe('undo', () => {
  it('holds a number closure for the window, says so on the receipt, and 撤销 withdraws it', async () => {
    const user = bot.client();
    await user.say('我要销号');
    await user.say('18612345678');
    await user.say(await lastCode(bot.app, '18612345678'));
    await user.say('975310');
    const receipt = await user.say('确认销号');
    const ticket = /TD\d{14}/.exec(textOf(receipt))![0];
    const request = await bot.app.backend.getRequest(ticket);
    const until = new Date(Date.parse(request.createdAt) + 10 * 60_000).toISOString();
    expect(textOf(receipt)).toContain(t('receipt.undo.held', { undoUntil: until }).trim());

    const undone = await user.say('撤销');
    expect(textOf(undone)).toContain(t('undo.item.done', { name: request.serviceName, ticket }));
    expect((await bot.app.backend.getRequest(ticket)).status).toBe('withdrawn');
    expect((await bot.app.backend.listSubscriptions('18612345678')).some((s) => s.target === 'number')).toBe(true);

    const again = await user.say('撤销');
    expect(textOf(again)).toBe(t('undo.nothing'));
  });

  it('cannot undo once the back end started processing', async () => {
    const user = bot.client();
    await user.say('退订音乐会员');
    await user.say('13800138000');
    await user.say(await lastCode(bot.app, '13800138000'));
    const ticket = /TD\d{14}/.exec(textOf(await user.say('确认')))![0];
    await expect.poll(async () => (await bot.app.backend.getRequest(ticket)).status).not.toBe('submitted');
    const late = await user.say('撤销');
    expect(textOf(late)).toContain(t('undo.item.tooLate', { name: '音乐会员', ticket }));
  });
});
