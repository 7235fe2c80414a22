import { and, assign, not, or, raise, setup } from 'xstate';
import { accountNames, channelName, requestName, serviceName, serviceNames } from './names.js';
import { isWeakPassword } from './password.js';
import { allBut, byFee, everythingOffered, heldNamed, matchSubscriptions, pick } from './selection.js';
import type {
  DialogContext, DialogEvent, DialogSubscription, FiledDispute, FiledRequest, HandoffReason, Message, ParamValue, Purpose, RequestView, Utterance,
} from './unsubscribe.types.js';

/**
 * The unsubscribe dialog. Pure: it never performs I/O. Every `say`, `sendCode`, `fileRequests`…
 * action is an effect that the runtime executes after `transition()`; results come back as events.
 * Changing state names or context shape requires bumping MACHINE_VERSION (old snapshots are then reset).
 */
export const MACHINE_VERSION = 1;

/** Below this NLU confidence an apparent request is checked with the user before anything starts. */
export const CLARIFY_BELOW = 0.6;

/** Wrong SMS codes / secrets allowed before the runtime locks verification. Mirrored in IdentityVerifier. */
export const MAX_ATTEMPTS = 3;

type UserMessage = Extract<DialogEvent, { type: 'user.message' }>;

function utter(event: DialogEvent): Utterance | null {
  return event.type === 'user.message' ? (event as UserMessage).utterance : null;
}

/** The 6 digits of a message that answers "your new service password?". */
function newPasswordOf(event: DialogEvent): string {
  const u = utter(event);
  return u?.code ?? u?.idTail ?? '';
}

const isIntent = (...intents: Utterance['intent'][]) =>
  ({ event }: { event: DialogEvent }) => {
    const u = utter(event);
    return u !== null && intents.includes(u.intent);
  };

export function initialContext(): DialogContext {
  return {
    purpose: 'unsubscribe',
    target: null,
    wanted: [],
    except: null,
    fee: null,
    family: [],
    msisdn: null,
    verified: false,
    strongVerified: false,
    subscriptions: [],
    profile: null,
    candidates: [],
    missedTarget: false,
    selected: [],
    filingSeq: 0,
    tickets: [],
    lastTickets: [],
    misses: 0,
    prompt: null,
    promptChoices: [],
  };
}

/** Context after a dialog ends: what was verified and filed in this conversation is kept. */
function endDialog(context: DialogContext): DialogContext {
  return {
    ...initialContext(),
    msisdn: context.verified ? context.msisdn : null,
    verified: context.verified,
    filingSeq: context.filingSeq,
    tickets: context.tickets,
    lastTickets: context.lastTickets,
  };
}

/**
 * The number a new dialog starts with: the verified one, else one typed now, else one typed in a
 * dialog the user just left for this one (kept by abandonDialog, still to be verified).
 */
function numberFor(context: DialogContext, u: Utterance): string | null {
  return context.verified ? context.msisdn : u.msisdn ?? context.msisdn;
}

const HUMAN_CHOICE: Message = { key: 'choice.human' };

/**
 * While a request is on its way to the back end (filing, suspending, deleting), neither a cancel nor
 * a new request may drop its result; only a human can be asked for. (Within one turn the runtime
 * finishes effects before the next message, so this guards against a future asynchronous runtime.)
 */
const whileBusy = [
  { guard: 'isHuman' as const, actions: { type: 'requestHuman' as const, params: { reason: 'user' as const } } },
  { actions: { type: 'say' as const, params: { key: 'file.inProgress' } } },
];


/**
 * The dialog a message asks for on its own, whatever was asked before: 删除我的个人信息, 改服务密码,
 * 手机丢了, 我每个月都扣了些什么, 没订过怎么扣费了, or a request to cancel something. Null: the
 * message is an answer, a question or chat.
 */
function topicOf(u: Utterance | null): Purpose | null {
  if (u === null) return null;
  if (u.deleteData) return 'deleteData';
  if (u.changePassword && !u.negated) return 'changePassword';
  // A guess at the intent never ends the dialog in progress.
  if (u.confidence < CLARIFY_BELOW) return null;
  if (u.intent === 'lost_phone') return 'lostPhone';
  if (u.intent === 'review') return 'review';
  if (u.intent === 'unwanted_charge') return 'unwantedCharge';
  if (u.intent === 'unsubscribe' && !u.negated) return 'unsubscribe';
  return null;
}

const namesService = (u: Utterance) => u.target !== null || u.serviceIds.length > 0;

/** What an all-but-some request keeps by name or kind (positions only mean something against a list shown). */
function exceptOf(u: Utterance): DialogContext['except'] {
  const c = u.choice;
  return c?.kind === 'allExcept' && (c.serviceIds.length > 0 || c.targets.length > 0) ? { serviceIds: c.serviceIds, targets: c.targets } : null;
}

/** The review and a disputed charge end in cancellations: asking to cancel continues them. */
function sameTopic(purpose: Purpose, topic: Purpose): boolean {
  return purpose === topic || (topic === 'unsubscribe' && (purpose === 'review' || purpose === 'unwantedCharge'));
}

/** Dialogs that cancel nothing: a cancellation request ends them, even when it names a service. */
const ASIDE: ReadonlySet<Purpose> = new Set(['deleteData', 'lostPhone', 'changePassword', 'status', 'receipt', 'charges']);

/**
 * The message starts another dialog: the current one is abandoned (nothing was filed in it) and the
 * message is handled as if no dialog were running. A cancellation that names a service within a
 * cancellation dialog is not a new dialog: it changes what is cancelled (namesOtherService).
 */
function switchesTopic(context: DialogContext, event: DialogEvent): boolean {
  const u = utter(event);
  const topic = topicOf(u);
  if (u === null || topic === null || sameTopic(context.purpose, topic)) return false;
  return topic !== 'unsubscribe' || !namesService(u) || ASIDE.has(context.purpose);
}

/** An answer to a question: 都退 reads as a cancellation too, but picks from the list. */
const answers = (u: Utterance) => u.choice !== null || u.msisdn !== null || u.code !== null || u.idTail !== null || (u.feeFen ?? null) !== null;

/** The same dialog asked for again without anything new (我要退订 while choosing): carry on. */
function repeatsTopic(context: DialogContext, event: DialogEvent): boolean {
  const u = utter(event);
  const topic = topicOf(u);
  return u !== null && topic !== null && sameTopic(context.purpose, topic) && !(topic === 'unsubscribe' && namesService(u)) && !answers(u);
}

const resumeWith = (key: string) => ({ context }: { context: DialogContext }) =>
  ({ key, lines: promptMessages(context), choices: context.promptChoices });

const askHuman = { guard: 'isHuman' as const, actions: ['resetMisses' as const, { type: 'requestHuman' as const, params: { reason: 'user' as const } }] };
const complain = { guard: 'isComplaint' as const, actions: ['resetMisses' as const, { type: 'requestHuman' as const, params: { reason: 'complaint' as const } }] };

/** A no to a yes/no question (filing, deletion, suspension, password offer): the dialog ends, and `key` says so. */
function declineEnds(key: string) {
  return { guard: 'isDecline' as const, target: '#tuiding.idle', actions: ['endDialog' as const, { type: 'say' as const, params: { key } }] };
}

/** The back end could not do what was asked: the dialog ends, the user hears `key`, and a human takes it from there. */
function failsToHuman(key: string) {
  return {
    target: '#tuiding.idle',
    actions: ['endDialog' as const, { type: 'say' as const, params: { key } }, { type: 'requestHuman' as const, params: { reason: 'backendFailed' as const } }],
  };
}

/**
 * Messages that are not an answer to the question asked, handled the same way in every waiting
 * state and before the state's own answers (手机丢了 must never be read as picking 手机报):
 * a person or a complaint is queued and the dialog goes on; another dialog replaces this one, and the
 * user is told what was dropped; progress questions, greetings, 验证码没收到 and the same request
 * again are answered, then the question is asked again. Cancelling is handled by each state or the root.
 */
/** Digits alone from this many on are read as a mistyped mobile number (11 digits), fewer as a mistyped 6-digit code. */
const MISTYPED_NUMBER_DIGITS = 9;

/**
 * Readings of a message that keeps the number (停机保号) that are handled as themselves: a lost phone,
 * a progress question, a person asked for, charges. Any other reading (a closure, or 不用 / 不是 read
 * as stopping or undoing) yields to keeping the number.
 */
const OVER_KEEPING_NUMBER: readonly string[] = ['lost_phone', 'query_status', 'human_agent', 'review', 'unwanted_charge', 'still_charged'];

/** 没订过, naming nothing, said of the services proposed for cancellation: a claim about those. */
function disputesProposal(context: Pick<DialogContext, 'purpose' | 'selected'>, u: Utterance): boolean {
  return context.purpose === 'unsubscribe' && u.intent === 'unwanted_charge' && u.claimsNeverOrdered === true
    && u.serviceIds.length === 0 && u.target === null && context.selected.length > 0;
}

/** Every one of `serviceIds` is among the services proposed for cancellation. */
function namesOnlyProposed(context: Pick<DialogContext, 'selected'>, serviceIds: string[]): boolean {
  return serviceIds.every((id) => context.selected.some((s) => s.serviceId === id));
}

/** Readings of a message naming proposed services that take them back (音乐会员留着 reads as cancel without a negation). */
const TAKING_BACK: readonly string[] = ['cancel', 'deny', 'undo'];

const interruptions = [
  askHuman,
  complain,
  {
    // 换个号码 / 用我另一个号码: not a no. Before a number is verified the next one given is used; after, which number the dialog is about.
    guard: 'asksOtherNumber' as const,
    actions: ['resetMisses' as const, { type: 'say' as const, params: ({ context }: { context: DialogContext }) => (context.verified
      ? { key: 'identity.number.other', params: { msisdn: context.msisdn ?? '' }, lines: promptMessages(context), choices: context.promptChoices }
      : { key: 'identity.number.another' }) }],
  },
  // Whole-message courtesies, whatever the classifier makes of them (谢谢 alone can read as a request).
  { guard: 'isThanks' as const, actions: [{ type: 'say' as const, params: resumeWith('thanks.resume') }] },
  { guard: 'asksToWait' as const, actions: [{ type: 'say' as const, params: resumeWith('wait.resume') }] },
  // 再见 in the middle of a dialog: it is kept for when the user comes back (until it expires).
  { guard: 'saysBye' as const, actions: [{ type: 'say' as const, params: { key: 'bye.pending' } }] },
  // 广告短信也帮我退了: nothing subscribed to cancel; how such texts are stopped, then the open question again.
  { guard: 'aboutMarketingSms' as const, actions: ['resetMisses' as const, { type: 'say' as const, params: resumeWith('scope.marketingSms') }] },
  // 客服电话多少: the hotlines, and a person one message away here; then the open question again.
  { guard: 'asksHotline' as const, actions: ['resetMisses' as const, { type: 'say' as const, params: resumeWith('scope.hotline') }] },
  // 停机保号: keeping the number is not closing it, and not done here; said so, then the open question again.
  { guard: 'keepsNumber' as const, actions: ['resetMisses' as const, { type: 'say' as const, params: resumeWith('scope.keepNumber') }] },
  // 你是机器人吗: said plainly, with the way to a person, then the open question again.
  { guard: 'asksAboutBot' as const, actions: ['resetMisses' as const, { type: 'say' as const, params: resumeWith('bot.identityResume') }] },
  {
    // 我要退订 → 我不知道我开了什么: the same cancellation, shown as the review of everything paid for.
    guard: 'turnsIntoReview' as const,
    actions: ['resetMisses' as const, 'becomeReview' as const, { type: 'say' as const, params: resumeWith('review.afterCheck') }],
  },
  {
    guard: 'switchesTopic' as const,
    target: '#tuiding.idle',
    actions: [
      {
        type: 'say' as const,
        params: ({ context, event }: { context: DialogContext; event: DialogEvent }) => {
          const u = utter(event);
          return { key: u && disputesProposal(context, u) ? 'switch.toDispute' : `switch.from.${isRequestView(context.purpose) ? 'status' : context.purpose}` };
        },
      },
      'handleAsNew' as const,
      'abandonDialog' as const,
    ],
  },
  { guard: 'repeatsTopic' as const, actions: ['resetMisses' as const, { type: 'say' as const, params: resumeWith('dialog.resume') }] },
  { guard: 'asksNewCode' as const, actions: ['resetMisses' as const, { type: 'say' as const, params: resumeWith('identity.code.notNeeded') }] },
  {
    guard: 'isStatus' as const,
    actions: [
      'resetMisses' as const,
      { type: 'loadStatus' as const, params: ({ context, event }: { context: DialogContext; event: DialogEvent }) => ({ msisdn: context.verified ? context.msisdn : null, ticket: utter(event)?.ticket ?? null, tickets: context.tickets, view: viewOf(utter(event)?.intent) }) },
    ],
  },
  { guard: 'isGreeting' as const, actions: ['resetMisses' as const, { type: 'say' as const, params: resumeWith('greeting.resume') }] },
  {
    // Another number after this one was verified: say which number the dialog is about, rather than guess.
    guard: 'otherNumberThanVerified' as const,
    actions: ['resetMisses' as const, { type: 'say' as const, params: ({ context }: { context: DialogContext }) => ({ key: 'identity.number.other', params: { msisdn: context.msisdn ?? '' }, lines: promptMessages(context), choices: context.promptChoices }) }],
  },
];

/**
 * The open question as it is asked again (after help, an unclear message, a language switch, a
 * handoff that ends): the prompt and, when it asks for a pick from a list, the list with it, so
 * that a channel without buttons still shows what the numbers stand for.
 */
export function promptMessages(context: Pick<DialogContext, 'prompt' | 'candidates'> & Partial<Pick<DialogContext, 'purpose' | 'wanted' | 'target' | 'subscriptions'>>): Message[] {
  const prompt = context.prompt;
  if (!prompt) return [];
  switch (prompt.key) {
    case 'choose.prompt':
    case 'choose.promptMissed':
      return [prompt, ...listLines(context.candidates), ...pendingListLines(context)];
    case 'dispute.prompt':
      return [prompt, ...recordLines(context.candidates)];
    case 'review.prompt':
      // The review's list ends with its prompt.
      return reviewLines(context.candidates);
    default:
      return [prompt];
  }
}

/**
 * Some of the services the user named are on the number and some are not (退订视频彩铃和来电提醒
 * on a number without 来电提醒): the warning says so before the rest is confirmed, rather than
 * drop them without a word. Only for a cancellation; a disputed charge lists its records.
 */
function namedPartlyHeld(context: Pick<DialogContext, 'purpose' | 'wanted' | 'candidates' | 'missedTarget' | 'subscriptions'>): boolean {
  return context.purpose === 'unsubscribe' && !context.missedTarget && context.wanted.length > 1
    && context.wanted.some((id) => !context.candidates.some((s) => s.serviceId === id) && !context.subscriptions.some((s) => s.serviceId === id && s.pendingTicket));
}

/** The subscription is one the user asked to cancel: named, or of the kind named when no service was. */
function asks(context: Pick<DialogContext, 'wanted' | 'target'>, s: DialogSubscription): boolean {
  return context.wanted.length > 0 ? context.wanted.includes(s.serviceId) : context.target !== null && s.target === context.target;
}

/** Subscriptions the user asked to cancel whose cancellation is already under way. */
function pendingAsked(context: Pick<DialogContext, 'purpose' | 'wanted' | 'target' | 'subscriptions'>): DialogSubscription[] {
  if (context.purpose !== 'unsubscribe') return [];
  return context.subscriptions.filter((s) => s.pendingTicket && asks(context, s));
}

function pendingLines(subs: DialogSubscription[]): Message[] {
  return subs.map((s) => ({ key: 'choose.pendingItem', params: { name: serviceName(s), ticket: s.pendingTicket ?? '' } }));
}

/** After a list of what can be cancelled: what was asked for and is already under way (流量包怎么取消 with one being cancelled). */
function pendingListLines(context: Partial<Pick<DialogContext, 'purpose' | 'wanted' | 'target' | 'subscriptions'>>): Message[] {
  if (!context.purpose || !context.subscriptions) return [];
  const underWay = pendingAsked({ purpose: context.purpose, wanted: context.wanted ?? [], target: context.target ?? null, subscriptions: context.subscriptions });
  return underWay.length > 0 ? [{ key: 'warn.alreadyPending', params: { names: serviceNames(underWay) } }] : [];
}

function listLines(candidates: DialogSubscription[]): Message[] {
  return candidates.map((s, i) => ({ key: 'choose.item', params: { n: i + 1, name: serviceName(s), feeFen: s.monthlyFeeFen } }));
}

/** The subscription review: every paid item with fee, start, channel and usage; then the unused ones and what they cost. */
function reviewLines(candidates: DialogSubscription[]): Message[] {
  const lines: Message[] = candidates.map((s, i) => ({
    key: s.lastUsedAt ? 'review.item' : 'review.itemNeverUsed',
    params: { n: i + 1, name: serviceName(s), feeFen: s.monthlyFeeFen, since: s.since ?? '', channel: channelName(s.channel), lastUsedAt: s.lastUsedAt ?? '' },
  }));
  const unused = candidates.filter((s) => s.unused);
  const total = candidates.reduce((sum, s) => sum + s.monthlyFeeFen, 0);
  lines.push({ key: 'review.total', params: { count: candidates.length, totalFen: total } });
  if (unused.length > 0) {
    lines.push({ key: 'review.unused', params: { names: serviceNames(unused), savingFen: unused.reduce((sum, s) => sum + s.monthlyFeeFen, 0) } });
  }
  lines.push({ key: 'review.prompt' });
  return lines;
}

/**
 * The subscription record (when and how it was ordered) that a disputed charge comes from, and
 * the consent the operator holds for it, said before the claim is filed rather than after it fails.
 */
function recordLines(subs: DialogSubscription[]): Message[] {
  return subs.flatMap((s, i): Message[] => [
    { key: 'dispute.record', params: { n: i + 1, name: serviceName(s), feeFen: s.monthlyFeeFen, since: s.since ?? '', channel: channelName(s.channel) } },
    ...(s.orderConfirmation ? [{ key: `dispute.confirmedOrder.${s.orderConfirmation}` }] : []),
  ]);
}

/** 这个是什么时候开通的 at a step that shows `subsOf` (the list, or what is proposed): answered from the order record, not taken for a claim that it was never ordered. */
function answersOrderRecord(subsOf: (context: DialogContext) => DialogSubscription[]) {
  return {
    guard: 'asksOrderRecord' as const,
    actions: [
      'resetMisses' as const,
      { type: 'say' as const, params: ({ context, event }: { context: DialogContext; event: DialogEvent }) => orderRecordAnswer(context, subsOf(context), utter(event)!.serviceIds) },
    ],
  };
}

/**
 * 这个是什么时候开通的, asked about services listed or proposed: when and how each was ordered (those
 * named, else all of `subs`), what to say if it was never ordered, then the open question again.
 */
function orderRecordAnswer(context: DialogContext, subs: DialogSubscription[], serviceIds: string[]): Message & { lines: Message[]; choices: Message[] } {
  const named = subs.filter((s) => serviceIds.includes(s.serviceId));
  const lines = (named.length > 0 ? named : subs).flatMap((s): Message[] => [
    { key: 'order.record.item', params: { name: serviceName(s), since: s.since ?? '', channel: channelName(s.channel) } },
    ...(s.orderConfirmation ? [{ key: `order.record.confirmed.${s.orderConfirmation}` }] : []),
  ]);
  return { key: 'order.record', lines: [...lines, { key: 'order.record.notMine' }, ...promptMessages(context)], choices: context.promptChoices };
}

function warningLines(context: DialogContext): Message[] {
  const lines: Message[] = context.purpose === 'unwantedCharge' ? [...recordLines(context.selected), { key: 'dispute.next' }] : [];
  if (namedPartlyHeld(context)) lines.push({ key: 'warn.partlyHeld' });
  for (const s of context.selected) {
    lines.push({ key: s.target === 'number' ? 'warn.number.title' : 'warn.service.title', params: { name: serviceName(s), feeFen: s.monthlyFeeFen } });
    lines.push({ key: `warn.effective.${s.effective}` });
    // A disputed order's fees are the refund claim's business (dispute.next says how), not the usual month rule.
    if (s.target !== 'number' && context.purpose !== 'unwantedCharge') lines.push({ key: s.refundThisMonth ? 'warn.refund.yes' : 'warn.refund.no' });
    if (s.penaltyFen > 0 && s.contractEndsAt) {
      lines.push({ key: 'warn.contract', params: { until: s.contractEndsAt, penaltyFen: s.penaltyFen } });
    }
    for (const note of s.notes) lines.push({ key: note });
    if (s.target === 'number') {
      const p = context.profile;
      if (p && p.arrearsFen > 0) lines.push({ key: 'warn.number.arrears', params: { amountFen: p.arrearsFen } });
      if (p && p.balanceFen > 0) lines.push({ key: 'warn.number.balance', params: { amountFen: p.balanceFen } });
      if (p && p.boundAccounts.length > 0) lines.push({ key: 'warn.number.bound', params: { accounts: accountNames(p.boundAccounts) } });
      lines.push({ key: 'warn.number.reissue' });
      lines.push({ key: 'warn.number.alternatives' });
    }
  }
  const underWay = pendingAsked(context);
  if (underWay.length > 0) lines.push({ key: 'warn.alreadyPending', params: { names: serviceNames(underWay) } });
  return lines;
}

const closesNumber = (context: DialogContext) => context.selected.some((s) => s.target === 'number');

/** What the back end has on record as tied to the number being closed (支付宝, 招商银行储蓄卡…), or that it has nothing. */
function boundAnswer(context: DialogContext): Message {
  const accounts = context.profile?.boundAccounts ?? [];
  return accounts.length > 0 ? { key: 'bound.listed', params: { accounts: accountNames(accounts) } } : { key: 'bound.none' };
}

/**
 * The question for the second check, as asked again after an aside: naming what needs it (退订5G畅享套餐需要…,
 * 销号需要…), or the lost-phone and password-change wording when the check is for those.
 */
function secretPrompt(context: DialogContext): Message {
  if (context.purpose === 'lostPhone') return { key: 'lost.secret.prompt' };
  if (context.purpose === 'changePassword') return { key: 'password.secret.prompt' };
  if (closesNumber(context)) return { key: 'identity.secret.promptNumber' };
  return { key: 'identity.secret.prompt', params: { names: serviceNames(context.selected.filter((s) => s.risk === 'strong')) } };
}

function confirmPrompt(context: DialogContext): Message {
  const names = serviceNames(context.selected);
  if (closesNumber(context)) return { key: 'confirm.number.prompt', params: { msisdn: context.msisdn ?? '' } };
  return context.purpose === 'unwantedCharge' ? { key: 'dispute.confirm', params: { names } } : { key: 'confirm.prompt', params: { names } };
}

/**
 * The lines of the receipt after a filing: each request, each refund claim, and the footer. Also
 * used by the runtime when the filing outbox files an order later (without the dialog's context).
 */
export function filingReceipt(requests: FiledRequest[], disputes: FiledDispute[], context?: DialogContext): Message[] {
  return [
    ...receiptLines(requests, context),
    ...disputes.map((d): Message => ({ key: 'dispute.receipt', params: { ticket: d.ticket, name: requestName(d), claimedFen: d.claimedFen, dueAt: d.dueAt } })),
    { key: 'receipt.footer' },
  ];
}

/** The receipt: per request what, when, effective date, code; plus the fees and refunds that were disclosed. */
function receiptLines(requests: FiledRequest[], context?: DialogContext): Message[] {
  const lines: Message[] = [];
  for (const r of requests) {
    if (r.kind === 'dispute') {
      lines.push({ key: 'dispute.receipt', params: { ticket: r.ticket, name: requestName(r), claimedFen: r.amountFen ?? 0, dueAt: r.dueAt ?? r.createdAt } });
      continue;
    }
    if (r.kind === 'balanceRefund') {
      lines.push({ key: 'receipt.balanceRefund.item', params: { ticket: r.ticket, amountFen: r.amountFen ?? 0, channelKey: `refund.channel.${r.refundChannel ?? 'original'}` } });
      continue;
    }
    lines.push({ key: 'receipt.item', params: { ticket: r.ticket, name: requestName(r), createdAt: r.createdAt, effectiveAt: r.effectiveAt, code: r.receiptCode } });
    if (r.undoUntil && (r.status === 'submitted' || r.status === 'processing')) lines.push({ key: r.target === 'number' ? 'receipt.undo.held' : 'receipt.undo', params: { undoUntil: r.undoUntil } });
    const sub = context?.selected.find((s) => s.subscriptionId === r.subscriptionId);
    if (!sub) continue;
    // With a refund claim for the same subscription, its fees are the claim's business (as in the warning).
    const claimed = context?.purpose === 'unwantedCharge';
    if (sub.target !== 'number' && !claimed) lines.push({ key: sub.refundThisMonth ? 'receipt.fee.refund' : 'receipt.fee.noRefund', params: { feeFen: sub.monthlyFeeFen } });
    if (sub.penaltyFen > 0 && sub.contractEndsAt) lines.push({ key: 'receipt.penalty', params: { penaltyFen: sub.penaltyFen } });
    if (sub.target === 'number' && context?.profile && context.profile.balanceFen > 0) {
      lines.push(r.refundTicket
        ? { key: 'receipt.balanceRefund', params: { amountFen: context.profile.balanceFen, ticket: r.refundTicket } }
        : { key: 'receipt.balance', params: { amountFen: context.profile.balanceFen } });
    }
  }
  return lines;
}

const isCancellation = (r: FiledRequest) => (r.kind ?? 'unsubscription') === 'unsubscription';

function showRequests(all: FiledRequest[], view: RequestView): { key: string; lines: Message[] } {
  // Charges are explained per cancellation; refunds are not cancellations.
  const requests = view === 'charges' ? all.filter(isCancellation) : all;
  // 退订了还在扣钱 with no cancellation on record here: it may have been done elsewhere, or not at all.
  if (requests.length === 0) return view === 'charges' ? { key: 'charges.none', lines: [] } : { key: 'status.none', lines: [] };
  if (view === 'receipt') return { key: 'receipt.again', lines: receiptLines(requests) };
  if (view === 'charges') return { key: 'charges.header', lines: chargeLines(requests) };
  return { key: 'status.header', lines: statusLines(requests) };
}

/** Completed cancellations that were still charged after their effective date: a refund is owed. */
const strayCharged = (requests: FiledRequest[]) => requests.filter((r) => isCancellation(r) && r.status === 'completed' && r.strayCharge);

/**
 * 退订了还在扣钱: for each cancellation, when charging stops and why a charge may still appear.
 * Monthly fees are billed per calendar month, so a charge in the month of cancelling is expected.
 */
function chargeLines(requests: FiledRequest[]): Message[] {
  return requests.map((r): Message => {
    if (r.status === 'completed' && r.strayCharge) {
      return { key: 'charges.chargedAfter', params: { name: requestName(r), ticket: r.ticket, effectiveAt: r.effectiveAt, amountFen: r.strayCharge.amountFen, chargedAt: r.strayCharge.chargedAt } };
    }
    return {
      key: r.status === 'completed' ? 'charges.completed' : r.status === 'submitted' || r.status === 'processing' ? 'charges.pending' : 'charges.notCancelled',
      params: { name: requestName(r), ticket: r.ticket, effectiveAt: r.effectiveAt },
    };
  });
}

function viewOf(intent: Utterance['intent'] | undefined): RequestView {
  return intent === 'receipt' ? 'receipt' : intent === 'still_charged' ? 'charges' : 'status';
}

function isRequestView(purpose: DialogContext['purpose']): purpose is RequestView {
  return purpose === 'status' || purpose === 'receipt' || purpose === 'charges';
}

const viewOfPurpose = (purpose: DialogContext['purpose']): RequestView => (isRequestView(purpose) ? purpose : 'status');

const hasPendingCancellation = (requests: FiledRequest[]) => requests.some((r) => isCancellation(r) && (r.status === 'submitted' || r.status === 'processing'));

function statusLines(requests: FiledRequest[]): Message[] {
  return requests.map((r) => {
    const params = {
      ticket: r.ticket, name: requestName(r), effectiveAt: r.effectiveAt, reasonKey: r.reasonKey ?? 'status.reason.none',
      amountFen: r.amountFen ?? 0, dueAt: r.dueAt ?? r.createdAt, channelKey: `refund.channel.${r.refundChannel ?? 'original'}`,
    };
    if (r.kind === 'dispute') return { key: `status.dispute.${r.status}`, params };
    if (r.kind === 'balanceRefund') return { key: `status.balanceRefund.${r.status}`, params };
    return { key: `status.item.${r.status}`, params };
  });
}

/**
 * What a status answer does: show the requests; for 退订了还在扣钱, also claim back charges booked
 * after a completed cancellation took effect, and have a human chase a cancellation still pending.
 */
const statusLoaded = [
  {
    guard: ({ event }: { event: DialogEvent }) => event.type === 'status.loaded' && event.view === 'charges' && strayCharged(event.requests).length > 0 && hasPendingCancellation(event.requests),
    actions: [
      { type: 'say' as const, params: ({ event }: { event: DialogEvent }) => showLoaded(event) },
      { type: 'fileRefunds' as const, params: ({ event }: { event: DialogEvent }) => ({ tickets: strayCharged(loaded(event)).map((r) => r.ticket) }) },
      { type: 'requestHuman' as const, params: { reason: 'stillCharged' as const } },
    ],
  },
  {
    guard: ({ event }: { event: DialogEvent }) => event.type === 'status.loaded' && event.view === 'charges' && strayCharged(event.requests).length > 0,
    actions: [
      { type: 'say' as const, params: ({ event }: { event: DialogEvent }) => showLoaded(event) },
      { type: 'fileRefunds' as const, params: ({ event }: { event: DialogEvent }) => ({ tickets: strayCharged(loaded(event)).map((r) => r.ticket) }) },
    ],
  },
  {
    // Still charged while a cancellation has not gone through: a human looks into it.
    guard: ({ event }: { event: DialogEvent }) => event.type === 'status.loaded' && event.view === 'charges' && hasPendingCancellation(event.requests),
    actions: [
      { type: 'say' as const, params: ({ event }: { event: DialogEvent }) => showLoaded(event) },
      { type: 'requestHuman' as const, params: { reason: 'stillCharged' as const } },
    ],
  },
  { actions: { type: 'say' as const, params: ({ event }: { event: DialogEvent }) => showLoaded(event) } },
];

function autoRefundLine(d: FiledDispute): Message {
  return { key: 'refund.auto.item', params: { ticket: d.ticket, name: requestName(d), claimedFen: d.claimedFen, dueAt: d.dueAt } };
}

function loaded(event: DialogEvent): FiledRequest[] {
  return event.type === 'status.loaded' ? event.requests : [];
}

function showLoaded(event: DialogEvent): { key: string; lines: Message[] } {
  return event.type === 'status.loaded' ? showRequests(event.requests, event.view) : { key: 'status.none', lines: [] };
}

export const unsubscribeMachine = setup({
  types: {
    context: {} as DialogContext,
    events: {} as DialogEvent,
  },
  actions: {
    // Effects: declared here so `transition()` returns them; the runtime executes them.
    say: (_: unknown, _params: { key: string; params?: Record<string, ParamValue>; lines?: Message[]; choices?: Message[] }) => {},
    sendCode: (_: unknown, _params: { msisdn: string }) => {},
    checkCode: (_: unknown, _params: { msisdn: string; code: string }) => {},
    checkSecret: (_: unknown, _params: { msisdn: string; value: string }) => {},
    loadSubscriptions: (_: unknown, _params: { msisdn: string }) => {},
    fileRequests: (_: unknown, _params: { msisdn: string; subscriptionIds: string[]; filingSeq: number; dispute: boolean }) => {},
    loadStatus: (_: unknown, _params: { msisdn: string | null; ticket: string | null; tickets: string[] }) => {},
    requestHuman: (_: unknown, _params: { reason: HandoffReason }) => {},
    withdrawRequests: (_: unknown, _params: { tickets: string[] }) => {},
    suspendLine: (_: unknown, _params: { msisdn: string }) => {},
    deleteMyData: (_: unknown, _params: { msisdn: string }) => {},
    fileRefunds: (_: unknown, _params: { tickets: string[] }) => {},
    changeServicePassword: (_: unknown, _params: { msisdn: string; newSecret: string }) => {},
    resetMisses: assign({ misses: 0 }),
    becomeReview: assign({ purpose: 'review' as const }),
    /** The dialog ends: what was verified and filed stays (endDialog). */
    endDialog: assign(({ context }) => endDialog(context)),
    /** The dialog ends without filing anything; what was verified and filed stays, and so does a number typed but not yet verified. */
    abandonDialog: assign(({ context }) => ({ ...endDialog(context), msisdn: context.msisdn })),
    /** The message is handled again, from the state the transition went to (idle: as a new request). */
    /**
     * The message is handled afresh, as if said with nothing going on. 没订过 said of what was proposed
     * (and naming nothing else) is about those services. Raised before abandonDialog clears them; the
     * raised event is handled once this transition is done.
     */
    handleAsNew: raise(({ context, event }) => {
      const u = utter(event);
      return u && disputesProposal(context, u) ? { type: 'user.message' as const, utterance: { ...u, serviceIds: context.selected.map((s) => s.serviceId) } } : event;
    }),
    /** Each confirmation gets its own number (part of the idempotency key); a retry keeps it. */
    nextFiling: assign(({ context }) => ({ filingSeq: context.filingSeq + 1 })),
    /** A new request from idle: keep what was verified, take the target and services named. */
    startRequest: assign(({ context, event }) => {
      const u = utter(event)!;
      return {
        ...endDialog(context), purpose: 'unsubscribe' as const, target: u.target, wanted: u.serviceIds, except: exceptOf(u), fee: u.feeFen ?? null,
        family: u.family ?? [], msisdn: numberFor(context, u),
      };
    }),
  },
  guards: {
    hasMsisdn: ({ event }) => utter(event)?.msisdn != null,
    hasCode: ({ event }) => utter(event)?.code != null,
    /** Digits alone that make no mobile number (1380013800): a number mistyped. */
    mistypedNumber: ({ event }) => (utter(event)?.strayDigits ?? 0) >= MISTYPED_NUMBER_DIGITS,
    /** Digits alone, too few or too many for the 6-digit code (12345, 1234567). */
    mistypedCode: ({ event }) => { const n = utter(event)?.strayDigits ?? 0; return n > 0 && n < MISTYPED_NUMBER_DIGITS; },
    hasSecret: ({ event }) => (utter(event)?.idTail ?? utter(event)?.code) != null,
    // 确认退订视频彩铃 with no dialog running is a request, not an answer.
    wantsUnsubscribe: ({ event }) => {
      const u = utter(event);
      if (u === null || u.negated) return false;
      return u.intent === 'unsubscribe' || (u.intent === 'confirm' && (u.target !== null || u.serviceIds.length > 0));
    },
    negatedRequest: ({ event }) => utter(event)?.negated === true,
    turnsIntoReview: ({ context, event }) => context.purpose === 'unsubscribe' && topicOf(utter(event)) === 'review'
      && context.target === null && context.wanted.length === 0 && !context.except && context.candidates.length === 0,
    switchesTopic: ({ context, event }) => switchesTopic(context, event),
    repeatsTopic: ({ context, event }) => repeatsTopic(context, event),
    asksNewCode: ({ event }) => utter(event)?.asksNewCode === true,
    otherNumberThanVerified: ({ context, event }) => { const m = utter(event)?.msisdn; return (context.verified || context.strongVerified) && m != null && m !== context.msisdn; },
    namesOtherService: ({ event }) => {
      const u = utter(event);
      return u !== null && u.intent === 'unsubscribe' && !u.negated && (u.target !== null || u.serviceIds.length > 0 || exceptOf(u) !== null);
    },
    isCancel: isIntent('cancel', 'deny'),
    isDecline: isIntent('cancel', 'deny'),
    // A yes must be only a yes: 我的号码是138… or a code is an answer to something else, never a confirmation.
    isConfirm: ({ event }) => {
      const u = utter(event);
      return u !== null && u.intent === 'confirm' && !u.negated && u.msisdn === null && u.code === null && u.idTail === null;
    },
    // 音乐会员先不退 while two or more are proposed: that one is dropped, the rest still proposed.
    dropsSomeProposed: ({ context, event }) => {
      const u = utter(event);
      if (!u || u.serviceIds.length === 0 || closesNumber(context)) return false;
      if (!u.negated && !TAKING_BACK.includes(u.intent)) return false;
      return namesOnlyProposed(context, u.serviceIds) && context.selected.some((s) => !u.serviceIds.includes(s.serviceId));
    },
    // 不要退视频彩铃 / 撤销 while a cancellation is only proposed: taking back what is proposed, not a filed one
    // (the proposed services named, or nothing filed in this conversation to undo).
    takesBackProposal: ({ context, event }) => {
      const u = utter(event);
      if (u?.intent !== 'undo') return false;
      if (u.serviceIds.length > 0) return namesOnlyProposed(context, u.serviceIds);
      return context.lastTickets.length === 0;
    },
    isHuman: isIntent('human_agent'),
    isUndo: isIntent('undo'),
    isReview: isIntent('review'),
    isFeeQuestion: isIntent('fee_question'),
    // Advertising texts, when the message names no service (an actual request beside them wins).
    asksAboutBot: ({ event }) => utter(event)?.aboutBot === true,
    // 什么时候开通的, and not 谁给我开的 beside it (a claim it was never ordered) nor a negated request.
    asksOrderRecord: ({ event }) => utter(event)?.asksOrderRecord === true && utter(event)?.negated !== true,
    asksHotline: ({ event }) => utter(event)?.asksHotline === true,
    asksOtherNumber: ({ event }) => utter(event)?.asksOtherNumber === true && utter(event)?.msisdn === null,
    /** Digits alone that make no number, code or ticket, however many (12345, 99). */
    hasStrayDigits: ({ event }) => (utter(event)?.strayDigits ?? 0) > 0,
    // 停机保号 / 手机号要停一段时间: the model reads it as closing the number, which it is not.
    keepsNumber: ({ event }) => {
      const u = utter(event);
      return u?.keepsNumber === true && !OVER_KEEPING_NUMBER.includes(u.intent);
    },
    aboutMarketingSms: ({ event }) => { const u = utter(event); return u?.aboutMarketingSms === true && u.target === null && u.serviceIds.length === 0; },
    unsure: ({ event }) => (utter(event)?.confidence ?? 1) < CLARIFY_BELOW,
    asksDeletion: ({ event }) => utter(event)?.deleteData === true,
    purposeIsDeletion: ({ context }) => context.purpose === 'deleteData',
    asksPasswordChange: ({ event }) => utter(event)?.changePassword === true && utter(event)?.negated !== true,
    purposeIsPasswordChange: ({ context }) => context.purpose === 'changePassword',
    // Only the digits typed now are looked at; they are never kept in the context.
    hasNewPassword: ({ event }) => /^\d{6}$/.test(newPasswordOf(event)),
    weakPassword: ({ context, event }) => isWeakPassword(newPasswordOf(event), context.msisdn),
    isLostPhone: isIntent('lost_phone'),
    isUnwantedCharge: isIntent('unwanted_charge'),
    purposeIsLostPhone: ({ context }) => context.purpose === 'lostPhone',
    hasLastFiling: ({ context }) => context.lastTickets.length > 0,
    isComplaint: ({ event }) => utter(event)?.complaint === true,
    isHelp: isIntent('help'),
    isGreeting: isIntent('greeting'),
    isThanks: ({ event }) => utter(event)?.courtesy === 'thanks',
    asksToWait: ({ event }) => utter(event)?.courtesy === 'wait',
    saysBye: ({ event }) => utter(event)?.courtesy === 'bye',
    isStatus: isIntent('query_status', 'receipt', 'still_charged'),
    isIdleReply: isIntent('confirm', 'deny', 'cancel'),
    isVerified: ({ context }) => context.verified && context.msisdn !== null,
    ticketIsOurs: ({ context, event }) => { const t = utter(event)?.ticket; return t != null && context.tickets.includes(t); },
    purposeIsStatus: ({ context }) => isRequestView(context.purpose),
    /** At a cancellation's confirmation, held services other than those proposed are named (不对，是视频彩铃). */
    namesOtherHeld: ({ context, event }) => {
      const u = utter(event);
      // 视频彩铃先不退 names a service to keep, not one to cancel instead.
      if (context.purpose !== 'unsubscribe' || closesNumber(context) || !u || u.serviceIds.length === 0 || u.intent === 'cancel' || u.negated) return false;
      const named = heldNamed(context.subscriptions, u.serviceIds);
      return named.length > 0 && named.some((s) => !context.selected.some((x) => x.serviceId === s.serviceId));
    },
    needsStrongCheck: ({ context }) => context.selected.some((s) => s.risk === 'strong') && !context.strongVerified,
    needsClosurePhrase: ({ context, event }) => closesNumber(context) && utter(event)?.confirmsNumberClosure !== true,
    // 我不确认销号 contains the phrase but says no.
    closurePhraseGiven: ({ context, event }) => {
      const u = utter(event);
      return closesNumber(context) && u !== null && u.confirmsNumberClosure && !u.negated && u.intent !== 'deny' && u.intent !== 'cancel'
        && u.msisdn === null && u.code === null;
    },
    missedTwice: ({ context }) => context.misses >= 1,
    hasSubscriptions: ({ context }) => context.subscriptions.length > 0,
    // 彩铃不退了 names a listed service but is not a pick.
    validPick: ({ context, event }) => {
      const u = utter(event);
      return u !== null && !u.negated && u.intent !== 'cancel' && u.intent !== 'deny' && pick(context.candidates, u.choice, u.serviceIds, u.feeFen ?? null) !== null;
    },
    choiceOutOfRange: ({ event }) => utter(event)?.choice != null,
    nothingToOffer: ({ context }) => context.candidates.length === 0,
    /**
     * The user named the services to cancel and the number holds them: nothing is left to choose.
     * Named ones the number does not hold are said in the warning (namedPartlyHeld).
     */
    namedHeld: ({ context }) => {
      if (context.purpose === 'review' || context.missedTarget || context.wanted.length === 0 || context.candidates.length === 0) return false;
      // Beside the services named, at most the one a generic word can mean (视频彩铃和流量包: the only 流量包 held).
      const besides = context.candidates.filter((s) => !context.wanted.includes(s.serviceId));
      return besides.length === 0 || (besides.length === 1 && (context.family ?? []).includes(besides[0]!.serviceId));
    },
    /** One subscription fits what the user asked for (a kind of service, or a charge to dispute). */
    singleObviousMatch: ({ context }) => context.candidates.length === 1 && !context.missedTarget
      && (context.target !== null || context.wanted.length > 0 || !!context.fee || context.purpose === 'unwantedCharge'),
    rateLimited: ({ event }) => event.type === 'identity.sendFailed' && event.reason === 'rateLimited',
    unknownNumber: ({ event }) => event.type === 'identity.sendFailed' && event.reason === 'unknownNumber',
  },
}).createMachine({
  id: 'tuiding',
  context: initialContext,
  initial: 'idle',
  on: {
    // Handlers shared by every state; a state's own handlers take precedence.
    'user.message': [
      askHuman,
      {
        // 撤销: undo the most recent filing while the undo window is open (the runtime checks time and status).
        guard: and(['isUndo', 'hasLastFiling']),
        actions: [assign({ misses: 0 }), { type: 'withdrawRequests', params: ({ context }) => ({ tickets: context.lastTickets }) }],
      },
      { guard: 'isUndo', actions: [assign({ misses: 0 }), { type: 'say', params: { key: 'undo.nothing' } }] },
      // Complaint words (投诉, 12300…) go to a human at once.
      complain,
      {
        guard: 'isCancel',
        target: '.idle',
        actions: ['endDialog', { type: 'say', params: { key: 'dialog.cancelled' } }],
      },
      {
        guard: 'isHelp',
        actions: { type: 'say', params: ({ context }) => ({ key: 'help.text', lines: promptMessages(context), choices: context.promptChoices }) },
      },
      {
        // 退订会不会扣钱: a question before deciding. Answer it; the exact figures come with the warnings.
        guard: 'isFeeQuestion',
        actions: [
          assign({ misses: 0 }),
          {
            type: 'say',
            params: ({ context }) => context.prompt
              ? { key: 'fee.answer', lines: promptMessages(context), choices: context.promptChoices }
              : { key: 'fee.answer', lines: [{ key: 'fee.offer' }], choices: [{ key: 'choice.startUnsubscribe' }] },
          },
        ],
      },
      {
        guard: 'asksAboutBot',
        actions: [assign({ misses: 0 }), { type: 'say', params: ({ context }) => ({ key: 'bot.identityResume', lines: promptMessages(context), choices: context.promptChoices }) }],
      },
      {
        guard: 'aboutMarketingSms',
        actions: [
          assign({ misses: 0 }),
          { type: 'say', params: ({ context }) => ({ key: 'scope.marketingSms', lines: promptMessages(context), choices: context.promptChoices }) },
        ],
      },
      {
        // 话费余额还有多少, 怎么充值: not this bot's business either; where it is done.
        guard: ({ event }) => utter(event)?.intent === 'other' && utter(event)?.aboutAccount === true,
        actions: [
          assign({ misses: 0 }),
          { type: 'say', params: ({ context }) => ({ key: 'scope.account', lines: promptMessages(context), choices: context.promptChoices }) },
        ],
      },
      {
        // 开通流量包, 升级套餐: not this bot's business; say where it is done rather than that nothing was understood.
        guard: ({ event }) => utter(event)?.intent === 'other' && utter(event)?.ordersSomething === true,
        actions: [
          assign({ misses: 0 }),
          { type: 'say', params: ({ context }) => ({ key: 'scope.order', lines: promptMessages(context), choices: context.promptChoices }) },
        ],
      },
      {
        // Two misunderstood messages in a row: a human takes over rather than a third guess.
        guard: 'missedTwice',
        actions: [
          assign({ misses: 0 }),
          { type: 'say', params: { key: 'fallback.escalate' } },
          { type: 'requestHuman', params: { reason: 'misunderstood' } },
        ],
      },
      {
        actions: [
          assign({ misses: ({ context }) => context.misses + 1 }),
          { type: 'say', params: ({ context }) => ({ key: context.prompt ? 'fallback.reprompt' : 'fallback.idle', lines: promptMessages(context), choices: context.promptChoices }) },
        ],
      },
    ],
    'status.loaded': statusLoaded,
    'status.failed': { actions: { type: 'say', params: { key: 'status.failed' } } },
    'refunds.filed': {
      actions: [
        { type: 'say', params: ({ event }) => ({ key: 'refund.auto.header', lines: [...event.disputes.map(autoRefundLine), { key: 'refund.auto.footer' }] }) },
        assign(({ context, event }) => ({ tickets: [...context.tickets, ...event.disputes.map((d) => d.ticket).filter((t) => !context.tickets.includes(t))] })),
      ],
    },
    'refunds.failed': { actions: [{ type: 'say', params: { key: 'refund.auto.failed' } }, { type: 'requestHuman', params: { reason: 'stillCharged' } }] },
    'backend.withdrawn': {
      actions: [
        assign(({ context, event }) => ({ lastTickets: context.lastTickets.filter((t) => !event.withdrawn.some((w) => w.ticket === t)) })),
        { type: 'say', params: ({ event }) => ({ key: 'undo.header', lines: [
          ...event.withdrawn.map((r): Message => ({ key: 'undo.item.done', params: { name: requestName(r), ticket: r.ticket } })),
          ...event.tooLate.map((r): Message => ({ key: 'undo.item.tooLate', params: { name: requestName(r), ticket: r.ticket } })),
        ] }) },
      ],
    },
    'backend.withdrawFailed': { actions: { type: 'say', params: { key: 'undo.failed', choices: [HUMAN_CHOICE] } } },
  },
  states: {
    idle: {
      description: 'No dialog in progress: waiting for a request.',
      on: {
        'user.message': [
          // 谢谢 on its own is thanks, whatever the classifier makes of it: never the start of a cancellation.
          {
            guard: 'isThanks',
            actions: [assign({ misses: 0 }), { type: 'say', params: ({ context }) => ({ key: context.tickets.length > 0 ? 'idle.acknowledged' : 'idle.thanks' }) }],
          },
          {
            guard: 'saysBye',
            actions: [assign({ misses: 0 }), { type: 'say', params: ({ context }) => ({ key: context.tickets.length > 0 ? 'idle.byeTracked' : 'idle.bye' }) }],
          },
          // 别再给我发广告短信了: no subscription to find; say how such texts are stopped instead of asking for the number.
          { guard: 'aboutMarketingSms', actions: [assign({ misses: 0 }), { type: 'say', params: { key: 'scope.marketingSms' } }] },
          { guard: 'asksHotline', actions: [assign({ misses: 0 }), { type: 'say', params: { key: 'scope.hotline', choices: [HUMAN_CHOICE] } }] },
          // 停机保号: not a closure; what it is, where it is done, and the two things the bot can do instead.
          {
            guard: 'keepsNumber',
            actions: [assign({ misses: 0 }), { type: 'say', params: { key: 'scope.keepNumber', lines: [{ key: 'scope.keepNumber.close' }], choices: [{ key: 'choice.reviewServices' }, { key: 'choice.closeInstead' }] } }],
          },
          // 你是机器人吗 / 是真人吗: an honest answer, what the bot can do, and a person one tap away.
          { guard: 'asksAboutBot', actions: [assign({ misses: 0 }), { type: 'say', params: { key: 'bot.identity', lines: [{ key: 'help.idle' }], choices: [HUMAN_CHOICE] } }] },
          {
            // 删除我的个人信息: verify the owner by SMS, say exactly what is deleted and what the law makes us keep, then confirm.
            guard: 'asksDeletion',
            target: 'session',
            actions: assign(({ context, event }) => ({ ...endDialog(context), purpose: 'deleteData' as const, msisdn: numberFor(context, utter(event)!) })),
          },
          {
            // 改服务密码: an SMS code and the old password or ID digits first (just the latter when the phone is lost).
            guard: 'asksPasswordChange',
            target: 'session',
            actions: assign(({ context, event }) => ({ ...endDialog(context), purpose: 'changePassword' as const, msisdn: numberFor(context, utter(event)!) })),
          },
          {
            // A complaint that also asks to cancel: queue for a human and start on the cancellation meanwhile.
            guard: and(['isComplaint', 'wantsUnsubscribe']),
            target: 'session',
            actions: ['startRequest', { type: 'requestHuman', params: { reason: 'complaint' } }],
          },
          { guard: 'isComplaint', actions: [assign({ misses: 0 }), { type: 'requestHuman', params: { reason: 'complaint' } }] },
          {
            // Not sure it is a request: ask (您是想退订业务吗？) rather than start on a guess.
            guard: and(['wantsUnsubscribe', 'unsure']),
            target: 'clarifying',
            actions: assign(({ context, event }) => {
              const u = utter(event)!;
              return { ...endDialog(context), target: u.target, wanted: u.serviceIds, except: exceptOf(u), fee: u.feeFen ?? null, msisdn: numberFor(context, u) };
            }),
          },
          {
            // 我要退宽带，顺便把号也销了: this request first; closing the number is a dialog of its own, said now.
            guard: and(['wantsUnsubscribe', ({ event }) => utter(event)?.alsoClosesNumber === true]),
            target: 'session',
            actions: ['startRequest', { type: 'say', params: { key: 'request.numberLater' } }],
          },
          { guard: 'wantsUnsubscribe', target: 'session', actions: 'startRequest' },
          {
            // 没订过怎么扣费了: verify, show the subscription record, cancel it and file a refund claim in one confirmation.
            guard: 'isUnwantedCharge',
            target: 'session',
            actions: assign(({ context, event }) => ({
              ...endDialog(context), purpose: 'unwantedCharge' as const, wanted: utter(event)!.serviceIds, target: utter(event)!.target, fee: utter(event)!.feeFen ?? null,
              msisdn: numberFor(context, utter(event)!),
            })),
          },
          {
            // 手机丢了: advice first, then an urgent, reversible suspension after a check that does not need the phone.
            guard: 'isLostPhone',
            target: 'session',
            actions: [
              assign(({ context, event }) => ({ ...endDialog(context), purpose: 'lostPhone' as const, msisdn: numberFor(context, utter(event)!) })),
              { type: 'say', params: { key: 'lost.advice' } },
            ],
          },
          {
            // 我每个月都扣了些什么: verify, then list every paid item with usage, pointing out the unused ones.
            guard: 'isReview',
            target: 'session',
            actions: assign(({ context, event }) => ({ ...endDialog(context), purpose: 'review' as const, msisdn: numberFor(context, utter(event)!) })),
          },
          { guard: 'negatedRequest', actions: [assign({ misses: 0 }), { type: 'say', params: { key: 'idle.negated' } }] },
          {
            guard: 'isStatus',
            actions: [
              assign({ misses: 0 }),
              { type: 'loadStatus', params: ({ context, event }) => ({ msisdn: context.verified ? context.msisdn : null, ticket: utter(event)?.ticket ?? null, tickets: context.tickets, view: viewOf(utter(event)?.intent) }) },
            ],
            // A verified user, or a ticket filed in this very conversation, can be answered at once.
          },
          { guard: 'isGreeting', actions: [assign({ misses: 0 }), { type: 'say', params: { key: 'greeting.text' } }] },
          {
            // 不退了 right after filing probably means "take it back": say how, rather than withdraw on a guess.
            guard: and([isIntent('cancel', 'deny'), 'hasLastFiling']),
            actions: [assign({ misses: 0 }), { type: 'say', params: { key: 'undo.offer', choices: [{ key: 'choice.undo' }] } }],
          },
          {
            // 好的谢谢 after a receipt acknowledges it: "nothing is pending" would sound as if the request were lost.
            guard: and([isIntent('confirm'), ({ context }) => context.tickets.length > 0]),
            actions: [assign({ misses: 0 }), { type: 'say', params: { key: 'idle.acknowledged' } }],
          },
          { guard: 'isIdleReply', actions: [assign({ misses: 0 }), { type: 'say', params: { key: 'idle.nothingPending' } }] },
          { guard: 'isHelp', actions: [assign({ misses: 0 }), { type: 'say', params: { key: 'help.idle' } }] },
        ],
        'status.loaded': [
          {
            // Nothing found for an unverified user: verify first, then look again.
            guard: ({ context, event }) => event.requests.length === 0 && !context.verified,
            target: 'session',
            actions: assign(({ context, event }) => ({ ...endDialog(context), purpose: event.view })),
          },
          ...statusLoaded,
        ],
      },
    },
    clarifying: {
      description: 'The request was unclear: waiting for a yes (start) or a no.',
      entry: [
        assign({ prompt: { key: 'clarify.unsubscribe' }, promptChoices: [{ key: 'choice.yes' }, { key: 'choice.no' }] }),
        { type: 'say', params: ({ context }) => ({ key: 'clarify.unsubscribe', choices: context.promptChoices }) },
      ],
      on: {
        'user.message': [
          { guard: 'wantsUnsubscribe', target: 'session', actions: 'startRequest' },
          { guard: 'isConfirm', target: 'session', actions: assign({ purpose: 'unsubscribe' as const, misses: 0 }) },
          { guard: 'isDecline', target: 'idle', actions: ['endDialog', { type: 'say', params: { key: 'help.idle' } }] },
          {
            // A phone number instead of a yes: the user is already going ahead (the first step asks for it anyway).
            guard: and(['hasMsisdn', not(({ event }) => utter(event)?.negated === true)]),
            target: 'session',
            actions: assign(({ context, event }) => ({ purpose: 'unsubscribe' as const, misses: 0, msisdn: numberFor(context, utter(event)!) })),
          },
        ],
      },
    },
    session: {
      description: 'A dialog is in progress: identity, choice, warnings, confirmation and filing.',
      initial: 'routing',
      on: {
        // Too many wrong codes or secrets (whichever step noticed): the dialog ends and a human is asked for.
        'identity.locked': {
          target: '#tuiding.idle',
          actions: [
            'endDialog',
            { type: 'say', params: ({ event }) => ({ key: 'identity.locked', params: { minutes: event.minutes } }) },
            { type: 'requestHuman', params: { reason: 'identityLocked' } },
          ],
        },
        'user.message': [
          {
            // The user changes what to cancel mid-dialog.
            guard: 'namesOtherService',
            target: '.routing',
            actions: assign(({ event }) => {
              const u = utter(event)!;
              return { purpose: 'unsubscribe' as const, target: u.target, wanted: u.serviceIds, except: exceptOf(u), fee: u.feeFen ?? null, selected: [], candidates: [], missedTarget: false, misses: 0 };
            }),
          },
        ],
        // A progress question in the middle of a dialog: the answer, then the question that was pending.
        'status.loaded': statusLoaded.map((t) => ({ ...t, actions: [...[t.actions].flat(), { type: 'say' as const, params: resumeWith('dialog.resume') }] })),
        'status.failed': { actions: [{ type: 'say', params: { key: 'status.failed' } }, { type: 'say', params: resumeWith('dialog.resume') }] },
      },
      states: {
        routing: {
          description: 'Decides the first step: ask for the number, send a code, or go straight to the subscriptions.',
          always: [
            { guard: ({ context }) => context.verified && isRequestView(context.purpose), target: '#tuiding.idle', actions: { type: 'loadStatus', params: ({ context }) => ({ msisdn: context.msisdn, ticket: null, tickets: context.tickets, view: viewOfPurpose(context.purpose) }) } },
            // A lost phone cannot receive an SMS code: the service password or ID digits prove identity instead.
            { guard: ({ context }) => context.purpose === 'lostPhone' && context.strongVerified, target: 'awaitingSuspension' },
            { guard: ({ context }) => context.purpose === 'lostPhone' && context.msisdn !== null, target: 'awaitingSecret', actions: { type: 'say', params: { key: 'lost.secret.prompt' } } },
            { guard: ({ context }) => context.verified && context.purpose === 'deleteData', target: 'awaitingDeletion' },
            { guard: ({ context }) => context.purpose === 'changePassword' && context.strongVerified, target: 'awaitingNewPassword' },
            { guard: ({ context }) => context.purpose === 'changePassword' && context.verified, target: 'awaitingSecret', actions: { type: 'say', params: { key: 'password.secret.prompt' } } },
            { guard: 'isVerified', target: 'loadingSubscriptions' },
            { guard: ({ context }) => context.msisdn !== null, target: 'sendingCode' },
            { target: 'askingNumber' },
          ],
        },
        askingNumber: {
          description: 'Waiting for the mobile number to verify.',
          entry: [
            assign(({ context }) => ({ prompt: { key: context.purpose === 'status' ? 'identity.number.promptStatus' : 'identity.number.prompt' }, promptChoices: [] })),
            { type: 'say', params: ({ context }) => ({ key: context.prompt!.key }) },
          ],
          on: {
            'user.message': [
              { guard: 'hasMsisdn', target: 'routing', actions: assign(({ event }) => ({ msisdn: utter(event)!.msisdn, misses: 0 })) },
              // Digits that make no mobile number, however few, answer this question badly: say what it wants.
              { guard: 'hasStrayDigits', actions: { type: 'say', params: { key: 'identity.number.invalid' } } },
              { guard: and(['asksNewCode', not('switchesTopic')]), actions: [assign({ misses: 0 }), { type: 'say', params: resumeWith('identity.code.notYet') }] },
              ...interruptions,
              { guard: 'hasCode', actions: { type: 'say', params: { key: 'identity.number.invalid' } } },
            ],
          },
        },
        sendingCode: {
          description: 'Asking the SMS gateway to send a verification code.',
          entry: { type: 'sendCode', params: ({ context }) => ({ msisdn: context.msisdn! }) },
          on: {
            'identity.codeSent': {
              target: 'awaitingCode',
              actions: { type: 'say', params: ({ context }) => ({ key: 'identity.code.prompt', params: { msisdn: context.msisdn! } }) },
            },
            'identity.sendFailed': [
              { guard: 'rateLimited', target: 'askingNumber', actions: { type: 'say', params: { key: 'identity.code.rateLimited' } } },
              { guard: 'unknownNumber', target: 'askingNumber', actions: [assign({ msisdn: null }), { type: 'say', params: { key: 'identity.number.unknown' } }] },
              { target: '#tuiding.idle', actions: ['endDialog', { type: 'say', params: { key: 'identity.code.unavailable', choices: [HUMAN_CHOICE] } }] },
            ],
          },
        },
        awaitingCode: {
          description: 'Waiting for the 6-digit SMS code.',
          entry: assign(({ context }) => ({ prompt: { key: 'identity.code.prompt', params: { msisdn: context.msisdn! } }, promptChoices: [] })),
          on: {
            'user.message': [
              { guard: 'hasCode', target: 'checkingCode', actions: assign({ misses: 0 }) },
              // The same number again, or 验证码没收到: send another code (the gateway limits how often).
              {
                guard: ({ context, event }) => utter(event)?.msisdn === context.msisdn || (utter(event)?.asksNewCode === true && !switchesTopic(context, event)),
                target: 'resendingCode',
                actions: assign({ misses: 0 }),
              },
              // Another number: send a code there instead.
              { guard: 'hasMsisdn', target: 'sendingCode', actions: assign(({ event }) => ({ msisdn: utter(event)!.msisdn, misses: 0 })) },
              // Digits that are neither: say what was expected rather than count a wrong code.
              { guard: 'mistypedCode', actions: { type: 'say', params: { key: 'identity.code.length' } } },
              { guard: 'mistypedNumber', actions: { type: 'say', params: { key: 'identity.number.invalid' } } },
              ...interruptions,
            ],
          },
        },
        resendingCode: {
          description: 'The user asked for another code: sending it to the same number.',
          entry: { type: 'sendCode', params: ({ context }) => ({ msisdn: context.msisdn! }) },
          on: {
            'identity.codeSent': {
              target: 'awaitingCode',
              actions: { type: 'say', params: ({ context }) => ({ key: 'identity.code.resent', params: { msisdn: context.msisdn! } }) },
            },
            // Too soon for another: the code already sent is still good, so the number is not asked again.
            'identity.sendFailed': [
              { guard: 'rateLimited', target: 'awaitingCode', actions: { type: 'say', params: { key: 'identity.code.wait' } } },
              { target: '#tuiding.idle', actions: ['endDialog', { type: 'say', params: { key: 'identity.code.unavailable', choices: [HUMAN_CHOICE] } }] },
            ],
          },
        },
        checkingCode: {
          description: 'Checking the SMS code.',
          entry: { type: 'checkCode', params: ({ context, event }) => ({ msisdn: context.msisdn!, code: utter(event)?.code ?? '' }) },
          on: {
            'identity.verified': [
              { guard: 'purposeIsStatus', target: '#tuiding.idle', actions: [{ type: 'loadStatus', params: ({ context }) => ({ msisdn: context.msisdn, ticket: null, tickets: context.tickets, view: viewOfPurpose(context.purpose) }) }, assign(({ context }) => endDialog({ ...context, verified: true }))] },
              { guard: 'purposeIsDeletion', target: 'awaitingDeletion', actions: assign({ verified: true }) },
              { guard: 'purposeIsPasswordChange', target: 'routing', actions: assign({ verified: true }) },
              { target: 'loadingSubscriptions', actions: assign({ verified: true }) },
            ],
            'identity.failed': {
              target: 'awaitingCode',
              actions: { type: 'say', params: ({ event }) => ({ key: 'identity.code.wrong', params: { left: event.attemptsLeft } }) },
            },
            'identity.expired': {
              target: 'awaitingCode',
              actions: { type: 'say', params: { key: 'identity.code.expired' } },
            },
          },
        },
        loadingSubscriptions: {
          description: 'Fetching the verified number\'s subscriptions from the operator back end.',
          entry: { type: 'loadSubscriptions', params: ({ context }) => ({ msisdn: context.msisdn! }) },
          on: {
            'subscriptions.loaded': {
              target: 'matching',
              actions: assign(({ context, event }) => {
                // A cancellation already under way is not offered again (pendingAsked says so instead).
                const open = event.subscriptions.filter((s) => !s.pendingTicket);
                const paid = (context.purpose === 'unwantedCharge' ? event.subscriptions : open).filter((s) => s.target !== 'number' && s.monthlyFeeFen > 0);
                // 没订过怎么每个月扣我10块: the charge's amount points at the subscription as a name would.
                const named = paid.filter((s) => context.wanted.length > 0 ? context.wanted.includes(s.serviceId) : !!context.fee && s.monthlyFeeFen === context.fee);
                const m = context.purpose === 'review'
                  ? { candidates: paid, missed: false }
                  : context.purpose === 'unwantedCharge'
                    ? { candidates: named.length > 0 ? named : paid, missed: false }
                    : context.except
                      ? { candidates: allBut(open, context.target, context.except), missed: false }
                      : context.fee && context.wanted.length === 0
                        ? byFee(open, context.target, context.fee)
                        : matchSubscriptions(open, context.target, context.wanted, context.family ?? []);
                if (context.purpose === 'unsubscribe' && m.missed && pendingAsked({ ...context, subscriptions: event.subscriptions }).length > 0) {
                  // What was asked for is under way, not missing: the list is not shown as a miss.
                  return { subscriptions: event.subscriptions, profile: event.profile, candidates: m.candidates.filter((s) => asks(context, s)), missedTarget: false };
                }
                return { subscriptions: event.subscriptions, profile: event.profile, candidates: m.candidates, missedTarget: m.missed };
              }),
            },
            'subscriptions.failed': {
              target: '#tuiding.idle',
              actions: [
                'endDialog',
                { type: 'say', params: { key: 'backend.unavailable', choices: [HUMAN_CHOICE] } },
              ],
            },
          },
        },
        matching: {
          description: 'Decides whether the user must choose, or the request names exactly one subscription.',
          always: [
            {
              // 退订视频彩铃 twice: the first cancellation is under way, so there is nothing to file again.
              guard: ({ context }) => pendingAsked(context).length > 0 && !context.candidates.some((s) => asks(context, s)),
              target: '#tuiding.idle',
              actions: [
                { type: 'say', params: ({ context }) => ({ key: 'choose.alreadyPending', lines: [...pendingLines(pendingAsked(context)), { key: 'choose.pendingHint' }] }) },
                'endDialog',
              ],
            },
            { guard: 'nothingToOffer', target: '#tuiding.idle', actions: ['endDialog', { type: 'say', params: { key: 'choose.nothing' } }] },
            { guard: 'singleObviousMatch', target: 'checkingRisk', actions: assign(({ context }) => ({ selected: context.candidates })) },
            { guard: 'namedHeld', target: 'checkingRisk', actions: assign(({ context }) => ({ selected: context.candidates })) },
            // 除了视频彩铃都退了: what is left is what the user asked for; the warnings list it all before the confirmation.
            { guard: ({ context }) => context.purpose === 'unsubscribe' && !!context.except, target: 'checkingRisk', actions: assign(({ context }) => ({ selected: context.candidates })) },
            { target: 'awaitingChoice' },
          ],
        },
        awaitingChoice: {
          description: 'Waiting for the user to pick one or several of the listed subscriptions.',
          entry: [
            assign(({ context }) => ({
              prompt: { key: context.purpose === 'review' ? 'review.prompt' : context.purpose === 'unwantedCharge' ? 'dispute.prompt' : context.missedTarget ? 'choose.promptMissed' : 'choose.prompt' },
              promptChoices: [
                ...context.candidates.map((s, i): Message => ({ key: 'choice.item', params: { n: i + 1, name: serviceName(s) } })),
                // The review offers no one-tap "cancel everything": each item is chosen, then echoed with its consequences.
                ...(context.candidates.length > 1 && context.purpose === 'unsubscribe' ? [{ key: 'choice.all' }] : []),
              ],
            })),
            {
              type: 'say',
              params: ({ context }) => context.purpose === 'review'
                ? { key: 'review.header', lines: reviewLines(context.candidates), choices: context.promptChoices }
                : context.purpose === 'unwantedCharge'
                  ? { key: 'dispute.prompt', lines: recordLines(context.candidates), choices: context.promptChoices }
                  : { key: context.prompt!.key, lines: [...listLines(context.candidates), ...pendingListLines(context)], choices: context.promptChoices },
            },
          ],
          on: {
            'user.message': [
              {
                // 都不是: the list is everything the number has; say where else the thing may be.
                guard: ({ context, event }) => context.purpose === 'unsubscribe' && utter(event)?.noneOfThese === true,
                actions: [assign({ misses: 0 }), { type: 'say', params: { key: 'choose.noneOfThese', choices: [HUMAN_CHOICE] } }],
              },
              answersOrderRecord((context) => context.candidates),
              ...interruptions,
              {
                guard: 'validPick',
                target: 'checkingRisk',
                actions: assign(({ context, event }) => { const u = utter(event)!; return { selected: pick(context.candidates, u.choice, u.serviceIds, u.feeFen ?? null)!, misses: 0 }; }),
              },
              {
                // 7 of 4 listed, or 0 / 99 (digits that make no pick at all): the range, not 'not understood'.
                guard: or(['choiceOutOfRange', ({ event }) => { const n = utter(event)?.strayDigits ?? 0; return n > 0 && n <= 2; }]),
                actions: { type: 'say', params: ({ context }) => ({ key: 'choose.invalid', params: { max: context.candidates.length }, choices: context.promptChoices }) },
              },
              {
                // A service the number holds but the list (narrowed to what was asked) does not show: that one, then.
                guard: ({ context, event }) => {
                  const u = utter(event);
                  return u !== null && context.purpose === 'unsubscribe' && !u.negated && u.intent !== 'cancel' && u.intent !== 'deny' && u.serviceIds.length > 0
                    && !context.candidates.some((s) => u.serviceIds.includes(s.serviceId));
                },
                target: 'routing',
                actions: assign(({ event }) => {
                  const u = utter(event)!;
                  return { target: u.target, wanted: u.serviceIds, except: null, fee: null, selected: [], candidates: [], missedTarget: false, misses: 0 };
                }),
              },
              {
                // 10块钱的那个 when two listed items cost that, or none does: say so and ask by number.
                guard: ({ event }) => (utter(event)?.feeFen ?? null) !== null,
                actions: [
                  assign({ misses: 0 }),
                  {
                    type: 'say',
                    params: ({ context, event }) => {
                      const fee = utter(event)!.feeFen!;
                      const several = context.candidates.filter((s) => s.monthlyFeeFen === fee).length > 1;
                      return { key: several ? 'choose.sameFee' : 'choose.noFee', params: { feeFen: fee }, lines: promptMessages(context), choices: context.promptChoices };
                    },
                  },
                ],
              },
            ],
          },
        },
        checkingRisk: {
          description: 'Riskier requests (plan, broadband, the number) need a second check before the warnings.',
          always: [
            { guard: 'needsStrongCheck', target: 'awaitingSecret', actions: { type: 'say', params: ({ context }) => secretPrompt(context) } },
            { target: 'awaitingConfirmation' },
          ],
        },
        awaitingSecret: {
          description: 'Waiting for the service password or the last 6 ID digits.',
          entry: assign(({ context }) => ({ prompt: secretPrompt(context), promptChoices: [] })),
          on: {
            'user.message': [
              // 忘了服务密码: the other proof, and where to go when neither is at hand; the step waits on.
              { guard: ({ event }) => utter(event)?.forgotSecret === true && utter(event)?.idTail === null, actions: [assign({ misses: 0 }), { type: 'say', params: { key: 'identity.secret.forgot', choices: [HUMAN_CHOICE] } }] },
              ...interruptions,
              { guard: 'hasSecret', target: 'checkingSecret', actions: assign({ misses: 0 }) },
              // 12345: too short for either; said without counting a wrong attempt.
              { guard: 'hasStrayDigits', actions: { type: 'say', params: { key: 'identity.secret.length' } } },
            ],
          },
        },
        checkingSecret: {
          description: 'Checking the service password or ID digits with the back end.',
          entry: { type: 'checkSecret', params: ({ context, event }) => ({ msisdn: context.msisdn!, value: utter(event)?.idTail ?? utter(event)?.code ?? '' }) },
          on: {
            'secret.verified': [
              { guard: 'purposeIsLostPhone', target: 'awaitingSuspension', actions: assign({ strongVerified: true }) },
              { guard: 'purposeIsPasswordChange', target: 'awaitingNewPassword', actions: assign({ strongVerified: true }) },
              { target: 'awaitingConfirmation', actions: assign({ strongVerified: true }) },
            ],
            'secret.failed': {
              target: 'awaitingSecret',
              actions: { type: 'say', params: ({ event }) => ({ key: 'identity.secret.wrong', params: { left: event.attemptsLeft } }) },
            },
          },
        },
        awaitingConfirmation: {
          description: 'Warnings shown; waiting for an explicit confirmation of exactly what will be cancelled.',
          entry: [
            { type: 'say', params: ({ context }) => ({ key: 'warn.header', lines: warningLines(context) }) },
            assign(({ context }) => ({
              prompt: confirmPrompt(context),
              promptChoices: closesNumber(context) ? [{ key: 'choice.closeNumber' }, { key: 'choice.decline' }] : [{ key: 'choice.confirm' }, { key: 'choice.decline' }],
            })),
            { type: 'say', params: ({ context }) => ({ key: context.prompt!.key, params: context.prompt!.params, choices: context.promptChoices }) },
          ],
          on: {
            'user.message': [
              {
                // 那我的支付宝呢, asked before closing the number: what is on record as tied to it, then the question again.
                guard: ({ context, event }) => closesNumber(context) && utter(event)?.aboutBoundAccounts === true && utter(event)?.intent === 'fee_question',
                actions: [
                  assign({ misses: 0 }),
                  { type: 'say', params: ({ context }) => ({ ...boundAnswer(context), lines: promptMessages(context), choices: context.promptChoices }) },
                ],
              },
              answersOrderRecord((context) => context.selected),
              {
                // 违约金多少 / 会扣钱吗 with the services chosen: their own figures, not the general answer.
                guard: and(['isFeeQuestion', not('asksOtherNumber')]),
                actions: [
                  assign({ misses: 0 }),
                  { type: 'say', params: ({ context }) => ({ key: 'fee.selected', lines: [...warningLines(context), ...promptMessages(context)], choices: context.promptChoices }) },
                ],
              },
              {
                // 不对，是视频彩铃: the services named instead of those proposed, warned about and confirmed afresh.
                guard: 'namesOtherHeld',
                target: 'checkingRisk',
                actions: assign(({ context, event }) => {
                  const chosen = heldNamed(context.subscriptions, utter(event)!.serviceIds);
                  return { wanted: chosen.map((s) => s.serviceId), candidates: chosen, selected: chosen, missedTarget: false, misses: 0 };
                }),
              },
              {
                // 不是这个, 选错了: not what the user meant; everything they could cancel, to pick from.
                guard: ({ context, event }) => context.purpose === 'unsubscribe' && !closesNumber(context) && utter(event)?.notThisOne === true,
                target: 'awaitingChoice',
                actions: assign(({ context }) => ({ wanted: [], target: null, candidates: everythingOffered(context.subscriptions), selected: [], missedTarget: false, misses: 0 })),
              },
              {
                guard: 'dropsSomeProposed',
                target: 'awaitingConfirmation',
                reenter: true,
                actions: [
                  { type: 'say', params: ({ context, event }) => ({ key: 'confirm.dropped', params: { names: serviceNames(context.selected.filter((s) => utter(event)!.serviceIds.includes(s.serviceId))) } }) },
                  assign(({ context, event }) => {
                    const dropped = utter(event)!.serviceIds;
                    return { selected: context.selected.filter((s) => !dropped.includes(s.serviceId)), wanted: context.wanted.filter((id) => !dropped.includes(id)), misses: 0 };
                  }),
                ],
              },
              { guard: 'takesBackProposal', target: '#tuiding.idle', actions: ['endDialog', { type: 'say', params: { key: 'confirm.declined' } }] },
              ...interruptions,
              { guard: 'closurePhraseGiven', target: 'filing', actions: 'nextFiling' },
              { guard: ({ context, event }) => isIntent('confirm')({ event }) && utter(event)?.negated !== true && closesNumber(context), actions: { type: 'say', params: { key: 'confirm.number.needPhrase', choices: [{ key: 'choice.closeNumber' }, { key: 'choice.decline' }] } } },
              { guard: 'isConfirm', target: 'filing', actions: 'nextFiling' },
              declineEnds('confirm.declined'),
            ],
          },
        },
        awaitingDeletion: {
          description: 'Personal data deletion: what goes and what stays has been said; waiting for a yes.',
          entry: [
            assign({ prompt: { key: 'privacy.confirm' }, promptChoices: [{ key: 'choice.deleteData' }, { key: 'choice.keepData' }] }),
            { type: 'say', params: ({ context }) => ({ key: 'privacy.confirm', choices: context.promptChoices }) },
          ],
          on: {
            'user.message': [
              ...interruptions,
              { guard: 'isConfirm', target: 'deleting' },
              declineEnds('privacy.declined'),
            ],
          },
        },
        deleting: {
          description: 'Deleting what the bot stored about the user.',
          entry: { type: 'deleteMyData', params: ({ context }) => ({ msisdn: context.msisdn! }) },
          on: {
            'user.message': whileBusy,
            // Nothing about the user is kept in the dialog either: not even that they were verified.
            'data.deleted': { target: '#tuiding.idle', actions: [assign(() => initialContext()), { type: 'say', params: { key: 'privacy.done' } }] },
            'data.deleteFailed': failsToHuman('privacy.failed'),
          },
        },
        awaitingSuspension: {
          description: 'Lost phone: waiting for the user to confirm the urgent, reversible suspension of the line.',
          entry: [
            // The prompt keeps its number: it is repeated after help or an unclear message.
            assign(({ context }) => ({ prompt: { key: 'lost.confirm', params: { msisdn: context.msisdn ?? '' } }, promptChoices: [{ key: 'choice.suspend' }, { key: 'choice.keepLine' }] })),
            { type: 'say', params: ({ context }) => ({ key: 'lost.confirm', params: context.prompt!.params, choices: context.promptChoices }) },
          ],
          on: {
            'user.message': [
              ...interruptions,
              { guard: 'isConfirm', target: 'suspending' },
              declineEnds('lost.declined'),
            ],
          },
        },
        suspending: {
          description: 'Asking the back end to suspend the line.',
          entry: { type: 'suspendLine', params: ({ context }) => ({ msisdn: context.msisdn! }) },
          on: {
            'user.message': whileBusy,
            'line.suspended': {
              // Whoever has the phone may know the service password too: offer to change it now.
              target: 'offeringPasswordChange',
              actions: [
                { type: 'say', params: ({ event }) => ({ key: 'lost.done', params: { ticket: event.ticket, at: event.suspendedAt } }) },
                assign({ purpose: 'changePassword' as const }),
              ],
            },
            'line.suspendFailed': failsToHuman('lost.failed'),
          },
        },
        offeringPasswordChange: {
          description: 'Line suspended: offering to change the service password, identity already checked strongly.',
          entry: [
            assign({ prompt: { key: 'password.offer' }, promptChoices: [{ key: 'choice.changePassword' }, { key: 'choice.notNow' }] }),
            { type: 'say', params: ({ context }) => ({ key: 'password.offer', choices: context.promptChoices }) },
          ],
          on: {
            'user.message': [
              { guard: 'asksPasswordChange', target: 'awaitingNewPassword' },
              ...interruptions,
              { guard: 'isConfirm', target: 'awaitingNewPassword' },
              declineEnds('password.later'),
            ],
          },
        },
        awaitingNewPassword: {
          description: 'Identity checked strongly: waiting for the new 6-digit service password (never echoed, never stored here).',
          entry: [
            assign({ prompt: { key: 'password.prompt' }, promptChoices: [] }),
            { type: 'say', params: { key: 'password.prompt' } },
          ],
          on: {
            'user.message': [
              ...interruptions,
              { guard: and(['hasNewPassword', 'weakPassword']), actions: [assign({ misses: 0 }), { type: 'say', params: { key: 'password.weak' } }] },
              { guard: 'hasNewPassword', target: 'changingPassword', actions: [assign({ misses: 0 }), 'nextFiling'] },
            ],
          },
        },
        changingPassword: {
          description: 'Asking the back end to set the new service password.',
          entry: { type: 'changeServicePassword', params: ({ context, event }) => ({ msisdn: context.msisdn!, newSecret: newPasswordOf(event) }) },
          on: {
            'user.message': whileBusy,
            'password.changed': {
              target: '#tuiding.idle',
              actions: [{ type: 'say', params: ({ event }) => ({ key: 'password.done', params: { at: event.changedAt } }) }, 'endDialog'],
            },
            'password.rejected': { target: 'awaitingNewPassword', actions: { type: 'say', params: { key: 'password.rejected' } } },
            'password.changeFailed': failsToHuman('password.failed'),
          },
        },
        filing: {
          description: 'Filing the confirmed cancellations with the operator back end (idempotent per confirmation).',
          entry: [
            {
              type: 'fileRequests',
              params: ({ context }) => ({
                msisdn: context.msisdn!, subscriptionIds: context.selected.map((s) => s.subscriptionId), filingSeq: context.filingSeq,
                dispute: context.purpose === 'unwantedCharge',
              }),
            },
          ],
          on: {
            'user.message': whileBusy,
            'backend.filed': {
              target: '#tuiding.idle',
              actions: [
                {
                  type: 'say',
                  params: ({ context, event }) => ({
                    key: 'receipt.header',
                    lines: filingReceipt(event.requests, event.disputes ?? [], context),
                  }),
                },
                assign(({ context, event }) => ({
                  ...endDialog(context),
                  tickets: [...context.tickets, ...event.requests.map((r) => r.ticket)],
                  lastTickets: event.requests.filter((r) => r.undoUntil !== null).map((r) => r.ticket),
                })),
              ],
            },
            'backend.failed': { target: 'retryFiling' },
          },
        },
        retryFiling: {
          description: 'Filing failed; nothing was lost. Waiting for the user to retry, or leave it to a human.',
          entry: [
            // The retry reuses the same idempotency key, so a request that did reach the back end is not filed twice.
            assign({ prompt: { key: 'file.failed' }, promptChoices: [{ key: 'choice.retry' }, HUMAN_CHOICE] }),
            { type: 'say', params: ({ context }) => ({ key: 'file.failed', choices: context.promptChoices }) },
            { type: 'requestHuman', params: { reason: 'backendFailed' } },
          ],
          on: {
            'user.message': [
              { guard: 'isConfirm', target: 'filing' },
            ],
          },
        },
      },
    },
  },
});

export type UnsubscribeMachine = typeof unsubscribeMachine;
