import { createActor, initialTransition, transition, type AnyStateMachine, type EventFromLogic, type SnapshotFrom } from 'xstate';

type Step<M extends AnyStateMachine> = ReturnType<typeof transition<M>>;
type Scope<M extends AnyStateMachine> = Parameters<M['transition']>[2];

/**
 * xstate's pure `transition()` and `initialTransition()` for one machine, without their cost per
 * call: each of those builds a throwaway actor (which computes the machine's initial state) to
 * get an actor scope, which was half of the dialog's CPU per turn. This builds that inert scope
 * once and reuses it: the same scope the library builds (actions are collected, not executed;
 * nothing is deferred, emitted or spawned), which is safe here because the dialog machines invoke
 * and spawn no actors, so nothing ever registers in the scope's actor system.
 */
export class MachineStepper<M extends AnyStateMachine> {
  private sink: Step<M>[1] = [];
  private readonly scope: Scope<M>;

  constructor(private readonly machine: M) {
    const self = createActor(machine);
    this.scope = {
      self,
      defer: () => {},
      id: '',
      logger: () => {},
      sessionId: '',
      stopChild: () => {},
      system: self.system,
      emit: () => {},
      actionExecutor: (action: Step<M>[1][number]) => { this.sink.push(action); },
    } as unknown as Scope<M>;
  }

  /** The next snapshot and the actions to carry out, as `transition(machine, snapshot, event)` returns them. */
  transition(snapshot: SnapshotFrom<M>, event: EventFromLogic<M>): Step<M> {
    const actions: Step<M>[1] = [];
    this.sink = actions;
    const next = this.machine.transition(snapshot, event, this.scope) as Step<M>[0];
    return [next, actions];
  }

  /** The initial snapshot and its actions, as `initialTransition(machine)` returns them. */
  initial(): ReturnType<typeof initialTransition<M>> {
    const actions: Step<M>[1] = [];
    this.sink = actions;
    const next = this.machine.getInitialSnapshot(this.scope, undefined) as Step<M>[0];
    return [next, actions];
  }
}
