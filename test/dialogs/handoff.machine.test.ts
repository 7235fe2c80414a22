import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { handoffMachine, type HandoffEffect, type HandoffEvent } from '../../dialogs/handoff.machine.js';

// The handoff ticket's life as a pure value: events in through transition(), effects out, no I/O.

type Snapshot = SnapshotFrom<typeof handoffMachine>;

function step(snapshot: Snapshot, event: HandoffEvent): { snapshot: Snapshot; effects: HandoffEffect[] } {
  const [next, actions] = transition(handoffMachine, snapshot, event);
  return { snapshot: next, effects: actions.map((a) => ({ type: a.type, params: a.params }) as HandoffEffect) };
}

function run(events: HandoffEvent[], from = initialTransition(handoffMachine)[0]): { snapshot: Snapshot; effects: HandoffEffect[] } {
  let snapshot = from;
  let effects: HandoffEffect[] = [];
  for (const event of events) ({ snapshot, effects } = step(snapshot, event));
  return { snapshot, effects };
}

const claimedBy = (agentId: string): HandoffEvent => ({ type: 'agent.claimed', agentId });
const assignedTo = (agentId = 'alice') => run([claimedBy(agentId)]).snapshot;

const ALL_EVENTS: HandoffEvent[] = [
  { type: 'agent.claimed', agentId: 'alice' },
  { type: 'agent.claimed', agentId: 'bob' },
  { type: 'agent.handedBack', agentId: 'alice', mode: 'resume' },
  { type: 'agent.handedBack', agentId: 'alice', mode: 'restart' },
  { type: 'agent.ended', agentId: 'alice' },
  { type: 'user.cancelled' },
  { type: 'user.ended' },
  { type: 'timer.expired' },
];

describe('the handoff machine', () => {
  it('starts pending and tells the agents a chat is queued', () => {
    const [snapshot, actions] = initialTransition(handoffMachine);
    expect(snapshot.value).toBe('pending');
    expect(snapshot.context).toEqual({ agentId: null, resumeMode: null, endedBy: null });
    expect(actions.map((a) => ({ type: a.type, params: a.params }))).toEqual([{ type: 'alertAgents', params: { change: 'queued' } }]);
  });

  it('assigns the chat to the agent who claims it, tells the user and alerts the agents', () => {
    const r = run([claimedBy('alice')]);
    expect(r.snapshot.value).toBe('assigned');
    expect(r.snapshot.context.agentId).toBe('alice');
    expect(r.effects).toEqual([
      { type: 'tellUser', params: { key: 'handoff.assigned' } },
      { type: 'alertAgents', params: { change: 'claimed' } },
    ]);
  });

  it('lets no second agent claim a chat that is already assigned', () => {
    const r = step(assignedTo('alice'), claimedBy('bob'));
    expect(r.snapshot.value).toBe('assigned');
    expect(r.snapshot.context.agentId).toBe('alice');
    expect(r.effects).toEqual([]);
  });

  it.each(['resume', 'restart'] as const)('resolves when the holder hands back with %s, and resumes the dialog that way', (mode) => {
    const r = step(assignedTo('alice'), { type: 'agent.handedBack', agentId: 'alice', mode });
    expect(r.snapshot.value).toBe('resolved');
    expect(r.snapshot.status).toBe('done');
    expect(r.snapshot.context).toEqual({ agentId: 'alice', resumeMode: mode, endedBy: 'agent' });
    expect(r.effects).toEqual([
      { type: 'resumeDialog', params: { mode } },
      { type: 'tellUser', params: mode === 'resume' ? { key: 'handoff.backResume', idleKey: 'handoff.backRestart' } : { key: 'handoff.backRestart' } },
      { type: 'alertAgents', params: { change: 'closed' } },
    ]);
  });

  it('resolves when the holder ends the chat, and the dialog starts over', () => {
    const r = step(assignedTo('alice'), { type: 'agent.ended', agentId: 'alice' });
    expect(r.snapshot.value).toBe('resolved');
    expect(r.snapshot.context).toMatchObject({ resumeMode: 'restart', endedBy: 'agent' });
    expect(r.effects).toEqual([
      { type: 'resumeDialog', params: { mode: 'restart' } },
      { type: 'tellUser', params: { key: 'handoff.endedByAgent' } },
      { type: 'alertAgents', params: { change: 'closed' } },
    ]);
  });

  it.each<HandoffEvent>([
    { type: 'agent.handedBack', agentId: 'bob', mode: 'resume' },
    { type: 'agent.handedBack', agentId: 'bob', mode: 'restart' },
    { type: 'agent.ended', agentId: 'bob' },
  ])('ignores $type from an agent who does not hold the chat', (event) => {
    const before = assignedTo('alice');
    const r = step(before, event);
    expect(r.snapshot.value).toBe('assigned');
    expect(r.snapshot.context).toEqual(before.context);
    expect(r.effects).toEqual([]);
  });

  it('lets no agent hand back or end a chat nobody has claimed yet', () => {
    for (const event of [{ type: 'agent.handedBack', agentId: 'alice', mode: 'resume' }, { type: 'agent.ended', agentId: 'alice' }] as HandoffEvent[]) {
      const r = run([event]);
      expect(r.snapshot.value).toBe('pending');
      expect(r.effects).toEqual([]);
    }
  });

  it('cancels when the user stops waiting', () => {
    const r = run([{ type: 'user.cancelled' }]);
    expect(r.snapshot.value).toBe('cancelled');
    expect(r.snapshot.status).toBe('done');
    expect(r.snapshot.context.endedBy).toBe('user');
    expect(r.effects).toEqual([
      { type: 'tellUser', params: { key: 'handoff.cancelled' } },
      { type: 'alertAgents', params: { change: 'closed' } },
    ]);
  });

  it('expires when nobody claims the chat in time', () => {
    const r = run([{ type: 'timer.expired' }]);
    expect(r.snapshot.value).toBe('expired');
    expect(r.snapshot.context.endedBy).toBe('timer');
    expect(r.effects).toEqual([
      { type: 'tellUser', params: { key: 'handoff.expired' } },
      { type: 'alertAgents', params: { change: 'closed' } },
    ]);
  });

  it('does not expire a chat an agent already holds', () => {
    const r = step(assignedTo(), { type: 'timer.expired' });
    expect(r.snapshot.value).toBe('assigned');
    expect(r.effects).toEqual([]);
  });

  it('goes back to the queue, with nobody holding it, when the claim lapses; the user is told', () => {
    const r = step(assignedTo('alice'), { type: 'timer.claimLapsed' });
    expect(r.snapshot.value).toBe('pending');
    expect(r.snapshot.context.agentId).toBeNull();
    expect(r.effects).toEqual([
      { type: 'tellUser', params: { key: 'handoff.requeued' } },
      { type: 'alertAgents', params: { change: 'queued' } },
    ]);
    expect(step(r.snapshot, claimedBy('bob')).snapshot.context.agentId).toBe('bob');
  });

  it('resolves when the user ends a chat an agent holds, and the dialog resumes where it was', () => {
    const r = step(assignedTo('alice'), { type: 'user.ended' });
    expect(r.snapshot.value).toBe('resolved');
    expect(r.snapshot.context).toEqual({ agentId: 'alice', resumeMode: 'resume', endedBy: 'user' });
    expect(r.effects).toEqual([
      { type: 'resumeDialog', params: { mode: 'resume' } },
      { type: 'tellUser', params: { key: 'handoff.endedByUser', idleKey: 'handoff.endedByUser' } },
      { type: 'alertAgents', params: { change: 'closed' } },
    ]);
  });

  const finals: [string, HandoffEvent[]][] = [
    ['resolved', [claimedBy('alice'), { type: 'agent.handedBack', agentId: 'alice', mode: 'resume' }]],
    ['expired', [{ type: 'timer.expired' }]],
    ['cancelled', [{ type: 'user.cancelled' }]],
  ];

  it.each(finals)('leaves %s on no event', (state, events) => {
    const closed = run(events).snapshot;
    expect(closed.value).toBe(state);
    for (const event of ALL_EVENTS) {
      const r = step(closed, event);
      expect(r.snapshot.value, event.type).toBe(state);
      expect(r.snapshot.context, event.type).toEqual(closed.context);
      expect(r.effects, event.type).toEqual([]);
    }
  });

  it('restores from a persisted snapshot exactly as the service stores it', () => {
    const persisted = handoffMachine.getPersistedSnapshot(assignedTo('alice')) as unknown as { value: string; context: Snapshot['context'] };
    const restored = handoffMachine.resolveState({ value: persisted.value, context: JSON.parse(JSON.stringify(persisted.context)) as Snapshot['context'] });
    expect(step(restored, { type: 'agent.handedBack', agentId: 'bob', mode: 'resume' }).snapshot.value).toBe('assigned');
    expect(step(restored, { type: 'agent.handedBack', agentId: 'alice', mode: 'resume' }).snapshot.value).toBe('resolved');
  });

  it('on every path, tells the user once per change and alerts the agents whenever the ticket closes', () => {
    const paths = getShortestPaths(handoffMachine, { events: ALL_EVENTS });
    const reached = new Set(paths.map((p) => String(p.state.value)));
    expect([...reached].sort()).toEqual(['assigned', 'cancelled', 'expired', 'pending', 'resolved']);
    for (const path of paths) {
      // steps[0] is the machine's start (xstate.init); the rest are the events of the path.
      const events = path.steps.slice(1).map((s) => s.event as HandoffEvent);
      const effects: HandoffEffect[] = [];
      let snapshot = initialTransition(handoffMachine)[0];
      for (const event of events) {
        const s = step(snapshot, event);
        snapshot = s.snapshot;
        effects.push(...s.effects);
      }
      expect(effects.filter((e) => e.type === 'tellUser').length, String(path.state.value)).toBe(events.length);
      if (snapshot.status === 'done') expect(effects.at(-1)).toEqual({ type: 'alertAgents', params: { change: 'closed' } });
    }
  });
});
