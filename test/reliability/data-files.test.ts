import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { tempDataDir, testApp } from '../support/app.js';

// Damaged or unwritable data files: start-up fails with a coded error naming the file, and the
// damaged file is left exactly as it was (an operator can inspect or repair it).

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function dataDir(): string {
  const { dir, cleanup } = tempDataDir();
  cleanups.push(() => {
    // Give write permission back so the folder can be removed.
    spawnSync('chmod', ['-R', 'u+w', dir]);
    cleanup();
  });
  return dir;
}

function fingerprint(file: string): { bytes: string; mtimeMs: number; mode: number } {
  const s = statSync(file);
  return { bytes: readFileSync(file).toString('base64'), mtimeMs: s.mtimeMs, mode: s.mode };
}

async function startUpError(dir: string, when: 'create' | 'start' = 'create'): Promise<unknown> {
  try {
    const app = await testApp(dir);
    if (when === 'create') {
      await app.stop();
      return undefined;
    }
    try {
      await app.start();
    } catch (err) {
      return err;
    } finally {
      await app.stop().catch(() => undefined);
    }
    return undefined;
  } catch (err) {
    return err;
  }
}

const CORRUPT = ['{"conversations":{"c1":{"id":"c1"', '', '\u0000\u0000\u0000', '{"a":1}garbage', '<html>'];

describe('a damaged bot.json', () => {
  for (const content of CORRUPT) {
    it(`stops start-up with store.unreadable naming the file, and leaves it untouched (${JSON.stringify(content.slice(0, 12))})`, async () => {
      const dir = dataDir();
      const file = join(dir, 'bot.json');
      writeFileSync(file, content);
      const before = fingerprint(file);
      const err = await startUpError(dir);
      expect(isAppError(err, 'store.unreadable'), String(err)).toBe(true);
      expect((err as Error).message).toContain(file);
      expect(fingerprint(file)).toEqual(before);
      expect(existsSync(`${file}.migrated`)).toBe(false);
      // A second attempt fails the same way: nothing was half-imported in between.
      expect(isAppError(await startUpError(dir), 'store.unreadable')).toBe(true);
      expect(fingerprint(file)).toEqual(before);
    });
  }
});

describe('the other JSON data files', () => {
  for (const [name, when] of [['handoff.json', 'create'], ['directline.json', 'create'], ['operator.json', 'start']] as const) {
    for (const content of ['{"tickets":', 'null', '[]', '"text"', '42']) {
      it(`refuse a damaged ${name} (${content}) at ${when} and leave it untouched`, async () => {
        const dir = dataDir();
        const file = join(dir, name);
        writeFileSync(file, content);
        const before = fingerprint(file);
        const err = await startUpError(dir, when);
        expect(isAppError(err, 'store.unreadable'), `${name} = ${content}: ${String(err)}`).toBe(true);
        expect((err as Error).message).toContain(file);
        expect(fingerprint(file)).toEqual(before);
      });
    }
  }
});

describe('a read-only data folder', () => {
  /** A data folder from an earlier run: every file the app keeps, with a legacy bot.json still to import. */
  async function populated(): Promise<{ dir: string; legacy: string }> {
    const dir = dataDir();
    const app = await testApp(dir);
    await app.start();
    await app.runner.handleMessage({ conversationId: 'c1', text: '退订视频彩铃', locale: 'zh-CN', reference: null });
    await app.stop();
    const legacy = join(dir, 'bot.json');
    writeFileSync(legacy, JSON.stringify({ conversations: {}, tracked: {}, verification: {} }));
    return { dir, legacy };
  }

  const root = process.getuid?.() === 0;

  it.skipIf(root)('stops start-up with store.unwritable naming the path, and changes nothing', async () => {
    const { dir, legacy } = await populated();
    spawnSync('chmod', ['-R', 'a-w', dir]);
    const before = fingerprint(legacy);
    const err = await startUpError(dir);
    expect(isAppError(err, 'store.unwritable'), String(err)).toBe(true);
    expect((err as Error).message).toContain(dir);
    expect(fingerprint(legacy)).toEqual(before);
  });

  // Root writes through file modes, so as root the same start-up runs as an unprivileged user.
  it.skipIf(!root || !canRunAsNobody())('stops start-up with store.unwritable naming the path, and changes nothing (run as nobody)', async () => {
    const { dir, legacy } = await populated();
    spawnSync('chmod', ['-R', 'a+rX,a-w', dir]);
    const before = fingerprint(legacy);
    const listing = snapshotTree(dir);
    const script = [
      `import { createApp } from ${JSON.stringify(join(PROJECT_ROOT, 'src/app.ts'))};`,
      `import { loadConfig } from ${JSON.stringify(join(PROJECT_ROOT, 'src/config.ts'))};`,
      `import { silentLogger } from ${JSON.stringify(join(PROJECT_ROOT, 'src/log.ts'))};`,
      `try { const app = await createApp(loadConfig({ PORT: '0', DATA_DIR: ${JSON.stringify(dir)}, LOG_LEVEL: 'silent' }, { dotenv: false }), { logger: silentLogger });`,
      `  await app.stop(); console.log(JSON.stringify({ ok: true })); }`,
      `catch (err) { console.log(JSON.stringify({ ok: false, code: err.code, message: err.message })); }`,
    ].join('\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: PROJECT_ROOT, uid: 65534, gid: 65534, encoding: 'utf8', timeout: 60_000,
      env: { ...process.env, HOME: '/tmp', TSX_TSCONFIG_PATH: join(PROJECT_ROOT, 'tsconfig.json') },
    });
    const line = run.stdout.trim().split('\n').at(-1) ?? '';
    expect(line, run.stderr).toMatch(/^\{/);
    const outcome = JSON.parse(line) as { ok: boolean; code?: string; message?: string };
    expect(outcome.ok, 'started on a read-only data folder').toBe(false);
    expect(outcome.code).toBe('store.unwritable');
    expect(outcome.message).toContain(dir);
    expect(fingerprint(legacy)).toEqual(before);
    expect(snapshotTree(dir)).toEqual(listing);
  }, 90_000);

  it('imports a read-only legacy bot.json without changing its contents', async () => {
    const dir = dataDir();
    const legacy = join(dir, 'bot.json');
    mkdirSync(dir, { recursive: true });
    writeFileSync(legacy, JSON.stringify({ conversations: {}, tracked: {}, verification: {} }));
    chmodSync(legacy, 0o444);
    const before = readFileSync(legacy);
    const app = await testApp(dir);
    await app.stop();
    expect(readFileSync(`${legacy}.migrated`)).toEqual(before);
  });
});

/** Whether user nobody can run node here and read the project (a clone inside a private 0700 folder is out of its reach). */
function canRunAsNobody(): boolean {
  const check = `require('node:fs').accessSync(${JSON.stringify(join(PROJECT_ROOT, 'node_modules', 'tsx', 'package.json'))}); process.stdout.write('ok')`;
  const probe = spawnSync(process.execPath, ['-e', check], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: PROJECT_ROOT });
  return probe.stdout === 'ok';
}

/** Every path under dir with its size and mtime. */
function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else out[p] = `${s.size}:${s.mtimeMs}`;
    }
  };
  walk(dir);
  return out;
}
