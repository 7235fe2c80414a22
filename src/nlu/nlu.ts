import type { TargetType } from '../domain/types.js';

export type Intent =
  | 'unsubscribe'
  | 'query_status'
  | 'human_agent'
  | 'cancel'
  | 'help'
  | 'confirm'
  | 'deny'
  | 'greeting'
  | 'other'
  /** Wants to see every paid item on the number (我每个月都扣了些什么). */
  | 'review'
  /** A charge the user does not recognise or never agreed to, without asking to cancel (没订过怎么扣费了). */
  | 'unwanted_charge'
  /** Still charged for something already cancelled (退订了还在扣钱). */
  | 'still_charged'
  /** Take back a request that was already filed (撤销, 刚才那个别退了). */
  | 'undo'
  /** Wants the receipt or ticket number of a filed request again (把回执再发我一次). */
  | 'receipt'
  /** Lost or stolen phone, or leaked personal data: urgent suspension, not an unsubscription (手机丢了). */
  | 'lost_phone'
  /** A question about consequences before deciding: fees, penalties, effective date, re-subscribing (退订会不会扣钱). */
  | 'fee_question';

export const INTENTS: readonly Intent[] = [
  'unsubscribe', 'query_status', 'human_agent', 'cancel', 'help', 'confirm', 'deny', 'greeting', 'other',
  'review', 'unwanted_charge', 'still_charged', 'undo', 'receipt', 'lost_phone', 'fee_question',
];

/**
 * Which of the listed items the user picked: 1-based positions, all of them, a run from the start
 * or the end of the list (前两个, 最后一个), or all but some (除了视频彩铃都退了: positions and
 * catalogue ids and kinds left out; the ids are then not among the utterance's serviceIds).
 */
export type Choice =
  | { kind: 'all' }
  | { kind: 'indexes'; indexes: number[] }
  | { kind: 'first' | 'last'; count: number }
  | { kind: 'allExcept'; indexes: number[]; serviceIds: string[]; targets: TargetType[] };

export interface NluResult {
  text: string;
  /** After width folding, Traditional → Simplified and lower-casing. */
  normalized: string;
  intent: Intent;
  /** Calibrated probability of `intent`, 0..1. */
  confidence: number;
  /** The request was negated (我不想退订了): intent is then never 'unsubscribe'. */
  negated: boolean;
  target: TargetType | null;
  /** Catalogue service ids named in the text, best match first (tolerant of short names and small typos). */
  serviceIds: string[];
  /** A mainland mobile number (11 digits, 1[3-9]…), without +86 or separators. */
  msisdn: string | null;
  /** A 6-digit verification code or service password. */
  code: string | null;
  /** Last 6 ID digits (5 digits then a digit or X), upper-cased. Equals `code` when all six are digits. */
  idTail: string | null;
  /** A monthly fee the user describes a service by (每个月扣我10块钱的那个), in fen. */
  feeFen: number | null;
  choice: Choice | null;
  /** A ticket number (TD + 14 digits). */
  ticket: string | null;
  /** The SMS code did not arrive, or another is wanted (验证码没收到, 重新发一个验证码). */
  asksNewCode: boolean;
  /** How many digits a message of nothing but digits holds when they make no number, code or ticket (a mistyped number: 1380013800 has 10), else null. */
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
  /** Whatever yes words it has, the message is no yes: put as a question (确认销号吗) or refused (确认销号不了). */
  notAYes?: boolean;
  /** The number, the only thing named, is to be kept while unused (停机保号, 手机号要停一段时间): a suspension, not a closure. */
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
}

export interface NluContext {
  /** The user's own subscriptions, when known: matching prefers these. */
  subscriptions?: { serviceId: string; name: string }[];
}

/** Understands one Chinese utterance. Pure and synchronous; never throws for any string input. */
export interface Nlu {
  parse(text: string, context?: NluContext): NluResult;
}
