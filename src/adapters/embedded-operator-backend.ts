import { existsSync, readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { JsonFileDb } from '../store/json-file-db.js';
import { AppendOnlyIndex } from './append-only-index.js';
import { kindOf } from '../domain/types.js';
import type {
  Catalogue,
  CatalogueService,
  Charge,
  Effective,
  RefundChannel,
  RequestStatus,
  SubscriberProfile,
  Subscription,
  UnsubscribeRequest,
} from '../domain/types.js';
import type {
  ChargeDispute, FileDisputeInput, FileUnsubscriptionInput, LineSuspension, OperatorBackend, PasswordChange, RequestQuery, SecretKind,
} from './operator-backend.js';

export interface EmbeddedOperatorBackendOptions {
  /** The lowdb data file (created and seeded on first use). */
  file: string;
  catalogue: Catalogue;
  /** data/demo-subscribers.json or a test fixture; read only when `file` does not exist yet. */
  seedFile: string;
  /** Time each processing step takes: submitted → processing → completed/rejected, in ms. */
  statusDelayMs: number;
  /** How often due requests are swept, in ms. Default 500. */
  tickMs?: number;
  /**
   * Catalogue ids whose requests stall in 'processing' (never finish), to demonstrate and test the
   * SLA watchdog. Empty by default.
   */
  stallServiceIds?: readonly string[];
  now?: () => Date;
  logger?: Logger;
}

/** A subscriber as the embedded back end knows it, without secrets, for GET /dev/subscribers. */
export interface DevSubscriberView {
  msisdn: string;
  subscriptions: Subscription[];
  arrearsFen: number;
  balanceFen: number;
}

const seedSubscriptionSchema = z.object({
  subscriptionId: z.string().min(1),
  serviceId: z.string().min(1),
  since: z.string().min(1),
  channel: z.string().min(1),
  contractEndsAt: z.string().nullable().optional(),
  penaltyFen: z.number().int().nonnegative().optional(),
  /** Demo usage: days before seeding that the service was last used; absent or null: never used. */
  lastUsedDaysAgo: z.number().int().nonnegative().nullable().optional(),
  /** Demo billing fault: one more monthly fee is charged after the cancellation took effect. */
  billedAfterCancel: z.boolean().optional(),
  /** How the subscriber's consent to the order was recorded (a reply to the confirmation SMS, a signed form), if it was. */
  orderConfirmation: z.enum(['sms', 'signature']).optional(),
});

const seedSubscriberSchema = z.object({
  msisdn: z.string().regex(/^1[3-9]\d{9}$/),
  servicePassword: z.string().regex(/^\d{6}$/),
  idLast6: z.string().regex(/^\d{5}[\dX]$/),
  arrearsFen: z.number().int().nonnegative(),
  balanceFen: z.number().int().nonnegative(),
  boundAccounts: z.array(z.string()),
  /** Where the balance goes when the number is closed; default 'original'. */
  refundChannel: z.enum(['original', 'store']).optional(),
  subscriptions: z.array(seedSubscriptionSchema),
});

const seedSchema = z.object({ subscribers: z.array(seedSubscriberSchema) });

type SeedSubscriber = z.infer<typeof seedSubscriberSchema>;

interface StoredSubscription {
  subscriptionId: string;
  serviceId: string;
  since: string;
  channel: string;
  contractEndsAt: string | null;
  penaltyFen: number;
  /** Set when a cancellation completed; the subscription is then no longer listed. */
  endedAt: string | null;
  lastUsedAt?: string | null;
  billedAfterCancel?: boolean;
  orderConfirmation?: 'sms' | 'signature';
}

interface StoredSubscriber {
  msisdn: string;
  servicePassword: string;
  idLast6: string;
  arrearsFen: number;
  balanceFen: number;
  boundAccounts: string[];
  refundChannel?: RefundChannel;
  /** Set when the number itself was closed (销户); the number then no longer counts as ours. */
  closedAt: string | null;
  /** Set while the line is suspended as lost or stolen (挂失停机). */
  suspension?: { ticket: string; suspendedAt: string; idempotencyKey: string } | null;
  /** Idempotency keys of service password changes already made, with when. */
  passwordChanges?: { idempotencyKey: string; changedAt: string }[];
  subscriptions: StoredSubscription[];
}

interface StoredRequest extends UnsubscribeRequest {
  /** When the next processing step is due (ISO); null once the request is final, or while a balance refund waits for its closure. */
  nextStepAt: string | null;
  /** A refund claim for named charges (billed after a cancellation) rather than for an unwanted order. */
  claimsCharges?: boolean;
}

interface BackendData {
  subscribers: StoredSubscriber[];
  requests: StoredRequest[];
  /** Refund claims filed before they became requests of kind 'dispute'; moved into `requests` on opening (upgrade). */
  disputes?: (ChargeDispute & { idempotencyKey: string })[];
  /** Billing records (absent in files written before they existed). */
  charges?: Charge[];
  /** Ticket sequence per Beijing calendar day: TD + yyyyMMdd + 6 digits. */
  ticketDay: string;
  ticketSeq: number;
  /** The same for refund claims (TS) and balance refunds (TK); absent in files written before it existed. */
  dailySeq?: Partial<Record<'TS' | 'TK', { day: string; seq: number }>>;
}

const BEIJING_OFFSET_MS = 8 * 3_600_000;
const AFTER_VISIT_MS = 3 * 24 * 3_600_000;

/**
 * An operator back end inside the bot's process, for demos and tests. Subscribers, subscriptions
 * and requests live in one lowdb file seeded from a demo file on first creation.
 *
 * Requests move on by themselves: submitted → processing after statusDelayMs, then → completed or
 * → rejected after another statusDelayMs. The due time of the next step is stored with the request
 * and a periodic sweep advances due requests, so requests keep progressing after a restart.
 * Rejection rules (checked when processing finishes, against the data at that moment):
 *   - closing a number (target 'number') that owes money → 'status.reason.arrears';
 *   - a refund claim for an unwanted order (no chargeIds) of a subscription whose order the
 *     subscriber confirmed (seeded orderConfirmation) → 'status.reason.orderConfirmedSms' or
 *     'status.reason.orderConfirmedSignature'. Claims for named charges are granted.
 * A completed cancellation removes the subscription from the active list; a completed number
 * closure ends every subscription and the number stops being ours (hasSubscriber → false).
 *
 * Refunds are requests too, moved on by the same sweep:
 *   - a refund claim (fileDispute, ticket TS…): submitted → processing → completed (refunded) or
 *     rejected (see the rules above); its answer date is the catalogue's dispute deadline after filing;
 *   - the balance refund of a closed number (ticket TK…, opened with the closure when the balance is
 *     positive): waits while the closure does, processing once the closure completed (the balance is
 *     then 0 on the closed number), completed after another step; withdrawn with its closure.
 * Stalled catalogue ids (stallServiceIds) stall their refund claims as well.
 * Demo billing fault: a subscription seeded with billedAfterCancel is charged one more monthly fee,
 * dated after the effective date, when its cancellation completes (listCharges shows it).
 *
 * fileUnsubscription, beyond the interface contract:
 *   - unknown number → 'backend.unknownSubscriber'; a subscription the number does not have
 *     (or no longer has) → 'backend.unknownSubscription';
 *   - a subscription with an open (submitted/processing) request filed under another key returns
 *     that open request unchanged: one subscription is never cancelled twice. After a rejection
 *     a new request may be filed.
 *   - tickets are numbered per Beijing calendar day; effectiveAt is an ISO timestamp: now
 *     (immediate), 00:00 Beijing time on the 1st of next month (nextMonth), now + 3 days (afterVisit).
 * verifySecret throws 'backend.unknownSubscriber' for a number that is not ours.
 * Methods called after close() throw 'backend.unavailable'.
 */
export class EmbeddedOperatorBackend implements OperatorBackend {
  private readonly services: Map<string, CatalogueService>;
  private readonly now: () => Date;
  private readonly logger: Logger;
  private readonly tickMs: number;
  private readonly listeners = new Set<(request: UnsubscribeRequest) => void>();
  private opening: Promise<JsonFileDb<BackendData>> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private closed = false;
  // Lookups of the hot paths (a few per turn) without walking every subscriber or request.
  private readonly subscriberIndex = new AppendOnlyIndex<StoredSubscriber>((s) => s.msisdn);
  private readonly ticketIndex = new AppendOnlyIndex<StoredRequest>((r) => r.ticket);
  private readonly keyIndex = new AppendOnlyIndex<StoredRequest>((r) => r.idempotencyKey);
  private readonly msisdnIndex = new AppendOnlyIndex<StoredRequest>((r) => r.msisdn);
  /** No request has a next step before this time (ms); 0: not known yet (the next sweep looks). */
  private nextStepMs = 0;

  constructor(private readonly options: EmbeddedOperatorBackendOptions) {
    this.services = new Map(options.catalogue.services.map((s) => [s.id, s]));
    this.now = options.now ?? (() => new Date());
    this.logger = (options.logger ?? silentLogger).child({ component: 'embedded-operator-backend' });
    this.tickMs = options.tickMs ?? 500;
  }

  async start(): Promise<void> {
    await this.db();
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.sweep(), this.tickMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
    this.listeners.clear();
    if (this.opening) {
      const db = await this.opening.catch(() => undefined);
      await db?.close();
    }
  }

  async hasSubscriber(msisdn: string): Promise<boolean> {
    const db = await this.db();
    return this.activeSubscriber(db.data, msisdn) !== undefined;
  }

  async getSubscriber(msisdn: string): Promise<SubscriberProfile> {
    const sub = this.requireSubscriber((await this.db()).data, msisdn);
    return { msisdn: sub.msisdn, arrearsFen: sub.arrearsFen, balanceFen: sub.balanceFen, boundAccounts: [...sub.boundAccounts] };
  }

  async listSubscriptions(msisdn: string): Promise<Subscription[]> {
    const data = (await this.db()).data;
    return this.activeSubscriptions(data, this.requireSubscriber(data, msisdn));
  }

  async verifySecret(msisdn: string, kind: SecretKind, value: string): Promise<boolean> {
    const sub = this.requireSubscriber((await this.db()).data, msisdn);
    const expected = kind === 'servicePassword' ? sub.servicePassword : sub.idLast6;
    return constantTimeEquals(expected.toUpperCase(), value.trim().toUpperCase());
  }

  async fileUnsubscription(input: FileUnsubscriptionInput): Promise<UnsubscribeRequest> {
    const db = await this.db();
    const request = await db.update((data) => {
      const existing = this.keyIndex.find(data.requests, input.idempotencyKey);
      if (existing) return existing;
      const sub = this.requireSubscriber(data, input.msisdn);
      const stored = sub.subscriptions.find((s) => s.subscriptionId === input.subscriptionId && s.endedAt === null);
      if (!stored) throw new AppError('backend.unknownSubscription', { message: `no active subscription ${input.subscriptionId} on this number` });
      const open = this.msisdnIndex.find(
        data.requests, sub.msisdn,
        (r) => r.subscriptionId === stored.subscriptionId && kindOf(r) === 'unsubscription' && (r.status === 'submitted' || r.status === 'processing'),
      );
      if (open) return open;
      const service = this.service(stored.serviceId);
      const now = this.now();
      const created: StoredRequest = {
        ...newRequest(nextTicket(data, now), sub.msisdn, stored.subscriptionId, service, input.idempotencyKey, now),
        effectiveAt: effectiveAt(service.effective, now),
        nextStepAt: new Date(Math.max(now.getTime() + this.options.statusDelayMs, input.notBefore ? Date.parse(input.notBefore) : 0)).toISOString(),
      };
      if (service.target === 'number' && sub.balanceFen > 0) {
        // The balance is refunded as its own step once the closure went through.
        const refund: StoredRequest = {
          ...created,
          ticket: dailyTicket(data, 'TK', now),
          idempotencyKey: `${input.idempotencyKey}:balance-refund`,
          kind: 'balanceRefund',
          amountFen: sub.balanceFen,
          refundChannel: sub.refundChannel ?? 'original',
          parentTicket: created.ticket,
          nextStepAt: null,
        };
        created.refundTicket = refund.ticket;
        data.requests.push(refund);
      }
      data.requests.push(created);
      this.noteNextStep(created.nextStepAt);
      return created;
    });
    this.logger.info('unsubscription filed', { ticket: request.ticket, serviceId: request.serviceId, status: request.status });
    return toPublic(request);
  }

  async withdrawUnsubscription(ticket: string): Promise<UnsubscribeRequest> {
    const db = await this.db();
    const changed = await db.update((data) => {
      const found = this.byTicket(data.requests, ticket);
      if (!found) throw new AppError('backend.unknownRequest', { message: `no request with ticket ${ticket}` });
      if (kindOf(found) !== 'unsubscription') throw new AppError('backend.rejected', { message: `request ${ticket} is not a cancellation` });
      if (found.status === 'withdrawn') return null;
      if (found.status !== 'submitted') throw new AppError('backend.rejected', { message: `request ${ticket} is already ${found.status}` });
      const at = this.now().toISOString();
      found.status = 'withdrawn';
      found.nextStepAt = null;
      found.updatedAt = at;
      const refund = withdrawRefundOf(this.msisdnIndex.all(data.requests, found.msisdn), found, at);
      return [toPublic(found), ...(refund ? [refund] : [])];
    });
    if (changed) {
      this.logger.info('unsubscription withdrawn', { ticket });
      this.emit(changed);
    }
    return this.getRequest(ticket);
  }

  async fileDispute(input: FileDisputeInput): Promise<ChargeDispute> {
    const db = await this.db();
    const dispute = await db.update((data) => {
      const existing = this.keyIndex.find(data.requests, input.idempotencyKey, (r) => kindOf(r) === 'dispute');
      if (existing) return toDispute(existing);
      const sub = this.requireSubscriber(data, input.msisdn);
      const stored = sub.subscriptions.find((x) => x.subscriptionId === input.subscriptionId);
      if (!stored) throw new AppError('backend.unknownSubscription', { message: `no subscription ${input.subscriptionId} on this number` });
      const service = this.service(stored.serviceId);
      const now = this.now();
      let claimedFen: number;
      if (input.chargeIds && input.chargeIds.length > 0) {
        const charges = input.chargeIds.map((id) => (data.charges ?? []).find((c) => c.chargeId === id && c.subscriptionId === stored.subscriptionId && c.msisdn === sub.msisdn));
        if (charges.some((c) => c === undefined)) throw new AppError('backend.rejected', { message: 'a claimed charge is not a charge of this subscription' });
        claimedFen = charges.reduce((sum, c) => sum + c!.amountFen, 0);
      } else {
        // The demo operator claims back up to three months of fees of an unwanted subscription.
        const months = Math.max(1, Math.min(3, Math.ceil((now.getTime() - Date.parse(stored.since)) / (30 * 86_400_000))));
        claimedFen = service.monthlyFeeFen * months;
      }
      const created: StoredRequest = {
        ...newRequest(dailyTicket(data, 'TS', now), sub.msisdn, stored.subscriptionId, service, input.idempotencyKey, now),
        effectiveAt: now.toISOString(),
        kind: 'dispute',
        amountFen: claimedFen,
        ...(input.chargeIds && input.chargeIds.length > 0 ? { claimsCharges: true } : {}),
        dueAt: new Date(now.getTime() + this.options.catalogue.requestTypes.dispute.slaHours * 3_600_000).toISOString(),
        ...(input.parentTicket ? { parentTicket: input.parentTicket } : {}),
        nextStepAt: new Date(now.getTime() + this.options.statusDelayMs).toISOString(),
      };
      data.requests.push(created);
      this.noteNextStep(created.nextStepAt);
      return toDispute(created);
    });
    this.logger.info('charge dispute filed', { ticket: dispute.ticket });
    return dispute;
  }

  async listCharges(msisdn: string): Promise<Charge[]> {
    const data = (await this.db()).data;
    this.requireSubscriber(data, msisdn);
    return (data.charges ?? []).filter((c) => c.msisdn === msisdn).sort((a, b) => b.chargedAt.localeCompare(a.chargedAt)).map((c) => ({ ...c }));
  }

  async changeServicePassword(input: { msisdn: string; newSecret: string; idempotencyKey: string }): Promise<PasswordChange> {
    const db = await this.db();
    const change = await db.update((data) => {
      const sub = this.requireSubscriber(data, input.msisdn);
      sub.passwordChanges ??= [];
      const done = sub.passwordChanges.find((c) => c.idempotencyKey === input.idempotencyKey);
      if (done) return done;
      // The operator's own rules, whatever the caller checked: 6 digits, not all one digit, not the old one.
      if (!/^\d{6}$/.test(input.newSecret) || /^(\d)\1{5}$/.test(input.newSecret) || constantTimeEquals(sub.servicePassword, input.newSecret)) {
        throw new AppError('backend.rejected', { message: 'the new service password was refused' });
      }
      sub.servicePassword = input.newSecret;
      const made = { idempotencyKey: input.idempotencyKey, changedAt: this.now().toISOString() };
      sub.passwordChanges.push(made);
      return made;
    });
    this.logger.info('service password changed');
    return { msisdn: input.msisdn, changedAt: change.changedAt };
  }

  async suspendLine(msisdn: string, idempotencyKey: string): Promise<LineSuspension> {
    const db = await this.db();
    const suspension = await db.update((data) => {
      const sub = this.requireSubscriber(data, msisdn);
      if (sub.suspension) return sub.suspension;
      const now = this.now();
      const day = beijingDate(now).replaceAll('-', '');
      const count = data.subscribers.filter((x) => x.suspension?.ticket.startsWith(`GS${day}`)).length;
      sub.suspension = { ticket: `GS${day}${String(count + 1).padStart(6, '0')}`, suspendedAt: now.toISOString(), idempotencyKey };
      return sub.suspension;
    });
    this.logger.info('line suspended', { ticket: suspension.ticket });
    return { ticket: suspension.ticket, msisdn, suspendedAt: suspension.suspendedAt };
  }

  async getRequest(ticket: string): Promise<UnsubscribeRequest> {
    const found = this.byTicket((await this.db()).data.requests, ticket);
    if (!found) throw new AppError('backend.unknownRequest', { message: `no request with ticket ${ticket}` });
    return toPublic(found);
  }

  async listRequests(query: RequestQuery): Promise<UnsubscribeRequest[]> {
    const db = await this.db();
    const mine = query.msisdn === undefined ? db.data.requests : this.msisdnIndex.all(db.data.requests, query.msisdn);
    return mine
      .filter((r) => query.status === undefined || r.status === query.status)
      .sort(newestFirst)
      .map(toPublic);
  }

  onStatusChange(listener: (request: UnsubscribeRequest) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Every subscriber with active subscriptions and money facts, never secrets. For GET /dev/subscribers. */
  async listSubscribers(): Promise<DevSubscriberView[]> {
    const db = await this.db();
    return db.data.subscribers
      .filter((s) => s.closedAt === null)
      .map((s) => ({ msisdn: s.msisdn, subscriptions: this.activeSubscriptions(db.data, s), arrearsFen: s.arrearsFen, balanceFen: s.balanceFen }));
  }

  /**
   * Advances every request whose next step is due, one step each. Runs on the timer; exposed so
   * tests with a fake clock can drive processing. Concurrent calls share one sweep.
   */
  sweep(): Promise<void> {
    if (this.closed || !this.opening) return Promise.resolve();
    this.sweeping ??= this.runSweep().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async runSweep(): Promise<void> {
    let changed: UnsubscribeRequest[];
    try {
      const db = await this.db();
      const nowMs = this.now().getTime();
      if (nowMs < this.nextStepMs) return;
      if (!this.rescan(db.data.requests, nowMs)) return;
      changed = await db.update((data) => this.advanceDue(data));
    } catch (err) {
      this.nextStepMs = 0;
      this.logger.error('status sweep failed', { err });
      return;
    }
    this.emit(changed);
  }

  /**
   * Whether some request's next step is due at `nowMs`; when none is, remembers the earliest next
   * step, so that the sweeps before it cost nothing (instead of a walk over every request ever
   * filed twice a second).
   */
  private rescan(requests: StoredRequest[], nowMs: number): boolean {
    let earliest = Number.POSITIVE_INFINITY;
    for (const r of requests) {
      if (r.nextStepAt === null) continue;
      const at = Date.parse(r.nextStepAt);
      if (at <= nowMs) return true;
      if (at < earliest) earliest = at;
    }
    this.nextStepMs = earliest;
    return false;
  }

  /** A request was given a next step: the sweep must look again by then. */
  private noteNextStep(iso: string | null): void {
    if (iso !== null) this.nextStepMs = Math.min(this.nextStepMs, Date.parse(iso));
  }

  /** Tells listeners about changes that were already written. */
  private emit(changed: UnsubscribeRequest[]): void {
    for (const request of changed) {
      this.logger.info('request status changed', { ticket: request.ticket, status: request.status, reasonKey: request.reasonKey });
      for (const listener of [...this.listeners]) {
        try {
          listener(request);
        } catch (err) {
          this.logger.error('status listener threw', { err, ticket: request.ticket });
        }
      }
    }
  }

  private advanceDue(data: BackendData): UnsubscribeRequest[] {
    const now = this.now();
    const at = now.toISOString();
    const changed: UnsubscribeRequest[] = [];
    // The earliest next step after this sweep, found on the same walk (see rescan).
    let earliest = Number.POSITIVE_INFINITY;
    for (const request of data.requests) {
      if (request.nextStepAt === null) continue;
      const dueAt = Date.parse(request.nextStepAt);
      if (dueAt > now.getTime()) {
        earliest = Math.min(earliest, dueAt);
        continue;
      }
      // A closure's balance refund changes with it and is reported after it.
      let follows: UnsubscribeRequest | null = null;
      if (request.status === 'submitted') {
        request.status = 'processing';
        request.nextStepAt = new Date(now.getTime() + this.options.statusDelayMs).toISOString();
      } else if (request.status === 'processing') {
        if (kindOf(request) !== 'balanceRefund' && this.options.stallServiceIds?.includes(request.serviceId)) {
          // A stalled back-end job: it stays 'processing' until someone intervenes.
          request.nextStepAt = null;
          continue;
        }
        request.nextStepAt = null;
        const reasonKey = rejectionReason(request, this.subscriberIndex.find(data.subscribers, request.msisdn));
        if (kindOf(request) === 'unsubscription') {
          if (reasonKey) {
            request.status = 'rejected';
            request.reasonKey = reasonKey;
            follows = withdrawRefundOf(this.msisdnIndex.all(data.requests, request.msisdn), request, at);
          } else {
            request.status = 'completed';
            endSubscription(data, request, now);
            follows = startRefundOf(data, this.msisdnIndex.all(data.requests, request.msisdn), request, now, this.options.statusDelayMs);
            this.billAfterCancel(data, request, now);
          }
        } else if (reasonKey) {
          request.status = 'rejected';
          request.reasonKey = reasonKey;
        } else {
          request.status = 'completed';
        }
      } else {
        request.nextStepAt = null;
        continue;
      }
      request.updatedAt = at;
      changed.push(toPublic(request));
      if (request.nextStepAt !== null) earliest = Math.min(earliest, Date.parse(request.nextStepAt));
      if (follows) {
        changed.push(follows);
        // A balance refund that started steps again one delay from now (it may sit earlier in the list).
        earliest = Math.min(earliest, now.getTime() + this.options.statusDelayMs);
      }
    }
    this.nextStepMs = earliest;
    return changed;
  }

  /** The demo billing fault: one more monthly fee, booked after the effective date. */
  private billAfterCancel(data: BackendData, request: StoredRequest, now: Date): void {
    const stored = this.storedSubscription(data, request.msisdn, request.subscriptionId);
    const service = this.services.get(request.serviceId);
    if (!stored?.billedAfterCancel || !service || service.monthlyFeeFen === 0) return;
    const effective = Date.parse(request.effectiveAt);
    const chargedAt = new Date(now.getTime() > effective ? now.getTime() : effective + 3_600_000).toISOString();
    data.charges ??= [];
    data.charges.push({
      chargeId: `CH-${request.ticket}`,
      msisdn: request.msisdn,
      subscriptionId: request.subscriptionId,
      serviceId: service.id,
      serviceName: service.name,
      amountFen: service.monthlyFeeFen,
      chargedAt,
    });
  }

  /** A request by ticket (the status sweep asks for every open ticket every few seconds). */
  private byTicket(requests: StoredRequest[], ticket: string): StoredRequest | undefined {
    return this.ticketIndex.find(requests, ticket);
  }

  /** The number's subscriber while the number is open. */
  /** A subscription of a number as stored, ended or not (the number may be closed too). */
  private storedSubscription(data: BackendData, msisdn: string, subscriptionId: string): StoredSubscription | undefined {
    return this.subscriberIndex.find(data.subscribers, msisdn)?.subscriptions.find((x) => x.subscriptionId === subscriptionId);
  }

  private activeSubscriber(data: BackendData, msisdn: string): StoredSubscriber | undefined {
    return this.subscriberIndex.find(data.subscribers, msisdn, (s) => s.closedAt === null);
  }

  private db(): Promise<JsonFileDb<BackendData>> {
    if (this.closed) return Promise.reject(new AppError('backend.unavailable', { message: 'the embedded operator back end is closed' }));
    this.opening ??= this.openDb().catch((err: unknown) => {
      // Let a later call try again (e.g. once another process released the file).
      this.opening = undefined;
      throw err;
    });
    return this.opening;
  }

  private async openDb(): Promise<JsonFileDb<BackendData>> {
    const { file, seedFile } = this.options;
    const defaults: BackendData = existsSync(file)
      ? { subscribers: [], requests: [], ticketDay: '', ticketSeq: 0 }
      : { subscribers: this.readSeed(seedFile), requests: [], ticketDay: '', ticketSeq: 0 };
    const db = await JsonFileDb.open<BackendData>(file, defaults);
    try {
      if (needsUpgrade(db.data)) await db.update((data) => this.upgrade(data));
    } catch (err) {
      await db.close();
      throw err;
    }
    return db;
  }

  /**
   * Brings a file written by an earlier version up to date, once: refund claims kept apart (the
   * `disputes` list) become requests of kind 'dispute' that move on like any other, and requests
   * saved without their catalogue id get it back from their subscription (the chat names a service
   * in the user's language by that id).
   */
  private upgrade(data: BackendData): void {
    const now = this.now();
    for (const d of data.disputes ?? []) {
      if (this.keyIndex.find(data.requests, d.idempotencyKey)) continue;
      const stored = this.storedSubscription(data, d.msisdn, d.subscriptionId);
      const service = stored ? this.services.get(stored.serviceId) : undefined;
      const open = d.status === 'submitted' || d.status === 'processing';
      const nextStepAt = open ? new Date(now.getTime() + this.options.statusDelayMs).toISOString() : null;
      data.requests.push({
        ticket: d.ticket, msisdn: d.msisdn, subscriptionId: d.subscriptionId, serviceId: service?.id ?? '', serviceName: d.serviceName,
        target: service?.target ?? 'vas', status: d.status, reasonKey: null, idempotencyKey: d.idempotencyKey,
        createdAt: d.createdAt, updatedAt: d.createdAt, effectiveAt: d.createdAt, kind: 'dispute', amountFen: d.claimedFen, dueAt: d.dueAt,
        nextStepAt,
      });
      this.noteNextStep(nextStepAt);
    }
    delete data.disputes;
    for (const r of data.requests) {
      if (r.serviceId) continue;
      const stored = this.storedSubscription(data, r.msisdn, r.subscriptionId);
      if (stored) r.serviceId = stored.serviceId;
    }
  }

  private readSeed(seedFile: string): StoredSubscriber[] {
    let seed: z.infer<typeof seedSchema>;
    try {
      seed = seedSchema.parse(JSON.parse(readFileSync(seedFile, 'utf8')));
    } catch (err) {
      throw new AppError('config.invalid', { cause: err, message: `demo subscriber file ${seedFile} is invalid: ${(err as Error).message}` });
    }
    for (const s of seed.subscribers) {
      for (const sub of s.subscriptions) {
        if (!this.services.has(sub.serviceId)) {
          throw new AppError('config.invalid', { message: `demo subscriber file ${seedFile} names unknown service ${sub.serviceId}` });
        }
      }
    }
    return seed.subscribers.map((x) => toStoredSubscriber(x, this.now()));
  }

  private requireSubscriber(data: BackendData, msisdn: string): StoredSubscriber {
    const sub = this.activeSubscriber(data, msisdn);
    if (!sub) throw new AppError('backend.unknownSubscriber', { message: 'this number is not an active subscriber' });
    return sub;
  }

  private service(serviceId: string): CatalogueService {
    const service = this.services.get(serviceId);
    // The seed is checked against the catalogue, so this only happens when the catalogue lost an entry.
    if (!service) throw new AppError('config.invalid', { message: `service ${serviceId} is in the data file but not in the catalogue` });
    return service;
  }

  private activeSubscriptions(data: BackendData, sub: StoredSubscriber): Subscription[] {
    // A cancellation under way, by subscription: the list says so, and the bot does not offer it again.
    const pending = new Map<string, string>();
    for (const r of this.msisdnIndex.all(data.requests, sub.msisdn)) {
      if (kindOf(r) === 'unsubscription' && (r.status === 'submitted' || r.status === 'processing')) pending.set(r.subscriptionId, r.ticket);
    }
    return sub.subscriptions.filter((s) => s.endedAt === null).map((s) => {
      const service = this.service(s.serviceId);
      return {
        subscriptionId: s.subscriptionId,
        serviceId: service.id,
        name: service.name,
        target: service.target,
        monthlyFeeFen: service.monthlyFeeFen,
        since: s.since,
        channel: s.channel,
        effective: service.effective,
        refundThisMonth: service.refundThisMonth,
        risk: service.risk,
        contractEndsAt: s.contractEndsAt,
        penaltyFen: s.penaltyFen,
        notes: [...service.notes],
        lastUsedAt: s.lastUsedAt ?? null,
        orderConfirmation: s.orderConfirmation ?? null,
        pendingTicket: pending.get(s.subscriptionId) ?? null,
      };
    });
  }
}

function toStoredSubscriber(s: SeedSubscriber, seededAt: Date): StoredSubscriber {
  return {
    msisdn: s.msisdn,
    servicePassword: s.servicePassword,
    idLast6: s.idLast6,
    arrearsFen: s.arrearsFen,
    balanceFen: s.balanceFen,
    boundAccounts: s.boundAccounts,
    ...(s.refundChannel ? { refundChannel: s.refundChannel } : {}),
    closedAt: null,
    subscriptions: s.subscriptions.map((x) => ({
      subscriptionId: x.subscriptionId,
      serviceId: x.serviceId,
      since: x.since,
      channel: x.channel,
      contractEndsAt: x.contractEndsAt ?? null,
      penaltyFen: x.penaltyFen ?? 0,
      endedAt: null,
      lastUsedAt: x.lastUsedDaysAgo == null ? null : new Date(seededAt.getTime() - x.lastUsedDaysAgo * 86_400_000).toISOString(),
      ...(x.billedAfterCancel ? { billedAfterCancel: true } : {}),
      ...(x.orderConfirmation ? { orderConfirmation: x.orderConfirmation } : {}),
    })),
  };
}

function rejectionReason(request: StoredRequest, sub: StoredSubscriber | undefined): string | null {
  const kind = kindOf(request);
  // A number that owes money cannot be closed until the arrears are paid.
  if (kind === 'unsubscription') return request.target === 'number' && sub && sub.arrearsFen > 0 ? 'status.reason.arrears' : null;
  // An unwanted-order claim fails when the operator holds the subscriber's consent to the order; a
  // charge billed after a cancellation is refunded whatever the order record says.
  if (kind === 'dispute' && !request.claimsCharges) {
    const confirmation = sub?.subscriptions.find((s) => s.subscriptionId === request.subscriptionId)?.orderConfirmation;
    if (confirmation === 'sms') return 'status.reason.orderConfirmedSms';
    if (confirmation === 'signature') return 'status.reason.orderConfirmedSignature';
  }
  return null;
}

function endSubscription(data: BackendData, request: StoredRequest, now: Date): void {
  const sub = data.subscribers.find((s) => s.msisdn === request.msisdn);
  if (!sub) return;
  const endedAt = now.toISOString();
  if (request.target === 'number') {
    // Closing the number ends everything on it.
    sub.closedAt = endedAt;
    for (const s of sub.subscriptions) s.endedAt ??= endedAt;
    return;
  }
  const s = sub.subscriptions.find((x) => x.subscriptionId === request.subscriptionId);
  if (s) s.endedAt ??= endedAt;
}

/** The balance refund opened with a closure, among the requests of its number. */
function balanceRefundOf(requestsOfNumber: StoredRequest[], closure: StoredRequest): StoredRequest | undefined {
  return requestsOfNumber.find((r) => r.parentTicket === closure.ticket && kindOf(r) === 'balanceRefund');
}

/** The balance refund waiting on a closure that will not happen (withdrawn or rejected): withdrawn too. */
function withdrawRefundOf(requestsOfNumber: StoredRequest[], closure: StoredRequest, at: string): UnsubscribeRequest | null {
  const refund = balanceRefundOf(requestsOfNumber, closure);
  if (!refund || refund.status !== 'submitted') return null;
  refund.status = 'withdrawn';
  refund.nextStepAt = null;
  refund.updatedAt = at;
  return toPublic(refund);
}

/** A closure went through: its balance refund starts, for the balance the number has now. */
function startRefundOf(data: BackendData, requestsOfNumber: StoredRequest[], closure: StoredRequest, now: Date, stepMs: number): UnsubscribeRequest | null {
  const refund = balanceRefundOf(requestsOfNumber, closure);
  if (!refund || refund.status !== 'submitted') return null;
  const sub = data.subscribers.find((s) => s.msisdn === closure.msisdn);
  if (sub) {
    refund.amountFen = sub.balanceFen;
    sub.balanceFen = 0;
  }
  refund.status = 'processing';
  refund.nextStepAt = new Date(now.getTime() + stepMs).toISOString();
  refund.updatedAt = now.toISOString();
  return toPublic(refund);
}

/** What every new request of a subscription starts as: submitted now, under its idempotency key. */
function newRequest(ticket: string, msisdn: string, subscriptionId: string, service: CatalogueService, idempotencyKey: string, now: Date): Omit<StoredRequest, 'effectiveAt' | 'nextStepAt'> {
  const at = now.toISOString();
  return {
    ticket, msisdn, subscriptionId, serviceId: service.id, serviceName: service.name, target: service.target,
    status: 'submitted', reasonKey: null, idempotencyKey, createdAt: at, updatedAt: at,
  };
}

/**
 * Tickets of refund claims (TS) and balance refunds (TK): prefix + Beijing yyyyMMdd + 6 digits,
 * counted per prefix and day. A day's first ticket of a prefix counts the tickets that day already
 * has (a file written before the counter was kept); every later one costs the same however many
 * requests are stored.
 */
function dailyTicket(data: BackendData, prefix: 'TS' | 'TK', now: Date): string {
  const day = beijingDate(now).replaceAll('-', '');
  const head = `${prefix}${day}`;
  const kept = data.dailySeq?.[prefix];
  const used = kept?.day === day
    ? kept.seq
    : data.requests.filter((r) => r.ticket.startsWith(head)).length;
  data.dailySeq = { ...data.dailySeq, [prefix]: { day, seq: used + 1 } };
  return `${head}${String(used + 1).padStart(6, '0')}`;
}

function toDispute(r: StoredRequest): ChargeDispute {
  return {
    ticket: r.ticket,
    msisdn: r.msisdn,
    subscriptionId: r.subscriptionId,
    serviceName: r.serviceName,
    claimedFen: r.amountFen ?? 0,
    status: r.status === 'withdrawn' ? 'rejected' : r.status,
    createdAt: r.createdAt,
    dueAt: r.dueAt ?? r.createdAt,
  };
}

function nextTicket(data: BackendData, now: Date): string {
  const day = beijingDate(now).replaceAll('-', '');
  if (data.ticketDay !== day) {
    data.ticketDay = day;
    data.ticketSeq = 0;
  }
  data.ticketSeq += 1;
  return `TD${day}${String(data.ticketSeq).padStart(6, '0')}`;
}

/** yyyy-MM-dd of an instant in Beijing time (UTC+8, no daylight saving). */
function beijingDate(instant: Date): string {
  return new Date(instant.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

function effectiveAt(effective: Effective, now: Date): string {
  switch (effective) {
    case 'immediate':
      return now.toISOString();
    case 'afterVisit':
      return new Date(now.getTime() + AFTER_VISIT_MS).toISOString();
    case 'nextMonth': {
      const local = new Date(now.getTime() + BEIJING_OFFSET_MS);
      const firstOfNextMonthUtc = Date.UTC(local.getUTCFullYear(), local.getUTCMonth() + 1, 1);
      return new Date(firstOfNextMonthUtc - BEIJING_OFFSET_MS).toISOString();
    }
  }
}

function newestFirst(a: UnsubscribeRequest, b: UnsubscribeRequest): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.ticket < b.ticket ? 1 : a.ticket > b.ticket ? -1 : 0;
}

function toPublic(r: StoredRequest | UnsubscribeRequest): UnsubscribeRequest {
  return {
    ticket: r.ticket,
    msisdn: r.msisdn,
    subscriptionId: r.subscriptionId,
    serviceId: r.serviceId,
    serviceName: r.serviceName,
    target: r.target,
    status: r.status as RequestStatus,
    reasonKey: r.reasonKey,
    idempotencyKey: r.idempotencyKey,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    effectiveAt: r.effectiveAt,
    ...(r.kind ? { kind: r.kind } : {}),
    ...(r.amountFen !== undefined ? { amountFen: r.amountFen } : {}),
    ...(r.refundChannel ? { refundChannel: r.refundChannel } : {}),
    ...(r.dueAt ? { dueAt: r.dueAt } : {}),
    ...(r.refundTicket ? { refundTicket: r.refundTicket } : {}),
    ...(r.parentTicket ? { parentTicket: r.parentTicket } : {}),
  };
}

function constantTimeEquals(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A file written by an earlier version: refund claims kept apart, or requests without their catalogue id. */
function needsUpgrade(data: BackendData): boolean {
  return data.disputes !== undefined || data.requests.some((r) => !r.serviceId);
}
