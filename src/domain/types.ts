/**
 * Domain vocabulary shared by the NLU, the adapters, the stores and the runtime.
 * The dialog machine keeps its own structurally compatible copies (dialogs/ imports nothing from src/).
 */

export type TargetType = 'vas' | 'addon' | 'plan' | 'broadband' | 'number';
export const TARGET_TYPES: readonly TargetType[] = ['vas', 'addon', 'plan', 'broadband', 'number'];

/** When a cancellation takes effect. */
export type Effective = 'immediate' | 'nextMonth' | 'afterVisit';

/** One entry of data/catalogue.json. Money is in fen (1 yuan = 100 fen). */
export interface CatalogueService {
  id: string;
  /** Official name shown to the user, e.g. 视频彩铃 (Simplified Chinese: the source, and what the back end calls it). */
  name: string;
  /** The name in every other reply locale (zh-TW, en-US), checked at load. */
  names: Record<string, string>;
  /** Other names subscribers use: short names, brand names, common typos are NOT listed here (the matcher tolerates them). */
  aliases: string[];
  target: TargetType;
  monthlyFeeFen: number;
  effective: Effective;
  /** Whether the remaining fee of the current month is refunded when cancelled. */
  refundThisMonth: boolean;
  /** Identity checks needed: 'sms' only, or 'strong' (SMS code plus service password or last 6 ID digits). */
  risk: 'sms' | 'strong';
  /** Hours the operator promises to finish a filed cancellation in. */
  slaHours: number;
  /** Extra consequence notes as locale keys (e.g. 'catalogue.note.returnModem'). */
  notes: string[];
}

export interface Catalogue {
  services: CatalogueService[];
  /**
   * Deadlines of the requests that are not cancellations: refund claims (dispute) and the balance
   * refund after closing a number (balanceRefund), in hours from filing.
   */
  requestTypes: Record<Exclude<RequestKind, 'unsubscription'>, { slaHours: number }>;
}

/** A service a subscriber actually has. */
export interface Subscription {
  subscriptionId: string;
  serviceId: string;
  name: string;
  target: TargetType;
  monthlyFeeFen: number;
  /** ISO date the subscription started. */
  since: string;
  /** How it was ordered, e.g. 短信, 营业厅, APP. */
  channel: string;
  effective: Effective;
  refundThisMonth: boolean;
  risk: 'sms' | 'strong';
  /** ISO date a contract ends, when the subscription is under contract. */
  contractEndsAt: string | null;
  /** Penalty for ending the contract early, in fen; 0 when none. */
  penaltyFen: number;
  notes: string[];
  /** ISO timestamp the service was last used (played, consumed, called); null: never, or not measured. */
  lastUsedAt: string | null;
  /** How the subscriber's consent to the order was recorded (reply to the confirmation SMS, signed form); null: no record. */
  orderConfirmation: 'sms' | 'signature' | null;
  /** A cancellation of this subscription is already under way (submitted or processing): its ticket; null when none. */
  pendingTicket: string | null;
}

/** Facts about a subscriber that matter before closing a number or broadband. */
export interface SubscriberProfile {
  msisdn: string;
  /** Outstanding charges in fen. A number that owes money cannot be closed. */
  arrearsFen: number;
  /** Prepaid balance in fen, refunded on closing a number. */
  balanceFen: number;
  /** Payment and bank accounts bound to the number, e.g. 微信支付, 支付宝, 招商银行储蓄卡(尾号6688). */
  boundAccounts: string[];
}

/** withdrawn: the subscriber undid the request before processing started. */
export type RequestStatus = 'submitted' | 'processing' | 'completed' | 'rejected' | 'withdrawn';
export const FINAL_STATUSES: readonly RequestStatus[] = ['completed', 'rejected', 'withdrawn'];

/**
 * What a request is: a cancellation; a refund claim for charges the subscriber did not owe
 * (未经同意订购, or billed after a cancellation took effect); or the refund of the balance of a
 * closed number. All three share the status vocabulary: for refunds 'processing' means under
 * investigation / being paid and 'completed' means refunded.
 */
export type RequestKind = 'unsubscription' | 'dispute' | 'balanceRefund';
export const REQUEST_KINDS: readonly RequestKind[] = ['unsubscription', 'dispute', 'balanceRefund'];

/** Where a refund goes: back along the original payment channel, or collected at a store with ID. */
export type RefundChannel = 'original' | 'store';

/** A charge on a number's bill (the back end's billing record). */
export interface Charge {
  chargeId: string;
  msisdn: string;
  subscriptionId: string;
  serviceId: string;
  serviceName: string;
  amountFen: number;
  /** ISO timestamp the charge was booked. */
  chargedAt: string;
}

/** A request filed with the operator back end: a cancellation, a refund claim or a balance refund (see kind). */
export interface UnsubscribeRequest {
  /** Ticket number the user is given, e.g. TD20261124000123. */
  ticket: string;
  msisdn: string;
  subscriptionId: string;
  serviceId: string;
  serviceName: string;
  target: TargetType;
  status: RequestStatus;
  /** Why a request was rejected, as a locale key (e.g. 'status.reason.arrears'). */
  reasonKey: string | null;
  idempotencyKey: string;
  /** ISO timestamps. */
  createdAt: string;
  updatedAt: string;
  /** ISO date the cancellation takes effect (refunds: when filed). */
  effectiveAt: string;
  /** Absent: 'unsubscription' (records written before refunds were requests). */
  kind?: RequestKind;
  /** Refund claims and balance refunds: the amount, in fen. */
  amountFen?: number;
  /** Balance refunds: where the money goes. */
  refundChannel?: RefundChannel;
  /** Refund claims: ISO timestamp the operator promises an answer by. */
  dueAt?: string;
  /** A number closure with a balance: the ticket of its balance refund (its own request). */
  refundTicket?: string;
  /** A balance refund: its number closure; a refund claim for charges after a cancellation: that cancellation. */
  parentTicket?: string;
}

/** The kind of a request record, 'unsubscription' when the record does not say. */
export function kindOf(request: Pick<UnsubscribeRequest, 'kind'>): RequestKind {
  return request.kind ?? 'unsubscription';
}
