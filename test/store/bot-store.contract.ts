import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BotStore, ConversationRecord, TrackedRequest, VerificationRecord } from '../../src/store/stores.js';

/** Builds a fresh, empty store; reopen() (durable stores only) closes it and opens the same data again. */
export interface BotStoreHarness {
  store: BotStore;
  reopen?: () => Promise<BotStore>;
  cleanup(): Promise<void>;
}

export function conversation(id: string, overrides: Partial<ConversationRecord> = {}): ConversationRecord {
  return {
    id,
    snapshot: { status: 'active', value: { session: 'awaitingCode' }, context: { msisdn: '13800138000', wanted: ['vas-video-ringback'], note: '视频彩铃' } },
    machineVersion: 1,
    locale: 'zh-CN',
    lastActiveAt: '2026-01-02T03:04:05.000Z',
    reference: { conversation: { id }, serviceUrl: 'http://127.0.0.1:9/', channelId: 'emulator' },
    ...overrides,
  };
}

export function tracked(ticket: string, conversationId: string, createdAt: string, overrides: Partial<TrackedRequest> = {}): TrackedRequest {
  return { ticket, conversationId, msisdn: '13800138000', serviceName: '视频彩铃', notifiedStatus: 'submitted', createdAt, ...overrides };
}

export function verification(msisdn: string, overrides: Partial<VerificationRecord> = {}): VerificationRecord {
  return { msisdn, codeHash: 'ab'.repeat(32), salt: 'cd'.repeat(16), expiresAt: 1_700_000_300_000, codeAttempts: 1, secretAttempts: 0, sends: [1_700_000_000_000], lockedUntil: 0, ...overrides };
}

const tickets = (rows: TrackedRequest[]) => rows.map((r) => r.ticket).sort();

/** The BotStore contract (src/store/stores.ts), run against every implementation. */
export function botStoreContract(name: string, create: () => Promise<BotStoreHarness>): void {
  describe(`${name}: the BotStore contract`, () => {
    let h: BotStoreHarness;
    let store: BotStore;
    beforeEach(async () => {
      h = await create();
      store = h.store;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    describe('conversations', () => {
      it('returns what was put, and nothing for an unknown id', async () => {
        await store.putConversation(conversation('c-1'));
        expect(await store.getConversation('c-1')).toEqual(conversation('c-1'));
        expect(await store.getConversation('c-unknown')).toBeUndefined();
      });

      it('replaces a record with the newest put', async () => {
        await store.putConversation(conversation('c-1'));
        await store.putConversation(conversation('c-1', { snapshot: { value: 'idle' }, lastActiveAt: '2026-01-02T03:05:00.000Z' }));
        expect(await store.getConversation('c-1')).toEqual(conversation('c-1', { snapshot: { value: 'idle' }, lastActiveAt: '2026-01-02T03:05:00.000Z' }));
      });

      it('hands out copies: changing a returned or stored object changes nothing stored', async () => {
        const record = conversation('c-1');
        await store.putConversation(record);
        (record.snapshot as { value: unknown }).value = 'mutated';
        const got = (await store.getConversation('c-1'))!;
        expect((got.snapshot as { value: unknown }).value).toEqual({ session: 'awaitingCode' });
        (got.snapshot as { value: unknown }).value = 'mutated again';
        expect(((await store.getConversation('c-1'))!.snapshot as { value: unknown }).value).toEqual({ session: 'awaitingCode' });
      });

      it('lists the conversations last active before a time, up to a limit, and deletes one', async () => {
        await store.putConversation(conversation('c-old', { lastActiveAt: '2026-01-01T00:00:00.000Z' }));
        await store.putConversation(conversation('c-older', { lastActiveAt: '2025-06-01T00:00:00.000Z' }));
        await store.putConversation(conversation('c-new', { lastActiveAt: '2026-03-01T00:00:00.000Z' }));
        expect((await store.listInactiveConversations('2026-02-01T00:00:00.000Z', 10)).sort()).toEqual(['c-old', 'c-older']);
        expect(await store.listInactiveConversations('2026-02-01T00:00:00.000Z', 1)).toHaveLength(1);
        await store.deleteConversation('c-old');
        await store.deleteConversation('c-never-stored');
        expect(await store.getConversation('c-old')).toBeUndefined();
        expect(await store.listInactiveConversations('2026-02-01T00:00:00.000Z', 10)).toEqual(['c-older']);
        expect(await store.getConversation('c-new')).toBeDefined();
      });

      it('keys by any id a channel may use', async () => {
        const ids = ['a:b;c=d|e', '19:abc@thread.v2', 'conv "quoted"\\back\tslash', '会话-1', 'x'.repeat(500)];
        for (const id of ids) await store.putConversation(conversation(id));
        for (const id of ids) expect((await store.getConversation(id))?.id).toBe(id);
      });

      it('loses nothing when many conversations are put at once', async () => {
        const ids = Array.from({ length: 300 }, (_, i) => `c-${i}`);
        await Promise.all(ids.map((id) => store.putConversation(conversation(id, { lastActiveAt: `t-${id}` }))));
        for (const id of ids) expect((await store.getConversation(id))?.lastActiveAt).toBe(`t-${id}`);
      });

      it('keeps the last of concurrent puts to one conversation, in call order', async () => {
        await Promise.all(Array.from({ length: 50 }, (_, i) => store.putConversation(conversation('c-1', { lastActiveAt: `v${i}` }))));
        expect((await store.getConversation('c-1'))?.lastActiveAt).toBe('v49');
      });
    });

    describe('tracked requests', () => {
      it('lists tracked requests as open until a final status was delivered', async () => {
        await store.track([tracked('TD1', 'c-1', '2026-01-01T00:00:00Z'), tracked('TD2', 'c-1', '2026-01-01T00:01:00Z')]);
        expect(tickets(await store.listOpen())).toEqual(['TD1', 'TD2']);
        await store.markNotified('TD1', 'processing');
        expect((await store.listOpen()).find((r) => r.ticket === 'TD1')?.notifiedStatus).toBe('processing');
        expect(await store.getOpen('TD1')).toEqual((await store.listOpen()).find((r) => r.ticket === 'TD1'));
        expect(await store.getOpen('TD-unknown')).toBeUndefined();
        await store.markNotified('TD1', 'completed');
        await store.markNotified('TD2', 'rejected');
        expect(await store.listOpen()).toEqual([]);
        expect(await store.getOpen('TD1')).toBeUndefined();
      });

      it('lists a conversation’s tickets newest first, open and closed, and no one else’s', async () => {
        await store.track([tracked('TD1', 'c-1', '2026-01-01T00:00:00Z'), tracked('TD3', 'c-2', '2026-01-01T00:02:00Z')]);
        await store.track([tracked('TD2', 'c-1', '2026-01-01T00:01:00Z')]);
        await store.markNotified('TD1', 'completed');
        const list = await store.listByConversation('c-1');
        expect(list.map((r) => r.ticket)).toEqual(['TD2', 'TD1']);
        expect(list[1]).toEqual(tracked('TD1', 'c-1', '2026-01-01T00:00:00Z', { notifiedStatus: 'completed' }));
        expect(await store.listByConversation('c-none')).toEqual([]);
      });

      it('leaves a ticket that is already tracked unchanged (idempotent)', async () => {
        await store.track([tracked('TD1', 'c-1', '2026-01-01T00:00:00Z')]);
        await store.markNotified('TD1', 'processing');
        await store.track([tracked('TD1', 'c-1', '2026-01-01T00:00:00Z'), tracked('TD1', 'c-2', '2026-01-01T00:00:00Z')]);
        expect(await store.listOpen()).toEqual([tracked('TD1', 'c-1', '2026-01-01T00:00:00Z', { notifiedStatus: 'processing' })]);
        expect(await store.listByConversation('c-2')).toEqual([]);
        await store.markNotified('TD1', 'completed');
        await store.track([tracked('TD1', 'c-1', '2026-01-01T00:00:00Z')]);
        expect(await store.listOpen()).toEqual([]);
        expect(await store.listByConversation('c-1')).toHaveLength(1);
      });

      it('tracks a request filed with a final status as closed at once', async () => {
        await store.track([tracked('TD1', 'c-1', '2026-01-01T00:00:00Z', { notifiedStatus: 'rejected' })]);
        expect(await store.listOpen()).toEqual([]);
        expect(await store.listByConversation('c-1')).toHaveLength(1);
      });

      it('ignores markNotified for an unknown ticket', async () => {
        await store.markNotified('TD404', 'completed');
        expect(await store.listOpen()).toEqual([]);
      });

      it('loses no ticket when tracking and notifying race on one conversation', async () => {
        await store.track([tracked('TD0', 'c-1', '2026-01-01T00:00:00Z')]);
        await Promise.all([
          store.markNotified('TD0', 'completed'),
          ...Array.from({ length: 20 }, (_, i) => store.track([tracked(`TD${i + 1}`, 'c-1', `2026-01-01T00:${String(i + 1).padStart(2, '0')}:00Z`)])),
        ]);
        const list = await store.listByConversation('c-1');
        expect(list).toHaveLength(21);
        expect(list.find((r) => r.ticket === 'TD0')?.notifiedStatus).toBe('completed');
        expect(await store.listOpen()).toHaveLength(20);
      });
    });

    describe('verification', () => {
      it('returns the newest record per number, and nothing for an unknown number', async () => {
        await store.putVerification(verification('13800138000'));
        await store.putVerification(verification('13800138000', { codeAttempts: 2, sends: [1, 2] }));
        await store.putVerification(verification('13900139000', { codeHash: null, salt: null }));
        expect(await store.getVerification('13800138000')).toEqual(verification('13800138000', { codeAttempts: 2, sends: [1, 2] }));
        expect(await store.getVerification('13900139000')).toEqual(verification('13900139000', { codeHash: null, salt: null }));
        expect(await store.getVerification('13700137000')).toBeUndefined();
      });
    });

    describe('handoff requests', () => {
      it('lists recorded requests in order', async () => {
        const a = { conversationId: 'c-1', reason: 'user.asked', state: 'session.awaitingCode', at: '2026-01-01T00:00:00Z' };
        const b = { conversationId: 'c-2', reason: 'identity.locked', state: 'idle', at: '2026-01-01T00:01:00Z' };
        await store.recordHandoffRequest(a);
        await store.recordHandoffRequest(b);
        expect(await store.listHandoffRequests()).toEqual([a, b]);
      });
    });

    describe('durability', () => {
      it('keeps everything across close and reopen', async (ctx) => {
        if (!h.reopen) return ctx.skip();
        await Promise.all(Array.from({ length: 100 }, (_, i) => store.putConversation(conversation(`c-${i}`, { lastActiveAt: `v${i}` }))));
        await store.putConversation(conversation('c-7', { locale: 'en', lastActiveAt: 'v7' }));
        await store.putVerification(verification('13800138000', { lockedUntil: 42 }));
        await store.track([tracked('TD1', 'c-1', '2026-01-01T00:00:00Z'), tracked('TD2', 'c-1', '2026-01-01T00:01:00Z')]);
        await store.markNotified('TD1', 'completed');
        await store.markNotified('TD2', 'processing');
        const handoff = { conversationId: 'c-1', reason: 'user.asked', state: 'idle', at: '2026-01-01T00:00:00Z' };
        await store.recordHandoffRequest(handoff);

        store = await h.reopen();
        for (let i = 0; i < 100; i++) expect((await store.getConversation(`c-${i}`))?.lastActiveAt).toBe(`v${i}`);
        expect((await store.getConversation('c-7'))?.locale).toBe('en');
        expect(await store.getVerification('13800138000')).toEqual(verification('13800138000', { lockedUntil: 42 }));
        expect(await store.listOpen()).toEqual([tracked('TD2', 'c-1', '2026-01-01T00:01:00Z', { notifiedStatus: 'processing' })]);
        expect((await store.listByConversation('c-1')).map((r) => [r.ticket, r.notifiedStatus])).toEqual([['TD2', 'processing'], ['TD1', 'completed']]);
        expect(await store.listHandoffRequests()).toEqual([handoff]);
      });
    });
  });
}
