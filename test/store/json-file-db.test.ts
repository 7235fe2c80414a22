import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
    }).then(async (r) => {
      // Resolved means written: the data file and its journal already hold this update.
      const onDisk = await JsonFileDb.read<Data>(file);
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

  it('has written an update without fdatasync (sync: false) when it resolves, mixed with synced ones', async () => {
    const db = await JsonFileDb.open<Data>(file, EMPTY);
    await Promise.all(Array.from({ length: 20 }, (_, i) => db.update((d) => { d.items[`k${i}`] = i; }, { sync: i % 2 === 0 }).then(async () => {
      expect((await JsonFileDb.read<Data>(file)).items[`k${i}`]).toBe(i);
    })));
    await db.update((d) => { delete d.items.k3; }, { sync: false });
    expect((await JsonFileDb.read<Data>(file)).items.k3).toBeUndefined();
    await db.close();
    const again = await JsonFileDb.open<Data>(file, EMPTY);
    expect(Object.keys(again.data.items)).toHaveLength(19);
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
    expect((await JsonFileDb.read<Data>(file)).items).toEqual({ a: 1, b: 2 });
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

  it('appends only what changed instead of rewriting the file, and reads it back after a restart', async () => {
    const db = await JsonFileDb.open<Data>(file, EMPTY);
    await db.update((d) => { for (let i = 0; i < 500; i++) d.items[`k${i}`] = i; });
    const before = readFileSync(file, 'utf8');
    const journalBefore = statSync(JsonFileDb.journalOf(file)).size;
    await db.update((d) => { d.items.k7 = 70; delete d.items.k8; d.log.push('x'); });
    // The data file is untouched; the journal grew by three short lines, not by the whole data.
    expect(readFileSync(file, 'utf8')).toBe(before);
    const added = readFileSync(JsonFileDb.journalOf(file), 'utf8').slice(journalBefore);
    expect(added.trim().split('\n')).toHaveLength(3);
    expect(added.length).toBeLessThan(200);
    await db.close();
    const again = await JsonFileDb.open<Data>(file, EMPTY);
    expect(again.data.items.k7).toBe(70);
    expect('k8' in again.data.items).toBe(false);
    expect(again.data.log).toEqual(['x']);
    expect(Object.keys(again.data.items)).toHaveLength(499);
    await again.close();
  });

  it('folds the journal into the data file once it is as large as the data', async () => {
    const db = await JsonFileDb.open<Data>(file, EMPTY, { compactBytes: 2_000 });
    for (let i = 0; i < 300; i++) await db.update((d) => { d.items[`k${i % 20}`] = i; });
    // 300 small appends would be ~9 kB of journal; it was folded in at least once on the way.
    expect(statSync(JsonFileDb.journalOf(file)).size).toBeLessThan(2_000);
    expect((JSON.parse(readFileSync(file, 'utf8')) as Data).items.k0).toBeGreaterThan(0);
    await db.close();
    const again = await JsonFileDb.open<Data>(file, EMPTY);
    expect(again.data.items).toEqual(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 280 + i])));
    await again.close();
  });

  it('drops a torn last journal line, but refuses a damaged line before it', async () => {
    const db = await JsonFileDb.open<Data>(file, EMPTY);
    await db.update((d) => { d.items.a = 1; });
    await db.update((d) => { d.items.b = 2; });
    await db.close();
    const journal = JsonFileDb.journalOf(file);
    const good = readFileSync(journal, 'utf8');
    writeFileSync(journal, `${good}{"p":["items","c"],"v":`);
    const again = await JsonFileDb.open<Data>(file, EMPTY);
    expect(again.data.items).toEqual({ a: 1, b: 2 });
    await again.update((d) => { d.items.c = 3; });
    await again.close();
    expect((await JsonFileDb.read<Data>(file)).items).toEqual({ a: 1, b: 2, c: 3 });
    const lines = readFileSync(journal, 'utf8').split('\n');
    writeFileSync(journal, ['{ damaged', ...lines.slice(1)].join('\n'));
    await expect(JsonFileDb.open<Data>(file, EMPTY)).rejects.toSatisfy((err: unknown) => isAppError(err, 'store.unreadable'));
  });

  it('records changes made deep inside a member and shrinking arrays, and hands out plain objects', async () => {
    interface Deep { rows: { id: string; tags: string[]; meta: { n: number } }[]; byId: Record<string, { hits: number[] }> }
    const db = await JsonFileDb.open<Deep>(file, { rows: [], byId: {} });
    await db.update((d) => {
      d.rows.push({ id: 'a', tags: [], meta: { n: 0 } }, { id: 'b', tags: [], meta: { n: 0 } }, { id: 'c', tags: [], meta: { n: 0 } });
      d.byId.x = { hits: [] };
    });
    const row = await db.update((d) => {
      const r = d.rows.find((x) => x.id === 'b')!;
      r.tags.push('t');
      r.meta.n += 1;
      d.byId.x!.hits.push(1, 2);
      return r;
    });
    // The result is the stored row itself, not a tracking view: it can be cloned and compared.
    expect(structuredClone(row)).toEqual({ id: 'b', tags: ['t'], meta: { n: 1 } });
    expect(row).toBe(db.data.rows[1]);
    // Members handed out by filter are tracked too; predicates see plain members.
    await db.update((d) => {
      for (const r of d.rows.filter((x) => x.id !== 'b')) r.meta.n = 5;
      expect(d.rows.some((x) => x.meta.n === 5) && d.rows.findIndex((x) => x.id === 'c') === 2 && !d.rows.every((x) => x.meta.n === 5)).toBe(true);
    });
    await db.update((d) => { d.rows.shift(); d.byId.y = { hits: d.byId.x!.hits }; });
    await db.close();
    const again = await JsonFileDb.open<Deep>(file, { rows: [], byId: {} });
    expect(again.data.rows.map((r) => r.id)).toEqual(['b', 'c']);
    expect(again.data.rows[0]).toEqual({ id: 'b', tags: ['t'], meta: { n: 1 } });
    expect(again.data.rows[1]!.meta.n).toBe(5);
    expect(again.data.byId).toEqual({ x: { hits: [1, 2] }, y: { hits: [1, 2] } });
    await again.close();
  });
});
