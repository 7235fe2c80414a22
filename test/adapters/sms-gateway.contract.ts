import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SmsGateway } from '../../src/adapters/sms-gateway.js';

/** A working SmsGateway plus a way to see what reached each number. */
export interface SmsGatewayHarness {
  gateway: SmsGateway;
  /** What the subscriber's phone got (for the embedded gateway: its outbox), oldest first. */
  delivered(msisdn: string): Promise<Array<{ msisdn: string; text: string }>>;
  dispose(): Promise<void>;
}

/** The behaviour every SmsGateway must show. */
export function describeSmsGatewayContract(name: string, create: () => Promise<SmsGatewayHarness>): void {
  describe(`SmsGateway contract: ${name}`, () => {
    let harness: SmsGatewayHarness;

    beforeEach(async () => {
      harness = await create();
    });

    afterEach(async () => {
      await harness.dispose();
    });

    it('delivers the text to the number and describes what it sent', async () => {
      const before = Date.now();
      const message = await harness.gateway.send('13800138000', '【退订助手】您的验证码为 482913，5分钟内有效。');
      expect(message).toMatchObject({ msisdn: '13800138000', text: '【退订助手】您的验证码为 482913，5分钟内有效。' });
      expect(message.id).toEqual(expect.any(String));
      expect(Date.parse(message.sentAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(await harness.delivered('13800138000')).toEqual([{ msisdn: '13800138000', text: '【退订助手】您的验证码为 482913，5分钟内有效。' }]);
    });

    it('gives every message its own id and keeps numbers apart', async () => {
      const a = await harness.gateway.send('13800138000', '第一条');
      const b = await harness.gateway.send('13800138000', '第二条');
      await harness.gateway.send('13900139000', '别人的');
      expect(a.id).not.toBe(b.id);
      expect((await harness.delivered('13800138000')).map((m) => m.text)).toEqual(['第一条', '第二条']);
      expect((await harness.delivered('13900139000')).map((m) => m.text)).toEqual(['别人的']);
    });

    it('can be closed more than once', async () => {
      await harness.gateway.close();
      await harness.gateway.close();
    });
  });
}
