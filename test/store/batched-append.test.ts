import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchedAppender } from '../../src/store/batched-append.js';
import { FileTranscriptStore } from '../../src/store/transcript-store.js';
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

describe('transcript shard files', () => {
  it('are all opened (created) by warm(), before the first message, and appends go to them as before', async () => {
    const store = new FileTranscriptStore(data.dir);
    await store.warm();
    const dir = join(data.dir, 'transcripts');
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(32);
    expect(files.every((f) => statSync(join(dir, f)).size === 0)).toBe(true);
    await store.append('conv-1', { from: 'user', text: '退订视频彩铃', at: '2026-11-25T10:00:00.000Z' });
    expect(await store.read('conv-1')).toEqual([{ from: 'user', text: '退订视频彩铃', at: '2026-11-25T10:00:00.000Z' }]);
    expect(readdirSync(dir)).toHaveLength(32);
    await store.close();
  });

  it('says what failed when a shard cannot be opened', async () => {
    const blocker = join(data.dir, 'blocked');
    writeFileSync(blocker, '');
    // The transcripts folder's place is taken by a file: nothing under it can be opened.
    await expect(new BatchedAppender<string>(join(blocker, '00.jsonl'), (b) => b.join('')).open()).rejects.toMatchObject({ code: 'store.unwritable' });
  });
});
