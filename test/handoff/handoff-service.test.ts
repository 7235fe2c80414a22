import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import {
  HandoffService, type ConversationPort, type EscalateInput, type HandoffChange, type HandoffSettings,
} from '../../src/handoff/handoff-service.js';
import { LowdbHandoffStore } from '../../src/handoff/handoff-store.js';
import { silentLogger } from '../../src/log.js';

// The handoff service over the real lowdb store on a temp dir, with a conversation port that records.

type Content = Parameters<ConversationPort['deliver']>[1];

interface Delivery {
  conversationId: string;
  content: Content;
  from: 'bot' | 'agent';
  agentId?: string;
}

/** A ConversationPort that records every message and reset instead of sending it. */
class RecordingPort implements ConversationPort {
  readonly delivered: Delivery[] = [];
  readonly resets: string[] = [];
  /** Conversations whose channel is unreachable: deliver throws. */
  readonly unreachable = new Set<string>();

  async deliver(conversationId: string, content: Content, from: 'bot' | 'agent', agentId?: string): Promise<void> {
    if (this.unreachable.has(conversationId)) throw new Error(`conversation ${conversationId} unreachable`);
    this.delivered.push({ conversationId, content, from, ...(agentId ? { agentId } : {}) });
  }

  async resetDialog(conversationId: string): Promise<void> {
    this.resets.push(conversationId);
  }

  /** Locale keys (or agent texts) sent to one conversation, in order. */
  to(conversationId: string): string[] {
    return this.delivered.filter((d) => d.conversationId === conversationId).map((d) => ('key' in d.content ? d.content.key : d.content.text));
  }

  /** The handoff.position updates one conversation received, as [position, minutes]. */
  positions(conversationId: string): [unknown, unknown][] {
    return this.delivered
      .filter((d) => d.conversationId === conversationId && 'key' in d.content && d.content.key === 'handoff.position')
      .map((d) => { const p = (d.content as { params?: Record<string, unknown> }).params ?? {}; return [p.position, p.minutes]; });
  }
}

/** 2026-03-02 10:00 in Beijing (UTC+8), inside the default service hours. */
const OPEN_AT = Date.parse('2026-03-02T02:00:00Z');
/** 2026-03-02 23:30 in Beijing, after the 08:00–22:00 service hours. */
const CLOSED_AT = Date.parse('2026-03-02T15:30:00Z');

const SETTINGS: HandoffSettings = {
  hours: { start: 8 * 60, end: 22 * 60 },
  avgHandleMinutes: 3,
  expireMinutes: 15,
  routes: { broadband: 'broadband', number: 'closure' },
};

let dir: string;
let store: LowdbHandoffStore;
let port: RecordingPort;
let clock: number;
let service: HandoffService;
let changes: HandoffChange[];

function serviceOver(s: LowdbHandoffStore): HandoffService {
  const svc = new HandoffService({ store: s, conversations: port, logger: silentLogger, now: () => clock, settings: SETTINGS });
  svc.events.on('change', (c: HandoffChange) => changes.push(c));
  return svc;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tuiding-handoff-'));
  store = await LowdbHandoffStore.open(dir);
  port = new RecordingPort();
  clock = OPEN_AT;
  changes = [];
  service = serviceOver(store);
});

afterEach(async () => {
  service.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function input(conversationId: string, more: Partial<EscalateInput> = {}): EscalateInput {
  return { conversationId, reason: 'user', dialogState: 'session.awaitingCode', target: 'vas', msisdnMasked: '138****8000', ...more };
}

/** Escalates conversations one after another, a millisecond apart (queue order is arrival order). */
async function queue(...conversationIds: string[]) {
  const results = [];
  for (const id of conversationIds) {
    results.push(await service.escalate(input(id)));
    clock += 1;
  }
  return results;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('escalating', () => {
  it('queues a conversation once: escalating again returns the open ticket as it is', async () => {
    const first = await service.escalate(input('c1'));
    const again = await service.escalate(input('c1', { reason: 'complaint' }));
    expect(first.existing).toBe(false);
    expect(again.existing).toBe(true);
    expect(again.ticket.id).toBe(first.ticket.id);
    expect(again.ticket.reason).toBe('user');
    expect(await store.listOpen()).toHaveLength(1);
  });

  it('queues a conversation once even when two escalations race', async () => {
    const [a, b] = await Promise.all([service.escalate(input('c1')), service.escalate(input('c1'))]);
    expect(a.ticket.id).toBe(b.ticket.id);
    expect([a.existing, b.existing].sort()).toEqual([false, true]);
    expect(await store.listOpen()).toHaveLength(1);
  });

  it('stores a pending ticket with the masked number, the dialog step and a deadline', async () => {
    const { ticket } = await service.escalate(input('c1'));
    const stored = await store.getTicket(ticket.id);
    expect(stored).toMatchObject({
      conversationId: 'c1', status: 'pending', agentId: null, msisdnMasked: '138****8000', dialogState: 'session.awaitingCode',
      skill: 'general', createdAt: new Date(OPEN_AT).toISOString(), expiresAt: new Date(OPEN_AT + 15 * 60_000).toISOString(),
    });
    expect(changes).toContainEqual({ kind: 'queue' });
  });

  it('queues a conversation again after its previous ticket closed', async () => {
    const first = await service.escalate(input('c1'));
    await service.cancelByUser('c1');
    const second = await service.escalate(input('c1'));
    expect(second.existing).toBe(false);
    expect(second.ticket.id).not.toBe(first.ticket.id);
  });
});

describe('positions and routing', () => {
  it('numbers the waiting chats of a queue in arrival order with a wait estimate', async () => {
    const [a, b, c] = await queue('c1', 'c2', 'c3');
    expect([a, b, c].map((r) => [r!.position, r!.etaMinutes])).toEqual([[1, 3], [2, 6], [3, 9]]);
    expect(await service.positionOf(c!.ticket)).toEqual({ position: 3, etaMinutes: 9 });
  });

  it('routes by the dialog target: broadband and closures get their own queues, the rest go to general', async () => {
    const general = await service.escalate(input('c1', { target: 'vas' }));
    const broadband = await service.escalate(input('c2', { target: 'broadband' }));
    const closure = await service.escalate(input('c3', { target: 'number' }));
    const unknown = await service.escalate(input('c4', { target: null }));
    expect([general, broadband, closure, unknown].map((r) => r.ticket.skill)).toEqual(['general', 'broadband', 'closure', 'general']);
    // Each queue counts its own chats only.
    expect([general, broadband, closure, unknown].map((r) => r.position)).toEqual([1, 1, 1, 2]);
  });

  it('tells the users still waiting their new position when a chat ahead of them is claimed', async () => {
    const [first, , third] = await queue('c1', 'c2', 'c3');
    await service.escalate(input('other', { target: 'broadband' }));
    await service.claim(first!.ticket.id, 'alice');
    expect(port.to('c1')).toEqual(['handoff.assigned']);
    expect(port.positions('c2')).toEqual([[1, 3]]);
    expect(port.positions('c3')).toEqual([[2, 6]]);
    // Another queue did not move.
    expect(port.positions('other')).toEqual([]);
    expect(await service.positionOf(third!.ticket)).toEqual({ position: 2, etaMinutes: 6 });
  });

  it('tells a chat put back in the queue its place, and the users behind it their new position', async () => {
    const [first] = await queue('c1');
    await service.claim(first!.ticket.id, 'alice');
    await service.userWrote(first!.ticket.id);
    clock += 5 * 60_000;
    const [second, third] = await queue('c2', 'c3');
    expect([second!.position, third!.position]).toEqual([1, 2]);
    clock += (SETTINGS.expireMinutes - 5) * 60_000;
    await service.sweep();
    // c1 keeps its place by arrival: first again, and the others move back.
    expect(port.to('c1')).toEqual(['handoff.assigned', 'handoff.requeued', 'handoff.position']);
    expect(port.positions('c1')).toEqual([[1, 3]]);
    expect(port.positions('c2')).toEqual([[2, 6]]);
    expect(port.positions('c3')).toEqual([[3, 9]]);
    expect(await service.positionOf(first!.ticket)).toEqual({ position: 1, etaMinutes: 3 });
  });

  it('tells the users behind a chat that left the queue their new position, and nobody else', async () => {
    await queue('c1', 'c2', 'c3');
    await service.cancelByUser('c2');
    expect(port.positions('c1')).toEqual([]);
    expect(port.positions('c3')).toEqual([[2, 6]]);
  });

  it('sends no position update when a chat an agent held ends: the queue did not move', async () => {
    const [first] = await queue('c1', 'c2');
    await service.claim(first!.ticket.id, 'alice');
    port.delivered.length = 0;
    await service.handBack(first!.ticket.id, 'alice', 'resume');
    expect(port.positions('c2')).toEqual([]);
  });
});

describe('claiming', () => {
  it('gives a chat to exactly one of two agents who claim it at once; the other gets handoff.conflict', async () => {
    const { ticket } = await service.escalate(input('c1'));
    const results = await Promise.allSettled([service.claim(ticket.id, 'alice'), service.claim(ticket.id, 'bob')]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(isAppError(lost[0]!.reason, 'handoff.conflict')).toBe(true);
    const winner = (await store.getTicket(ticket.id))!;
    expect(winner.status).toBe('assigned');
    expect(['alice', 'bob']).toContain(winner.agentId);
    expect(winner.claimedAt).toBe(new Date(OPEN_AT).toISOString());
    // The user hears about one agent, once.
    expect(port.to('c1')).toEqual(['handoff.assigned']);
    expect(port.delivered[0]!.content).toEqual({ key: 'handoff.assigned', params: { agent: winner.agentId } });
    expect((await store.listAudit(ticket.id)).map((e) => `${e.agentId}:${e.action}`)).toEqual([`${winner.agentId}:claim`]);
  });

  it('refuses to claim an unknown ticket with not.found', async () => {
    expect(isAppError(await rejection(service.claim('HO-nope', 'alice')), 'not.found')).toBe(true);
  });

  it('refuses to claim a chat the user already left', async () => {
    const { ticket } = await service.escalate(input('c1'));
    await service.cancelByUser('c1');
    expect(isAppError(await rejection(service.claim(ticket.id, 'alice')), 'handoff.conflict')).toBe(true);
  });
});

describe('relaying and handing back', () => {
  it('lets only the agent holding the chat write to the user', async () => {
    const { ticket } = await service.escalate(input('c1'));
    expect(isAppError(await rejection(service.sendAsAgent(ticket.id, 'alice', '您好')), 'handoff.conflict')).toBe(true);
    await service.claim(ticket.id, 'alice');
    expect(isAppError(await rejection(service.sendAsAgent(ticket.id, 'bob', '我来')), 'handoff.conflict')).toBe(true);
    await service.sendAsAgent(ticket.id, 'alice', '您好，我是客服小李。');
    expect(port.delivered.filter((d) => d.from === 'agent')).toEqual([
      { conversationId: 'c1', content: { text: '您好，我是客服小李。' }, from: 'agent', agentId: 'alice' },
    ]);
    expect(changes).toContainEqual(expect.objectContaining({ kind: 'message', ticketId: ticket.id, from: 'agent', text: '您好，我是客服小李。' }));
  });

  it('lets only the holder hand back; the user is told and the dialog resumes as chosen', async () => {
    const { ticket } = await service.escalate(input('c1'));
    await service.claim(ticket.id, 'alice');
    expect(isAppError(await rejection(service.handBack(ticket.id, 'bob', 'resume')), 'handoff.conflict')).toBe(true);
    expect(isAppError(await rejection(service.endByAgent(ticket.id, 'bob')), 'handoff.conflict')).toBe(true);
    expect((await store.getTicket(ticket.id))!.status).toBe('assigned');

    const closed = await service.handBack(ticket.id, 'alice', 'resume');
    expect(closed).toMatchObject({ status: 'resolved', agentId: 'alice', closedAt: new Date(OPEN_AT).toISOString() });
    expect(port.to('c1')).toEqual(['handoff.assigned', 'handoff.backResume']);
    expect(port.resets).toEqual([]);
    expect(await service.openTicketFor('c1')).toBeUndefined();
    expect(isAppError(await rejection(service.sendAsAgent(ticket.id, 'alice', '还在吗')), 'handoff.conflict')).toBe(true);
  });

  it('starts the dialog over after a hand-back with restart', async () => {
    const { ticket } = await service.escalate(input('c1'));
    await service.claim(ticket.id, 'alice');
    await service.handBack(ticket.id, 'alice', 'restart');
    expect(port.resets).toEqual(['c1']);
    expect(port.to('c1').at(-1)).toBe('handoff.backRestart');
  });

  it('records every claim, message and hand-back with the agent id', async () => {
    const { ticket } = await service.escalate(input('c1'));
    await service.claim(ticket.id, 'alice');
    clock += 60_000;
    await service.sendAsAgent(ticket.id, 'alice', '您好');
    await service.handBack(ticket.id, 'alice', 'resume');
    const audit = await store.listAudit(ticket.id);
    expect(audit.map((e) => ({ agentId: e.agentId, action: e.action, ticketId: e.ticketId, detail: e.detail }))).toEqual([
      { agentId: 'alice', action: 'claim', ticketId: ticket.id, detail: undefined },
      { agentId: 'alice', action: 'message', ticketId: ticket.id, detail: undefined },
      { agentId: 'alice', action: 'handBack', ticketId: ticket.id, detail: 'resume' },
    ]);
    expect(audit.map((e) => e.at)).toEqual([new Date(OPEN_AT).toISOString(), new Date(OPEN_AT + 60_000).toISOString(), new Date(OPEN_AT + 60_000).toISOString()]);
  });

  it('records nothing for an attempt that was refused', async () => {
    const { ticket } = await service.escalate(input('c1'));
    await service.claim(ticket.id, 'alice');
    await rejection(service.claim(ticket.id, 'bob'));
    await rejection(service.sendAsAgent(ticket.id, 'bob', 'x'));
    await rejection(service.handBack(ticket.id, 'bob', 'resume'));
    expect((await store.listAudit(ticket.id)).map((e) => `${e.agentId}:${e.action}`)).toEqual(['alice:claim']);
  });

  it('still closes the ticket when the user cannot be told', async () => {
    const { ticket } = await service.escalate(input('c1'));
    await service.claim(ticket.id, 'alice');
    port.unreachable.add('c1');
    await service.handBack(ticket.id, 'alice', 'resume');
    expect((await store.getTicket(ticket.id))!.status).toBe('resolved');
  });
});

describe('the user side', () => {
  it('cancels a pending ticket when the user stops waiting', async () => {
    const { ticket } = await service.escalate(input('c1'));
    const closed = await service.cancelByUser('c1');
    expect(closed).toMatchObject({ id: ticket.id, status: 'cancelled' });
    expect(port.to('c1')).toEqual(['handoff.cancelled']);
  });

  it('ends an assigned chat when the user ends it, resuming the dialog', async () => {
    const { ticket } = await service.escalate(input('c1'));
    await service.claim(ticket.id, 'alice');
    expect(await service.cancelByUser('c1')).toMatchObject({ status: 'resolved' });
    expect(port.to('c1')).toEqual(['handoff.assigned', 'handoff.endedByUser']);
    expect(port.resets).toEqual([]);
  });

  it('does nothing when the user leaves a queue they are not in', async () => {
    expect(await service.cancelByUser('c1')).toBeUndefined();
    expect(port.delivered).toEqual([]);
  });
});

describe('expiry', () => {
  it('expires a pending ticket past its deadline on sweep and tells the user', async () => {
    const { ticket } = await service.escalate(input('c1'));
    clock = OPEN_AT + 15 * 60_000 - 1;
    await service.sweep();
    expect((await store.getTicket(ticket.id))!.status).toBe('pending');
    clock = OPEN_AT + 15 * 60_000;
    await service.sweep();
    expect(await store.getTicket(ticket.id)).toMatchObject({ status: 'expired', closedAt: new Date(clock).toISOString() });
    expect(port.to('c1')).toEqual(['handoff.expired']);
    await service.sweep();
    expect(port.to('c1')).toEqual(['handoff.expired']);
  });

  it('never expires a chat an agent holds', async () => {
    const { ticket } = await service.escalate(input('c1'));
    await service.claim(ticket.id, 'alice');
    clock += 60 * 60_000;
    await service.sweep();
    expect((await store.getTicket(ticket.id))!.status).toBe('assigned');
  });

  it('puts a chat back in the queue when the user has waited the expiry time for the agent holding it to answer', async () => {
    const { ticket } = await service.escalate(input('c1'));
    await service.claim(ticket.id, 'alice');
    clock += 60_000;
    await service.userWrote(ticket.id);
    clock += 14 * 60_000;
    await service.sweep();
    expect((await store.getTicket(ticket.id))!.status).toBe('assigned');

    clock += 60_000;
    await service.sweep();
    const requeued = (await store.getTicket(ticket.id))!;
    expect(requeued).toMatchObject({ status: 'pending', agentId: null });
    expect(Date.parse(requeued.expiresAt)).toBe(clock + SETTINGS.expireMinutes * 60_000);
    // Back in the queue, with its place.
    expect(port.to('c1')).toEqual(['handoff.assigned', 'handoff.requeued', 'handoff.position']);
    expect(isAppError(await rejection(service.sendAsAgent(ticket.id, 'alice', '在的')), 'handoff.conflict')).toBe(true);
    await service.claim(ticket.id, 'bob');
    expect((await store.getTicket(ticket.id))!.agentId).toBe('bob');
  });

  it('never takes a chat back from an external hub: its agents answer where the bot cannot see', async () => {
    const { ticket } = await service.escalate(input('c1'));
    await service.applyHubStatus('c1', 'accepted');
    await service.userWrote(ticket.id);
    clock += 60 * 60_000;
    await service.sweep();
    expect((await store.getTicket(ticket.id))!.status).toBe('assigned');
  });

  it('keeps a chat with the agent who answered: only an unanswered user starts the clock', async () => {
    const { ticket } = await service.escalate(input('c1'));
    await service.claim(ticket.id, 'alice');
    await service.userWrote(ticket.id);
    clock += 10 * 60_000;
    await service.sendAsAgent(ticket.id, 'alice', '正在为您查询，请稍等');
    clock += 10 * 60_000;
    await service.sweep();
    expect((await store.getTicket(ticket.id))!.status).toBe('assigned');
  });

  it('expires after a restart: the deadline is stored, not a timer in memory', async () => {
    const { ticket } = await service.escalate(input('c1'));
    service.stop();
    await store.close();

    clock = OPEN_AT + 20 * 60_000;
    store = await LowdbHandoffStore.open(dir);
    service = serviceOver(store);
    await service.sweep();
    expect((await store.getTicket(ticket.id))!.status).toBe('expired');
    expect(port.to('c1')).toEqual(['handoff.expired']);
  });

  it('expires every ticket due, also when a user cannot be told', async () => {
    await queue('c1', 'c2');
    port.unreachable.add('c1');
    clock += 16 * 60_000;
    await service.sweep();
    expect((await store.listOpen())).toEqual([]);
    expect(port.to('c2')).toEqual(['handoff.expired']);
  });
});

describe('outside service hours', () => {
  it('reports outsideHours and keeps the next message for the agents', async () => {
    clock = CLOSED_AT;
    expect(service.isOpenHours()).toBe(false);
    const r = await service.escalate(input('c1'));
    expect(r.outsideHours).toBe(true);
    expect(r.ticket.awaitingLeftMessage).toBe(true);

    changes.length = 0;
    await service.leaveMessage(r.ticket.id, '宽带一直断线，请明早回电 13800138000');
    const [open] = await store.listOpen();
    expect(open).toMatchObject({ id: r.ticket.id, awaitingLeftMessage: false, leftMessage: '宽带一直断线，请明早回电 13800138000' });
    expect(changes).toContainEqual({ kind: 'ticket', ticketId: r.ticket.id });

    // Only the first message is the message left; later ones do not overwrite it.
    await service.leaveMessage(r.ticket.id, '还有一件事');
    expect((await store.getTicket(r.ticket.id))!.leftMessage).toBe('宽带一直断线，请明早回电 13800138000');
  });

  it('keeps a chat escalated outside hours in the queue until agents start, then gives them the usual time to claim it', async () => {
    clock = CLOSED_AT;
    const r = await service.escalate(input('c1'));
    await service.leaveMessage(r.ticket.id, '宽带一直断线，请明早回电');
    clock = CLOSED_AT + 2 * 60 * 60_000; // 01:30, long past the 15 minutes
    await service.sweep();
    expect((await store.getTicket(r.ticket.id))!.status).toBe('pending');

    const opens = Date.parse('2026-03-03T00:00:00Z'); // 08:00 the next morning
    clock = opens + 14 * 60_000;
    await service.sweep();
    expect((await store.getTicket(r.ticket.id))!.status).toBe('pending');
    clock = opens + 15 * 60_000;
    await service.sweep();
    expect((await store.getTicket(r.ticket.id))!.status).toBe('expired');
  });

  it('knows the hours in Beijing time, end exclusive', () => {
    expect(service.isOpenHours(Date.parse('2026-03-02T00:00:00Z'))).toBe(true); // 08:00
    expect(service.isOpenHours(Date.parse('2026-03-01T23:59:00Z'))).toBe(false); // 07:59
    expect(service.isOpenHours(Date.parse('2026-03-02T13:59:00Z'))).toBe(true); // 21:59
    expect(service.isOpenHours(Date.parse('2026-03-02T14:00:00Z'))).toBe(false); // 22:00
  });

  it('tells no position to a user who is leaving a message', async () => {
    const [first] = await queue('c1');
    clock = CLOSED_AT;
    await service.escalate(input('late'));
    clock = OPEN_AT + 60_000;
    await service.claim(first!.ticket.id, 'alice');
    expect(port.positions('late')).toEqual([]);
  });
});
