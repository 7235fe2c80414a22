import { describe, expect, it } from 'vitest';
import type { OperatorBackend } from '../../src/adapters/operator-backend.js';
import type { SmsGateway, SmsMessage } from '../../src/adapters/sms-gateway.js';
import { IdentityVerifier } from '../../src/runtime/identity-verifier.js';
import { MemoryBotStore } from '../../src/store/memory-bot-store.js';

const NUMBER = '13800138000';

function setup() {
  let clock = Date.parse('2026-11-24T10:00:00Z');
  const sent: string[] = [];
  const sms: SmsGateway = {
    async send(msisdn, text): Promise<SmsMessage> {
      sent.push(text);
      return { id: `sms-${sent.length}`, msisdn, text, sentAt: new Date(clock).toISOString() };
    },
    async close() {},
  };
  const backend = { hasSubscriber: async () => true } as unknown as OperatorBackend;
  const verifier = new IdentityVerifier({
    store: new MemoryBotStore(), sms, backend, t: (_key, params) => `code ${String(params?.code)}`, now: () => clock,
    settings: { codeTtlSeconds: 300, resendSeconds: 0, maxPerHour: 10, maxPerConversationHour: 10, lockMinutes: 30, maxAttempts: 3 },
  });
  const lastCode = () => /\d{6}/.exec(sent[sent.length - 1] ?? '')![0];
  return { verifier, lastCode, advance: (ms: number) => { clock += ms; } };
}

describe('SMS codes', () => {
  it('are used once: again by the same conversation (a replayed turn), never by another one', async () => {
    const { verifier, lastCode } = setup();
    expect(await verifier.sendCode(NUMBER, 'zh-CN', 'conv-a')).toEqual({ kind: 'sent' });
    const code = lastCode();
    expect(await verifier.checkCode(NUMBER, code, 'conv-a')).toEqual({ kind: 'verified' });
    // The turn is replayed after a crash before the dialog was saved: the same code still passes there.
    expect(await verifier.checkCode(NUMBER, code, 'conv-a')).toEqual({ kind: 'verified' });
    expect(await verifier.checkCode(NUMBER, code, 'conv-b')).toEqual({ kind: 'expired' });
  });

  it('stop working when they expire or a new one is sent', async () => {
    const { verifier, lastCode, advance } = setup();
    await verifier.sendCode(NUMBER, 'zh-CN', 'conv-a');
    const first = lastCode();
    await verifier.sendCode(NUMBER, 'zh-CN', 'conv-a');
    const second = lastCode();
    if (first !== second) expect((await verifier.checkCode(NUMBER, first, 'conv-a')).kind).toBe('failed');
    expect(await verifier.checkCode(NUMBER, second, 'conv-a')).toEqual({ kind: 'verified' });
    advance(301_000);
    expect(await verifier.checkCode(NUMBER, second, 'conv-a')).toEqual({ kind: 'expired' });
  });

  it('lock the number after too many wrong guesses, counting only guesses at an unused code', async () => {
    const { verifier, lastCode } = setup();
    await verifier.sendCode(NUMBER, 'zh-CN', 'conv-a');
    const wrong = lastCode() === '000000' ? '111111' : '000000';
    expect(await verifier.checkCode(NUMBER, wrong, 'conv-a')).toEqual({ kind: 'failed', attemptsLeft: 2 });
    expect(await verifier.checkCode(NUMBER, wrong, 'conv-a')).toEqual({ kind: 'failed', attemptsLeft: 1 });
    expect(await verifier.checkCode(NUMBER, wrong, 'conv-a')).toEqual({ kind: 'locked', minutes: 30 });
    expect((await verifier.checkCode(NUMBER, lastCode(), 'conv-a')).kind).toBe('locked');
    expect((await verifier.sendCode(NUMBER, 'zh-CN', 'conv-a')).kind).toBe('locked');
  });
});
