import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { tempDataDir, testApp } from '../support/app.js';
import { browserSkipReason, launchBrowser, type HeadlessBrowser } from '../support/browser.js';
import { EmulatorClient, FakeChannel } from '../support/fake-channel.js';

// The agent console (/agent) in Debian's headless Chromium against the running bot, while a
// subscriber talks to the bot over the Emulator protocol and the fake channel collects the replies.
const skipReason = browserSkipReason();
if (skipReason) console.warn(skipReason);

const TOKEN = 'alice-token-0123456789';

describe.skipIf(skipReason !== undefined)('the agent console in a browser', () => {
  let app: App;
  let data: ReturnType<typeof tempDataDir>;
  let base: string;
  let browser: HeadlessBrowser | undefined;
  const channel = new FakeChannel();

  beforeAll(async () => {
    data = tempDataDir();
    await channel.start();
    app = await testApp(data.dir, { AGENTS: `alice:${TOKEN}`, HANDOFF_HOURS: '00:00-24:00' });
    base = `http://127.0.0.1:${await app.start()}`;
    browser = await launchBrowser();
    // A desk screen, not the phone-sized window the web chat test uses.
    await browser.page.setViewportSize({ width: 1280, height: 800 });
  }, 60_000);

  afterAll(async () => {
    // The page holds the live stream open: close it before the server waits for connections.
    await browser?.close();
    await app?.stop();
    await channel.stop();
    data?.cleanup();
  });

  const t = (key: string, params?: Record<string, string | number>) => app.i18n.t(key, params, 'zh-CN');

  /** Waits until the element's text contains `text`. */
  async function shows(selector: string, text: string, timeout = 10_000): Promise<void> {
    await browser!.page.waitForFunction(
      ({ selector, text }) => (document.querySelector(selector)?.textContent ?? '').includes(text),
      { selector, text },
      { timeout },
    );
  }

  it('lets an agent log in, pick up a waiting chat live, reply and hand it back to the bot', async () => {
    const { page } = browser!;
    await page.goto(`${base}/agent`);
    expect(await page.title()).toBe(t('agent.title'));
    await expect.poll(() => page.locator('#login').isVisible()).toBe(true);
    // Nothing of the console shows before login.
    expect(await page.locator('#app').isVisible()).toBe(false);
    await browser!.screenshot('agent-console-1-login');

    await page.locator('#token').fill('wrong-token-0123456789');
    await page.locator('#loginButton').click();
    await shows('#loginError', t('agent.login.failed'));
    browser!.problems.length = 0; // the 401 of that attempt was the point

    await page.locator('#token').fill(TOKEN);
    await page.locator('#token').press('Enter');
    await shows('#who', 'alice');
    await shows('#queue', t('agent.queue.empty'));
    expect(await page.locator('#login').isVisible()).toBe(false);

    // The subscriber gives the number, then asks for a person; the queue updates without a reload.
    const user = new EmulatorClient(base, channel);
    await user.say('退订音乐会员');
    await user.say('13800138000');
    const escalated = await user.say('转人工');
    expect(escalated.map((a) => a.text)).toEqual([t('handoff.queued', { position: 1, minutes: 3 })]);
    const card = page.locator('#queue .ticket', { hasText: '138****8000' });
    await card.waitFor({ timeout: 10_000 });
    await expect.poll(() => card.textContent()).toContain(t('agent.status.pending'));
    expect(await card.textContent()).toContain(t('agent.reason.user'));
    await browser!.screenshot('agent-console-2-queued');

    // Opening it shows the masked transcript and where the dialog stands; the full number appears nowhere.
    await card.click();
    await shows('#transcript', '退订音乐会员');
    await shows('#transcript', '138****8000');
    await shows('#dialog', '138****8000');
    await shows('#dialog', t('agent.state.awaitingCode'));
    await shows('#dialog', t('agent.locale.zh-CN'));
    expect(await page.locator('#dialog').textContent()).not.toContain('session.');
    expect(await page.locator('body').innerText()).not.toContain('13800138000');
    expect(await page.locator('#claim').isEnabled()).toBe(true);
    expect(await page.locator('#text').isEnabled()).toBe(false);
    const quick = page.locator('#quick button');
    expect(await quick.count()).toBeGreaterThan(2);
    expect(await quick.first().isEnabled()).toBe(false);

    // Claim: the user is told who took over, and the reply box opens.
    await page.locator('#claim').click();
    await channel.waitFor(() => user.unprompted().some((a) => a.text === t('handoff.assigned', { agent: 'alice' })));
    await expect.poll(() => page.locator('#text').isEnabled()).toBe(true);
    expect(await page.locator('#claim').isEnabled()).toBe(false);
    await expect.poll(() => card.textContent()).toContain(t('agent.status.assigned'));

    // The agent's reply reaches the user; the user's answer reaches the agent live.
    await page.locator('#text').fill('您好，我是客服小李，帮您处理音乐会员退订。');
    await page.locator('#send').click();
    await channel.waitFor(() => user.unprompted().some((a) => a.text === '您好，我是客服小李，帮您处理音乐会员退订。'));
    await shows('#transcript', '您好，我是客服小李');
    const silent = await user.say('好的，谢谢');
    expect(silent).toEqual([]);
    await shows('#transcript', '好的，谢谢');
    // A quick reply fills the reply box, to edit or send as it is.
    await expect.poll(() => quick.nth(1).isEnabled()).toBe(true);
    await quick.nth(1).click();
    expect(await page.locator('#text').inputValue()).toBe(t('agent.quick.reply.2'));
    await page.locator('#send').click();
    await channel.waitFor(() => user.unprompted().some((a) => a.text === t('agent.quick.reply.2')));
    expect(await page.locator('body').innerText()).not.toContain('13800138000');
    await browser!.screenshot('agent-console-3-chatting');

    // Hand back with resume: the user hears the bot is back; the chat leaves the queue for the recent list.
    await page.locator('#resume').click();
    await channel.waitFor(() => user.unprompted().some((a) => (a.text ?? '').startsWith(t('handoff.backResume'))));
    await shows('#queue', t('agent.queue.empty'));
    await shows('#recent', '138****8000');
    await expect.poll(() => page.locator('#text').isEnabled()).toBe(false);
    expect(await app.handoff.openTicketFor(user.conversationId)).toBeUndefined();
    await browser!.screenshot('agent-console-4-handed-back');

    // The dialog carries on at the step it was on.
    const resumed = await user.say('13800138000');
    expect(resumed.at(-1)?.channelData?.tuiding?.state).toBe('session.awaitingCode');

    expect(browser!.problems).toEqual([]);
  }, 60_000);

  it('stays logged in on reload, works from the keyboard, and keeps a reply that could not be delivered', async () => {
    const { page } = browser!;
    await page.reload();
    await shows('#who', 'alice');

    const user = new EmulatorClient(base, channel);
    await user.say('退订彩铃');
    await user.say('13900139000');
    await user.say('转人工');
    const card = page.locator('#queue .ticket', { hasText: '139****9000' });
    await card.waitFor({ timeout: 10_000 });

    // A chat opens from the keyboard: the cards take focus and answer Enter.
    await card.focus();
    await page.keyboard.press('Enter');
    await shows('#transcript', '退订彩铃');
    await page.locator('#claim').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#text').isEnabled()).toBe(true);
    // The reply box has a name a screen reader can announce, and errors are announced.
    expect(await page.getByLabel(t('agent.ticket.replyLabel')).count()).toBe(1);
    expect(await page.locator('#error').getAttribute('role')).toBe('alert');

    // Filed requests read in the agent's language, not as the back end's status words.
    await page.route('**/agent/api/tickets/*', async (route) => {
      const body = (await (await route.fetch()).json()) as { dialog: { tickets: unknown[] } };
      body.dialog.tickets = [{ ticket: 'TD20260101000001', serviceName: '彩铃', status: 'processing' }];
      await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
    });
    await card.click();
    await shows('#dialog', `TD20260101000001 彩铃 ${t('agent.request.processing')}`);
    expect(await page.locator('#dialog').textContent()).not.toContain('processing');
    await page.unroute('**/agent/api/tickets/*');

    // The channel cannot take the reply: the agent is told in Chinese and the typed text is still there.
    await page.route('**/messages', (route) => route.fulfill({ status: 502, contentType: 'application/json', body: JSON.stringify({ error: 'the message could not be delivered to the user; try again' }) }));
    await page.locator('#text').fill('请稍等，我帮您查一下');
    await page.locator('#text').press('Enter');
    await shows('#error', t('agent.error.undelivered'));
    expect(await page.locator('#text').inputValue()).toBe('请稍等，我帮您查一下');
    await page.unroute('**/messages');
    browser!.problems.length = 0; // the 502 was the point

    // Sent again, it goes through and the box empties.
    await page.locator('#text').press('Enter');
    await channel.waitFor(() => user.unprompted().some((a) => a.text === '请稍等，我帮您查一下'));
    await expect.poll(() => page.locator('#text').inputValue()).toBe('');
    await expect.poll(() => page.locator('#error').textContent()).toBe('');
    expect(browser!.problems).toEqual([]);

    // The user ends the chat just as the agent acts: the agent hears the chat is over, not that a colleague took it.
    await user.say('结束人工');
    await expect.poll(() => page.locator('#text').isEnabled()).toBe(false);
    await page.evaluate(() => (globalThis as unknown as { act(path: string, body?: unknown): Promise<boolean> }).act('/messages', { text: '还在吗' }));
    await shows('#error', t('agent.ticket.closed'));
    expect(await page.locator('#error').textContent()).not.toContain(t('agent.ticket.conflict'));
    browser!.problems.length = 0; // the 409 was the point
  }, 60_000);
});
