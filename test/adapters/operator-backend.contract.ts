import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OperatorBackend } from '../../src/adapters/operator-backend.js';
import type { UnsubscribeRequest } from '../../src/domain/types.js';

/**
 * A running OperatorBackend plus what the contract needs around it. Every harness is seeded with
 * data/demo-subscribers.json and processes each request step in a few tens of milliseconds.
 */
export interface OperatorBackendHarness {
  backend: OperatorBackend;
  /** Closes the back end (and whatever stands behind it), then opens it again on the same storage. */
  restart(): Promise<OperatorBackend>;
  dispose(): Promise<void>;
}

const STATUS_TIMEOUT = { timeout: 3000, interval: 10 };

export interface HarnessOptions {
  /** Time of each processing step, in ms. */
  statusDelayMs: number;
}

/** Step time for most tests: fast, yet slow enough to observe 'processing'. */
export const FAST_STEPS: HarnessOptions = { statusDelayMs: 30 };

/** The behaviour every OperatorBackend must show. */
export function describeOperatorBackendContract(name: string, create: (options: HarnessOptions) => Promise<OperatorBackendHarness>): void {
  describe(`OperatorBackend contract: ${name}`, () => {
    let harness: OperatorBackendHarness;
    let backend: OperatorBackend;

    async function use(options: HarnessOptions): Promise<void> {
      harness = await create(options);
      backend = harness.backend;
      await backend.start();
    }

    beforeEach(async () => {
      await use(FAST_STEPS);
    });

    afterEach(async () => {
      await harness.dispose();
    });

    function statusOf(ticket: string): Promise<string> {
      return backend.getRequest(ticket).then((r) => r.status);
    }

    async function subscriptionIdOf(msisdn: string, serviceId: string): Promise<string> {
      const found = (await backend.listSubscriptions(msisdn)).find((s) => s.serviceId === serviceId);
      if (!found) throw new Error(`${msisdn} has no ${serviceId}`);
      return found.subscriptionId;
    }

    describe('subscribers', () => {
      it('knows its own numbers and says no, without throwing, for others', async () => {
        expect(await backend.hasSubscriber('13800138000')).toBe(true);
        expect(await backend.hasSubscriber('13000000000')).toBe(false);
      });

      it('gives the money facts that matter before closing a number', async () => {
        expect(await backend.getSubscriber('13700137000')).toEqual({
          msisdn: '13700137000',
          arrearsFen: expect.any(Number),
          balanceFen: expect.any(Number),
          boundAccounts: expect.any(Array),
        });
        expect((await backend.getSubscriber('13700137000')).arrearsFen).toBeGreaterThan(0);
      });

      it('refuses profile and subscriptions of an unknown number with backend.unknownSubscriber', async () => {
        await expect(backend.getSubscriber('13000000000')).rejects.toMatchObject({ code: 'backend.unknownSubscriber' });
        await expect(backend.listSubscriptions('13000000000')).rejects.toMatchObject({ code: 'backend.unknownSubscriber' });
      });

      it('lists subscriptions joined with catalogue facts, with exactly one plan and the number line', async () => {
        const subs = await backend.listSubscriptions('13800138000');
        expect(subs.filter((s) => s.target === 'plan')).toHaveLength(1);
        expect(subs.filter((s) => s.serviceId === 'number-line')).toHaveLength(1);
        const ringback = subs.find((s) => s.serviceId === 'vas-video-ringback');
        expect(ringback).toMatchObject({ name: '视频彩铃', target: 'vas', monthlyFeeFen: 1000, effective: 'immediate', risk: 'sms', penaltyFen: 0, contractEndsAt: null });
        const plan = subs.find((s) => s.target === 'plan');
        expect(plan?.contractEndsAt).toEqual(expect.any(String));
        expect(plan?.penaltyFen).toBeGreaterThan(0);
        expect(plan?.risk).toBe('strong');
      });
    });

    describe('secrets', () => {
      it('accepts the right service password and ID digits and returns false for wrong ones', async () => {
        expect(await backend.verifySecret('13800138000', 'servicePassword', '246810')).toBe(true);
        expect(await backend.verifySecret('13800138000', 'servicePassword', '000000')).toBe(false);
        expect(await backend.verifySecret('13800138000', 'idLast6', '12345X')).toBe(true);
        expect(await backend.verifySecret('13800138000', 'idLast6', '123456')).toBe(false);
      });

      it('accepts a lower-case x in the last ID digits', async () => {
        expect(await backend.verifySecret('13800138000', 'idLast6', '12345x')).toBe(true);
      });

      it('does not take the password for the ID digits', async () => {
        expect(await backend.verifySecret('13800138000', 'idLast6', '246810')).toBe(false);
      });
    });

    describe('filing', () => {
      it('files a submitted request with a TD ticket for the chosen subscription', async () => {
        const subscriptionId = await subscriptionIdOf('13800138000', 'vas-video-ringback');
        const request = await backend.fileUnsubscription({ msisdn: '13800138000', subscriptionId, idempotencyKey: 'k-file-1' });
        expect(request).toMatchObject({
          msisdn: '13800138000',
          subscriptionId,
          serviceId: 'vas-video-ringback',
          serviceName: '视频彩铃',
          target: 'vas',
          status: 'submitted',
          reasonKey: null,
          idempotencyKey: 'k-file-1',
        });
        expect(request.ticket).toMatch(/^TD\d{8}\d{6}$/);
        expect(Number.isNaN(Date.parse(request.effectiveAt))).toBe(false);
      });

      it('files once when the same idempotency key is used twice', async () => {
        const subscriptionId = await subscriptionIdOf('13900139000', 'vas-mobile-news');
        const first = await backend.fileUnsubscription({ msisdn: '13900139000', subscriptionId, idempotencyKey: 'k-twice' });
        const second = await backend.fileUnsubscription({ msisdn: '13900139000', subscriptionId, idempotencyKey: 'k-twice' });
        expect(second.ticket).toBe(first.ticket);
        expect(second.createdAt).toBe(first.createdAt);
        expect(await backend.listRequests({ msisdn: '13900139000' })).toHaveLength(1);
      });

      it('returns the first request for a reused key even when the other fields differ', async () => {
        const news = await subscriptionIdOf('13900139000', 'vas-mobile-news');
        const reminder = await subscriptionIdOf('13900139000', 'vas-caller-reminder');
        const first = await backend.fileUnsubscription({ msisdn: '13900139000', subscriptionId: news, idempotencyKey: 'k-same' });
        const second = await backend.fileUnsubscription({ msisdn: '13900139000', subscriptionId: reminder, idempotencyKey: 'k-same' });
        expect(second.ticket).toBe(first.ticket);
        expect(second.subscriptionId).toBe(news);
      });

      it('gives concurrent filings with one key one request', async () => {
        const subscriptionId = await subscriptionIdOf('13800138000', 'vas-music-member');
        const input = { msisdn: '13800138000', subscriptionId, idempotencyKey: 'k-race' };
        const results = await Promise.all([backend.fileUnsubscription(input), backend.fileUnsubscription(input), backend.fileUnsubscription(input)]);
        expect(new Set(results.map((r) => r.ticket)).size).toBe(1);
        expect(await backend.listRequests({ msisdn: '13800138000' })).toHaveLength(1);
      });

      it('does not open a second request for a subscription that is already being cancelled', async () => {
        const subscriptionId = await subscriptionIdOf('13800138000', 'addon-voice-100');
        const first = await backend.fileUnsubscription({ msisdn: '13800138000', subscriptionId, idempotencyKey: 'k-open-1' });
        const second = await backend.fileUnsubscription({ msisdn: '13800138000', subscriptionId, idempotencyKey: 'k-open-2' });
        expect(second.ticket).toBe(first.ticket);
        expect(await backend.listRequests({ msisdn: '13800138000' })).toHaveLength(1);
      });

      it('marks a subscription whose cancellation is under way with its ticket, and clears the mark when it is withdrawn', async () => {
        const before = await backend.listSubscriptions('13800138000');
        expect(before.every((s) => s.pendingTicket === null)).toBe(true);
        const subscriptionId = await subscriptionIdOf('13800138000', 'addon-voice-100');
        const notBefore = new Date(Date.now() + 60_000).toISOString();
        const { ticket } = await backend.fileUnsubscription({ msisdn: '13800138000', subscriptionId, idempotencyKey: 'k-pending', notBefore });
        const during = await backend.listSubscriptions('13800138000');
        expect(during.find((s) => s.subscriptionId === subscriptionId)?.pendingTicket).toBe(ticket);
        expect(during.filter((s) => s.subscriptionId !== subscriptionId).every((s) => s.pendingTicket === null)).toBe(true);
        await backend.withdrawUnsubscription(ticket);
        expect((await backend.listSubscriptions('13800138000')).find((s) => s.subscriptionId === subscriptionId)?.pendingTicket).toBeNull();
      });

      it('refuses a subscription the number does not have with backend.unknownSubscription', async () => {
        await expect(
          backend.fileUnsubscription({ msisdn: '13800138000', subscriptionId: 'no-such-subscription', idempotencyKey: 'k-unknown-sub' }),
        ).rejects.toMatchObject({ code: 'backend.unknownSubscription' });
        const othersSubscription = await subscriptionIdOf('13900139000', 'vas-ringback');
        await expect(
          backend.fileUnsubscription({ msisdn: '13800138000', subscriptionId: othersSubscription, idempotencyKey: 'k-others-sub' }),
        ).rejects.toMatchObject({ code: 'backend.unknownSubscription' });
      });

      it('refuses filing for an unknown number with backend.unknownSubscriber', async () => {
        await expect(
          backend.fileUnsubscription({ msisdn: '13000000000', subscriptionId: 'sub-101', idempotencyKey: 'k-unknown-number' }),
        ).rejects.toMatchObject({ code: 'backend.unknownSubscriber' });
      });
    });

    describe('unwanted charges', () => {
      it('files one refund claim per key with its own ticket and a due date', async () => {
        const subscriptionId = await subscriptionIdOf('13900139000', 'vas-mobile-news');
        const first = await backend.fileDispute({ msisdn: '13900139000', subscriptionId, idempotencyKey: 'k-dispute' });
        const again = await backend.fileDispute({ msisdn: '13900139000', subscriptionId, idempotencyKey: 'k-dispute' });
        expect(first.ticket).toMatch(/^TS\d{14}$/);
        expect(again).toEqual(first);
        expect(first).toMatchObject({ status: 'submitted', serviceName: '手机报' });
        expect(first.claimedFen).toBeGreaterThan(0);
        expect(Date.parse(first.dueAt)).toBeGreaterThan(Date.parse(first.createdAt));
        await expect(backend.fileDispute({ msisdn: '13900139000', subscriptionId: 'sub-nope', idempotencyKey: 'k-nope' }))
          .rejects.toMatchObject({ code: 'backend.unknownSubscription' });
      });
    });

    describe('refunds as requests', () => {
      it('moves a refund claim through its own statuses and reports each change', async () => {
        const seen: UnsubscribeRequest[] = [];
        backend.onStatusChange((r) => seen.push(r));
        const subscriptionId = await subscriptionIdOf('13800138000', 'vas-video-ringback');
        const claim = await backend.fileDispute({ msisdn: '13800138000', subscriptionId, idempotencyKey: 'k-claim-progress' });
        const filed = await backend.getRequest(claim.ticket);
        expect(filed).toMatchObject({ ticket: claim.ticket, kind: 'dispute', status: 'submitted', amountFen: claim.claimedFen, dueAt: claim.dueAt, serviceName: '视频彩铃' });
        await expect.poll(() => statusOf(claim.ticket), STATUS_TIMEOUT).toBe('completed');
        await expect.poll(() => seen.filter((r) => r.ticket === claim.ticket).map((r) => r.status), STATUS_TIMEOUT).toEqual(['processing', 'completed']);
        expect((await backend.listRequests({ msisdn: '13800138000' })).map((r) => r.ticket)).toContain(claim.ticket);
        // A refund claim is not a cancellation: the subscription stays until it is cancelled, and it cannot be withdrawn.
        expect((await backend.listSubscriptions('13800138000')).map((s) => s.subscriptionId)).toContain(subscriptionId);
      });

      it('turns down an unwanted-order claim when the subscriber confirmed the order, and says why', async () => {
        const seen: UnsubscribeRequest[] = [];
        backend.onStatusChange((r) => seen.push(r));
        // 13700137000 replied to the confirmation SMS when 游戏点播包 was ordered (demo data).
        const subscriptionId = await subscriptionIdOf('13700137000', 'vas-game-pack');
        const claim = await backend.fileDispute({ msisdn: '13700137000', subscriptionId, idempotencyKey: 'k-claim-confirmed' });
        await expect.poll(() => statusOf(claim.ticket), STATUS_TIMEOUT).toBe('rejected');
        expect(await backend.getRequest(claim.ticket)).toMatchObject({ kind: 'dispute', status: 'rejected', reasonKey: 'status.reason.orderConfirmedSms' });
        await expect.poll(() => seen.filter((r) => r.ticket === claim.ticket).map((r) => `${r.status}:${r.reasonKey}`), STATUS_TIMEOUT)
          .toEqual(['processing:null', 'rejected:status.reason.orderConfirmedSms']);
        // An order without such a record is refunded (the claim above on 视频彩铃 of 13800138000 completes).
      });

      it('books the demo charge after the effective date and claims exactly that charge back', async () => {
        const subscriptionId = await subscriptionIdOf('13900139000', 'vas-mobile-news');
        const cancelled = await backend.fileUnsubscription({ msisdn: '13900139000', subscriptionId, idempotencyKey: 'k-billed-after' });
        await expect.poll(() => statusOf(cancelled.ticket), STATUS_TIMEOUT).toBe('completed');
        const charges = (await backend.listCharges('13900139000')).filter((c) => c.subscriptionId === subscriptionId);
        expect(charges).toHaveLength(1);
        expect(Date.parse(charges[0]!.chargedAt)).toBeGreaterThan(Date.parse(cancelled.effectiveAt));
        const claim = await backend.fileDispute({
          msisdn: '13900139000', subscriptionId, idempotencyKey: 'k-billed-claim', chargeIds: [charges[0]!.chargeId], parentTicket: cancelled.ticket,
        });
        expect(claim.claimedFen).toBe(charges[0]!.amountFen);
        expect(await backend.getRequest(claim.ticket)).toMatchObject({ kind: 'dispute', parentTicket: cancelled.ticket, amountFen: charges[0]!.amountFen });
        await expect(backend.fileDispute({ msisdn: '13900139000', subscriptionId, idempotencyKey: 'k-billed-bad', chargeIds: ['CH-nope'] }))
          .rejects.toMatchObject({ code: 'backend.rejected' });
        await expect(backend.listCharges('13000000000')).rejects.toMatchObject({ code: 'backend.unknownSubscriber' });
      });

      it('refunds the balance of a closed number as its own step after the closure', async () => {
        const seen: UnsubscribeRequest[] = [];
        backend.onStatusChange((r) => seen.push(r));
        const { balanceFen } = await backend.getSubscriber('18612345678');
        const subscriptionId = await subscriptionIdOf('18612345678', 'number-line');
        const closure = await backend.fileUnsubscription({ msisdn: '18612345678', subscriptionId, idempotencyKey: 'k-close-refund' });
        expect(closure.refundTicket).toMatch(/^TK\d{14}$/);
        const refundTicket = closure.refundTicket!;
        expect(await backend.getRequest(refundTicket)).toMatchObject({
          kind: 'balanceRefund', status: 'submitted', amountFen: balanceFen, refundChannel: 'original', parentTicket: closure.ticket,
        });
        await expect.poll(() => statusOf(refundTicket), STATUS_TIMEOUT).toBe('completed');
        expect(await statusOf(closure.ticket)).toBe('completed');
        const order = () => seen.filter((r) => r.ticket === closure.ticket || r.ticket === refundTicket).map((r) => `${r.kind ?? 'unsubscription'}:${r.status}`);
        await expect.poll(order, STATUS_TIMEOUT).toEqual(['unsubscription:processing', 'unsubscription:completed', 'balanceRefund:processing', 'balanceRefund:completed']);
        expect((await backend.getRequest(refundTicket)).amountFen).toBe(balanceFen);
      });

      it('withdraws the balance refund with its closure', async () => {
        const subscriptionId = await subscriptionIdOf('18612345678', 'number-line');
        const notBefore = new Date(Date.now() + 60_000).toISOString();
        const closure = await backend.fileUnsubscription({ msisdn: '18612345678', subscriptionId, idempotencyKey: 'k-close-undo', notBefore });
        await backend.withdrawUnsubscription(closure.ticket);
        expect(await statusOf(closure.refundTicket!)).toBe('withdrawn');
        await expect(backend.withdrawUnsubscription(closure.refundTicket!)).rejects.toMatchObject({ code: 'backend.rejected' });
      });

      it('opens no balance refund for a number without a balance', async () => {
        const subscriptionId = await subscriptionIdOf('13700137000', 'number-line');
        const closure = await backend.fileUnsubscription({ msisdn: '13700137000', subscriptionId, idempotencyKey: 'k-close-nothing' });
        expect(closure.refundTicket).toBeUndefined();
      });
    });

    describe('service password', () => {
      it('changes the password once per key, after which only the new one is accepted', async () => {
        const change = await backend.changeServicePassword({ msisdn: '13800138000', newSecret: '390571', idempotencyKey: 'k-pw' });
        expect(Number.isNaN(Date.parse(change.changedAt))).toBe(false);
        expect(await backend.verifySecret('13800138000', 'servicePassword', '390571')).toBe(true);
        expect(await backend.verifySecret('13800138000', 'servicePassword', '246810')).toBe(false);
        expect(await backend.changeServicePassword({ msisdn: '13800138000', newSecret: '390571', idempotencyKey: 'k-pw' })).toEqual(change);
      });

      it('refuses a weak or unchanged password and an unknown number, naming no password in the error', async () => {
        for (const [newSecret, key] of [['111111', 'k-pw-same'], ['246810', 'k-pw-old'], ['12345', 'k-pw-short']] as const) {
          const err = await backend.changeServicePassword({ msisdn: '13800138000', newSecret, idempotencyKey: key }).catch((e: unknown) => e);
          expect(err).toMatchObject({ code: 'backend.rejected' });
          expect(String((err as Error).message)).not.toContain(newSecret);
        }
        expect(await backend.verifySecret('13800138000', 'servicePassword', '246810')).toBe(true);
        await expect(backend.changeServicePassword({ msisdn: '13000000000', newSecret: '390571', idempotencyKey: 'k-pw-nobody' }))
          .rejects.toMatchObject({ code: 'backend.unknownSubscriber' });
      });
    });

    describe('lost phone', () => {
      it('suspends a line once per key and keeps its subscriptions', async () => {
        const first = await backend.suspendLine('13800138000', 'k-lost');
        const again = await backend.suspendLine('13800138000', 'k-lost');
        expect(first.ticket).toMatch(/^GS\d{14}$/);
        expect(again).toEqual(first);
        expect((await backend.listSubscriptions('13800138000')).length).toBeGreaterThan(0);
        await expect(backend.suspendLine('13300000000', 'k-nobody')).rejects.toMatchObject({ code: 'backend.unknownSubscriber' });
      });
    });

    describe('undo', () => {
      it('withdraws a request that processing has not started, keeping the subscription', async () => {
        const subscriptionId = await subscriptionIdOf('13800138000', 'vas-video-ringback');
        const notBefore = new Date(Date.now() + 60_000).toISOString();
        const { ticket } = await backend.fileUnsubscription({ msisdn: '13800138000', subscriptionId, idempotencyKey: 'k-undo', notBefore });
        // Held until notBefore: still submitted well after a normal step.
        await new Promise((r) => setTimeout(r, 150));
        expect(await statusOf(ticket)).toBe('submitted');
        expect((await backend.withdrawUnsubscription(ticket)).status).toBe('withdrawn');
        expect((await backend.withdrawUnsubscription(ticket)).status).toBe('withdrawn');
        expect((await backend.listSubscriptions('13800138000')).map((s) => s.subscriptionId)).toContain(subscriptionId);
      });

      it('refuses to withdraw once processing started, and for unknown tickets', async () => {
        const subscriptionId = await subscriptionIdOf('13800138000', 'vas-music-member');
        const { ticket } = await backend.fileUnsubscription({ msisdn: '13800138000', subscriptionId, idempotencyKey: 'k-late' });
        await expect.poll(() => statusOf(ticket), STATUS_TIMEOUT).not.toBe('submitted');
        await expect(backend.withdrawUnsubscription(ticket)).rejects.toMatchObject({ code: 'backend.rejected' });
        await expect(backend.withdrawUnsubscription('TD00000000000000')).rejects.toMatchObject({ code: 'backend.unknownRequest' });
      });
    });

    describe('processing', () => {
      it('moves a request from submitted through processing to completed and tells listeners each time', async () => {
        const seen: UnsubscribeRequest[] = [];
        backend.onStatusChange((r) => seen.push(r));
        const subscriptionId = await subscriptionIdOf('13800138000', 'vas-video-ringback');
        const { ticket } = await backend.fileUnsubscription({ msisdn: '13800138000', subscriptionId, idempotencyKey: 'k-progress' });
        await expect.poll(() => statusOf(ticket), STATUS_TIMEOUT).toBe('completed');
        await expect.poll(() => seen.filter((r) => r.ticket === ticket).map((r) => r.status), STATUS_TIMEOUT).toEqual(['processing', 'completed']);
      });

      it('has written a change by the time listeners hear of it', async () => {
        const reads: Promise<string>[] = [];
        backend.onStatusChange((r) => reads.push(statusOf(r.ticket).then((s) => `${r.status}=${s}`)));
        const subscriptionId = await subscriptionIdOf('13800138000', 'vas-music-member');
        const { ticket } = await backend.fileUnsubscription({ msisdn: '13800138000', subscriptionId, idempotencyKey: 'k-written' });
        await expect.poll(() => statusOf(ticket), STATUS_TIMEOUT).toBe('completed');
        await expect.poll(() => reads.length, STATUS_TIMEOUT).toBeGreaterThanOrEqual(2);
        const results = await Promise.all(reads);
        expect(results[0]).toMatch(/^processing=(processing|completed)$/);
        expect(results[1]).toBe('completed=completed');
      });

      it('stops calling a listener once it unsubscribed', async () => {
        const seen: UnsubscribeRequest[] = [];
        const off = backend.onStatusChange((r) => seen.push(r));
        off();
        const subscriptionId = await subscriptionIdOf('18612345678', 'addon-night-data');
        const { ticket } = await backend.fileUnsubscription({ msisdn: '18612345678', subscriptionId, idempotencyKey: 'k-off' });
        await expect.poll(() => statusOf(ticket), STATUS_TIMEOUT).toBe('completed');
        expect(seen).toEqual([]);
      });

      it('drops a cancelled subscription from the active list', async () => {
        const subscriptionId = await subscriptionIdOf('18612345678', 'addon-sms-100');
        const { ticket } = await backend.fileUnsubscription({ msisdn: '18612345678', subscriptionId, idempotencyKey: 'k-drop' });
        await expect.poll(() => statusOf(ticket), STATUS_TIMEOUT).toBe('completed');
        const left = await backend.listSubscriptions('18612345678');
        expect(left.map((s) => s.subscriptionId)).not.toContain(subscriptionId);
        await expect(
          backend.fileUnsubscription({ msisdn: '18612345678', subscriptionId, idempotencyKey: 'k-drop-again' }),
        ).rejects.toMatchObject({ code: 'backend.unknownSubscription' });
      });

      it('rejects closing a number that owes money, with status.reason.arrears, and keeps the number', async () => {
        const subscriptionId = await subscriptionIdOf('13700137000', 'number-line');
        const { ticket } = await backend.fileUnsubscription({ msisdn: '13700137000', subscriptionId, idempotencyKey: 'k-arrears' });
        await expect.poll(() => statusOf(ticket), STATUS_TIMEOUT).toBe('rejected');
        expect((await backend.getRequest(ticket)).reasonKey).toBe('status.reason.arrears');
        expect(await backend.hasSubscriber('13700137000')).toBe(true);
        expect((await backend.listSubscriptions('13700137000')).map((s) => s.subscriptionId)).toContain(subscriptionId);
      });

      it('cancels other services of a number that owes money', async () => {
        const subscriptionId = await subscriptionIdOf('13700137000', 'vas-game-pack');
        const { ticket } = await backend.fileUnsubscription({ msisdn: '13700137000', subscriptionId, idempotencyKey: 'k-arrears-vas' });
        await expect.poll(() => statusOf(ticket), STATUS_TIMEOUT).toBe('completed');
      });

      it('accepts a new request for a subscription after a rejection', async () => {
        const subscriptionId = await subscriptionIdOf('13700137000', 'number-line');
        const first = await backend.fileUnsubscription({ msisdn: '13700137000', subscriptionId, idempotencyKey: 'k-retry-1' });
        await expect.poll(() => statusOf(first.ticket), STATUS_TIMEOUT).toBe('rejected');
        const second = await backend.fileUnsubscription({ msisdn: '13700137000', subscriptionId, idempotencyKey: 'k-retry-2' });
        expect(second.ticket).not.toBe(first.ticket);
        expect(second.status).toBe('submitted');
      });

      it('closes a number without arrears, after which the number is no longer ours', async () => {
        const subscriptionId = await subscriptionIdOf('18612345678', 'number-line');
        const { ticket } = await backend.fileUnsubscription({ msisdn: '18612345678', subscriptionId, idempotencyKey: 'k-close' });
        await expect.poll(() => statusOf(ticket), STATUS_TIMEOUT).toBe('completed');
        expect(await backend.hasSubscriber('18612345678')).toBe(false);
        expect((await backend.getRequest(ticket)).status).toBe('completed');
      });
    });

    describe('requests', () => {
      it('refuses an unknown ticket with backend.unknownRequest', async () => {
        await expect(backend.getRequest('TD20000101999999')).rejects.toMatchObject({ code: 'backend.unknownRequest' });
      });

      it('lists requests newest first and filters by number and status', async () => {
        const news = await subscriptionIdOf('13900139000', 'vas-mobile-news');
        const reminder = await subscriptionIdOf('13900139000', 'vas-caller-reminder');
        const a = await backend.fileUnsubscription({ msisdn: '13900139000', subscriptionId: news, idempotencyKey: 'k-list-a' });
        const b = await backend.fileUnsubscription({ msisdn: '13900139000', subscriptionId: reminder, idempotencyKey: 'k-list-b' });
        const other = await backend.fileUnsubscription({
          msisdn: '18612345678',
          subscriptionId: await subscriptionIdOf('18612345678', 'addon-night-data'),
          idempotencyKey: 'k-list-c',
        });
        expect((await backend.listRequests({ msisdn: '13900139000' })).map((r) => r.ticket)).toEqual([b.ticket, a.ticket]);
        expect((await backend.listRequests({})).map((r) => r.ticket)).toEqual([other.ticket, b.ticket, a.ticket]);
        await expect.poll(() => statusOf(other.ticket), STATUS_TIMEOUT).toBe('completed');
        await expect.poll(() => statusOf(a.ticket), STATUS_TIMEOUT).toBe('completed');
        await expect.poll(() => statusOf(b.ticket), STATUS_TIMEOUT).toBe('completed');
        expect((await backend.listRequests({ status: 'completed', msisdn: '18612345678' })).map((r) => r.ticket)).toEqual([other.ticket]);
        expect(await backend.listRequests({ status: 'submitted' })).toEqual([]);
      });
    });

    describe('durability', () => {
      it('keeps a filed request across a restart and still moves it on afterwards', async () => {
        // Steps slow enough that the request is surely still open when the restart happens.
        await harness.dispose();
        await use({ statusDelayMs: 250 });
        const subscriptionId = await subscriptionIdOf('13800138000', 'addon-data-10g');
        const filed = await backend.fileUnsubscription({ msisdn: '13800138000', subscriptionId, idempotencyKey: 'k-restart' });
        backend = await harness.restart();
        const seenAfterRestart: string[] = [];
        backend.onStatusChange((r) => {
          if (r.ticket === filed.ticket) seenAfterRestart.push(r.status);
        });
        await backend.start();
        expect(['submitted', 'processing']).toContain((await backend.getRequest(filed.ticket)).status);
        await expect.poll(() => statusOf(filed.ticket), STATUS_TIMEOUT).toBe('completed');
        await expect.poll(() => seenAfterRestart, STATUS_TIMEOUT).toContain('completed');
      });

      it('remembers idempotency keys across a restart', async () => {
        const subscriptionId = await subscriptionIdOf('13800138000', 'addon-data-10g');
        const input = { msisdn: '13800138000', subscriptionId, idempotencyKey: 'k-restart-key' };
        const first = await backend.fileUnsubscription(input);
        backend = await harness.restart();
        await backend.start();
        expect((await backend.fileUnsubscription(input)).ticket).toBe(first.ticket);
        expect(await backend.listRequests({ msisdn: '13800138000' })).toHaveLength(1);
      });

      it('can be started and closed more than once', async () => {
        await backend.start();
        await backend.start();
        await backend.close();
        await backend.close();
      });
    });
  });
}
