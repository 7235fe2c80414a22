import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App, type AppOverrides } from '../../src/app.js';
import { loadConfig, type Env } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';

/** A fresh temp DATA_DIR, removed by cleanup(). */
export function tempDataDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tuiding-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An app on the embedded default, built through createApp exactly as main.ts does. */
export async function testApp(dataDir: string, env: Env = {}, overrides: AppOverrides = {}): Promise<App> {
  const config = loadConfig({
    PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent',
    EMBEDDED_STATUS_DELAY_MS: '100', STATUS_POLL_MS: '100', CODE_RESEND_SECONDS: '0', HANDOFF_HOURS: '00:00-24:00', ...env,
  });
  return createApp(config, { logger: silentLogger, ...overrides });
}

/** The newest SMS code sent to a number by the embedded gateway. */
export async function lastCode(app: App, msisdn: string): Promise<string> {
  const outbox = app.sms as unknown as { list(m: string, n?: number): Promise<{ text: string }[]> };
  const [latest] = await outbox.list(msisdn, 1);
  const code = /\d{6}/.exec(latest?.text ?? '')?.[0];
  if (!code) throw new Error(`no code sent to ${msisdn}`);
  return code;
}
