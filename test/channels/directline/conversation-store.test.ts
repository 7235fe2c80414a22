import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonDirectLineStore } from '../../../src/channels/directline/conversation-store.js';
import { tempDataDir } from '../../support/app.js';

// The Direct Line transcript store on a real temp file.
let data: ReturnType<typeof tempDataDir>;
let file: string;
let now = Date.parse('2026-01-01T00:00:00Z');
const clock = () => now;
const message = (text: string) => ({ type: 'message', text });

beforeEach(() => {
  data = tempDataDir();
  file = join(data.dir, 'directline.json');
});

afterEach(() => data.cleanup());

describe('the Direct Line store', () => {
  it('numbers activities, keeps their order and timestamps strictly increasing', async () => {
    const store = await JsonDirectLineStore.open(file, { now: clock });
    await store.create({ id: 'c1', userId: 'u1' });
    const a = await store.append('c1', message('one'));
    const b = await store.append('c1', message('two'));
    expect(a?.activity.id).toBe('c1|0000001');
    expect(b?.seq).toBe(2);
    expect(Date.parse(b!.activity.timestamp)).toBeGreaterThan(Date.parse(a!.activity.timestamp));
    expect(store.since('c1', 1)?.map((s) => s.activity.text)).toEqual(['two']);
    expect(await store.append('missing', message('x'))).toBeUndefined();
    expect(await store.create({ id: 'c1', userId: 'u2' })).toBe(false);
    await store.close();
  });

  it('keeps the transcript, members and signing key across a reopen', async () => {
    const first = await JsonDirectLineStore.open(file, { now: clock });
    await first.create({ id: 'c1', userId: 'u1', locale: 'zh-CN' });
    expect(await first.addMember('c1', 'u1')).toBe(true);
    expect(await first.addMember('c1', 'u1')).toBe(false);
    await first.append('c1', message('kept'));
    const key = first.signingKey.toString('hex');
    await first.close();

    const second = await JsonDirectLineStore.open(file, { now: clock });
    expect(second.signingKey.toString('hex')).toBe(key);
    expect(second.get('c1')).toEqual({ id: 'c1', userId: 'u1', locale: 'zh-CN', members: ['u1'], seq: 1 });
    expect(second.since('c1', 0)?.map((s) => s.activity.text)).toEqual(['kept']);
    await second.close();
  });

  it('keeps only the newest activities of a conversation, without reusing watermarks', async () => {
    const store = await JsonDirectLineStore.open(file, { now: clock, maxActivities: 3 });
    await store.create({ id: 'c1', userId: 'u1' });
    for (let i = 1; i <= 5; i++) await store.append('c1', message(`m${i}`));
    expect(store.since('c1', 0)?.map((s) => [s.seq, s.activity.text])).toEqual([[3, 'm3'], [4, 'm4'], [5, 'm5']]);
    expect(store.since('c1', 0, 2)?.map((s) => s.seq)).toEqual([3, 4]);
    await store.close();
  });

  it('drops idle conversations and, when full, the least recently active one', async () => {
    const store = await JsonDirectLineStore.open(file, { now: clock, maxConversations: 2, retentionMs: 60_000 });
    await store.create({ id: 'old', userId: 'u' });
    now += 1_000;
    await store.create({ id: 'busy', userId: 'u' });
    now += 1_000;
    await store.append('old', message('still here'));
    now += 1_000;
    await store.create({ id: 'new', userId: 'u' });
    expect([store.get('old')?.id, store.get('busy')?.id, store.get('new')?.id]).toEqual(['old', undefined, 'new']);

    now += 120_000;
    await store.create({ id: 'later', userId: 'u' });
    expect([store.get('old'), store.get('new')]).toEqual([undefined, undefined]);
    expect(store.get('later')?.id).toBe('later');
    await store.close();
  });
});
