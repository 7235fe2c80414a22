import type { OperatorBackend } from '../adapters/operator-backend.js';
import type { Catalogue } from '../domain/types.js';
import { FINAL_STATUSES } from '../domain/types.js';
import type { ConversationPort, HandoffService } from '../handoff/handoff-service.js';
import type { Logger } from '../log.js';
import { maskMsisdn } from '../privacy/mask.js';
import type { SlaStore, TrackingStore } from '../store/stores.js';

const HOUR_MS = 3_600_000;
/** Used when a request's service is no longer in the catalogue. */
const DEFAULT_SLA_HOURS = 48;

/**
 * No filed request is left without news: every request type has a deadline (catalogue slaHours);
 * a request that has not reached a final status by then is escalated to the agents' queue (reason
 * slaBreach) and the subscriber is told, unprompted, with a new expected date. Deadlines are
 * derived from stored data and checked by a periodic sweep, so a restart loses none.
 */
export class SlaWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private readonly slaHours: Map<string, number>;

  constructor(private readonly deps: {
    tracking: TrackingStore;
    backend: OperatorBackend;
    catalogue: Catalogue;
    handoff: HandoffService;
    conversations: ConversationPort;
    sla: SlaStore;
    logger: Logger;
    now: () => number;
    /** Deadlines are slaHours divided by this (1 in production). */
    timeScale: number;
    pollMs: number;
  }) {
    this.slaHours = new Map(deps.catalogue.services.map((s) => [s.id, s.slaHours]));
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => { void this.sweep(); }, this.deps.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  /** Checks every open request once. Never throws. */
  sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        for (const row of await this.deps.tracking.listOpen()) {
          try {
            await this.check(row.ticket, row.conversationId);
          } catch (err) {
            this.deps.logger.warn('SLA check failed', { ticket: row.ticket, error: err });
          }
        }
      } catch (err) {
        this.deps.logger.error('SLA sweep failed', { error: err });
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  private async check(ticket: string, conversationId: string): Promise<void> {
    const { backend, sla, handoff, conversations, now, timeScale, logger } = this.deps;
    const request = await backend.getRequest(ticket);
    if (FINAL_STATUSES.includes(request.status)) return;
    const span = ((this.slaHours.get(request.serviceId) ?? DEFAULT_SLA_HOURS) * HOUR_MS) / timeScale;
    const at = now();
    if (at < Date.parse(request.createdAt) + span || (await sla.wasEscalated(ticket))) return;
    const newDueAt = new Date(at + span).toISOString();
    await handoff.escalate({
      conversationId,
      reason: 'slaBreach',
      dialogState: `request.${request.status}`,
      target: request.target,
      msisdnMasked: maskMsisdn(request.msisdn),
    });
    await conversations.deliver(conversationId, { key: 'sla.breached', params: { name: request.serviceName, ticket, newDueAt } }, 'bot');
    await sla.markEscalated(ticket, new Date(at).toISOString(), newDueAt);
    logger.warn('request missed its deadline: escalated', { ticket, conversationId, status: request.status });
  }
}
