import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { appendSync, datasyncSoon } from '../../src/store/append-file.js';

/** The fdatasync(2) calls made, by file descriptor. */
const synced = vi.hoisted(() => [] as number[]);

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return {
    ...real,
    fdatasync: (fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => {
      synced.push(fd);
      real.fdatasync(fd, callback);
    },
  };
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tuiding-append-'));
  synced.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('datasyncSoon', () => {
  it('issues one fdatasync for every sync asked for during one pass of the event loop, per file', async () => {
    const a = await open(join(dir, 'a.log'), 'a');
    const b = await open(join(dir, 'b.log'), 'a');
    appendSync(a, 'one\n');
    const first = datasyncSoon(a);
    appendSync(a, 'two\n');
    const second = datasyncSoon(a);
    const other = datasyncSoon(b);
    // Nothing is issued before the loop's current pass is over.
    expect(synced).toEqual([]);
    await Promise.all([first, second, other]);
    expect(synced.sort()).toEqual([a.fd, b.fd].sort());
    // A sync asked for later is a new one.
    appendSync(a, 'three\n');
    await datasyncSoon(a);
    expect(synced.filter((fd) => fd === a.fd)).toHaveLength(2);
    expect(readFileSync(join(dir, 'a.log'), 'utf8')).toBe('one\ntwo\nthree\n');
    await a.close();
    await b.close();
  });

  it('fails every caller sharing a sync that failed', async () => {
    const a = await open(join(dir, 'a.log'), 'a');
    await a.close();
    // A closed handle: fdatasync reports EBADF.
    const results = await Promise.allSettled([datasyncSoon(a), datasyncSoon(a)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
