import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { createLogger } from '../../src/log.js';
import { lastCode, tempDataDir, testApp } from '../support/app.js';

// Personal data never reaches the logs: a full run at debug level, then the log text is scanned.
let app: App;
let data: ReturnType<typeof tempDataDir>;
const lines: string[] = [];
const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString('utf8')); done(); } });

beforeAll(async () => {
  data = tempDataDir();
  app = await testApp(data.dir, { LOG_LEVEL: 'debug', EMBEDDED_STATUS_DELAY_MS: '50' }, { logger: createLogger('debug', sink) });
  await app.backend.start();
});

afterAll(async () => {
  await app.stop();
  data.cleanup();
});

const say = (text: string, conversationId = 'privacy-1') =>
  app.runner.handleMessage({ conversationId, text, locale: 'zh-CN', reference: {} });

describe('logs', () => {
  it('never contain a full phone number, a code, a service password (old or new) or ID digits', async () => {
    const codes: string[] = [];
    await say('退订视频彩铃');
    await say('我的号码是 138-0013-8000');
    codes.push(await lastCode(app, '13800138000'));
    await say('000000');
    await say(codes[0]!);
    await say('确认');
    await say('我要销号', 'privacy-2');
    await say('18612345678', 'privacy-2');
    codes.push(await lastCode(app, '18612345678'));
    await say(codes[1]!, 'privacy-2');
    await say('975310', 'privacy-2');
    await say('456789', 'privacy-2');
    await say('转人工', 'privacy-2');
    // A new service password goes to the back end and nowhere else.
    await say('改服务密码', 'privacy-3');
    await say('15800158000', 'privacy-3');
    codes.push(await lastCode(app, '15800158000'));
    await say(codes[2]!, 'privacy-3');
    await say('314159', 'privacy-3');
    await say('123456', 'privacy-3');
    await say('582947', 'privacy-3');
    expect(await app.backend.verifySecret('15800158000', 'servicePassword', '582947')).toBe(true);
    await new Promise((r) => setTimeout(r, 300));

    const text = lines.join('');
    expect(lines.length).toBeGreaterThan(5);
    expect(text).not.toMatch(/(?<!\d)1[3-9]\d{9}(?!\d)/);
    expect(text).not.toMatch(/138-0013-8000/);
    for (const secret of [...codes, '975310', '456789', '314159', '582947']) expect(text).not.toContain(secret);
    expect(text).toContain('service password changed');
    const audit = readFileSync(join(data.dir, 'audit.jsonl'), 'utf8');
    expect(audit).toContain('"type":"password.changed"');
    expect(audit).not.toContain('582947');
    expect(text).toContain('138****8000');
  });
});
