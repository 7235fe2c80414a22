/**
 * Types of the unsubscribe dialog: what the machine knows, the events it reacts to and the effects
 * it asks the runtime to carry out. Structurally compatible with the domain types in src/domain,
 * without importing them (dialogs/ depends on nothing but xstate).
 */

export type Target = 'vas' | 'addon' | 'plan' | 'broadband' | 'number';

export type Intent =
  | 'unsubscribe' | 'query_status' | 'human_agent' | 'cancel' | 'help'
  | 'confirm' | 'deny' | 'greeting' | 'other'
  | 'review' | 'unwanted_charge' | 'still_charged' | 'undo' | 'receipt' | 'lost_phone' | 'fee_question';

export type Choice =
  | { kind: 'all' }
  | { kind: 'indexes'; indexes: number[] }
  | { kind: 'first' | 'last'; count: number }
  | { kind: 'allExcept'; indexes: number[]; serviceIds: string[]; targets: Target[] };

/** What the user said, as understood by the NLU (plus one runtime-checked phrase). */
export interface Utterance {
  intent: Intent;
  confidence: number;
  negated: boolean;
  target: Target | null;
  serviceIds: string[];
  msisdn: string | null;
  code: string | null;
  idTail: string | null;
  /** A monthly fee the user describes a service by (10块钱的那个), in fen. */
  feeFen?: number | null;
  choice: Choice | null;
  ticket: string | null;
  /** Complaint words (投诉, 12300, 工信部…): a human should take over. */
  complaint: boolean;
  /** 删除我的个人信息: delete what the bot stored about the user. */
  deleteData?: boolean;
  /** 改服务密码: change the service password. */
  changePassword?: boolean;
  /** 验证码没收到, 重新发一个验证码: another SMS code is wanted. */
  asksNewCode?: boolean;
  /** How many digits a message of nothing but digits holds when they make no number or code (a mistyped number or code). */
  strayDigits?: number | null;
  /** The message is about payment or bank accounts tied to the number (那我的支付宝呢). */
  aboutBoundAccounts?: boolean;
  /** The message orders something (开通流量包) and cancels nothing: out of the bot's scope. */
  ordersSomething?: boolean;
  /** The message is about advertising texts (别再给我发广告短信了): nothing subscribed, so nothing to cancel here. */
  aboutMarketingSms?: boolean;
  /** The service password or the ID number is not at hand (忘了服务密码, 身份证不在身边). */
  forgotSecret?: boolean;
  /** Another number is to be used than the one asked for or given (换个号码, 用我另一个号码). */
  asksOtherNumber?: boolean;
  /** When or how a service was ordered (什么时候开通的, 开通记录); not who ordered it. */
  asksOrderRecord?: boolean;
  /** The customer-service phone number is asked for (你们客服电话多少). */
  asksHotline?: boolean;
  /** The service is said outright never to have been ordered (没订过, 不是我开的). */
  claimsNeverOrdered?: boolean;
  /** The number, the only thing named, is to be kept while unused (停机保号): a suspension, not a closure, and not done here. */
  keepsNumber?: boolean;
  /** The whole message asks whether the bot is a machine or a person (你是机器人吗, 是真人吗). */
  aboutBot?: boolean;
  /** The message names the account's everyday business (余额, 充值, 账单, 积分), done elsewhere when it asks for nothing else. */
  aboutAccount?: boolean;
  /** 我要退宽带，顺便把号也销了: another clause also asks to close the number, besides the request read. */
  alsoClosesNumber?: boolean;
  /** Catalogue ids a generic word in the message can mean (流量包 → every 流量包), when it names no service. */
  family?: string[];
  /** 不是这个, 选错了: what was picked or proposed is not what the user meant. */
  notThisOne?: boolean;
  /** 都不是, 没有我要的: nothing in the list shown is what the user meant. */
  noneOfThese?: boolean;
  /** The whole message thanks the bot, asks for a moment or says goodbye: answered, no miss counted. */
  courtesy?: 'thanks' | 'wait' | 'bye' | null;
  /** The user typed the locale's explicit phrase for closing a number (确认销号). */
  confirmsNumberClosure: boolean;
}

export interface DialogSubscription {
  subscriptionId: string;
  serviceId: string;
  name: string;
  target: Target;
  monthlyFeeFen: number;
  effective: 'immediate' | 'nextMonth' | 'afterVisit';
  refundThisMonth: boolean;
  risk: 'sms' | 'strong';
  contractEndsAt: string | null;
  penaltyFen: number;
  notes: string[];
  /** ISO date subscribed and how (短信, APP…), for the subscription review. */
  since?: string;
  channel?: string;
  lastUsedAt?: string | null;
  /** The operator holds the subscriber's consent to the order (so a claim that it was unwanted will likely fail). */
  orderConfirmation?: 'sms' | 'signature' | null;
  /** Its cancellation is already under way (the ticket): not offered again. */
  pendingTicket?: string | null;
  /** Costs money and was not used in the last three months (computed by the runtime, which knows the date). */
  unused?: boolean;
}

export interface DialogProfile {
  arrearsFen: number;
  balanceFen: number;
  boundAccounts: string[];
}

export interface FiledRequest {
  ticket: string;
  subscriptionId: string;
  /** Catalogue id; absent in snapshots saved before names were localised. */
  serviceId?: string;
  serviceName: string;
  target: Target;
  status: 'submitted' | 'processing' | 'completed' | 'rejected' | 'withdrawn';
  /** ISO timestamps. */
  createdAt: string;
  effectiveAt: string;
  reasonKey?: string | null;
  /** The receipt's verification code (a hash of the request record). */
  receiptCode: string;
  /** Until when the user may undo (撤销) it, if processing has not started; null: no undo. */
  undoUntil: string | null;
  /** Absent: a cancellation. */
  kind?: 'unsubscription' | 'dispute' | 'balanceRefund';
  /** Refunds: the amount in fen. */
  amountFen?: number;
  /** Balance refunds: 'original' (back along the payment channel) or 'store'. */
  refundChannel?: 'original' | 'store';
  /** Refund claims: ISO timestamp of the promised answer. */
  dueAt?: string;
  /** A number closure with a balance: the ticket of its balance refund. */
  refundTicket?: string;
  /** A completed cancellation charged after its effective date: what was charged and when (the latest charge). */
  strayCharge?: { amountFen: number; chargedAt: string };
}

/** A refund claim filed for a charge the user never agreed to. */
export interface FiledDispute {
  ticket: string;
  /** Catalogue id of the disputed service; absent in snapshots saved before names were localised. */
  serviceId?: string;
  serviceName: string;
  claimedFen: number;
  /** ISO timestamp the operator promises an answer by. */
  dueAt: string;
}

/**
 * A name that comes from data (the catalogue, the back end) rather than from locales/: a service
 * (its catalogue id where known), a bound account or an ordering channel. The runtime shows it in
 * the reply's locale; `name` is the back end's own, shown where no translation is known.
 */
export interface DataName {
  kind: 'service' | 'account' | 'channel';
  name: string;
  id?: string;
}

/** A message parameter: text, a number, or names from data (a list is joined the locale's way). */
export type ParamValue = string | number | DataName | DataName[];

/** A message to show: a locale key and its parameters. */
export interface Message {
  key: string;
  params?: Record<string, ParamValue>;
}

/** How a list of filed requests is shown: progress, receipts, or an explanation of charges after cancelling. */
export type RequestView = 'status' | 'receipt' | 'charges';

export type Purpose = 'unsubscribe' | RequestView | 'review' | 'lostPhone' | 'unwantedCharge' | 'deleteData' | 'changePassword';

export type HandoffReason = 'user' | 'misunderstood' | 'identityLocked' | 'backendFailed' | 'complaint' | 'stillCharged';

export interface DialogContext {
  purpose: Purpose;
  target: Target | null;
  /** Catalogue ids the user named. */
  wanted: string[];
  /**
   * Everything but these (除了视频彩铃都退了): services and kinds the user keeps. Absent in
   * snapshots saved before it existed, which read as none.
   */
  except?: { serviceIds: string[]; targets: Target[] } | null;
  /** The monthly fee the user described the service by (每个月扣我10块钱的那个), in fen; absent in older snapshots. */
  fee?: number | null;
  /**
   * The services a generic word the user used can mean (流量包: every catalogue service with 流量包
   * in a name), when no service was named; absent in older snapshots, which read as none.
   */
  family?: string[];
  /** The number the user gave (not yet verified until `verified`). */
  msisdn: string | null;
  verified: boolean;
  strongVerified: boolean;
  subscriptions: DialogSubscription[];
  profile: DialogProfile | null;
  /** The numbered list shown to the user. */
  candidates: DialogSubscription[];
  /** The user named services or a target that matched nothing they have: the list shows everything instead. */
  missedTarget: boolean;
  selected: DialogSubscription[];
  /** Incremented on every confirmed filing; part of the idempotency key. */
  filingSeq: number;
  /** Tickets filed in this conversation. */
  tickets: string[];
  /** Tickets of the most recent filing: what 撤销 would undo. */
  lastTickets: string[];
  /** Consecutive messages the bot did not understand. */
  misses: number;
  /** The last question asked, repeated after help or a message the bot did not understand. */
  prompt: Message | null;
  promptChoices: Message[];
}

export type DialogEvent =
  | { type: 'user.message'; utterance: Utterance }
  | { type: 'identity.codeSent' }
  | { type: 'identity.sendFailed'; reason: 'rateLimited' | 'unavailable' | 'unknownNumber' }
  | { type: 'identity.verified' }
  | { type: 'identity.failed'; attemptsLeft: number }
  | { type: 'identity.locked'; minutes: number }
  | { type: 'identity.expired' }
  | { type: 'secret.verified' }
  | { type: 'secret.failed'; attemptsLeft: number }
  | { type: 'subscriptions.loaded'; subscriptions: DialogSubscription[]; profile: DialogProfile }
  | { type: 'subscriptions.failed' }
  | { type: 'backend.filed'; requests: FiledRequest[]; disputes?: FiledDispute[] }
  | { type: 'backend.failed' }
  | { type: 'status.loaded'; requests: FiledRequest[]; view: RequestView }
  | { type: 'status.failed' }
  | { type: 'backend.withdrawn'; withdrawn: FiledRequest[]; tooLate: FiledRequest[] }
  | { type: 'backend.withdrawFailed' }
  | { type: 'line.suspended'; ticket: string; suspendedAt: string }
  | { type: 'line.suspendFailed' }
  | { type: 'data.deleted' }
  | { type: 'data.deleteFailed' }
  | { type: 'refunds.filed'; disputes: FiledDispute[] }
  | { type: 'refunds.failed' }
  | { type: 'password.changed'; changedAt: string }
  | { type: 'password.rejected' }
  | { type: 'password.changeFailed' };

/** Effects the runtime carries out; each result comes back as one of the events above. */
export type DialogEffect =
  | { type: 'say'; params: { key: string; params?: Record<string, ParamValue>; lines?: Message[]; choices?: Message[] } }
  | { type: 'sendCode'; params: { msisdn: string } }
  | { type: 'checkCode'; params: { msisdn: string; code: string } }
  | { type: 'checkSecret'; params: { msisdn: string; value: string } }
  | { type: 'loadSubscriptions'; params: { msisdn: string } }
  | { type: 'fileRequests'; params: { msisdn: string; subscriptionIds: string[]; filingSeq: number; dispute: boolean } }
  | { type: 'loadStatus'; params: { msisdn: string | null; ticket: string | null; tickets: string[]; view: RequestView } }
  | { type: 'requestHuman'; params: { reason: HandoffReason } }
  | { type: 'withdrawRequests'; params: { tickets: string[] } }
  | { type: 'suspendLine'; params: { msisdn: string } }
  | { type: 'deleteMyData'; params: { msisdn: string } }
  /** Refund claims for the charges booked after these completed cancellations took effect. */
  | { type: 'fileRefunds'; params: { tickets: string[] } }
  /** The new password travels only in this effect: never in the context, the snapshot or a message. */
  | { type: 'changeServicePassword'; params: { msisdn: string; newSecret: string } };
