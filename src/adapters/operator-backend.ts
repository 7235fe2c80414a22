import type { Charge, SubscriberProfile, Subscription, UnsubscribeRequest, RequestStatus } from '../domain/types.js';

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

/**
 * A refund claim for charges the subscriber did not owe (its own ticket and status). getRequest on
 * its ticket returns it as a request of kind 'dispute' (amountFen = claimedFen, dueAt), moving
 * submitted → processing (under investigation) → completed (refunded) | rejected.
 */
export interface ChargeDispute {
  /** Ticket, e.g. TS20261124000001. */
  ticket: string;
  msisdn: string;
  subscriptionId: string;
  serviceName: string;
  /** What is claimed back, in fen: the named charges, or months of fees for an unwanted subscription. */
  claimedFen: number;
  status: 'submitted' | 'processing' | 'completed' | 'rejected';
  /** ISO timestamps: filed, and when the operator promises an answer. */
  createdAt: string;
  dueAt: string;
}

export interface FileDisputeInput {
  msisdn: string;
  subscriptionId: string;
  idempotencyKey: string;
  /** Claim exactly these charges (of that subscription); omitted: an unwanted subscription's fees. */
  chargeIds?: string[];
  /** The cancellation after whose effective date the charges were booked. */
  parentTicket?: string;
}

/** A service password change. */
export interface PasswordChange {
  msisdn: string;
  /** ISO timestamp. */
  changedAt: string;
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
  /**
   * Files one cancellation. Idempotent by idempotencyKey. Closing a number that has a balance also
   * opens its balance refund (its own request, named by refundTicket): it waits while the closure
   * does, moves to processing when the closure completes and to completed once the money is paid,
   * and is withdrawn when the closure is withdrawn or rejected.
   */
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
   * Files a refund claim: for an unwanted subscription (未经同意订购: the operator decides how many
   * months of fees), or, with chargeIds, for exactly those charges (billed after a cancellation took
   * effect; parentTicket names that cancellation). Idempotent by key.
   * Throws 'backend.unknownSubscriber', 'backend.unknownSubscription', 'backend.rejected' (a charge
   * id that is not a charge of that subscription).
   */
  fileDispute(input: FileDisputeInput): Promise<ChargeDispute>;
  /** The number's charges, newest first (cancelled subscriptions included). Throws 'backend.unknownSubscriber'. */
  listCharges(msisdn: string): Promise<Charge[]>;
  /**
   * Sets a new 6-digit service password (服务密码). The caller has verified the subscriber with a
   * strong check. Idempotent by key (a replay with the same key changes nothing again).
   * Throws 'backend.rejected' for a password the operator refuses (not 6 digits, weak, the same as
   * before), 'backend.unknownSubscriber'. The password never appears in a log or an error message.
   */
  changeServicePassword(input: { msisdn: string; newSecret: string; idempotencyKey: string }): Promise<PasswordChange>;
  /** Any request by ticket (cancellation, refund claim, balance refund). Throws 'backend.unknownRequest' for an unknown ticket. */
  getRequest(ticket: string): Promise<UnsubscribeRequest>;
  /** Every kind of request, newest first. */
  listRequests(query: RequestQuery): Promise<UnsubscribeRequest[]>;
  /**
   * Calls listener whenever a request (of any kind) changes status. Push is a hint, not a guarantee:
   * callers that must not miss a change also poll getRequest (see RequestTracker).
   * Returns an unsubscribe function.
   */
  onStatusChange(listener: (request: UnsubscribeRequest) => void): () => void;
  /** Starts background work (the embedded back end's processing clock). Idempotent. */
  start(): Promise<void>;
  /** Stops background work and flushes. Idempotent. */
  close(): Promise<void>;
}
