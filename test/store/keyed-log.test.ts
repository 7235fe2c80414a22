import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { KeyedLog, type KeyedLogOptions } from '../../src/store/keyed-log.js';

interface Doc { n: number; text: string }

let dir: string;
const opened: KeyedLog<Doc>[] = [];
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'tuiding-log-')); });
afterEach(async () => {
  for (const log of opened.splice(0)) await log.close();
  rmSync(dir, { recursive: true, force: true });
});

async function openLog(options: KeyedLogOptions = {}): Promise<KeyedLog<Doc>> {
  const log = await KeyedLog.open<Doc>(dir, options);
  opened.push(log);
  return log;
}

async function reopen(log: KeyedLog<Doc>, options: KeyedLogOptions = {}): Promise<KeyedLog<Doc>> {
  await log.close();
  opened.splice(opened.indexOf(log), 1);
  return openLog(options);
}

const segments = () => readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
const doc = (n: number): Doc => ({ n, text: `第${n}条 ${'x'.repeat(n % 50)}` });

describe('KeyedLog', () => {
  it('reads its own writes before and after they are written', async () => {
    const log = await openLog();
    const writing = log.put('a', doc(1));
    expect(await log.get('a')).toEqual(doc(1));
    await writing;
    expect(await log.get('a')).toEqual(doc(1));
    expect(log.size).toBe(1);
    expect(log.has('b')).toBe(false);
  });

  it('writes concurrent puts in call order: the last one wins, also after reopening', async () => {
    let log = await openLog();
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.put(`k${i % 10}`, doc(i))));
    for (let k = 0; k < 10; k++) expect((await log.get(`k${k}`))?.n).toBe(190 + k);
    log = await reopen(log);
    for (let k = 0; k < 10; k++) expect((await log.get(`k${k}`))?.n).toBe(190 + k);
  });

  it('keeps keys with quotes, backslashes, tabs, newlines and Chinese across reopening', async () => {
    const keys = ['plain', 'a "quoted" key', 'back\\slash', 'tab\there', 'new\nline', '会话-1', '19:abc@thread.v2;messageid=1', ''];
    let log = await openLog();
    for (const [i, key] of keys.entries()) await log.put(key, doc(i));
    log = await reopen(log);
    for (const [i, key] of keys.entries()) expect(await log.get(key)).toEqual(doc(i));
    expect(log.keys().sort()).toEqual([...keys].sort());
  });

  it('reads values back from the file once they left the cache', async () => {
    let log = await openLog({ cacheEntries: 2 });
    for (let i = 0; i < 20; i++) await log.put(`k${i}`, doc(i));
    for (let i = 0; i < 20; i++) expect(await log.get(`k${i}`)).toEqual(doc(i));
    log = await reopen(log, { cacheEntries: 2 });
    for (let i = 19; i >= 0; i--) expect(await log.get(`k${i}`)).toEqual(doc(i));
  });

  it('deletes keys, and a deletion survives compaction and reopening', async () => {
    let log = await openLog({ segmentBytes: 512 });
    for (let i = 0; i < 30; i++) await log.put(`k${i}`, doc(i));
    await log.delete('k3');
    await log.delete('k-unknown');
    for (let i = 10; i < 30; i++) await log.put(`k${i}`, doc(i + 100));
    expect(await log.get('k3')).toBeUndefined();
    await log.compact();
    log = await reopen(log, { segmentBytes: 512 });
    expect(await log.get('k3')).toBeUndefined();
    expect(log.has('k3')).toBe(false);
    expect(log.size).toBe(29);
    expect((await log.values()).length).toBe(29);
    await log.put('k3', doc(3));
    log = await reopen(log, { segmentBytes: 512 });
    expect(await log.get('k3')).toEqual(doc(3));
  });

  it('compacts superseded lines away and keeps every newest value', async () => {
    let log = await openLog({ segmentBytes: 1024 });
    for (let round = 0; round < 30; round++) {
      await Promise.all(Array.from({ length: 8 }, (_, k) => log.put(`k${k}`, doc(round * 8 + k))));
    }
    await log.compact();
    const bytes = segments().reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    expect(bytes).toBeLessThan(3 * 1024);
    expect(log.bytes).toBe(bytes);
    log = await reopen(log, { segmentBytes: 1024 });
    for (let k = 0; k < 8; k++) expect((await log.get(`k${k}`))?.n).toBe(29 * 8 + k);
  });

  it('keeps values readable while a compaction moves them', async () => {
    const log = await openLog({ segmentBytes: 700, cacheEntries: 1 });
    for (let i = 0; i < 40; i++) await log.put(`k${i}`, doc(i));
    const compacting = log.compact();
    const writes = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? log.put(`k${i}`, doc(1000 + i)) : Promise.resolve()));
    const reads = await Promise.all(Array.from({ length: 40 }, (_, i) => log.get(`k${i}`)));
    await Promise.all([compacting, ...writes]);
    reads.forEach((r, i) => expect([i, 1000 + i]).toContain(r?.n));
    for (let i = 0; i < 40; i++) expect((await log.get(`k${i}`))?.n).toBe(i % 3 === 0 ? 1000 + i : i);
  });

  it('keeps every value in memory with retainValues, loaded on open', async () => {
    let log = await openLog({ retainValues: true });
    await log.put('a', doc(1));
    await log.put('b', doc(2));
    await log.delete('a');
    log = await reopen(log, { retainValues: true });
    expect(await log.values()).toEqual([doc(2)]);
  });

  it('cuts off a torn last line left by a crash and goes on appending after it', async () => {
    let log = await openLog();
    await log.put('a', doc(1));
    await log.close();
    opened.pop();
    const [file] = segments();
    appendFileSync(join(dir, file!), '"b"\t{"n":2,"te');
    log = await openLog();
    expect(await log.get('a')).toEqual(doc(1));
    expect(log.has('b')).toBe(false);
    await log.put('c', doc(3));
    log = await reopen(log);
    expect(await log.get('c')).toEqual(doc(3));
    expect(readFileSync(join(dir, file!), 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('refuses to open a log with a damaged line before the end and leaves it untouched', async () => {
    const log = await openLog();
    await log.put('a', doc(1));
    await log.close();
    opened.pop();
    const [file] = segments();
    const damaged = `garbage\n${readFileSync(join(dir, file!), 'utf8')}`;
    writeFileSync(join(dir, file!), damaged);
    await expect(KeyedLog.open(dir)).rejects.toSatisfy((err: unknown) => isAppError(err, 'store.unreadable'));
    expect(readFileSync(join(dir, file!), 'utf8')).toBe(damaged);
  });

  it('rejects writes after close and values that are not JSON', async () => {
    const log = await openLog();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(log.put('x', cyclic as unknown as Doc)).rejects.toSatisfy((err: unknown) => isAppError(err, 'store.unwritable'));
    await log.close();
    await expect(log.put('a', doc(1))).rejects.toSatisfy((err: unknown) => isAppError(err, 'store.unwritable'));
  });
});
