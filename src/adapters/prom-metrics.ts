import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Metrics, TurnOutcome } from '../runtime/metrics.js';
import type { Intent } from '../nlu/nlu.js';

/**
 * Metrics in the Prometheus text format (prom-client), one registry per app: the bot's counters
 * plus Node's own (CPU, memory, event-loop delay, GC). Gauges read at scrape time come from
 * `sample` (e.g. how many chats wait for an agent); a failing sample leaves its gauge unset for
 * that scrape rather than failing the scrape.
 */
export class PromMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly turns: Counter<'outcome'>;
  private readonly turnSeconds: Histogram<'outcome'>;
  private readonly intents: Counter<'intent'>;
  private readonly filings: Counter<'target' | 'outcome'>;
  private readonly escalations: Counter<'reason'>;

  constructor(sample: { handoffOpen?: () => Promise<{ waiting: number; withAgent: number }> } = {}) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.turns = new Counter({ name: 'tuiding_turns_total', help: 'User turns handled, by outcome', labelNames: ['outcome'], registers });
    this.turnSeconds = new Histogram({
      name: 'tuiding_turn_duration_seconds',
      help: 'Time the bot took for a user turn, from its start to its replies (the channel round trip not included)',
      labelNames: ['outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.intents = new Counter({ name: 'tuiding_intents_total', help: 'User messages by the intent the NLU read', labelNames: ['intent'], registers });
    this.filings = new Counter({ name: 'tuiding_filings_total', help: 'Confirmed requests by kind of service and outcome (failed: kept in the outbox for retries)', labelNames: ['target', 'outcome'], registers });
    this.escalations = new Counter({ name: 'tuiding_handoffs_total', help: 'Chats handed to agents, by reason', labelNames: ['reason'], registers });
    const handoffOpen = sample.handoffOpen;
    if (handoffOpen) {
      new Gauge({
        name: 'tuiding_handoff_open',
        help: 'Chats with the agents now: waiting in the queue, or held by an agent',
        labelNames: ['state'],
        registers,
        async collect() {
          try {
            const open = await handoffOpen();
            this.set({ state: 'waiting' }, open.waiting);
            this.set({ state: 'with_agent' }, open.withAgent);
          } catch {
            this.reset();
          }
        },
      });
    }
  }

  turn(outcome: TurnOutcome, seconds: number): void {
    this.turns.inc({ outcome });
    this.turnSeconds.observe({ outcome }, seconds);
  }

  understood(intent: Intent): void {
    this.intents.inc({ intent });
  }

  filed(target: string, outcome: 'filed' | 'failed'): void {
    this.filings.inc({ target, outcome });
  }

  escalated(reason: string): void {
    this.escalations.inc({ reason });
  }

  /** The exposition: content type and body for GET /metrics. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
