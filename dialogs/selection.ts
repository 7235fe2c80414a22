import type { Choice, DialogSubscription, Target } from './unsubscribe.types.js';

/** The number line is only offered when the user explicitly asks to close the number. */
function offerable(subs: DialogSubscription[], target: Target | null): DialogSubscription[] {
  return target === 'number' ? subs.filter((s) => s.target === 'number') : subs.filter((s) => s.target !== 'number');
}

export interface Matches {
  candidates: DialogSubscription[];
  /** The user named services or a target that matched nothing they have. */
  missed: boolean;
}

/**
 * Which of the user's subscriptions fit what they asked for: named services first, then the
 * target type, then everything they could cancel.
 */
export function matchSubscriptions(subs: DialogSubscription[], target: Target | null, wanted: string[]): Matches {
  const pool = offerable(subs, target);
  // A named service the user does not have is never silently swapped for another: they are told, then choose.
  const namedMissing = wanted.length > 0 && !pool.some((s) => wanted.includes(s.serviceId));
  if (wanted.length > 0 && !namedMissing) return { candidates: pool.filter((s) => wanted.includes(s.serviceId)), missed: false };
  if (target) {
    const ofTarget = pool.filter((s) => s.target === target);
    if (ofTarget.length > 0) return { candidates: ofTarget, missed: namedMissing };
  }
  const all = offerable(subs, null);
  return { candidates: all, missed: wanted.length > 0 || target !== null };
}

/** Resolves a choice against the numbered list; null when it points outside the list. */
export function pick(candidates: DialogSubscription[], choice: Choice | null, serviceIds: string[]): DialogSubscription[] | null {
  if (choice?.kind === 'all') return candidates;
  if (choice?.kind === 'indexes') {
    const picked = choice.indexes.map((i) => candidates[i - 1]);
    if (picked.length === 0 || picked.some((s) => s === undefined)) return null;
    return [...new Set(picked as DialogSubscription[])];
  }
  const named = candidates.filter((s) => serviceIds.includes(s.serviceId));
  return named.length > 0 ? named : null;
}
