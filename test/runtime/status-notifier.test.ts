import { describe, expect, it } from 'vitest';
import type { OperatorBackend } from '../../src/adapters/operator-backend.js';
import type { UnsubscribeRequest } from '../../src/domain/types.js';
import { AppError } from '../../src/errors.js';
import { I18n } from '../../src/i18n/i18n.js';
import { silentLogger } from '../../src/log.js';
import { StatusNotifier } from '../../src/runtime/status-notifier.js';
import type { AuditLog } from '../../src/store/audit-log.js';
import { MemoryBotStore } from '../../src/store/memory-bot-store.js';

/** A store with `count` open requests, and a back end that counts which tickets were asked for. */
async function setup(count: number, pollBatch?: number) {
  const store = new MemoryBotStore();
  await store.track(Array.from({ length: count }, (_, i) => ({
    ticket: `TD${String(i).padStart(6, '0')}`, conversationId: `c${i}`, msisdn: '13800138000', serviceName: '视频彩铃', notifiedStatus: 'submitted' as const, createdAt: '2026-11-25T00:00:00.000Z',
  })));
  const asked: string[] = [];
  const backend = {
    getRequest: async (ticket: string): Promise<UnsubscribeRequest> => {
      asked.push(ticket);
      throw new AppError('backend.unknownRequest', { message: 'not needed for this test' });
    },
    onStatusChange: () => () => undefined,
  } as unknown as OperatorBackend;
  const audit: AuditLog = { append: async () => { throw new Error('nothing is audited here'); }, close: async () => undefined };
  const notifier = new StatusNotifier({
    store, backend, i18n: new I18n(), sender: { send: async () => undefined }, logger: silentLogger, pollMs: 60_000, audit, ...(pollBatch ? { pollBatch } : {}),
  });
  return { notifier, asked };
}

describe('StatusNotifier sweep', () => {
  it('polls every open request in one sweep when they are no more than the batch', async () => {
    const { notifier, asked } = await setup(30, 100);
    await notifier.sweep();
    expect(new Set(asked).size).toBe(30);
  });

  it('polls at most a batch per sweep, taking turns so that every open request is reached', async () => {
    const { notifier, asked } = await setup(250, 100);
    await notifier.sweep();
    expect(asked).toHaveLength(100);
    const first = new Set(asked);
    await notifier.sweep();
    expect(asked).toHaveLength(200);
    // The second sweep went on to other requests, not the same ones again.
    expect(asked.slice(100).some((t) => first.has(t))).toBe(false);
    await notifier.sweep();
    expect(asked).toHaveLength(300);
    expect(new Set(asked).size).toBe(250);
    // The round goes on where the last one stopped: the fourth sweep starts after the wrapped-around part.
    await notifier.sweep();
    expect(asked.slice(300, 301)).toEqual([asked[50]]);
  });
});
