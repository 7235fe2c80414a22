import { assign, setup } from 'xstate';

/**
 * The life of one handoff ticket: a chat escalated to a human agent. Pure: the handoff service
 * applies events with `transition()` and carries out the returned effects (tell the user, alert
 * agents, resume the dialog). Status vocabulary follows the usual human-in-the-loop modules:
 * pending → assigned → resolved, or pending → cancelled | expired.
 */

export type HandoffStatus = 'pending' | 'assigned' | 'resolved' | 'expired' | 'cancelled';
export type ResumeMode = 'resume' | 'restart';

export interface HandoffContext {
  agentId: string | null;
  /** How the dialog continues after a hand-back. */
  resumeMode: ResumeMode | null;
  endedBy: 'agent' | 'user' | 'timer' | null;
}

export type HandoffEvent =
  | { type: 'agent.claimed'; agentId: string }
  | { type: 'agent.handedBack'; agentId: string; mode: ResumeMode }
  | { type: 'agent.ended'; agentId: string }
  | { type: 'user.cancelled' }
  | { type: 'user.ended' }
  | { type: 'timer.expired' }
  | { type: 'timer.claimLapsed' };

/**
 * `idleKey`: the dialog resumes, so the question it waits for follows the message; when it waits
 * for none, `idleKey` is said instead (nothing is left to continue).
 */
export type TellUserParams = { key: string; idleKey?: string };

export type HandoffEffect =
  | { type: 'tellUser'; params: TellUserParams }
  | { type: 'alertAgents'; params: { change: 'queued' | 'claimed' | 'closed' } }
  | { type: 'resumeDialog'; params: { mode: ResumeMode } };

export const handoffMachine = setup({
  types: { context: {} as HandoffContext, events: {} as HandoffEvent },
  actions: {
    tellUser: (_: unknown, _params: TellUserParams) => {},
    alertAgents: (_: unknown, _params: { change: 'queued' | 'claimed' | 'closed' }) => {},
    resumeDialog: (_: unknown, _params: { mode: ResumeMode }) => {},
  },
  guards: {
    // Only the agent holding the chat may end it or hand it back.
    isHolder: ({ context, event }) => 'agentId' in event && event.agentId === context.agentId,
  },
}).createMachine({
  id: 'handoff',
  context: { agentId: null, resumeMode: null, endedBy: null },
  initial: 'pending',
  states: {
    pending: {
      description: 'In the queue, waiting for an agent; the bot keeps serving the user meanwhile.',
      entry: { type: 'alertAgents', params: { change: 'queued' } },
      on: {
        'agent.claimed': {
          target: 'assigned',
          actions: [assign(({ event }) => ({ agentId: event.agentId })), { type: 'tellUser', params: { key: 'handoff.assigned' } }],
        },
        'user.cancelled': {
          target: 'cancelled',
          actions: [assign({ endedBy: 'user' }), { type: 'tellUser', params: { key: 'handoff.cancelled' } }],
        },
        'timer.expired': {
          target: 'expired',
          actions: [assign({ endedBy: 'timer' }), { type: 'tellUser', params: { key: 'handoff.expired' } }],
        },
      },
    },
    assigned: {
      description: 'An agent holds the chat: the bot is silent and messages are relayed both ways.',
      entry: { type: 'alertAgents', params: { change: 'claimed' } },
      on: {
        'agent.handedBack': {
          guard: 'isHolder',
          target: 'resolved',
          actions: [
            assign(({ event }) => ({ resumeMode: event.mode, endedBy: 'agent' as const })),
            { type: 'resumeDialog', params: ({ event }) => ({ mode: event.mode }) },
            {
              type: 'tellUser',
              params: ({ event }) => (event.mode === 'resume' ? { key: 'handoff.backResume', idleKey: 'handoff.backRestart' } : { key: 'handoff.backRestart' }),
            },
          ],
        },
        'agent.ended': {
          guard: 'isHolder',
          target: 'resolved',
          actions: [
            assign({ resumeMode: 'restart', endedBy: 'agent' }),
            { type: 'resumeDialog', params: { mode: 'restart' } },
            { type: 'tellUser', params: { key: 'handoff.endedByAgent' } },
          ],
        },
        'timer.claimLapsed': {
          // The holder left the user unanswered too long (gone, disconnected): another agent may take it.
          target: 'pending',
          actions: [assign({ agentId: null }), { type: 'tellUser', params: { key: 'handoff.requeued' } }],
        },
        'user.ended': {
          target: 'resolved',
          actions: [
            assign({ resumeMode: 'resume', endedBy: 'user' }),
            { type: 'resumeDialog', params: { mode: 'resume' } },
            { type: 'tellUser', params: { key: 'handoff.endedByUser', idleKey: 'handoff.endedByUser' } },
          ],
        },
      },
    },
    resolved: { description: 'The agent or the user ended the chat; the bot is back.', type: 'final', entry: { type: 'alertAgents', params: { change: 'closed' } } },
    expired: { description: 'Nobody claimed the chat in time; the user was offered a callback.', type: 'final', entry: { type: 'alertAgents', params: { change: 'closed' } } },
    cancelled: { description: 'The user stopped waiting and went back to the bot.', type: 'final', entry: { type: 'alertAgents', params: { change: 'closed' } } },
  },
});

export const OPEN_HANDOFF_STATUSES: readonly HandoffStatus[] = ['pending', 'assigned'];
