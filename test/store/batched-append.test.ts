import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchedAppender } from '../../src/store/batched-append.js';
import { tempDataDir } from '../support/app.js';

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => { data = tempDataDir(); });
afterEach(() => data.cleanup());

const lines = (batch: number[]) => batch.map((n) => `${n}\n`).join('');

describe('group-committed appends', () => {
  it('writes every item of back-to-back sequential appends (each awaited) in order', async () => {
    const file = join(data.dir, 'seq.log');
    const appender = new BatchedAppender<number>(file, lines);
    for (let i = 0; i < 200; i++) await appender.append(i);
    expect(readFileSync(file, 'utf8').trim().split('\n').map(Number)).toEqual([...Array(200).keys()]);
  });

  it('shares writes between concurrent appends and resolves each once durable', async () => {
    const file = join(data.dir, 'concurrent.log');
    let writes = 0;
    const appender = new BatchedAppender<number>(file, (batch) => { writes++; return lines(batch); });
    await Promise.all([...Array(100).keys()].map((i) => appender.append(i)));
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(100);
    expect(writes).toBeLessThan(100);
  });

  it('rejects the items of a failed write, and later appends still go through', async () => {
    const file = join(data.dir, 'fail.log');
    let fail = true;
    const appender = new BatchedAppender<number>(file, (batch) => { if (fail) throw new Error('disk full'); return lines(batch); });
    await expect(appender.append(1)).rejects.toMatchObject({ code: 'store.unwritable' });
    fail = false;
    await appender.append(2);
    expect(readFileSync(file, 'utf8')).toBe('2\n');
  });
});
