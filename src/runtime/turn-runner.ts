import type { initialTransition } from 'xstate';
import { filingReceipt, MACHINE_VERSION, MAX_ATTEMPTS, promptMessages, unsubscribeMachine } from '../../dialogs/unsubscribe.machine.js';
import type { DialogEffect, DialogEvent, FiledDispute, FiledRequest, Message, Utterance } from '../../dialogs/unsubscribe.types.js';
import type { OperatorBackend } from '../adapters/operator-backend.js';
import { receiptCode } from '../domain/receipt.js';
import { FINAL_STATUSES, kindOf, type UnsubscribeRequest } from '../domain/types.js';
import { AppError, isAppError } from '../errors.js';
import type { I18n } from '../i18n/i18n.js';
import type { Logger } from '../log.js';
import type { Nlu, NluResult } from '../nlu/nlu.js';
import type { BotStore, ConversationRecord } from '../store/stores.js';
import type { HandoffService, ConversationPort, DeliveryContent } from '../handoff/handoff-service.js';
import type { HandoffPhrases } from '../handoff/phrases.js';
import { maskMsisdn } from '../privacy/mask.js';
import type { AuditLog } from '../store/audit-log.js';
import type { FilingOutbox, PendingFiling } from '../store/filing-outbox.js';
import type { TranscriptEntry, TranscriptStore } from '../store/transcript-store.js';
import type { IdentityVerifier } from './identity-verifier.js';
import { claimStrayCharges, trackingRows, withStrayCharges } from './refunds.js';
import type { ProactiveSender } from './status-notifier.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { MachineStepper } from '../../dialogs/machine-stepper.js';
import { noMetrics, type Metrics } from './metrics.js';

export { MAX_ATTEMPTS };

/** Steps the dialog machine (one inert actor scope for every conversation). */
const stepper = new MachineStepper(unsubscribeMachine);

export interface Reply {
  text: string;
  /** Suggested actions: what the button shows and what it sends back. */
  choices: { title: string; value: string }[];
  /** Warnings and receipts: channels that render cards show them as one (the text stays the fallback). */
  card?: { kind: 'warning' | 'receipt'; title: string; lines: string[] };
}

export interface TurnOutput {
  replies: Reply[];
  /** The dialog's state after the turn, as a dotted string (e.g. session.awaitingCode). */
  state: string;
  locale: string;
  /** Answered from the record: the channel retried an activity this turn had already answered. */
  retried?: boolean;
}

/** The dialog as an agent sees it (personal data masked). */
export interface DialogView {
  state: string;
  locale: string;
  msisdn: string | null;
  verified: boolean;
  strongVerified: boolean;
  target: string | null;
  selected: string[];
  tickets: { ticket: string; serviceName: string; status: string }[];
  lastActiveAt: string | null;
}

export interface MessageInput {
  conversationId: string;
  /** The channel's activity id: a retried activity is answered from the record, not processed twice. */
  activityId?: string;
  text: string;
  locale?: string;
  /** Bot Framework conversation reference (opaque here), kept for proactive messages. */
  reference: unknown;
}

type Snapshot = ReturnType<typeof initialTransition<typeof unsubscribeMachine>>[0];

/** Replies shown as cards where the channel renders them. */
const CARD_KINDS: Record<string, 'warning' | 'receipt'> = { 'warn.header': 'warning', 'receipt.header': 'receipt', 'receipt.again': 'receipt' };

/** Backoff of filing retries from the outbox: 5 s doubling up to 10 minutes. */
const RETRY_BASE_MS = 5_000;
const RETRY_MAX_MS = 10 * 60_000;

/** Safety net against a machine bug looping between effects and events. */
const MAX_STEPS_PER_TURN = 32;
const STATUS_LIST_LIMIT = 5;

/** A channel's stored messages of a conversation. */
export interface ChannelHistory {
  /** Drops the stored messages of a conversation; resolves how many. Throws AppError 'store.unwritable'. */
  forget(conversationId: string): Promise<number>;
}

/**
 * Runs one user turn: restore the conversation's snapshot → understand the text → feed the machine
 * → carry out its effects (feeding results back as events) → save → return the replies.
 * Turns of one conversation run one at a time. Depends on adapters and stores only through interfaces.
 */
export class TurnRunner implements ConversationPort {
  private readonly mutex = new KeyedMutex();
  private sender: ProactiveSender | undefined;
  /** Conversations whose data the current turn deleted (their turn is then not written to a transcript). */
  private readonly deletedIn = new Set<string>();
  private readonly phrases = new Map<string, string>();

  constructor(private readonly deps: {
    store: BotStore;
    transcripts: TranscriptStore;
    audit: AuditLog;
    outbox: FilingOutbox;
    handoff: HandoffService;
    phrases: HandoffPhrases;
    nlu: Nlu;
    backend: OperatorBackend;
    verifier: IdentityVerifier;
    i18n: I18n;
    logger: Logger;
    now: () => number;
    dialogTimeoutMs: number;
    maxMessageChars: number;
    /** Service hours as shown to users, e.g. 08:00-22:00. */
    handoffHoursText: string;
    /** Minutes after filing during which 撤销 can withdraw a request (0: off). */
    undoWindowMinutes: number;
    /** The locale a short message asks to switch to (English please / 请用繁体), or null. */
    localeRequest: (normalized: string) => string | null;
    /** The channel's own copy of the messages (self-hosted Direct Line), cleared on data deletion. */
    channelHistory?: ChannelHistory;
    /** Counts turns, intents, filings and handoffs for the operators (none when absent). */
    metrics?: Metrics;
  }) {
    this.metrics = deps.metrics ?? noMetrics;
  }

  private readonly metrics: Metrics;

  /** The channel's proactive sender (created after the runner, at the edge). */
  attachSender(sender: ProactiveSender): void {
    this.sender = sender;
  }

  handleMessage(input: MessageInput): Promise<TurnOutput> {
    const arrived = performance.now();
    const seconds = () => (performance.now() - arrived) / 1000;
    return this.mutex.run(input.conversationId, () => this.turn(input)).then(
      (out) => {
        this.metrics.turn(out.retried ? 'retried' : 'answered', seconds());
        return out;
      },
      (err: unknown) => {
        this.metrics.turn('failed', seconds());
        throw err;
      },
    );
  }

  /** The greeting for a new conversation (no state change). */
  welcome(locale: string | undefined): TurnOutput {
    const loc = this.deps.i18n.resolve(locale);
    return { replies: [{ text: this.deps.i18n.t('welcome.text', {}, loc), choices: [] }], state: 'idle', locale: loc };
  }

  /** The reply to a message without text (an image, a file): state unchanged. */
  async nonText(conversationId: string, locale: string | undefined): Promise<TurnOutput> {
    const loc = this.deps.i18n.resolve(locale);
    return { replies: [this.render({ key: 'input.nonText' }, loc)], state: await this.stateOf(conversationId), locale: loc };
  }

  /** The dotted state of a stored conversation, for proactive messages. */
  async stateOf(conversationId: string): Promise<string> {
    const ticket = await this.deps.handoff.openTicketFor(conversationId);
    if (ticket?.status === 'assigned') return 'handoff.assigned';
    const record = await this.deps.store.getConversation(conversationId);
    const value = (record?.snapshot as { value?: unknown } | undefined)?.value;
    return value === undefined ? 'idle' : stateToString(value);
  }

  private async turn(input: MessageInput): Promise<TurnOutput> {
    const { store, i18n, logger, now, handoff, transcripts } = this.deps;
    const record = await store.getConversation(input.conversationId);
    if (input.activityId && record?.lastActivity?.id === input.activityId) {
      logger.info('retried activity answered again', { conversationId: input.conversationId });
      return { replies: record.lastActivity.replies, state: record.lastActivity.state, locale: record.locale, retried: true };
    }
    const notices: Message[] = [];
    let snapshot = this.restore(record, input.conversationId, notices);
    const text = input.text.trim();
    // Understood once per turn; everything below reads this one parse.
    const parsed = text.length > 0 && text.length <= this.deps.maxMessageChars
      ? this.deps.nlu.parse(this.buttonValue(text, snapshot, record?.locale ?? i18n.resolve(input.locale)), { subscriptions: snapshot.context.subscriptions })
      : null;
    if (parsed) this.metrics.understood(parsed.intent);
    const asked = parsed ? this.deps.localeRequest(parsed.normalized) : null;
    const pinnedLocale = asked ?? record?.pinnedLocale;
    const locale = i18n.resolve(pinnedLocale ?? input.locale);
    const at = new Date(now()).toISOString();
    const heard: TranscriptEntry = { from: 'user', text: text.slice(0, this.deps.maxMessageChars), at };

    let outgoing: Reply[] = [];
    let silent = false;
    /** The message is news for the agents: told once the transcript holds it (their console reloads it then). */
    let forAgents = false;
    const ticket = await handoff.openTicketFor(input.conversationId);
    if (text.length === 0) {
      outgoing = [this.render({ key: 'input.empty' }, locale)];
    } else if (text.length > this.deps.maxMessageChars) {
      outgoing = [this.render({ key: 'input.tooLong' }, locale)];
    } else if (asked) {
      // The question still open is asked again, in the language just chosen.
      const pending = snapshot.value !== 'idle' && snapshot.context.prompt ? snapshot.context : null;
      outgoing = [this.render({ key: 'locale.switched' }, locale, pending ? promptMessages(pending) : [], pending?.promptChoices ?? [])];
    } else if (ticket && parsed && this.deps.phrases.leaves(parsed.normalized)) {
      // 取消转人工 / 结束人工: the handoff machine tells the user what happens next.
      await handoff.cancelByUser(input.conversationId);
      silent = true;
    } else if (!ticket && parsed && this.deps.phrases.declinesHuman(parsed.normalized)) {
      // 取消转人工, 不用转人工, 不要人工了 with nobody to stop waiting for: never read the 转人工 in it as a
      // request for a human, nor the 不用 as stopping the dialog; the question still open is asked again.
      const pending = snapshot.value !== 'idle' && snapshot.context.prompt ? snapshot.context : null;
      outgoing = [pending
        ? this.render({ key: 'handoff.notWaiting' }, locale, promptMessages(pending), pending.promptChoices)
        : this.render({ key: 'handoff.notWaitingIdle' }, locale)];
    } else if (ticket?.status === 'assigned') {
      // An agent holds the chat: the bot stays silent and the message goes to the agent.
      forAgents = true;
      silent = true;
    } else if (ticket?.awaitingLeftMessage) {
      await handoff.leaveMessage(ticket.id, heard.text);
      forAgents = true;
      outgoing = [this.render({ key: 'handoff.messageLeft' }, locale)];
    } else {
      forAgents = ticket !== undefined;
      const utterance = this.understand(parsed!, text, locale, snapshot.value !== 'idle', ticket?.status === 'pending');
      const result = await this.run(snapshot, { type: 'user.message', utterance }, input.conversationId, locale);
      snapshot = result.snapshot;
      outgoing = result.replies;
    }

    const next: ConversationRecord = {
      id: input.conversationId,
      snapshot: unsubscribeMachine.getPersistedSnapshot(snapshot),
      machineVersion: MACHINE_VERSION,
      locale,
      lastActiveAt: at,
      reference: input.reference ?? record?.reference ?? null,
      ...(pinnedLocale ? { pinnedLocale: i18n.resolve(pinnedLocale) } : {}),
    };
    const replies = silent ? [] : [...notices.map((m) => this.render(m, locale)), ...outgoing];
    const state = silent && ticket?.status === 'assigned' ? 'handoff.assigned' : stateToString(snapshot.value);
    if (input.activityId) next.lastActivity = { id: input.activityId, replies, state };
    await store.putConversation(next);
    // A turn that deleted the user's data starts nothing new in their transcript.
    if (!this.deletedIn.delete(input.conversationId)) {
      await transcripts.append(input.conversationId, [heard, ...replies.map((r): TranscriptEntry => ({ from: 'bot', text: r.text, at, state }))]);
    }
    if (forAgents && ticket) handoff.noteMessage(ticket, 'user', text);
    logger.debug('turn', { conversationId: input.conversationId, state, replies: replies.length });
    return { replies, state, locale };
  }

  /** Deletes what was said in a conversation: its transcript, messages left for agents, the channel's copy. Resolves with the transcript entries removed. */
  private async forgetMessages(conversationId: string): Promise<number> {
    const removed = await this.deps.transcripts.deleteConversation(conversationId);
    await this.deps.handoff.forgetMessages(conversationId);
    await this.deps.channelHistory?.forget(conversationId);
    return removed;
  }

  /**
   * Personal data is kept no longer than needed: conversations silent for `retentionDays` lose
   * their transcript, messages left for agents, the channel's copy and their dialog record (the
   * number, the subscriptions shown). A conversation with a chat still open with the agents, or a
   * request whose outcome it has not been told yet, is kept until that is over. At most `limit`
   * conversations are deleted per call (those kept do not count, so they never block the others);
   * resolves with how many were deleted. Throws what the stores throw.
   */
  async expireConversations(retentionDays: number, limit = 200): Promise<number> {
    if (retentionDays <= 0) return 0;
    const cutoff = this.deps.now() - retentionDays * 86_400_000;
    const ids = await this.deps.store.listInactiveConversations(new Date(cutoff).toISOString(), Number.POSITIVE_INFINITY);
    let expired = 0;
    for (const conversationId of ids) {
      if (expired >= limit) break;
      const done = await this.mutex.run(conversationId, async () => {
        const record = await this.deps.store.getConversation(conversationId);
        // A turn may have come in since the list was made.
        if (!record || Date.parse(record.lastActiveAt) >= cutoff) return false;
        if (await this.deps.handoff.openTicketFor(conversationId)) return false;
        const untold = (await this.deps.store.listByConversation(conversationId)).some((t) => !FINAL_STATUSES.includes(t.notifiedStatus));
        if (untold) return false;
        const removed = await this.forgetMessages(conversationId);
        await this.deps.store.deleteConversation(conversationId);
        await this.deps.audit.append({ type: 'data.expired', conversationId, lastActiveAt: record.lastActiveAt, transcriptEntries: removed });
        return true;
      });
      if (done) expired++;
    }
    if (expired > 0) this.deps.logger.info('conversations past the retention period deleted', { expired, retentionDays });
    return expired;
  }

  /** The stored conversation reference (for the channel edge). */
  async referenceOf(conversationId: string): Promise<unknown> {
    return (await this.deps.store.getConversation(conversationId))?.reference;
  }

  /** A rendered reply sent proactively and recorded in the transcript. */
  private async deliverReply(conversationId: string, reply: Reply): Promise<void> {
    if (!this.sender) throw new Error('no proactive sender attached');
    const record = await this.deps.store.getConversation(conversationId);
    if (!record) throw new AppError('not.found', { message: `no conversation ${conversationId}` });
    await this.sender.send(conversationId, record.reference, [reply]);
    await this.deps.transcripts.append(conversationId, { from: 'bot', text: reply.text, at: new Date(this.deps.now()).toISOString() });
  }

  /** ConversationPort: a proactive message (agent text or a handoff notice), recorded in the transcript. */
  async deliver(conversationId: string, content: DeliveryContent, from: 'bot' | 'agent', agentId?: string): Promise<void> {
    if (!this.sender) throw new Error('no proactive sender attached');
    const record = await this.deps.store.getConversation(conversationId);
    if (!record) throw new AppError('not.found', { message: `no conversation ${conversationId}` });
    const reply: Reply = 'text' in content ? { text: content.text, choices: [] } : this.renderResuming(content, record);
    await this.sender.send(conversationId, record.reference, [reply]);
    await this.deps.transcripts.append(conversationId, { from, text: reply.text, at: new Date(this.deps.now()).toISOString(), ...(agentId ? { agentId } : {}) });
  }

  /** A handoff notice; when the dialog resumes, followed by the question it still waits for (or `idleKey` when none). */
  private renderResuming(content: Exclude<DeliveryContent, { text: string }>, record: ConversationRecord): Reply {
    const message = { key: content.key, ...(content.params ? { params: content.params } : {}) };
    if (!content.idleKey) return this.render(message, record.locale);
    const snap = record.snapshot as { value?: unknown; context?: Snapshot['context'] };
    const fresh = this.deps.now() - Date.parse(record.lastActiveAt) <= this.deps.dialogTimeoutMs;
    const pending = snap.value !== 'idle' && fresh && snap.context?.prompt ? snap.context : null;
    return pending
      ? this.render(message, record.locale, promptMessages({ prompt: pending.prompt, candidates: pending.candidates ?? [] }), pending.promptChoices)
      : this.render({ ...message, key: content.idleKey }, record.locale);
  }

  /** ConversationPort: the dialog starts over (after an agent hands back with restart). */
  resetDialog(conversationId: string): Promise<void> {
    return this.mutex.run(conversationId, async () => {
      const record = await this.deps.store.getConversation(conversationId);
      if (!record) return;
      const [start] = stepper.initial();
      await this.deps.store.putConversation({ ...record, snapshot: unsubscribeMachine.getPersistedSnapshot(start), machineVersion: MACHINE_VERSION });
    });
  }

  /** What an agent needs to know about the dialog: step, identity, selection and filed tickets. */
  async describe(conversationId: string): Promise<DialogView> {
    const record = await this.deps.store.getConversation(conversationId);
    const snap = record?.snapshot as { value?: unknown; context?: Snapshot['context'] } | undefined;
    const ctx = snap?.context;
    const tracked = await this.deps.store.listByConversation(conversationId);
    const tickets: DialogView['tickets'] = [];
    for (const t of tracked) {
      try {
        const r = await this.deps.backend.getRequest(t.ticket);
        tickets.push({ ticket: r.ticket, serviceName: r.serviceName, status: r.status });
      } catch {
        tickets.push({ ticket: t.ticket, serviceName: t.serviceName, status: t.notifiedStatus });
      }
    }
    return {
      state: snap?.value === undefined ? 'idle' : stateToString(snap.value),
      locale: record?.locale ?? 'zh-CN',
      msisdn: ctx?.msisdn ? maskMsisdn(ctx.msisdn) : null,
      verified: ctx?.verified ?? false,
      strongVerified: ctx?.strongVerified ?? false,
      target: ctx?.target ?? null,
      selected: (ctx?.selected ?? []).map((s) => s.name),
      tickets,
      lastActiveAt: record?.lastActiveAt ?? null,
    };
  }

  /** Restores a snapshot, or starts afresh with a notice when it expired or cannot be restored. */
  private restore(record: ConversationRecord | undefined, conversationId: string, notices: Message[]): Snapshot {
    const fresh = (): Snapshot => stepper.initial()[0];
    if (!record) return fresh();
    let snapshot: Snapshot;
    try {
      if (record.machineVersion !== MACHINE_VERSION) throw new Error(`machine version ${record.machineVersion} ≠ ${MACHINE_VERSION}`);
      const persisted = record.snapshot as { value: unknown; context: Snapshot['context'] };
      snapshot = unsubscribeMachine.resolveState({ value: persisted.value as Snapshot['value'], context: persisted.context });
    } catch (err) {
      this.deps.logger.warn('dialog.unrestorable: conversation reset', { conversationId, error: err });
      notices.push({ key: 'dialog.restoreFailed' });
      return fresh();
    }
    const idleFor = this.deps.now() - Date.parse(record.lastActiveAt);
    if (snapshot.value !== 'idle' && idleFor > this.deps.dialogTimeoutMs) {
      notices.push({ key: 'dialog.expired' });
      const [start] = stepper.initial();
      // The conversation's tickets stay answerable; the identity check does not outlive the dialog.
      return unsubscribeMachine.resolveState({ value: 'idle', context: { ...start.context, tickets: snapshot.context.tickets, filingSeq: snapshot.context.filingSeq } });
    }
    return snapshot;
  }

  /**
   * `inDialog`: a dialog waits for an answer, so a bare stop word (stopDialog in data/handoff-phrases.json) stops it rather than asking for a cancellation.
   * `queued`: the conversation waits for an agent, so a question about the wait is a question about the queue.
   */
  private understand(parsed: NluResult, text: string, locale: string, inDialog: boolean, queued = false): Utterance {
    const phrase = this.closurePhrase(locale);
    const compact = (s: string) => s.replace(/[\s，。！,.!“”"']/g, '');
    const stops = inDialog && this.deps.phrases.stopsDialog(parsed.normalized);
    // 还要等多久 while queued for an agent: asking for the agent again, which answers with the place in the queue.
    const aboutQueue = !stops && queued && this.deps.phrases.asksAboutQueue(parsed.normalized);
    return {
      intent: stops ? 'cancel' : aboutQueue ? 'human_agent' : parsed.intent,
      confidence: stops || aboutQueue ? 1 : parsed.confidence,
      negated: parsed.negated,
      target: parsed.target,
      serviceIds: parsed.serviceIds,
      msisdn: parsed.msisdn,
      code: parsed.code,
      idTail: parsed.idTail,
      feeFen: parsed.feeFen,
      choice: parsed.choice,
      ticket: parsed.ticket,
      asksNewCode: parsed.asksNewCode,
      strayDigits: parsed.strayDigits ?? null,
      aboutBoundAccounts: parsed.aboutBoundAccounts ?? false,
      ordersSomething: parsed.ordersSomething ?? false,
      keepsNumber: parsed.keepsNumber ?? false,
      forgotSecret: parsed.forgotSecret ?? false,
      asksOtherNumber: parsed.asksOtherNumber ?? false,
      asksOrderRecord: parsed.asksOrderRecord ?? false,
      asksHotline: parsed.asksHotline ?? false,
      claimsNeverOrdered: parsed.claimsNeverOrdered ?? false,
      aboutMarketingSms: parsed.aboutMarketingSms ?? false,
      aboutBot: parsed.aboutBot ?? false,
      aboutAccount: parsed.aboutAccount ?? false,
      alsoClosesNumber: parsed.alsoClosesNumber ?? false,
      family: parsed.family ?? [],
      notThisOne: parsed.notThisOne ?? false,
      noneOfThese: parsed.noneOfThese ?? false,
      complaint: this.deps.phrases.complains(parsed.normalized),
      deleteData: this.deps.phrases.asksDeletion(parsed.normalized),
      changePassword: this.deps.phrases.asksPasswordChange(parsed.normalized),
      courtesy: this.deps.phrases.courtesy(parsed.normalized),
      confirmsNumberClosure: !parsed.negated && parsed.notAYes !== true && (compact(parsed.normalized).includes(compact(phrase)) || compact(text).includes(compact(phrase))),
    };
  }

  /** The locale's phrase for closing a number, normalised like user text (确认销号 typed under zh-TW still counts). */
  private closurePhrase(locale: string): string {
    let phrase = this.phrases.get(locale);
    if (phrase === undefined) {
      phrase = this.deps.nlu.parse(this.deps.i18n.t('confirm.number.phrase', {}, locale)).normalized;
      this.phrases.set(locale, phrase);
    }
    return phrase;
  }

  private async run(start: Snapshot, first: DialogEvent, conversationId: string, locale: string): Promise<{ snapshot: Snapshot; replies: Reply[] }> {
    const replies: Reply[] = [];
    const queue: DialogEvent[] = [first];
    let snapshot = start;
    for (let steps = 0; queue.length > 0; steps++) {
      if (steps >= MAX_STEPS_PER_TURN) {
        this.deps.logger.error('dialog loop stopped', { conversationId, state: stateToString(snapshot.value) });
        break;
      }
      const event = queue.shift()!;
      const [next, actions] = stepper.transition(snapshot, event);
      snapshot = next;
      for (const action of actions) {
        const effect = { type: action.type, params: action.params } as DialogEffect;
        const result = await this.execute(effect, snapshot, conversationId, locale, replies);
        if (result) queue.push(result);
      }
    }
    return { snapshot, replies };
  }

  private async execute(effect: DialogEffect, snapshot: Snapshot, conversationId: string, locale: string, replies: Reply[]): Promise<DialogEvent | null> {
    const { backend, verifier, store, logger } = this.deps;
    switch (effect.type) {
      case 'say': {
        const p = effect.params;
        replies.push(this.render({ key: p.key, params: p.params }, locale, p.lines, p.choices));
        return null;
      }
      case 'sendCode': {
        try {
          const r = await verifier.sendCode(effect.params.msisdn, locale, conversationId);
          if (r.kind === 'sent') return { type: 'identity.codeSent' };
          if (r.kind === 'locked') return { type: 'identity.locked', minutes: r.minutes };
          return { type: 'identity.sendFailed', reason: r.kind };
        } catch (err) {
          logger.warn('sms send failed', { conversationId, code: codeOf(err) });
          return { type: 'identity.sendFailed', reason: 'unavailable' };
        }
      }
      case 'checkCode': {
        const r = await verifier.checkCode(effect.params.msisdn, effect.params.code, conversationId);
        if (r.kind === 'verified') return { type: 'identity.verified' };
        if (r.kind === 'expired') return { type: 'identity.expired' };
        if (r.kind === 'locked') return { type: 'identity.locked', minutes: r.minutes };
        return { type: 'identity.failed', attemptsLeft: r.attemptsLeft };
      }
      case 'checkSecret': {
        try {
          const r = await verifier.checkSecret(effect.params.msisdn, effect.params.value);
          if (r.kind === 'verified') return { type: 'secret.verified' };
          if (r.kind === 'locked') return { type: 'identity.locked', minutes: r.minutes };
          return { type: 'secret.failed', attemptsLeft: r.kind === 'failed' ? r.attemptsLeft : 0 };
        } catch (err) {
          logger.warn('secret check failed', { conversationId, code: codeOf(err) });
          return { type: 'secret.failed', attemptsLeft: MAX_ATTEMPTS };
        }
      }
      case 'loadSubscriptions': {
        try {
          const [subscriptions, profile] = await Promise.all([
            backend.listSubscriptions(effect.params.msisdn),
            backend.getSubscriber(effect.params.msisdn),
          ]);
          const quarterAgo = this.deps.now() - 90 * 86_400_000;
          return {
            type: 'subscriptions.loaded',
            subscriptions: subscriptions.map((s) => ({
              ...s,
              unused: s.monthlyFeeFen > 0 && s.target !== 'number' && (s.lastUsedAt === null || Date.parse(s.lastUsedAt) < quarterAgo),
            })),
            profile: { arrearsFen: profile.arrearsFen, balanceFen: profile.balanceFen, boundAccounts: profile.boundAccounts },
          };
        } catch (err) {
          logger.warn('listing subscriptions failed', { conversationId, code: codeOf(err) });
          return { type: 'subscriptions.failed' };
        }
      }
      case 'fileRequests': {
        const { msisdn, subscriptionIds, filingSeq, dispute } = effect.params;
        const undoMs = this.deps.undoWindowMinutes * 60_000;
        const notBefore: Record<string, string> = {};
        for (const s of snapshot.context.selected) {
          // Closing a number is irreversible: the operator holds it for the undo window before acting.
          if (s.target === 'number' && undoMs > 0 && subscriptionIds.includes(s.subscriptionId)) {
            notBefore[s.subscriptionId] = new Date(this.deps.now() + undoMs).toISOString();
          }
        }
        const at = new Date(this.deps.now()).toISOString();
        const order: PendingFiling = {
          id: `${conversationId}:${filingSeq}`, conversationId, msisdn, subscriptionIds, filingSeq, dispute, notBefore,
          // The outbox worker leaves it to this turn for a while: it is only for orders a crash or an outage left behind.
          createdAt: at, nextAttemptAt: new Date(this.deps.now() + RETRY_BASE_MS).toISOString(), attempts: 0,
        };
        // In the file before the back end is called: a crash of the process or an outage cannot lose
        // a confirmed request. Its fdatasync runs while the back end files, and the receipt waits for
        // it (see fileConfirmed).
        const staged = this.deps.outbox.stage(order);
        await staged.written;
        try {
          const { filed, disputes } = await this.file(order, staged.durable);
          for (const r of filed) this.metrics.filed(r.target, 'filed');
          return { type: 'backend.filed', requests: filed.map((r) => this.toFiled(r)), disputes };
        } catch (err) {
          for (const s of snapshot.context.selected) this.metrics.filed(s.target, 'failed');
          logger.error('filing failed; kept in the outbox for retries', { conversationId, code: codeOf(err) });
          await this.deps.outbox.put({ ...order, attempts: 1, nextAttemptAt: new Date(this.deps.now() + RETRY_BASE_MS).toISOString() });
          return { type: 'backend.failed' };
        }
      }
      case 'loadStatus': {
        try {
          const requests = (await this.lookUpStatus(effect.params, conversationId)).slice(0, STATUS_LIST_LIMIT);
          const filed = requests.map((r) => this.toFiled(r));
          // 退订了还在扣钱: the bill says whether a completed cancellation was charged after it took effect.
          return { type: 'status.loaded', requests: effect.params.view === 'charges' ? await withStrayCharges(backend, requests, filed) : filed, view: effect.params.view };
        } catch (err) {
          logger.warn('status lookup failed', { conversationId, code: codeOf(err) });
          return { type: 'status.failed' };
        }
      }
      case 'deleteMyData': {
        try {
          const removed = await this.forgetMessages(conversationId);
          const rec = await store.getVerification(effect.params.msisdn);
          // Send times and an active lockout stay (they stop SMS flooding and guessing, and expire on their own); the rest goes.
          if (rec) await store.putVerification({ ...rec, codeHash: null, salt: null, expiresAt: 0 });
          await this.deps.audit.append({ type: 'data.deleted', conversationId, msisdn: effect.params.msisdn, transcriptEntries: removed });
          logger.info('personal data deleted on request', { conversationId, transcriptEntries: removed });
          this.deletedIn.add(conversationId);
          return { type: 'data.deleted' };
        } catch (err) {
          logger.error('data deletion failed', { conversationId, code: codeOf(err) });
          return { type: 'data.deleteFailed' };
        }
      }
      case 'fileRefunds': {
        try {
          const disputes = await claimStrayCharges({ backend, store, audit: this.deps.audit }, effect.params.tickets, conversationId);
          logger.info('refunds claimed for charges after cancelling', { conversationId, tickets: disputes.map((d) => d.ticket) });
          return { type: 'refunds.filed', disputes };
        } catch (err) {
          logger.error('refund claim failed', { conversationId, code: codeOf(err) });
          return { type: 'refunds.failed' };
        }
      }
      case 'changeServicePassword': {
        const { msisdn, newSecret } = effect.params;
        try {
          // Each attempt has its own number (filingSeq); a replayed attempt sends the same key.
          const r = await backend.changeServicePassword({ msisdn, newSecret, idempotencyKey: `${conversationId}:password:${snapshot.context.filingSeq}` });
          await this.deps.audit.append({ type: 'password.changed', conversationId, msisdn });
          logger.info('service password changed', { conversationId });
          return { type: 'password.changed', changedAt: r.changedAt };
        } catch (err) {
          logger.warn('service password change failed', { conversationId, code: codeOf(err) });
          return isAppError(err, 'backend.rejected') ? { type: 'password.rejected' } : { type: 'password.changeFailed' };
        }
      }
      case 'suspendLine': {
        try {
          // One suspension per dialog: a replayed turn asks again with the same key.
          const r = await backend.suspendLine(effect.params.msisdn, `${conversationId}:suspend:${snapshot.context.filingSeq}`);
          await this.deps.audit.append({ type: 'line.suspended', ticket: r.ticket, conversationId, msisdn: effect.params.msisdn });
          logger.info('line suspended', { conversationId, ticket: r.ticket });
          return { type: 'line.suspended', ticket: r.ticket, suspendedAt: r.suspendedAt };
        } catch (err) {
          logger.error('suspension failed', { conversationId, code: codeOf(err) });
          return { type: 'line.suspendFailed' };
        }
      }
      case 'withdrawRequests': {
        try {
          const withdrawn: FiledRequest[] = [];
          const tooLate: FiledRequest[] = [];
          for (const ticket of effect.params.tickets) {
            const current = await backend.getRequest(ticket);
            const until = this.undoUntil(current);
            if (current.status === 'withdrawn') {
              withdrawn.push(this.toFiled(current));
              continue;
            }
            if (!until || this.deps.now() > Date.parse(until) || current.status !== 'submitted') {
              tooLate.push(this.toFiled(current));
              continue;
            }
            try {
              const r = await backend.withdrawUnsubscription(ticket);
              await store.markNotified(ticket, 'withdrawn');
              await this.deps.audit.append({ type: 'request.withdrawn', ticket, conversationId });
              withdrawn.push(this.toFiled(r));
              logger.info('request withdrawn', { conversationId, ticket });
            } catch (err) {
              if (!isAppError(err, 'backend.rejected')) throw err;
              tooLate.push(this.toFiled(current));
            }
          }
          return { type: 'backend.withdrawn', withdrawn, tooLate };
        } catch (err) {
          logger.warn('withdrawal failed', { conversationId, code: codeOf(err) });
          return { type: 'backend.withdrawFailed' };
        }
      }
      case 'requestHuman': {
        const context = snapshot.context;
        let r: Awaited<ReturnType<HandoffService['escalate']>>;
        try {
          r = await this.deps.handoff.escalate({
            conversationId,
            reason: effect.params.reason,
            dialogState: stateToString(snapshot.value),
            target: context.target ?? context.selected[0]?.target ?? null,
            msisdnMasked: context.msisdn ? maskMsisdn(context.msisdn) : null,
          });
        } catch (err) {
          logger.error('escalation failed', { conversationId, code: codeOf(err) });
          replies.push(this.render({ key: 'handoff.unavailable' }, locale));
          return null;
        }
        if (!r.existing) this.metrics.escalated(effect.params.reason);
        // Outside hours only the first message after the offer is kept: once it is, nobody is invited to leave another.
        const key = r.external ? 'handoff.external'
          : r.outsideHours ? (r.existing && r.ticket.leftMessage !== null ? 'handoff.messageAlreadyLeft' : 'handoff.outsideHours')
          : r.existing ? 'handoff.alreadyQueued' : 'handoff.queued';
        replies.push(this.render({ key, params: { position: r.position, minutes: r.etaMinutes, hours: this.deps.handoffHoursText } }, locale, [], r.outsideHours ? [] : [{ key: 'choice.leaveQueue' }]));
        return null;
      }
    }
  }

  /**
   * Files one confirmed order: every subscription (and dispute) with keys derived from the order, so
   * a retry, a replayed turn or the outbox worker never files anything twice; then tracks, audits
   * and clears the order from the outbox. Throws when the back end fails (the order stays).
   *
   * `outboxDurable`: the fdatasync of the order's outbox row, when it runs alongside this filing.
   * The order's requests are filed concurrently (each has its own idempotency key) and the back
   * end's answers are awaited together: one wait for the event loop instead of one per request.
   */
  private async file(order: PendingFiling, outboxDurable: Promise<void> = Promise.resolve()): Promise<{ filed: UnsubscribeRequest[]; disputes: FiledDispute[] }> {
    const { backend, store, audit, logger } = this.deps;
    const { conversationId, msisdn } = order;
    const filing = Promise.all(order.subscriptionIds.map((subscriptionId) => {
      const notBefore = order.notBefore[subscriptionId];
      return backend.fileUnsubscription({ msisdn, subscriptionId, idempotencyKey: `${order.id}:${subscriptionId}`, ...(notBefore ? { notBefore } : {}) });
    }));
    // Awaited together so that a failing outbox sync is never left unobserved.
    const [filed] = await Promise.all([filing, outboxDurable]);
    // A dispute names the cancellation filed with it, so disputes follow their cancellations.
    const claims = order.dispute
      ? await Promise.all(order.subscriptionIds.map((subscriptionId) => backend.fileDispute({ msisdn, subscriptionId, idempotencyKey: `${order.id}:${subscriptionId}:dispute` })))
      : [];
    const serviceOf = new Map(filed.map((r) => [r.subscriptionId, r.serviceId]));
    const disputes: FiledDispute[] = claims.map((d) => ({ ticket: d.ticket, serviceId: serviceOf.get(d.subscriptionId), serviceName: d.serviceName, claimedFen: d.claimedFen, dueAt: d.dueAt }));
    // Tracking and the audit entries are independent writes: together they share one group commit
    // each instead of waiting for one fdatasync after another. The order leaves the outbox only after both.
    await Promise.all([
      store.track(trackingRows(filed, claims, conversationId, msisdn)),
      ...filed.map((r) => audit.append({ type: 'request.filed', ticket: r.ticket, conversationId, msisdn, serviceId: r.serviceId, status: r.status })),
      ...disputes.map((d) => audit.append({ type: 'dispute.filed', ticket: d.ticket, conversationId, msisdn, claimedFen: d.claimedFen })),
    ]);
    // Not waited for: nothing the user is told depends on it. Should it fail, the outbox worker
    // files the order again under the same keys, and the back end answers with the same requests.
    this.deps.outbox.remove(order.id).catch((err: unknown) => logger.warn('filed order not removed from the outbox', { conversationId, code: codeOf(err) }));
    logger.info('requests filed', { conversationId, tickets: [...filed.map((r) => r.ticket), ...disputes.map((d) => d.ticket)] });
    return { filed, disputes };
  }

  /**
   * The outbox worker: files confirmed orders the back end did not take (an outage, a crash in the
   * middle of a turn), with backoff, under the conversation's lock, and sends the receipt into the
   * conversation once filed. Never throws.
   */
  async retryPendingFilings(): Promise<void> {
    const { outbox, logger, now } = this.deps;
    let pending: PendingFiling[];
    try {
      pending = await outbox.list();
    } catch (err) {
      logger.error('filing outbox unreadable', { error: err });
      return;
    }
    for (const order of pending) {
      if (Date.parse(order.nextAttemptAt) > now()) continue;
      await this.mutex.run(order.conversationId, async () => {
        // A turn of this conversation may have filed it while this waited for the lock.
        const current = await outbox.get(order.id).catch(() => undefined);
        if (!current || current.attempts !== order.attempts) return;
        try {
          const { filed, disputes } = await this.file(order);
          const record = await this.deps.store.getConversation(order.conversationId);
          const locale = record?.locale ?? 'zh-CN';
          const lines = filingReceipt(filed.map((r) => this.toFiled(r)), disputes);
          await this.deliverReply(order.conversationId, this.render({ key: 'receipt.delayed' }, locale, lines));
        } catch (err) {
          const attempts = order.attempts + 1;
          const delay = Math.min(RETRY_BASE_MS * 2 ** Math.min(attempts, 10), RETRY_MAX_MS);
          logger.warn('filing retry failed', { conversationId: order.conversationId, attempts, code: codeOf(err) });
          await outbox.put({ ...order, attempts, nextAttemptAt: new Date(now() + delay).toISOString() }).catch(() => undefined);
        }
      });
    }
  }

  /**
   * Status is only shown to a verified owner, or for tickets filed in this conversation:
   * a ticket number alone does not reveal someone else's requests.
   */
  private async lookUpStatus(p: { msisdn: string | null; ticket: string | null; tickets: string[] }, conversationId: string): Promise<UnsubscribeRequest[]> {
    const { backend, store } = this.deps;
    if (p.msisdn) {
      const all = await backend.listRequests({ msisdn: p.msisdn });
      return p.ticket ? all.filter((r) => r.ticket === p.ticket) : all;
    }
    const own = new Set([...p.tickets, ...(await store.listByConversation(conversationId)).map((r) => r.ticket)]);
    const tickets = p.ticket ? (own.has(p.ticket) ? [p.ticket] : []) : [...own];
    const found: UnsubscribeRequest[] = [];
    for (const ticket of tickets) {
      try {
        found.push(await backend.getRequest(ticket));
      } catch (err) {
        if (!isAppError(err, 'backend.unknownRequest')) throw err;
      }
    }
    return found.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** The end of a request's undo window (UNDO_WINDOW_MINUTES after filing), or null when undo is off. */
  private undoUntil(r: UnsubscribeRequest): string | null {
    const minutes = this.deps.undoWindowMinutes;
    return minutes > 0 ? new Date(Date.parse(r.createdAt) + minutes * 60_000).toISOString() : null;
  }

  private toFiled(r: UnsubscribeRequest): FiledRequest {
    return {
      ticket: r.ticket, subscriptionId: r.subscriptionId, serviceId: r.serviceId, serviceName: r.serviceName, target: r.target, status: r.status,
      createdAt: r.createdAt, effectiveAt: r.effectiveAt, reasonKey: r.reasonKey, receiptCode: receiptCode(r),
      // Only cancellations can be undone; refunds follow them.
      undoUntil: kindOf(r) === 'unsubscription' ? this.undoUntil(r) : null,
      ...(r.kind ? { kind: r.kind } : {}),
      ...(r.amountFen !== undefined ? { amountFen: r.amountFen } : {}),
      ...(r.refundChannel ? { refundChannel: r.refundChannel } : {}),
      ...(r.dueAt ? { dueAt: r.dueAt } : {}),
      ...(r.refundTicket ? { refundTicket: r.refundTicket } : {}),
    };
  }

  /**
   * A button of the open question typed out instead of tapped (立即停机, on a channel that shows
   * buttons as text, or retyped): what the button sends (确认), which the NLU reads as the dialog
   * expects. `locale`: the one the buttons were shown in. Anything else is left as it is.
   */
  private buttonValue(text: string, snapshot: Snapshot, locale: string): string {
    const choices = snapshot.value === 'idle' ? [] : snapshot.context.promptChoices ?? [];
    if (choices.length === 0) return text;
    const typed = compactText(text);
    for (const choice of this.renderChoices(choices, locale)) {
      if (compactText(choice.title) === typed) return choice.value;
    }
    return text;
  }

  render(message: Message, locale: string, lines: Message[] = [], choices: Message[] = []): Reply {
    const { t } = this.i18nFns();
    const rendered = [message, ...lines].map((m) => t(m.key, m.params, locale)).filter((s) => s.length > 0);
    const text = rendered.join('\n');
    const kind = CARD_KINDS[message.key];
    return {
      text,
      ...(kind && rendered.length > 1 ? { card: { kind, title: rendered[0]!, lines: rendered.slice(1) } } : {}),
      choices: this.renderChoices(choices, locale),
    };
  }

  /** Buttons: what each shows, and what it sends back (its `.value` text, else the title). */
  private renderChoices(choices: Message[], locale: string): Reply['choices'] {
    const { t, has } = this.i18nFns();
    return choices.map((c) => {
      const title = t(c.key, c.params, locale);
      return { title, value: has(`${c.key}.value`, locale) ? t(`${c.key}.value`, c.params, locale) : title };
    });
  }

  private i18nFns() {
    const i18n = this.deps.i18n;
    return { t: i18n.t, has: (key: string, locale: string) => i18n.has(key, locale) };
  }
}



/** Text as a button's title is compared: no spaces or punctuation but question marks (确认销号？ asks), lower case. */
function compactText(text: string): string {
  return text.toLowerCase().replace(/[^\P{P}?？]|\s/gu, '');
}

function codeOf(err: unknown): string {
  return isAppError(err) ? err.code : 'unexpected';
}

/** {session: 'awaitingCode'} → 'session.awaitingCode'. */
export function stateToString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const [key, inner] = Object.entries(value)[0] ?? [];
    return key === undefined ? '' : `${key}.${stateToString(inner)}`;
  }
  return '';
}
