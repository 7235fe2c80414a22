import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { JsonFileDb } from '../../src/store/json-file-db.js';

interface Data { items: Record<string, number>; log: string[] }
const EMPTY: Data = { items: {}, log: [] };

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tuiding-db-'));
  file = join(dir, 'data.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('JsonFileDb', () => {
  it('loses none of many concurrent updates and has written each when it resolves', async () => {
    const db = await JsonFileDb.open<Data>(file, EMPTY);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => db.update((d) => {
      d.items[`k${i}`] = i;
      d.log.push(`u${i}`);
      return i * 2;
    }).then((r) => {
      // Resolved means written: the file already holds this update.
      const onDisk = JSON.parse(readFileSync(file, 'utf8')) as Data;
      expect(onDisk.items[`k${i}`]).toBe(i);
      return r;
    })));
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => i * 2));
    expect(db.data.log).toEqual(Array.from({ length: 200 }, (_, i) => `u${i}`));
    await db.close();
    const again = await JsonFileDb.open<Data>(file, EMPTY);
    expect(Object.keys(again.data.items)).toHaveLength(200);
    await again.close();
  });

  it('rejects only the update whose function threw', async () => {
    const db = await JsonFileDb.open<Data>(file, EMPTY);
    const outcomes = await Promise.allSettled([
      db.update((d) => { d.items.a = 1; }),
      db.update(() => { throw new Error('boom'); }),
      db.update((d) => { d.items.b = 2; }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await db.close();
    expect((JSON.parse(readFileSync(file, 'utf8')) as Data).items).toEqual({ a: 1, b: 2 });
  });

  it('refuses a file locked by another live process and an unreadable file', async () => {
    writeFileSync(`${file}.lock`, String(process.ppid));
    await expect(JsonFileDb.open<Data>(file, EMPTY)).rejects.toSatisfy((err: unknown) => isAppError(err, 'store.unwritable'));
    rmSync(`${file}.lock`);
    writeFileSync(file, '{ not json');
    await expect(JsonFileDb.open<Data>(file, EMPTY)).rejects.toSatisfy((err: unknown) => isAppError(err, 'store.unreadable'));
    expect(readFileSync(file, 'utf8')).toBe('{ not json');
  });

  it('rejects updates after close', async () => {
    const db = await JsonFileDb.open<Data>(file, EMPTY);
    await db.close();
    await expect(db.update(() => undefined)).rejects.toSatisfy((err: unknown) => isAppError(err, 'store.unwritable'));
  });
});
