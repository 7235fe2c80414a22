import type { Intent } from '../nlu/nlu.js';

/** How a user turn ended: answered, answered again from the record (a retried activity), or failed. */
export type TurnOutcome = 'answered' | 'retried' | 'failed';

/**
 * What the bot counts for its operators (exposed by the channel server at GET /metrics). Never
 * carries personal data: labels are intents, outcomes, kinds of service and handoff reasons.
 * Calls are cheap, synchronous and never throw.
 */
export interface Metrics {
  /** One user turn, with the time the bot took for it (from the start of the turn to its replies), in seconds. */
  turn(outcome: TurnOutcome, seconds: number): void;
  /** What the NLU read a user message as. */
  understood(intent: Intent): void;
  /** A confirmed request taken by the back end, or kept in the outbox because filing failed; by kind of service. */
  filed(target: string, outcome: 'filed' | 'failed'): void;
  /** A chat handed to the agents, by reason (user, misunderstood, complaint, …). */
  escalated(reason: string): void;
}

/** Counts nothing (a runner built without an exporter). */
export const noMetrics: Metrics = {
  turn: () => {},
  understood: () => {},
  filed: () => {},
  escalated: () => {},
};
