import type { SubscriberProfile, Subscription, UnsubscribeRequest, RequestStatus } from '../domain/types.js';

export type SecretKind = 'servicePassword' | 'idLast6';

export interface FileUnsubscriptionInput {
  msisdn: string;
  subscriptionId: string;
  /**
   * Same key → same request. Filing twice with one key returns the first request unchanged
   * (no second filing), whatever the other fields say.
   */
  idempotencyKey: string;
  /**
   * ISO timestamp before which the operator must not start processing (the undo window of
   * irreversible requests such as closing a number). Omitted: process as soon as possible.
   */
  notBefore?: string;
}

/** A refund claim for a charge the subscriber says they never agreed to (its own ticket and status). */
export interface ChargeDispute {
  /** Ticket, e.g. TS20261124000001. */
  ticket: string;
  msisdn: string;
  subscriptionId: string;
  serviceName: string;
  /** Months of fees claimed back, in fen. */
  claimedFen: number;
  status: 'submitted' | 'investigating' | 'refunded' | 'rejected';
  /** ISO timestamps: filed, and when the operator promises an answer. */
  createdAt: string;
  dueAt: string;
}

/** A line suspended because the phone was lost or stolen. */
export interface LineSuspension {
  /** Ticket of the suspension, e.g. GS20261124000001. */
  ticket: string;
  msisdn: string;
  /** ISO timestamp. */
  suspendedAt: string;
}

export interface RequestQuery {
  msisdn?: string;
  status?: RequestStatus;
}

/**
 * The operator's back end (BOSS/CRM): subscriptions, identity secrets and cancellation requests.
 * Implementations: EmbeddedOperatorBackend (lowdb file, simulates processing) and HttpOperatorBackend.
 * Every method throws AppError on failure (never returns null):
 *   'backend.unknownSubscriber', 'backend.unknownSubscription', 'backend.unknownRequest',
 *   'backend.unavailable' (network/5xx), 'backend.timeout', 'backend.badResponse'.
 * Money is in fen; timestamps are ISO-8601 strings.
 */
export interface OperatorBackend {
  /** Whether a number belongs to this operator and is active. Never throws for an unknown number. */
  hasSubscriber(msisdn: string): Promise<boolean>;
  /** Throws 'backend.unknownSubscriber' for a number that is not ours. */
  getSubscriber(msisdn: string): Promise<SubscriberProfile>;
  /** All active subscriptions of a number (including the plan, broadband and the number line itself). */
  listSubscriptions(msisdn: string): Promise<Subscription[]>;
  /** Checks a 服务密码 or the last 6 ID digits. Returns false for a wrong value; throws only for failures. */
  verifySecret(msisdn: string, kind: SecretKind, value: string): Promise<boolean>;
  /** Files one cancellation. Idempotent by idempotencyKey. */
  fileUnsubscription(input: FileUnsubscriptionInput): Promise<UnsubscribeRequest>;
  /**
   * Withdraws (undoes) a request that processing has not started on: status becomes 'withdrawn'
   * and the subscription stays active. Idempotent: withdrawing a withdrawn request returns it.
   * Throws 'backend.rejected' once processing started or the request is final, 'backend.unknownRequest'.
   */
  withdrawUnsubscription(ticket: string): Promise<UnsubscribeRequest>;
  /**
   * Urgent suspension of a lost or stolen line (挂失停机): reversible, not an unsubscription.
   * Idempotent by idempotencyKey. Throws 'backend.unknownSubscriber'.
   */
  suspendLine(msisdn: string, idempotencyKey: string): Promise<LineSuspension>;
  /**
   * Files a refund claim for an unwanted subscription (未经同意订购). Idempotent by key.
   * Throws 'backend.unknownSubscriber', 'backend.unknownSubscription'.
   */
  fileDispute(input: { msisdn: string; subscriptionId: string; idempotencyKey: string }): Promise<ChargeDispute>;
  /** Throws 'backend.unknownRequest' for an unknown ticket. */
  getRequest(ticket: string): Promise<UnsubscribeRequest>;
  /** Newest first. */
  listRequests(query: RequestQuery): Promise<UnsubscribeRequest[]>;
  /**
   * Calls listener whenever a request changes status. Push is a hint, not a guarantee:
   * callers that must not miss a change also poll getRequest (see RequestTracker).
   * Returns an unsubscribe function.
   */
  onStatusChange(listener: (request: UnsubscribeRequest) => void): () => void;
  /** Starts background work (the embedded back end's processing clock). Idempotent. */
  start(): Promise<void>;
  /** Stops background work and flushes. Idempotent. */
  close(): Promise<void>;
}
