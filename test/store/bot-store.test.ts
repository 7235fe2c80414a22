import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { LowdbBotStore } from '../../src/store/lowdb-bot-store.js';
import { MemoryBotStore } from '../../src/store/memory-bot-store.js';
import type { BotStore } from '../../src/store/stores.js';
import { botStoreContract, conversation, tracked, verification } from './bot-store.contract.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tuiding-store-'));
}

botStoreContract('MemoryBotStore', async () => ({ store: new MemoryBotStore(), cleanup: async () => undefined }));

botStoreContract('LowdbBotStore', async () => {
  const dir = tempDir();
  let current: BotStore = await LowdbBotStore.open(dir);
  const harness = {
    store: current,
    async reopen() {
      await current.close();
      current = await LowdbBotStore.open(dir);
      return current;
    },
    async cleanup() {
      await current.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
});

// Tiny segments, so that rotation and compaction happen within a test.
botStoreContract('LowdbBotStore with tiny log segments', async () => {
  const dir = tempDir();
  const options = { conversations: { segmentBytes: 2048, cacheEntries: 4 } };
  let current: BotStore = await LowdbBotStore.open(dir, options);
  return {
    store: current,
    async reopen() {
      await current.close();
      current = await LowdbBotStore.open(dir, options);
      return current;
    },
    async cleanup() {
      await current.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('LowdbBotStore on disk', () => {
  let dir: string;
  const open: BotStore[] = [];
  beforeEach(() => { dir = tempDir(); });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const openStore = async (at = dir) => {
    const s = await LowdbBotStore.open(at);
    open.push(s);
    return s;
  };

  it('has written a put when it resolves: a copy of the folder taken then, without closing, holds it', async () => {
    const store = await openStore();
    await store.putConversation(conversation('c-1'));
    await store.putVerification(verification('13800138000'));
    await store.track([tracked('TD1', 'c-1', '2026-01-01T00:00:00Z')]);
    // As if the process died right after the reply was sent: nothing flushed on close.
    const copy = tempDir();
    cpSync(dir, copy, { recursive: true });
    try {
      const crashed = await openStore(copy);
      expect(await crashed.getConversation('c-1')).toEqual(conversation('c-1'));
      expect(await crashed.getVerification('13800138000')).toEqual(verification('13800138000'));
      expect((await crashed.listOpen()).map((r) => r.ticket)).toEqual(['TD1']);
    } finally {
      await open.pop()!.close();
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('refuses a DATA_DIR that another live process holds', async () => {
    const store = await openStore();
    await store.close();
    open.pop();
    // The lock names a live process that is not this one (our parent).
    writeFileSync(join(dir, 'bot', 'conversations', '.lock'), String(process.ppid));
    await expect(LowdbBotStore.open(dir)).rejects.toSatisfy((err: unknown) => isAppError(err, 'store.unwritable') && /in use by process/.test((err as Error).message));
    // Nothing else stays locked by the failed attempt: once the holder is gone, opening works.
    writeFileSync(join(dir, 'bot', 'conversations', '.lock'), '999999999');
    const again = await openStore();
    expect(await again.getConversation('c-1')).toBeUndefined();
  });

  it('imports bot.json of the single-file layout once and renames it', async () => {
    const legacy = {
      conversations: { 'c-1': conversation('c-1'), 'c-2': conversation('c-2', { locale: 'en' }) },
      tracked: {
        TD1: { ...tracked('TD1', 'c-1', '2026-01-01T00:00:00Z', { notifiedStatus: 'completed' }), open: false },
        TD2: { ...tracked('TD2', 'c-1', '2026-01-01T00:01:00Z'), open: true },
      },
      verification: { '13800138000': verification('13800138000') },
      handoffRequests: [{ conversationId: 'c-2', reason: 'user.asked', state: 'idle', at: '2026-01-01T00:00:00Z' }],
    };
    writeFileSync(join(dir, 'bot.json'), JSON.stringify(legacy, null, 2));
    const store = await openStore();
    expect(existsSync(join(dir, 'bot.json'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'bot.json.migrated'), 'utf8'))).toEqual(legacy);
    expect(await store.getConversation('c-2')).toEqual(conversation('c-2', { locale: 'en' }));
    expect(await store.getVerification('13800138000')).toEqual(verification('13800138000'));
    expect((await store.listOpen()).map((r) => r.ticket)).toEqual(['TD2']);
    expect((await store.listByConversation('c-1')).map((r) => r.ticket)).toEqual(['TD2', 'TD1']);
    expect(await store.listHandoffRequests()).toEqual(legacy.handoffRequests);
  });

  it('keeps every conversation in bounded disk space when the same ones are rewritten many times', async () => {
    const store = await LowdbBotStore.open(dir, { conversations: { segmentBytes: 16 * 1024 } });
    open.push(store);
    for (let round = 0; round < 40; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.putConversation(conversation(`c-${i}`, { lastActiveAt: `r${round}` }))));
    }
    await store.close();
    open.pop();
    const logDir = join(dir, 'bot', 'conversations');
    const bytes = readdirSync(logDir).filter((f) => f.endsWith('.log')).reduce((n, f) => n + readFileSync(join(logDir, f)).length, 0);
    // 40 rounds × 20 records of ~400 bytes were written (~320 KB); compaction keeps a few segments.
    expect(bytes).toBeLessThan(4 * 16 * 1024);
    const reopened = await openStore();
    for (let i = 0; i < 20; i++) expect((await reopened.getConversation(`c-${i}`))?.lastActiveAt).toBe('r39');
  });
});
