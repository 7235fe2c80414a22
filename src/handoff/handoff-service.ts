import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import {
  handoffMachine, type HandoffContext, type HandoffEffect, type HandoffEvent, type ResumeMode,
} from '../../dialogs/handoff.machine.js';
import { MachineStepper } from '../../dialogs/machine-stepper.js';
import { AppError } from '../errors.js';
import type { ParamValue } from '../i18n/i18n.js';
import type { Logger } from '../log.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import type { AuditLog } from '../store/audit-log.js';
import type { AuditEntry, HandoffReason, HandoffStore, HandoffTicket } from './handoff-store.js';

/** Steps the handoff machine (one inert actor scope for every ticket). */
const handoffStepper = new MachineStepper(handoffMachine);

/**
 * A message for the user: an agent's text, or a locale key. With `idleKey` the dialog is resuming:
 * the question it waits for is repeated after the message, and when it waits for none `idleKey` is said instead.
 */
export type DeliveryContent = { key: string; params?: Record<string, ParamValue>; idleKey?: string } | { text: string };

/** What the handoff needs from the conversation side (implemented by the runtime). */
export interface ConversationPort {
  /** Sends a message into the conversation (proactively) and records it in the transcript. Throws when undeliverable. */
  deliver(conversationId: string, content: DeliveryContent, from: 'bot' | 'agent', agentId?: string): Promise<void>;
  /** Puts the dialog back to its start (after a hand-back with restart). */
  resetDialog(conversationId: string): Promise<void>;
}

/**
 * An external agent hub that takes over chats through the Bot Framework handoff protocol
 * (implemented at the channel edge: a `handoff.initiate` event carrying the transcript).
 */
export interface ExternalAgentHub {
  /** Asks the hub to take the conversation. Throws when the channel cannot be reached. */
  initiate(ticket: HandoffTicket): Promise<void>;
}

/** `handoff.status` states an external hub reports. */
export type HubState = 'accepted' | 'failed' | 'completed';

/** The id the audit trail and the machine use for whoever answers in an external hub. */
export const HUB_AGENT_ID = 'external-hub';

export interface HandoffSettings {
  /** Service hours in Beijing time, minutes since midnight [start, end). */
  hours: { start: number; end: number };
  /** Average minutes an agent needs per chat, for the wait estimate. */
  avgHandleMinutes: number;
  /** Pending chats nobody claims within this time expire with a callback offer. */
  expireMinutes: number;
  /** Dialog target → queue name; others go to 'general'. */
  routes: Record<string, string>;
}

export interface EscalateInput {
  conversationId: string;
  reason: HandoffReason;
  dialogState: string;
  target: string | null;
  msisdnMasked: string | null;
}

export interface EscalateResult {
  ticket: HandoffTicket;
  /** 1-based position in its queue. */
  position: number;
  etaMinutes: number;
  outsideHours: boolean;
  /** The conversation already had an open ticket. */
  existing: boolean;
  /** Handed to an external agent hub instead of the built-in queue. */
  external: boolean;
}

export type HandoffChange =
  | { kind: 'queue' }
  | { kind: 'ticket'; ticketId: string }
  | { kind: 'message'; ticketId: string; conversationId: string; from: 'user' | 'agent' | 'bot'; text: string; at: string };

const BEIJING_OFFSET_MIN = 8 * 60;

/**
 * Queue, claim, relay and hand-back. Each ticket's life is the pure handoff machine; this service
 * applies its transitions atomically in the store and carries out the effects. Emits 'change'
 * events (HandoffChange) for the agents' live stream.
 */
export class HandoffService {
  readonly events = new EventEmitter();
  private timer: NodeJS.Timeout | undefined;
  /** Escalations of one conversation run one at a time, so a race cannot open two tickets. */
  private readonly escalations = new KeyedMutex();
  private hub: ExternalAgentHub | undefined;

  constructor(private readonly deps: {
    store: HandoffStore;
    conversations: ConversationPort;
    logger: Logger;
    now: () => number;
    settings: HandoffSettings;
    /** The tamper-evident log: agent actions are recorded there too. */
    audit?: AuditLog;
  }) {
    this.events.setMaxListeners(0);
  }

  /** Switches escalation to an external hub (HANDOFF_MODE=external). */
  attachHub(hub: ExternalAgentHub): void {
    this.hub = hub;
  }

  start(sweepMs = 5000): void {
    if (this.timer) return;
    this.timer = setInterval(() => { void this.sweep(); }, sweepMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  isOpenHours(at = this.deps.now()): boolean {
    const minutes = (Math.floor(at / 60_000) + BEIJING_OFFSET_MIN) % (24 * 60);
    const { start, end } = this.deps.settings.hours;
    return start <= end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
  }

  /** The next start of service hours at or after `at` (ms). */
  nextOpening(at: number): number {
    const minute = Math.floor(at / 60_000);
    const ofDay = (minute + BEIJING_OFFSET_MIN) % (24 * 60);
    return (minute + ((this.deps.settings.hours.start - ofDay + 24 * 60) % (24 * 60))) * 60_000;
  }

  openTicketFor(conversationId: string): Promise<HandoffTicket | undefined> {
    return this.deps.store.openTicketFor(conversationId);
  }

  /** Queues the conversation for a human (idempotent: an open ticket is returned as it is). */
  escalate(input: EscalateInput): Promise<EscalateResult> {
    return this.escalations.run(input.conversationId, () => this.escalateNow(input));
  }

  private async escalateNow(input: EscalateInput): Promise<EscalateResult> {
    const { store, now, settings } = this.deps;
    const external = this.hub !== undefined;
    // An external hub keeps its own hours and queue.
    const outsideHours = !external && !this.isOpenHours();
    const existing = await store.openTicketFor(input.conversationId);
    if (existing) return { ...(await this.positionOf(existing)), ticket: existing, outsideHours, existing: true, external };
    const at = now();
    const [initial] = [handoffMachine.resolveState({ value: 'pending', context: { agentId: null, resumeMode: null, endedBy: null } })];
    const ticket: HandoffTicket = {
      id: `HO${new Date(at).toISOString().slice(0, 10).replace(/-/g, '')}${randomBytes(3).toString('hex').toUpperCase()}`,
      conversationId: input.conversationId,
      reason: input.reason,
      skill: (input.target && settings.routes[input.target]) || 'general',
      status: 'pending',
      snapshot: handoffMachine.getPersistedSnapshot(initial),
      agentId: null,
      msisdnMasked: input.msisdnMasked,
      dialogState: input.dialogState,
      createdAt: new Date(at).toISOString(),
      claimedAt: null,
      closedAt: null,
      // A message left outside hours waits for the agents to start: the clock runs from the opening.
      expiresAt: new Date((outsideHours ? this.nextOpening(at) : at) + settings.expireMinutes * 60_000).toISOString(),
      awaitingLeftMessage: outsideHours,
      leftMessage: null,
    };
    await store.insertTicket(ticket);
    this.emit({ kind: 'queue' });
    this.deps.logger.info('handoff queued', { ticketId: ticket.id, conversationId: ticket.conversationId, reason: ticket.reason, skill: ticket.skill, external });
    if (this.hub) {
      try {
        await this.hub.initiate(ticket);
      } catch (err) {
        // The hub never heard of it: close the ticket so the user is not left waiting for nobody.
        this.deps.logger.error('handoff.initiate not delivered', { ticketId: ticket.id, error: err });
        await this.apply(ticket.id, { type: 'timer.expired' }).catch(() => undefined);
        throw err;
      }
    }
    return { ...(await this.positionOf(ticket)), ticket, outsideHours, existing: false, external };
  }

  /** Position among pending tickets of the same queue, and the estimated wait. */
  async positionOf(ticket: HandoffTicket): Promise<{ position: number; etaMinutes: number }> {
    const pending = (await this.deps.store.listOpen()).filter((t) => t.status === 'pending' && t.skill === ticket.skill);
    const index = pending.findIndex((t) => t.id === ticket.id);
    const position = index < 0 ? pending.length + 1 : index + 1;
    return { position, etaMinutes: Math.max(1, Math.round(position * this.deps.settings.avgHandleMinutes)) };
  }

  /** Keeps the user's message as a message for agents (escalated outside service hours). */
  async leaveMessage(ticketId: string, text: string): Promise<void> {
    await this.deps.store.updateTicket(ticketId, (t) => (t.awaitingLeftMessage ? { ...t, awaitingLeftMessage: false, leftMessage: text } : null));
    this.emit({ kind: 'ticket', ticketId });
    this.emit({ kind: 'queue' });
  }

  /** Data deletion on request: messages left for agents are erased; the tickets themselves (who, when, why) stay. */
  async forgetMessages(conversationId: string): Promise<void> {
    const { store } = this.deps;
    const tickets = [...(await store.listOpen()), ...(await store.listClosed(Number.MAX_SAFE_INTEGER))].filter((t) => t.conversationId === conversationId);
    for (const t of tickets) {
      if (t.leftMessage !== null || t.awaitingLeftMessage) await store.updateTicket(t.id, (c) => ({ ...c, leftMessage: null, awaitingLeftMessage: false }));
    }
  }

  /** Tells agents about a message in an escalated conversation (the transcript holds it). */
  noteMessage(ticket: HandoffTicket, from: 'user' | 'agent' | 'bot', text: string): void {
    if (from === 'user' && ticket.status === 'assigned') {
      void this.userWrote(ticket.id).catch((err: unknown) => this.deps.logger.warn('handoff wait not noted', { ticketId: ticket.id, error: err }));
    }
    this.emit({ kind: 'message', ticketId: ticket.id, conversationId: ticket.conversationId, from, text, at: new Date(this.deps.now()).toISOString() });
  }

  /**
   * The user wrote in a chat an agent holds: starts the clock for an answer unless it already runs.
   * Not for an external hub, whose agents answer where the bot cannot see.
   */
  async userWrote(ticketId: string): Promise<void> {
    const at = new Date(this.deps.now()).toISOString();
    await this.deps.store.updateTicket(ticketId, (t) => (t.status === 'assigned' && t.agentId !== HUB_AGENT_ID && !t.userWaitingSince ? { ...t, userWaitingSince: at } : null));
  }

  claim(ticketId: string, agentId: string): Promise<HandoffTicket> {
    return this.apply(ticketId, { type: 'agent.claimed', agentId }, { agentId, action: 'claim' });
  }

  async sendAsAgent(ticketId: string, agentId: string, text: string): Promise<void> {
    const ticket = await this.deps.store.getTicket(ticketId);
    if (!ticket) throw new AppError('not.found', { message: `no handoff ticket ${ticketId}` });
    if (ticket.status !== 'assigned' || ticket.agentId !== agentId) {
      throw new AppError('handoff.conflict', { message: 'only the agent holding the chat can write to it' });
    }
    await this.deps.store.appendAudit({ at: new Date(this.deps.now()).toISOString(), agentId, action: 'message', ticketId });
    await this.deps.audit?.append({ type: 'agent.message', agentId, ticketId, conversationId: ticket.conversationId });
    await this.deps.conversations.deliver(ticket.conversationId, { text }, 'agent', agentId);
    await this.deps.store.updateTicket(ticketId, (t) => (t.userWaitingSince ? { ...t, userWaitingSince: null } : null));
    this.noteMessage(ticket, 'agent', text);
  }

  handBack(ticketId: string, agentId: string, mode: ResumeMode): Promise<HandoffTicket> {
    return this.apply(ticketId, { type: 'agent.handedBack', agentId, mode }, { agentId, action: 'handBack', detail: mode });
  }

  endByAgent(ticketId: string, agentId: string): Promise<HandoffTicket> {
    return this.apply(ticketId, { type: 'agent.ended', agentId }, { agentId, action: 'end' });
  }

  async cancelByUser(conversationId: string): Promise<HandoffTicket | undefined> {
    const t = await this.deps.store.openTicketFor(conversationId);
    return t ? this.apply(t.id, t.status === 'pending' ? { type: 'user.cancelled' } : { type: 'user.ended' }) : undefined;
  }

  /** A `handoff.status` event from an external hub: accepted → assigned, completed → back to the bot, failed → closed. */
  async applyHubStatus(conversationId: string, state: HubState): Promise<HandoffTicket | undefined> {
    const ticket = await this.deps.store.openTicketFor(conversationId);
    if (!ticket) return undefined;
    const event: HandoffEvent = state === 'accepted'
      ? { type: 'agent.claimed', agentId: HUB_AGENT_ID }
      : state === 'completed'
        ? { type: 'agent.handedBack', agentId: HUB_AGENT_ID, mode: 'resume' }
        : { type: 'timer.expired' };
    const audit: Omit<AuditEntry, 'at' | 'ticketId'> | undefined = state === 'accepted'
      ? { agentId: HUB_AGENT_ID, action: 'claim' }
      : state === 'completed' ? { agentId: HUB_AGENT_ID, action: 'handBack', detail: 'resume' } : undefined;
    return this.apply(ticket.id, event, audit);
  }

  /**
   * Expires pending tickets past their deadline, and puts back in the queue assigned chats whose
   * user has waited `expireMinutes` for the holder to answer. Never throws.
   */
  async sweep(): Promise<void> {
    try {
      const at = this.deps.now();
      const lapse = this.deps.settings.expireMinutes * 60_000;
      for (const t of await this.deps.store.listOpen()) {
        if (t.status === 'pending' && Date.parse(t.expiresAt) <= at) {
          await this.apply(t.id, { type: 'timer.expired' }).catch((err: unknown) => this.deps.logger.warn('handoff expiry failed', { ticketId: t.id, error: err }));
        } else if (t.status === 'assigned' && t.userWaitingSince && Date.parse(t.userWaitingSince) + lapse <= at) {
          this.deps.logger.warn('handoff claim lapsed: back in the queue', { ticketId: t.id, agentId: t.agentId });
          await this.apply(t.id, { type: 'timer.claimLapsed' }).catch((err: unknown) => this.deps.logger.warn('handoff requeue failed', { ticketId: t.id, error: err }));
        }
      }
    } catch (err) {
      this.deps.logger.error('handoff sweep failed', { error: err });
    }
  }

  /**
   * Applies one machine event to a ticket atomically; an event the ticket's state does not accept
   * (already claimed, not the holder, already closed) throws AppError 'handoff.conflict'.
   */
  private async apply(ticketId: string, event: HandoffEvent, audit?: Omit<AuditEntry, 'at' | 'ticketId'>): Promise<HandoffTicket> {
    const { store, now } = this.deps;
    let effects: HandoffEffect[] = [];
    let from: HandoffTicket['status'] = 'pending';
    const before = await store.getTicket(ticketId);
    if (!before) throw new AppError('not.found', { message: `no handoff ticket ${ticketId}` });
    const updated = await store.updateTicket(ticketId, (current) => {
      const persisted = current.snapshot as { value: string; context: HandoffContext };
      const snapshot = handoffMachine.resolveState({ value: persisted.value, context: persisted.context });
      const [next, actions] = handoffStepper.transition(snapshot, event);
      if (next.value === snapshot.value) return null;
      from = current.status;
      effects = actions.map((a) => ({ type: a.type, params: a.params }) as HandoffEffect);
      const at = new Date(now()).toISOString();
      const status = next.value as HandoffTicket['status'];
      return {
        ...current,
        status,
        snapshot: handoffMachine.getPersistedSnapshot(next),
        agentId: next.context.agentId,
        claimedAt: status === 'assigned' ? at : status === 'pending' ? null : current.claimedAt,
        closedAt: status !== 'pending' && status !== 'assigned' ? at : null,
        // Back in the queue after a lapsed claim: agents get the usual time to take it again.
        expiresAt: status === 'pending' ? new Date(now() + this.deps.settings.expireMinutes * 60_000).toISOString() : current.expiresAt,
        userWaitingSince: null,
      };
    });
    if (effects.length === 0) {
      throw new AppError('handoff.conflict', { message: `ticket ${ticketId} is ${updated.status}${updated.agentId ? ` (held by ${updated.agentId})` : ''}` });
    }
    if (audit) {
      await store.appendAudit({ ...audit, at: new Date(now()).toISOString(), ticketId });
      await this.deps.audit?.append({ type: `agent.${audit.action}`, agentId: audit.agentId, ticketId, conversationId: updated.conversationId, ...(audit.detail ? { detail: audit.detail } : {}) });
    }
    this.deps.logger.info('handoff changed', { ticketId, event: event.type, status: updated.status, agentId: updated.agentId });
    await this.runEffects(updated, effects, from);
    return updated;
  }

  /** `from`: the ticket's status before the transition. */
  private async runEffects(ticket: HandoffTicket, effects: HandoffEffect[], from: HandoffTicket['status']): Promise<void> {
    for (const effect of effects) {
      try {
        switch (effect.type) {
          case 'tellUser':
            await this.deps.conversations.deliver(ticket.conversationId, { ...effect.params, params: { agent: ticket.agentId ?? '' } }, 'bot');
            break;
          case 'resumeDialog':
            if (effect.params.mode === 'restart') await this.deps.conversations.resetDialog(ticket.conversationId);
            break;
          case 'alertAgents':
            this.emit({ kind: 'queue' });
            this.emit({ kind: 'ticket', ticketId: ticket.id });
            // Only a chat leaving the waiting line, or put back in it, moves it; an assigned chat ending does not.
            if (from === 'pending' && effect.params.change !== 'queued') await this.announcePositions(ticket);
            else if (from === 'assigned' && effect.params.change === 'queued') await this.announcePositions(ticket);
            break;
        }
      } catch (err) {
        this.deps.logger.warn('handoff effect failed', { ticketId: ticket.id, effect: effect.type, error: err });
      }
    }
  }

  /**
   * `moved` left the waiting line, or was put back in it (its claim lapsed; it keeps its place by
   * arrival): tell the chats waiting from it on their position (numbered as positionOf does), which
   * includes a requeued chat itself, except users leaving a message and chats already due to expire.
   */
  private async announcePositions(moved: HandoffTicket): Promise<void> {
    const at = this.deps.now();
    const waiting = (await this.deps.store.listOpen()).filter((t) => t.status === 'pending' && t.skill === moved.skill);
    for (const [i, t] of waiting.entries()) {
      if (t.createdAt < moved.createdAt || t.awaitingLeftMessage || Date.parse(t.expiresAt) <= at) continue;
      const position = i + 1;
      const eta = Math.max(1, Math.round(position * this.deps.settings.avgHandleMinutes));
      await this.deps.conversations.deliver(t.conversationId, { key: 'handoff.position', params: { position, minutes: eta } }, 'bot')
        .catch((err: unknown) => this.deps.logger.warn('position update not delivered', { ticketId: t.id, error: err }));
    }
  }

  private emit(change: HandoffChange): void {
    this.events.emit('change', change);
  }
}
