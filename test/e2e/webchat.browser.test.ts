import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { tempDataDir, testApp } from '../support/app.js';
import { browserSkipReason, launchBrowser, type HeadlessBrowser } from '../support/browser.js';

// The real page in Debian's headless Chromium: the official Web Chat bundle served by the bot,
// talking Direct Line to the same server, with no Azure anywhere.
const skipReason = browserSkipReason();
if (skipReason) console.warn(skipReason);

describe.skipIf(skipReason !== undefined)('the web chat page in a browser', () => {
  let app: App;
  let data: ReturnType<typeof tempDataDir>;
  let base: string;
  let browser: HeadlessBrowser | undefined;
  const requested: string[] = [];

  beforeAll(async () => {
    data = tempDataDir();
    app = await testApp(data.dir, { EMBEDDED_STATUS_DELAY_MS: '300' });
    base = `http://127.0.0.1:${await app.start()}`;
    browser = await launchBrowser();
    browser.page.on('request', (request) => requested.push(request.url()));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    data?.cleanup();
  });

  const t = (key: string, params?: Record<string, string | number>) => app.i18n.t(key, params, 'zh-CN');

  /** Waits until the transcript shows `text` (Web Chat renders it when the activity arrives). */
  async function shows(text: string | RegExp, timeout = 15_000): Promise<void> {
    const source = typeof text === 'string' ? text : text.source;
    await browser!.page.waitForFunction(
      ({ source, isRegExp }) => {
        const shown = document.querySelector('#webchat')?.textContent ?? '';
        return isRegExp ? new RegExp(source).test(shown) : shown.includes(source);
      },
      { source, isRegExp: typeof text !== 'string' },
      { timeout },
    );
  }

  /** Waits for Web Chat's animated scroll to reach the newest message, then saves a screenshot. */
  async function screenshot(name: string): Promise<void> {
    await browser!.page.waitForFunction(() => {
      const el = document.querySelector('.webchat__basic-transcript__scrollable');
      return !el || el.scrollTop + el.clientHeight >= el.scrollHeight - 2;
    }, undefined, { timeout: 5_000 }).catch(() => undefined);
    await browser!.screenshot(name);
  }

  async function type(text: string): Promise<void> {
    const input = browser!.page.locator('[data-id="webchat-sendbox-input"]');
    await input.fill(text);
    await input.press('Enter');
  }

  async function latestCode(msisdn: string): Promise<string> {
    const res = await fetch(`${base}/dev/sms?msisdn=${msisdn}`);
    const body = (await res.json()) as { messages: { text: string }[] };
    const code = /\d{6}/.exec(body.messages[0]?.text ?? '')?.[0];
    if (!code) throw new Error('no code in the dev outbox');
    return code;
  }

  it('cancels 视频彩铃 in Chinese and shows the completion the bot sends later', async () => {
    const { page } = browser!;
    await page.goto(`${base}/`);
    expect(await page.title()).toBe('退订助手');
    await page.locator('#webchat[data-connection-status="2"]').waitFor({ timeout: 15_000 });
    await shows(t('welcome.text').slice(0, 10));
    await screenshot('webchat-1-welcome');

    await type('帮我把视频彩铃退了');
    await shows(t('identity.number.prompt'));
    await type('13800138000');
    await shows(t('identity.code.prompt', { msisdn: '13800138000' }).slice(0, 8));
    await type(await latestCode('13800138000'));

    const confirm = page.locator('.webchat__suggested-actions__button', { hasText: t('choice.confirm') });
    await confirm.waitFor({ timeout: 15_000 });
    await screenshot('webchat-2-confirm');
    await confirm.click();

    await shows(/TD\d{14}/);
    await shows('已成功退订', 20_000);
    await screenshot('webchat-3-completed');

    // Every message the user sent was acknowledged (echoed with its clientActivityID): none is
    // left "sending" or offered for retry.
    expect(await page.locator('.webchat__activity-status--sending').count()).toBe(0);
    expect(await page.locator('.webchat__activity-status button').count()).toBe(0);
    const userBubbles = await page.locator('.webchat__bubble--from-user').allTextContents();
    expect(userBubbles.join('\n')).toContain('13800138000');

    // Nothing came from anywhere but this server, and the page broke no rule (CSP included).
    const ours = [base, base.replace('http', 'ws')];
    expect(requested.filter((url) => !ours.includes(new URL(url).origin))).toEqual([]);
    expect(browser!.problems).toEqual([]);

    const [request] = await app.backend.listRequests({ msisdn: '13800138000' });
    expect(request?.serviceName).toBe('视频彩铃');
  }, 60_000);

  it('rejoins the same conversation when the page is reloaded, transcript included', async () => {
    const { page } = browser!;
    await page.reload();
    await page.locator('#webchat[data-connection-status="2"]').waitFor({ timeout: 15_000 });
    await shows('已成功退订');
    await type('我的退订办好了吗');
    await shows(/已成功退订[\s\S]*已成功退订/);
    await screenshot('webchat-4-reloaded');
    expect(browser!.problems).toEqual([]);
  }, 30_000);
});
