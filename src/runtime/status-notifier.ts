import type { OperatorBackend } from '../adapters/operator-backend.js';
import { kindOf, type UnsubscribeRequest } from '../domain/types.js';
import { isAppError } from '../errors.js';
import type { I18n } from '../i18n/i18n.js';
import { serviceNameOf } from '../i18n/data-names.js';
import type { Logger } from '../log.js';
import type { AuditLog } from '../store/audit-log.js';
import type { BotStore, TrackedRequest } from '../store/stores.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import type { Reply } from './turn-runner.js';

/** Delivers messages into an existing conversation (implemented at the channel edge). */
export interface ProactiveSender {
  /** Throws when the channel could not be reached; the caller retries later. */
  send(conversationId: string, reference: unknown, replies: Reply[]): Promise<void>;
}

/**
 * Tells users in chat when their filed requests change status, unprompted. Tracked requests are
 * rows in the store, so nothing is forgotten across a restart: the back end's push is a prompt to
 * look now, and a periodic sweep (pollMs) polls open requests, at most pollBatch of them per sweep,
 * taking turns (with many open requests each is polled every few sweeps, and a sweep costs the same
 * however many are open). A status is marked as notified only after the message was delivered, so
 * a failed delivery is retried by a later sweep.
 */
export class StatusNotifier {
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly perTicket = new KeyedMutex();
  private sweeping: Promise<void> | undefined;
  /** Where the next sweep starts in the list of open requests. */
  private cursor = 0;

  constructor(private readonly deps: {
    store: BotStore;
    backend: OperatorBackend;
    i18n: I18n;
    sender: ProactiveSender;
    logger: Logger;
    pollMs: number;
    /** Open requests polled per sweep at most (default: all). */
    pollBatch?: number;
    audit: AuditLog;
    /** Called for every open request the sweep fetched (after its notification). */
    onOpenRequest?: (request: UnsubscribeRequest, conversationId: string) => Promise<void>;
  }) {}

  start(): void {
    if (this.timer) return;
    this.unsubscribe = this.deps.backend.onStatusChange((request) => { void this.onChange(request); });
    this.timer = setInterval(() => { void this.sweep(); }, this.deps.pollMs);
    this.timer.unref();
    void this.sweep();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    await this.sweeping;
    await this.perTicket.idle();
  }

  /** Checks the next pollBatch open tracked requests (all of them when fewer) once. Never throws. */
  sweep(): Promise<void> {
    if (this.sweeping) return this.sweeping;
    this.sweeping = (async () => {
      try {
        const open = await this.deps.store.listOpen();
        const batch = Math.min(open.length, this.deps.pollBatch ?? open.length);
        if (this.cursor >= open.length) this.cursor = 0;
        const turn = [...open.slice(this.cursor, this.cursor + batch), ...open.slice(0, Math.max(0, this.cursor + batch - open.length))];
        this.cursor = open.length > 0 ? (this.cursor + batch) % open.length : 0;
        for (const row of turn) {
          try {
            const request = await this.deps.backend.getRequest(row.ticket);
            await this.deliver(row.ticket, request);
            // Other checks of open requests (the SLA watchdog) reuse this fetch rather than poll again.
            await this.deps.onOpenRequest?.(request, row.conversationId);
          } catch (err) {
            if (isAppError(err, 'backend.unknownRequest')) {
              this.deps.logger.warn('tracked request unknown to the back end', { ticket: row.ticket });
            } else {
              this.deps.logger.warn('status poll failed', { ticket: row.ticket, error: err });
            }
          }
        }
      } catch (err) {
        this.deps.logger.error('status sweep failed', { error: err });
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  private async onChange(request: UnsubscribeRequest): Promise<void> {
    try {
      await this.deliver(request.ticket, request);
    } catch (err) {
      this.deps.logger.warn('status push delivery failed; the sweep will retry', { ticket: request.ticket, error: err });
    }
  }

  private deliver(ticket: string, request: UnsubscribeRequest): Promise<void> {
    return this.perTicket.run(ticket, async () => {
      const row: TrackedRequest | undefined = await this.deps.store.getOpen(ticket);
      if (!row || row.notifiedStatus === request.status) return;
      // 'submitted' was already told by the receipt; only later steps are news.
      if (request.status === 'submitted') return;
      const conversation = await this.deps.store.getConversation(row.conversationId);
      if (!conversation) {
        this.deps.logger.warn('no conversation for tracked request', { ticket });
        return;
      }
      const key = notificationKey(request);
      // A balance refund withdrawn with its closure is no news: the user undid the closure or heard why it failed.
      if (key !== null) {
        const text = this.deps.i18n.t(key, {
          name: serviceNameOf(request), ticket: request.ticket, effectiveAt: request.effectiveAt, reasonKey: request.reasonKey ?? 'status.reason.unknown',
          amountFen: request.amountFen ?? 0, dueAt: request.dueAt ?? request.updatedAt, channelKey: `refund.channel.${request.refundChannel ?? 'original'}`,
        }, conversation.locale);
        await this.deps.sender.send(row.conversationId, conversation.reference, [{ text, choices: [] }]);
      }
      await this.deps.store.markNotified(ticket, request.status);
      await this.deps.audit.append({ type: 'request.status', ticket, status: request.status, conversationId: row.conversationId });
      this.deps.logger.info('status notified', { ticket, status: request.status, conversationId: row.conversationId });
    });
  }
}

/** The message for a request's new status, by kind: cancellations, refund claims and balance refunds each say it their way. */
function notificationKey(request: UnsubscribeRequest): string | null {
  const kind = kindOf(request);
  if (kind === 'dispute') return `notify.dispute.${request.status}`;
  if (kind === 'balanceRefund') return request.status === 'withdrawn' ? null : `notify.balanceRefund.${request.status}`;
  return `notify.status.${request.status}`;
}
