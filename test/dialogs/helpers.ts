/**
 * Builders and a pure driver for the unsubscribe machine. No I/O: events go in through
 * `transition()`, effects come out as plain `{ type, params }` objects.
 */
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { unsubscribeMachine } from '../../dialogs/unsubscribe.machine.js';
import type {
  DialogEffect, DialogEvent, DialogProfile, DialogSubscription, FiledRequest, RequestView, Target, Utterance,
} from '../../dialogs/unsubscribe.types.js';

export type Snapshot = SnapshotFrom<typeof unsubscribeMachine>;
export type EffectType = DialogEffect['type'];

export const MSISDN = '13800138000';
export const OTHER_MSISDN = '13900139000';
export const CODE = '482913';
export const ID_TAIL = '12345X';

/** An utterance as the NLU would produce it; anything not given is empty. */
export function utterance(partial: Partial<Utterance> = {}): Utterance {
  return {
    intent: 'other',
    confidence: 0.9,
    negated: false,
    target: null,
    serviceIds: [],
    msisdn: null,
    code: null,
    idTail: null,
    choice: null,
    ticket: null,
    complaint: false,
    confirmsNumberClosure: false,
    ...partial,
  };
}

/** The user says something: a `user.message` event. */
export function say(partial: Partial<Utterance> = {}): DialogEvent {
  return { type: 'user.message', utterance: utterance(partial) };
}

/** Common user messages. */
export const user = {
  unsubscribe: (target: Target | null = null, extra: Partial<Utterance> = {}) => say({ intent: 'unsubscribe', target, ...extra }),
  number: (msisdn = MSISDN) => say({ msisdn }),
  code: (code = CODE) => say({ code }),
  secret: (idTail = ID_TAIL) => say({ idTail }),
  pick: (...indexes: number[]) => say({ choice: { kind: 'indexes', indexes } }),
  pickAll: () => say({ choice: { kind: 'all' } }),
  confirm: () => say({ intent: 'confirm' }),
  closeNumber: () => say({ intent: 'confirm', confirmsNumberClosure: true }),
  deny: () => say({ intent: 'deny' }),
  cancel: () => say({ intent: 'cancel' }),
  human: () => say({ intent: 'human_agent' }),
  complaint: () => say({ intent: 'other', complaint: true }),
  help: () => say({ intent: 'help' }),
  status: (ticket: string | null = null) => say({ intent: 'query_status', ticket }),
  gibberish: () => say({ intent: 'other', confidence: 0.2 }),
};

function sub(
  subscriptionId: string, serviceId: string, name: string, target: Target, monthlyFeeFen: number,
  more: Partial<DialogSubscription> = {},
): DialogSubscription {
  const strong = target === 'plan' || target === 'broadband' || target === 'number';
  return {
    subscriptionId, serviceId, name, target, monthlyFeeFen,
    effective: target === 'vas' ? 'immediate' : target === 'addon' ? 'nextMonth' : 'afterVisit',
    refundThisMonth: target === 'vas',
    risk: strong ? 'strong' : 'sms',
    contractEndsAt: null,
    penaltyFen: 0,
    notes: [],
    ...more,
  };
}

/** Demo subscriptions of one subscriber, listed in the order the back end returns them. */
export const SUBS = {
  videoRingback: sub('sub-101', 'vas-video-ringback', '视频彩铃', 'vas', 600),
  musicMember: sub('sub-102', 'vas-music-member', '音乐会员', 'vas', 1500),
  data10g: sub('sub-103', 'addon-data-10g', '10GB流量包', 'addon', 3000),
  plan: sub('sub-105', 'plan-5g-129', '5G畅享129元套餐', 'plan', 12900, { contractEndsAt: '2027-06-30', penaltyFen: 30000 }),
  broadband: sub('sub-107', 'broadband-300m', '300M光纤宽带', 'broadband', 5000, { notes: ['warn.broadband.equipment'] }),
  numberLine: sub('sub-106', 'number-line', '手机号码（销号）', 'number', 0),
} satisfies Record<string, DialogSubscription>;

export const DEMO_SUBSCRIPTIONS: DialogSubscription[] = Object.values(SUBS);

export const PROFILE: DialogProfile = { arrearsFen: 0, balanceFen: 0, boundAccounts: [] };

/** A subscriber whose number carries everything a closure must warn about. */
export const RICH_PROFILE: DialogProfile = { arrearsFen: 1250, balanceFen: 5630, boundAccounts: ['微信支付', '支付宝'] };

export function filedRequest(s: DialogSubscription, ticket = `TD-${s.subscriptionId}`): FiledRequest {
  return {
    ticket, subscriptionId: s.subscriptionId, serviceName: s.name, target: s.target, status: 'submitted',
    createdAt: '2025-12-20T02:00:00.000Z', effectiveAt: '2026-01-01', receiptCode: 'ABCDEFGHJK', undoUntil: null,
  };
}

/** Results the runtime feeds back after carrying out an effect. */
export const result = {
  codeSent: (): DialogEvent => ({ type: 'identity.codeSent' }),
  sendFailed: (reason: 'rateLimited' | 'unavailable' | 'unknownNumber'): DialogEvent => ({ type: 'identity.sendFailed', reason }),
  verified: (): DialogEvent => ({ type: 'identity.verified' }),
  codeWrong: (attemptsLeft = 2): DialogEvent => ({ type: 'identity.failed', attemptsLeft }),
  locked: (minutes = 30): DialogEvent => ({ type: 'identity.locked', minutes }),
  expired: (): DialogEvent => ({ type: 'identity.expired' }),
  secretVerified: (): DialogEvent => ({ type: 'secret.verified' }),
  secretWrong: (attemptsLeft = 2): DialogEvent => ({ type: 'secret.failed', attemptsLeft }),
  loaded: (subscriptions: DialogSubscription[] = DEMO_SUBSCRIPTIONS, profile: DialogProfile = PROFILE): DialogEvent =>
    ({ type: 'subscriptions.loaded', subscriptions, profile }),
  loadFailed: (): DialogEvent => ({ type: 'subscriptions.failed' }),
  filed: (...subs: DialogSubscription[]): DialogEvent => ({ type: 'backend.filed', requests: subs.map((s) => filedRequest(s)) }),
  fileFailed: (): DialogEvent => ({ type: 'backend.failed' }),
  status: (requests: FiledRequest[] = [], view: RequestView = 'status'): DialogEvent => ({ type: 'status.loaded', requests, view }),
  statusFailed: (): DialogEvent => ({ type: 'status.failed' }),
};

/**
 * The events of a first request that gives the number, verifies by SMS and loads the
 * subscriptions: the dialog then rests in awaitingChoice, awaitingSecret or awaitingConfirmation.
 */
export function verifiedRequest(
  request: Partial<Utterance> = {},
  subscriptions: DialogSubscription[] = DEMO_SUBSCRIPTIONS,
  profile: DialogProfile = PROFILE,
): DialogEvent[] {
  return [
    say({ intent: 'unsubscribe', msisdn: MSISDN, ...request }),
    result.codeSent(),
    user.code(),
    result.verified(),
    result.loaded(subscriptions, profile),
  ];
}

export function initial(): Snapshot {
  return initialTransition(unsubscribeMachine)[0];
}

/** One transition: the next snapshot and the effects it asks for, in order. */
export function step(snapshot: Snapshot, event: DialogEvent): { snapshot: Snapshot; effects: DialogEffect[] } {
  const [next, actions] = transition(unsubscribeMachine, snapshot, event);
  return { snapshot: next, effects: actions.map((a) => ({ type: a.type, params: a.params }) as DialogEffect) };
}

export interface Run {
  snapshot: Snapshot;
  /** Every effect of every step, in order. */
  effects: DialogEffect[];
  /** Effects per step, aligned with the events. */
  steps: { event: DialogEvent; snapshot: Snapshot; effects: DialogEffect[] }[];
  /** Effects of the last event only. */
  last: DialogEffect[];
}

/** Folds `transition()` over the events, from the initial snapshot or `from`. */
export function run(events: DialogEvent[], from: Snapshot = initial()): Run {
  let snapshot = from;
  const steps: Run['steps'] = [];
  for (const event of events) {
    const r = step(snapshot, event);
    snapshot = r.snapshot;
    steps.push({ event, snapshot, effects: r.effects });
  }
  return { snapshot, effects: steps.flatMap((s) => s.effects), steps, last: steps.at(-1)?.effects ?? [] };
}

export function ofType<T extends EffectType>(effects: DialogEffect[], type: T): Extract<DialogEffect, { type: T }>[] {
  return effects.filter((e): e is Extract<DialogEffect, { type: T }> => e.type === type);
}

/** Locale keys of the `say` effects, in order. */
export function sayKeys(effects: DialogEffect[]): string[] {
  return ofType(effects, 'say').map((e) => e.params.key);
}

/** Keys of the lines of the `say` effects, in order. */
export function lineKeys(effects: DialogEffect[]): string[] {
  return ofType(effects, 'say').flatMap((e) => (e.params.lines ?? []).map((l) => l.key));
}

/** The state value as a dotted string: 'idle', 'session.awaitingCode'… */
export function where(snapshot: Snapshot): string {
  const value: unknown = snapshot.value;
  if (typeof value === 'string') return value;
  const [[parent, child]] = Object.entries(value as Record<string, unknown>) as [[string, unknown]];
  return typeof child === 'string' ? `${parent}.${child}` : parent;
}
