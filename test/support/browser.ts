import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/paths.js';

/** Debian's Chromium (apt-get install chromium fonts-noto-cjk); .ci/run installs it in CI. */
export const CHROMIUM = '/usr/bin/chromium';

/** Where browser tests leave their screenshots (gitignored). */
export const TEST_OUTPUT = join(PROJECT_ROOT, 'test-output');

/**
 * Why a browser test cannot run here, or undefined when it can. Outside CI a missing Chromium only
 * skips the test; in CI (CI set) it never does, so the test runs and fails loudly instead.
 */
export function browserSkipReason(env: Record<string, string | undefined> = process.env): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  if (env.CI) return undefined;
  return `${CHROMIUM} not found: browser tests skipped (apt-get install -y chromium fonts-noto-cjk to run them)`;
}

export interface HeadlessBrowser {
  page: Page;
  context: BrowserContext;
  /** Console errors and failed requests seen so far (CSP violations land here too). */
  problems: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile, nothing fetched from the network on its own. */
export async function launchBrowser(): Promise<HeadlessBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'tuiding-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    locale: 'zh-CN',
    viewport: { width: 420, height: 820 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('response', (response) => { if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`); });
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
  mkdirSync(TEST_OUTPUT, { recursive: true });
  return {
    page,
    context,
    problems,
    async screenshot(name) {
      const path = join(TEST_OUTPUT, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
