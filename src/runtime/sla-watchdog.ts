import type { Catalogue, UnsubscribeRequest } from '../domain/types.js';
import { FINAL_STATUSES, kindOf } from '../domain/types.js';
import type { ConversationPort, HandoffService } from '../handoff/handoff-service.js';
import { serviceNameOf } from '../i18n/data-names.js';
import type { Logger } from '../log.js';
import { maskMsisdn } from '../privacy/mask.js';
import type { SlaStore } from '../store/stores.js';

const HOUR_MS = 3_600_000;
/** Used when a request's service is no longer in the catalogue. */
const DEFAULT_SLA_HOURS = 48;

/**
 * No filed request is left without news: every request type has a deadline (catalogue slaHours per
 * service for cancellations, requestTypes for refund claims and balance refunds);
 * a request that has not reached a final status by then is escalated to the agents' queue (reason
 * slaBreach) and the subscriber is told, unprompted, with a new expected date. Deadlines are
 * derived from stored data; the status notifier's durable sweep hands every open request it
 * fetched to check(), so a restart loses none and no request is fetched twice per sweep.
 */
export class SlaWatchdog {
  private readonly slaHours: Map<string, number>;

  constructor(private readonly deps: {
    catalogue: Catalogue;
    handoff: HandoffService;
    conversations: ConversationPort;
    sla: SlaStore;
    logger: Logger;
    now: () => number;
    /** Deadlines are slaHours divided by this (1 in production). */
    timeScale: number;
  }) {
    this.slaHours = new Map(deps.catalogue.services.map((s) => [s.id, s.slaHours]));
  }

  /** A cancellation's deadline is its service's; a refund's is its request type's. */
  private hoursFor(request: UnsubscribeRequest): number {
    const kind = kindOf(request);
    if (kind !== 'unsubscription') return this.deps.catalogue.requestTypes[kind].slaHours;
    return this.slaHours.get(request.serviceId) ?? DEFAULT_SLA_HOURS;
  }

  /** Escalates `request` once if it is past its deadline without a final status. Throws on I/O failures. */
  async check(request: UnsubscribeRequest, conversationId: string): Promise<void> {
    const { sla, handoff, conversations, now, timeScale, logger } = this.deps;
    const ticket = request.ticket;
    if (FINAL_STATUSES.includes(request.status)) return;
    const span = (this.hoursFor(request) * HOUR_MS) / timeScale;
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
    const key = kindOf(request) === 'unsubscription' ? 'sla.breached' : `sla.breached.${kindOf(request)}`;
    await conversations.deliver(conversationId, { key, params: { name: serviceNameOf(request), ticket, newDueAt } }, 'bot');
    await sla.markEscalated(ticket, new Date(at).toISOString(), newDueAt);
    logger.warn('request missed its deadline: escalated', { ticket, conversationId, status: request.status });
  }
}
