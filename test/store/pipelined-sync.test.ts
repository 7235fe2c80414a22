import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runWithTurnSyncs, TurnSyncs } from '../../src/store/append-file.js';
import { BatchedAppender } from '../../src/store/batched-append.js';
import { JsonFileDb } from '../../src/store/json-file-db.js';
import { KeyedLog } from '../../src/store/keyed-log.js';

/** Every fdatasync the store asks for, held until the test settles it. */
const syncs = vi.hoisted(() => [] as { resolve: () => void; reject: (err: Error) => void }[]);

vi.mock('../../src/store/append-file.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/store/append-file.js')>();
  return {
    ...real,
    datasyncSoon: () => new Promise<void>((resolve, reject) => { syncs.push({ resolve, reject }); }),
  };
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tuiding-sync-'));
  syncs.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Lets the microtasks and I/O callbacks queued so far run. */
const settle = () => new Promise((r) => setImmediate(r));

/** Waits (a bounded while) until the store has asked for `n` syncs. */
async function syncsAsked(n: number): Promise<void> {
  for (let i = 0; i < 200 && syncs.length < n; i++) await new Promise((r) => setTimeout(r, 5));
  expect(syncs).toHaveLength(n);
}

/**
 * Finishes the second sync before the first: nothing may resolve until the first is done too, and
 * then everything resolves in call order (`order` records resolutions as they happen).
 */
async function finishSecondSyncFirst(order: string[], resolutions: Promise<unknown>[], expected: string[]): Promise<void> {
  syncs[1]!.resolve();
  await settle();
  expect(order).toEqual([]);
  syncs[0]!.resolve();
  await Promise.all(resolutions);
  await settle();
  expect(order).toEqual(expected);
}

async function openDb(): Promise<JsonFileDb<{ items: Record<string, number> }>> {
  const db = await JsonFileDb.open(join(dir, 'data.json'), { items: {} as Record<string, number> });
  // Creating the file syncs it (through FileHandle.datasync, not the mocked helper).
  syncs.length = 0;
  return db;
}

describe('JsonFileDb: updates during an fdatasync', () => {
  it('writes an update at once while the sync before it runs, and resolves both in call order', async () => {
    const db = await openDb();
    const order: string[] = [];
    const first = db.update((d) => { d.items.a = 1; }).then(() => order.push('a'));
    await settle();
    expect(syncs).toHaveLength(1);
    const second = db.stage((d) => { d.items.b = 2; });
    await second.written;
    // b reached the journal while a's sync was still running, and has a sync of its own.
    expect(readFileSync(join(dir, 'data.json.journal'), 'utf8')).toContain('"b"');
    expect(syncs).toHaveLength(2);
    const durable = second.durable.then(() => order.push('b'));
    // b's sync finishing first does not let b resolve before a.
    await finishSecondSyncFirst(order, [first, durable], ['a', 'b']);
    await db.close();
  });

  it('fails only the updates whose sync failed', async () => {
    const db = await openDb();
    const first = db.update((d) => { d.items.a = 1; });
    await settle();
    const second = db.update((d) => { d.items.b = 2; });
    await settle();
    expect(syncs).toHaveLength(2);
    syncs[0]!.reject(new Error('EIO'));
    syncs[1]!.resolve();
    await expect(first).rejects.toMatchObject({ code: 'store.unwritable' });
    await expect(second).resolves.toBeUndefined();
    await db.close();
  });

  it('close() waits for the syncs in flight', async () => {
    const db = await openDb();
    const update = db.update((d) => { d.items.a = 1; });
    await settle();
    let closed = false;
    const closing = db.close().then(() => { closed = true; });
    await settle();
    expect(closed).toBe(false);
    syncs[0]!.resolve();
    await Promise.all([update, closing]);
    expect(closed).toBe(true);
  });
});

describe('KeyedLog with sync: writes during an fdatasync', () => {
  it('writes a put at once while the sync before it runs, and resolves puts in call order', async () => {
    const log = await KeyedLog.open<{ n: number }>(join(dir, 'log'), { sync: true });
    const order: string[] = [];
    const first = log.put('a', { n: 1 }).then(() => order.push('a'));
    await settle();
    expect(syncs).toHaveLength(1);
    const second = log.put('b', { n: 2 }).then(() => order.push('b'));
    await settle();
    // b is in the file (and readable) while a's sync still runs, and has a sync of its own.
    expect(syncs).toHaveLength(2);
    expect(await log.get('b')).toEqual({ n: 2 });
    await finishSecondSyncFirst(order, [first, second], ['a', 'b']);
    await log.close();
  });

  it('fails the puts of a failed sync and refuses later writes, keeping what is in the file readable', async () => {
    const log = await KeyedLog.open<{ n: number }>(join(dir, 'log'), { sync: true });
    const put = log.put('a', { n: 1 });
    await settle();
    syncs[0]!.reject(new Error('EIO'));
    await expect(put).rejects.toMatchObject({ code: 'store.unwritable' });
    await expect(log.put('b', { n: 2 })).rejects.toMatchObject({ code: 'store.unwritable' });
    expect(await log.get('a')).toEqual({ n: 1 });
    await log.close();
  });
});

describe('BatchedAppender with sync: appends during an fdatasync', () => {
  it('writes the next batch while the sync before it runs, and resolves batches in order', async () => {
    const file = join(dir, 'lines.jsonl');
    const appender = new BatchedAppender<string>(file, (batch) => batch.map((x) => `${x}\n`).join(''));
    const order: string[] = [];
    const first = appender.append('one').then(() => order.push('one'));
    await syncsAsked(1);
    const second = appender.append('two').then(() => order.push('two'));
    await syncsAsked(2);
    expect(readFileSync(file, 'utf8')).toBe('one\ntwo\n');
    await finishSecondSyncFirst(order, [first, second], ['one', 'two']);
    await appender.close();
  });
});

describe('durable writes of a turn whose reply sender syncs them (TurnSyncs)', () => {
  it('resolve once written, noting their files, and wait for their own sync again once the turn is over', async () => {
    const log = await KeyedLog.open<{ n: number }>(join(dir, 'log'), { sync: true });
    const db = await openDb();
    const appender = new BatchedAppender<string>(join(dir, 'audit.jsonl'), (batch) => batch.map((x) => `${x}\n`).join(''));
    const turn = new TurnSyncs();
    await runWithTurnSyncs(turn, async () => {
      await log.put('a', { n: 1 });
      await db.update((d) => { d.items.a = 1; });
      await appender.append('one');
      // Written without a sync of their own: the files are the reply sender's to sync.
      expect(syncs).toHaveLength(0);
    });
    expect(turn.take().sort()).toEqual([join(dir, 'audit.jsonl'), join(dir, 'data.json.journal'), join(dir, 'log', '00000001.log')].sort());
    expect(readFileSync(join(dir, 'audit.jsonl'), 'utf8')).toBe('one\n');
    turn.end();
    let done = false;
    const later = runWithTurnSyncs(turn, () => log.put('b', { n: 2 })).then(() => { done = true; });
    await syncsAsked(1);
    expect(done).toBe(false);
    syncs[0]!.resolve();
    await later;
    expect(turn.take()).toEqual([]);
    await Promise.all([log.close(), db.close(), appender.close()]);
  });

  it('leave writes that need no sync, and writes outside a turn, as they were', async () => {
    const plain = await KeyedLog.open<{ n: number }>(join(dir, 'plain'), { sync: false });
    const turn = new TurnSyncs();
    await runWithTurnSyncs(turn, () => plain.put('a', { n: 1 }));
    expect(turn.take()).toEqual([]);
    const log = await KeyedLog.open<{ n: number }>(join(dir, 'log'), { sync: true });
    const put = log.put('a', { n: 1 });
    await syncsAsked(1);
    syncs[0]!.resolve();
    await put;
    await Promise.all([plain.close(), log.close()]);
  });
});
