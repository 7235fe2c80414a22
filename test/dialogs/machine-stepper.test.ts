import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import { handoffMachine } from '../../dialogs/handoff.machine.js';
import { MachineStepper } from '../../dialogs/machine-stepper.js';
import { unsubscribeMachine } from '../../dialogs/unsubscribe.machine.js';
import type { DialogEvent } from '../../dialogs/unsubscribe.types.js';
import { CODE, MSISDN, user } from './helpers.js';

/** What a step yields, without the snapshot's internals (state node objects). */
function view([snapshot, actions]: readonly [{ value: unknown; context: unknown; status: string }, readonly { type: string; params?: unknown }[]]) {
  return { value: snapshot.value, context: snapshot.context, status: snapshot.status, actions: actions.map((a) => ({ type: a.type, params: a.params })) };
}

describe('MachineStepper', () => {
  it('gives the same snapshots and actions as xstate transition() through a whole cancellation', () => {
    const stepper = new MachineStepper(unsubscribeMachine);
    const events: DialogEvent[] = [
      user.unsubscribe('vas'), user.number(MSISDN), { type: 'identity.codeSent' }, user.code(CODE), { type: 'identity.verified' },
      user.pick(1), user.confirm(), user.cancel(), user.gibberish(), user.gibberish(),
    ];
    let ours = stepper.initial();
    let theirs = initialTransition(unsubscribeMachine);
    expect(view(ours)).toEqual(view(theirs));
    const visited = new Set<string>();
    for (const event of events) {
      ours = stepper.transition(ours[0], event);
      theirs = transition(unsubscribeMachine, theirs[0], event);
      expect(view(ours)).toEqual(view(theirs));
      visited.add(JSON.stringify(ours[0].value));
    }
    // The run went through the dialog, not round the initial state.
    expect(visited.size).toBeGreaterThanOrEqual(4);
  });

  it('keeps the actions of each step apart, also when steps interleave', () => {
    const stepper = new MachineStepper(unsubscribeMachine);
    const [start] = stepper.initial();
    const a = stepper.transition(start, user.unsubscribe('vas'));
    const b = stepper.transition(start, user.help());
    expect(a[1].length).toBeGreaterThan(0);
    expect(b[1].length).toBeGreaterThan(0);
    expect(view(a)).toEqual(view(transition(unsubscribeMachine, start, user.unsubscribe('vas'))));
    expect(view(b)).toEqual(view(transition(unsubscribeMachine, start, user.help())));
  });

  it('steps the handoff machine like transition() does', () => {
    const stepper = new MachineStepper(handoffMachine);
    const start = handoffMachine.resolveState({ value: 'pending', context: { agentId: null, resumeMode: null, endedBy: null } });
    for (const event of [{ type: 'agent.claimed', agentId: 'a1' }, { type: 'user.cancelled' }] as const) {
      const ours = stepper.transition(start, event as never);
      const theirs = transition(handoffMachine, start, event as never);
      expect(view(ours)).toEqual(view(theirs));
    }
  });
});
