/**
 * Safety invariants over every path the dialog can take with a finite alphabet of representative
 * user messages and adapter results. `xstate/graph` finds every reachable (abstracted) state; each
 * path is replayed with `transition()` so the checks see the real effects, and every event of the
 * alphabet is then tried from every reachable state, so every edge of the graph is checked.
 */
import { describe, expect, it } from 'vitest';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { unsubscribeMachine } from '../../dialogs/unsubscribe.machine.js';
import type { DataName, DialogEffect, DialogEvent, DialogSubscription } from '../../dialogs/unsubscribe.types.js';
import {
  CODE, MSISDN, OTHER_MSISDN, SUBS, filedRequest, initial, ofType, result, run, say, sayKeys, step, user, where,
  type Run, type Snapshot,
} from './helpers.js';

/** Representative user messages: one per way the NLU can read a message that matters to the machine. */
const USER_MESSAGES: DialogEvent[] = [
  user.unsubscribe('vas', { msisdn: MSISDN }),
  user.unsubscribe(null),
  user.unsubscribe('number'),
  user.unsubscribe('plan', { serviceIds: [SUBS.plan.serviceId] }),
  user.unsubscribe('broadband'),
  say({ intent: 'confirm', target: 'vas', serviceIds: [SUBS.videoRingback.serviceId] }),
  say({ intent: 'cancel', negated: true, target: 'vas' }),
  user.number(OTHER_MSISDN),
  user.code(),
  user.secret(),
  user.pick(1),
  user.pickAll(),
  user.pick(9),
  user.confirm(),
  user.closeNumber(),
  // The runtime's phrase check fires even when the classifier missed the intent.
  say({ intent: 'other', confirmsNumberClosure: true }),
  user.deny(),
  user.cancel(),
  user.human(),
  user.complaint(),
  say({ intent: 'unsubscribe', target: 'vas', msisdn: MSISDN, complaint: true }),
  user.help(),
  user.status(),
  user.gibberish(),
  say({ intent: 'greeting' }),
  say({ intent: 'review' }),
  say({ intent: 'undo' }),
  say({ intent: 'receipt' }),
  say({ intent: 'still_charged' }),
  say({ intent: 'lost_phone' }),
  say({ intent: 'other', deleteData: true }),
  say({ intent: 'other', changePassword: true }),
  // A new service password that is easy to guess.
  say({ code: '123456' }),
  say({ intent: 'unsubscribe', confidence: 0.4, target: 'addon' }),
];

const SOME_SUBSCRIPTIONS: DialogSubscription[] = [SUBS.videoRingback, SUBS.musicMember, SUBS.plan, SUBS.broadband, SUBS.numberLine];

/** Every result the runtime can feed back, whatever the machine is waiting for. */
const ADAPTER_RESULTS: DialogEvent[] = [
  result.codeSent(),
  result.sendFailed('rateLimited'),
  result.sendFailed('unavailable'),
  result.sendFailed('unknownNumber'),
  result.verified(),
  result.codeWrong(1),
  result.locked(30),
  result.expired(),
  result.secretVerified(),
  result.secretWrong(1),
  result.loaded(SOME_SUBSCRIPTIONS),
  result.loaded([]),
  result.loadFailed(),
  { type: 'backend.filed', requests: [filedRequest(SUBS.videoRingback, 'TD-1')] },
  result.fileFailed(),
  result.status([]),
  result.status([filedRequest(SUBS.videoRingback, 'TD-1')]),
  result.statusFailed(),
  { type: 'backend.withdrawn', withdrawn: [filedRequest(SUBS.videoRingback, 'TD-1')], tooLate: [] },
  { type: 'backend.withdrawFailed' },
  { type: 'line.suspended', ticket: 'GS1', suspendedAt: '2026-11-24T12:00:00.000Z' },
  { type: 'line.suspendFailed' },
  { type: 'data.deleted' },
  { type: 'data.deleteFailed' },
  result.status([{ ...filedRequest(SUBS.videoRingback, 'TD-1'), status: 'completed', strayCharge: { amountFen: 1000, chargedAt: '2026-01-02T00:00:00.000Z' } }], 'charges'),
  { type: 'refunds.filed', disputes: [{ ticket: 'TS-1', serviceName: '视频彩铃', claimedFen: 1000, dueAt: '2026-01-05T00:00:00.000Z' }] },
  { type: 'refunds.failed' },
  { type: 'password.changed', changedAt: '2026-11-24T12:00:00.000Z' },
  { type: 'password.rejected' },
  { type: 'password.changeFailed' },
];

const ALPHABET: DialogEvent[] = [...USER_MESSAGES, ...ADAPTER_RESULTS];

/**
 * The part of a snapshot that decides what the machine does next. Names, fees, prompts and
 * the exact number are left out so the traversal closes.
 */
function abstractState(s: Snapshot): string {
  const c = s.context;
  return JSON.stringify([
    s.value, c.purpose, c.target, c.wanted.length > 0, c.msisdn !== null, c.verified, c.strongVerified,
    Math.min(c.candidates.length, 2), [...new Set(c.selected.map((x) => x.target))].sort().join('+'),
    c.missedTarget, Math.min(c.misses, 1), c.tickets.length > 0,
  ]);
}

/** States left at once by an `always` transition: a snapshot never rests in them. */
const TRANSIENT = new Set(['session.routing', 'session.matching', 'session.checkingRisk']);

interface Reached {
  events: DialogEvent[];
  replay: Run;
}

let reachedCache: Reached[] | undefined;

/** One replayed path to every reachable abstract state. */
function reachable(): Reached[] {
  reachedCache ??= getShortestPaths(unsubscribeMachine, { events: ALPHABET, serializeState: abstractState, limit: 200_000 })
    .map((path) => {
      const events = path.steps.slice(1).map((s) => s.event as DialogEvent);
      return { events, replay: run(events) };
    });
  return reachedCache;
}

const isUserMessage = (e: DialogEvent): e is Extract<DialogEvent, { type: 'user.message' }> => e.type === 'user.message';

interface Violation {
  path: string[];
  event: string;
  problem: string;
}

const describeEvent = (e: DialogEvent): string => (isUserMessage(e) ? `user.message(${JSON.stringify(e.utterance)})` : e.type);

/**
 * Checks one `fileRequests` effect against the history that led to it. `history` holds the
 * steps before the triggering event; `before` is the snapshot the event was sent to.
 */
function filingProblems(history: Run['steps'], before: Snapshot, trigger: DialogEvent, filing: Extract<DialogEffect, { type: 'fileRequests' }>): string[] {
  const problems: string[] = [];
  const lastIdle = history.findLastIndex((s) => where(s.snapshot) === 'idle');
  const dialog = history.slice(lastIdle + 1);
  const selected = before.context.selected;
  const closesNumber = selected.some((s) => s.target === 'number');

  if (!history.some((s) => s.event.type === 'identity.verified')) problems.push('filed without identity.verified on the path');
  if (!before.context.verified || filing.params.msisdn !== before.context.msisdn) problems.push('filed for a number that is not the verified one');

  const u = isUserMessage(trigger) ? trigger.utterance : null;
  const explicitYes = u !== null && !u.negated && (u.intent === 'confirm' || (closesNumber && u.confirmsNumberClosure && u.intent !== 'deny' && u.intent !== 'cancel'));
  if (!explicitYes) problems.push(`filed on ${describeEvent(trigger)}, not an explicit confirmation`);
  if (closesNumber && !dialog.some((s) => isUserMessage(s.event) && s.event.utterance.confirmsNumberClosure) && !u?.confirmsNumberClosure) {
    problems.push('closed the number without the explicit closure phrase');
  }

  if (selected.some((s) => s.risk === 'strong') && !dialog.some((s) => s.event.type === 'secret.verified')) {
    problems.push('filed a plan, broadband or number closure without secret.verified in this dialog');
  }

  const warned = dialog.flatMap((s) => ofType(s.effects, 'say')).filter((e) => e.params.key === 'warn.header').at(-1);
  // Warning titles name each service by catalogue id (shown in the reply's language by the runtime).
  const warnedNames = (warned?.params.lines ?? []).filter((l) => l.key.endsWith('.title')).map((l) => (l.params?.name as DataName | undefined)?.id);
  if (JSON.stringify(warnedNames) !== JSON.stringify(selected.map((s) => s.serviceId))) {
    problems.push(`filed without warnings for exactly the selection (warned ${JSON.stringify(warnedNames)})`);
  }
  if (JSON.stringify(filing.params.subscriptionIds) !== JSON.stringify(selected.map((s) => s.subscriptionId))) {
    problems.push('filed something other than the selection');
  }
  return problems;
}

/** Every event of the alphabet from every reachable state: the edges of the graph. */
function edgeViolations(): Violation[] {
  const violations: Violation[] = [];
  for (const { events, replay } of reachable()) {
    for (const event of ALPHABET) {
      const { effects } = step(replay.snapshot, event);
      for (const filing of ofType(effects, 'fileRequests')) {
        for (const problem of filingProblems(replay.steps, replay.snapshot, event, filing)) {
          violations.push({ path: events.map(describeEvent), event: describeEvent(event), problem });
        }
      }
    }
  }
  return violations;
}

describe('unsubscribe dialog paths', () => {
  it('the alphabet reaches every resting state of the machine, filing included for every kind of service', () => {
    const states = new Set(reachable().map((r) => where(r.replay.snapshot)));
    const all = Object.keys(unsubscribeMachine.root.states.session?.states ?? {})
      .map((k) => `session.${k}`)
      .filter((k) => !TRANSIENT.has(k));
    const topLevel = Object.keys(unsubscribeMachine.root.states).filter((k) => k !== 'session');
    expect([...states].sort()).toEqual([...topLevel, ...all].sort());

    const filedKinds = new Set(reachable()
      .filter((r) => where(r.replay.snapshot) === 'session.filing')
      .map((r) => r.replay.snapshot.context.selected.map((s) => s.target).join('+')));
    for (const kind of ['vas', 'plan', 'broadband', 'number']) expect(filedKinds).toContain(kind);
    expect(reachable().length).toBeGreaterThan(100);
  });

  it('never rests in a transient state', () => {
    const resting = reachable().map((r) => where(r.replay.snapshot)).filter((s) => TRANSIENT.has(s));
    expect(resting).toEqual([]);
  });

  it('files nothing without verified identity, explicit confirmation, the strong check where needed, and warnings for exactly the selection', () => {
    expect(edgeViolations()).toEqual([]);
  });

  it('checks the same rules on every simple path into filing', () => {
    // Simple paths grow exponentially with the alphabet, so this traversal uses a few events
    // (two services, the number, a decline that starts over) and a coarser abstraction.
    const events: DialogEvent[] = [
      user.unsubscribe('vas', { msisdn: MSISDN }), user.unsubscribe('number'),
      user.code(), user.secret(), user.pick(1), user.confirm(), user.closeNumber(), user.deny(),
      result.codeSent(), result.verified(), result.secretVerified(), result.loaded(SOME_SUBSCRIPTIONS),
    ];
    const coarse = (s: Snapshot) => JSON.stringify([
      s.value, s.context.target, s.context.verified, s.context.strongVerified, [...new Set(s.context.selected.map((x) => x.target))].sort().join('+'),
    ]);
    const paths = getSimplePaths(unsubscribeMachine, { events, serializeState: coarse, toState: (s) => s.matches({ session: 'filing' }) });
    expect(paths.length).toBeGreaterThan(100);

    const violations: Violation[] = [];
    for (const path of paths) {
      const pathEvents = path.steps.slice(1).map((s) => s.event as DialogEvent);
      const replay = run(pathEvents);
      expect(where(replay.snapshot)).toBe('session.filing');
      replay.steps.forEach((s, i) => {
        const before = i === 0 ? initial() : replay.steps[i - 1]!.snapshot;
        for (const filing of ofType(s.effects, 'fileRequests')) {
          for (const problem of filingProblems(replay.steps.slice(0, i), before, s.event, filing)) {
            violations.push({ path: pathEvents.map(describeEvent), event: describeEvent(s.event), problem });
          }
        }
      });
    }
    expect(violations).toEqual([]);
  });

  it('a cancel from every reachable state returns to idle and files nothing', () => {
    const stuck: string[] = [];
    for (const { replay } of reachable()) {
      const from = where(replay.snapshot);
      const { snapshot, effects } = step(replay.snapshot, user.cancel());
      if (ofType(effects, 'fileRequests').length > 0) stuck.push(`${from}: filed on cancel`);
      if (sayKeys(effects).length === 0) stuck.push(`${from}: said nothing`);
      // A request already sent to the back end (a filing, a suspension) cannot be taken back by a cancel.
      if (!['session.filing', 'session.suspending', 'session.deleting', 'session.changingPassword'].includes(from) && where(snapshot) !== 'idle') stuck.push(`${from}: stayed in ${where(snapshot)}`);
    }
    expect(stuck).toEqual([]);
  });

  it('changes the service password only after the strong check, and never keeps the new one in the dialog', () => {
    const problems: string[] = [];
    for (const { events, replay } of reachable()) {
      if (JSON.stringify(replay.snapshot.context).includes('123456') || JSON.stringify(replay.snapshot.context).includes(CODE)) {
        problems.push(`${where(replay.snapshot)}: a typed secret is in the context`);
      }
      for (const event of ALPHABET) {
        const { effects } = step(replay.snapshot, event);
        for (const change of ofType(effects, 'changeServicePassword')) {
          const lastIdle = replay.steps.findLastIndex((s) => where(s.snapshot) === 'idle');
          const dialog = replay.steps.slice(lastIdle + 1);
          if (!dialog.some((s) => s.event.type === 'secret.verified')) problems.push(`${events.map(describeEvent).join(' → ')}: password change without secret.verified`);
          if (change.params.newSecret === '123456') problems.push('sent a weak password to the back end');
          if (change.params.msisdn !== replay.snapshot.context.msisdn) problems.push('changed the password of another number');
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every reachable state can reach a human', () => {
    const unreachable = reachable()
      .filter(({ replay }) => ofType(step(replay.snapshot, user.human()).effects, 'requestHuman').length === 0)
      .map(({ replay }) => where(replay.snapshot));
    expect(unreachable).toEqual([]);
  });

  it('every user message gets an answer or starts something that will produce one', () => {
    const silent: string[] = [];
    for (const { replay } of reachable()) {
      for (const message of USER_MESSAGES) {
        if (step(replay.snapshot, message).effects.length === 0) silent.push(`${where(replay.snapshot)} ← ${describeEvent(message)}`);
      }
    }
    expect(silent).toEqual([]);
  });
});
