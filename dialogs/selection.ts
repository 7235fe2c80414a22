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
 * Which of the user's subscriptions fit what they asked for: named services first (with those a
 * generic word beside them can mean), then the one a generic word can mean (`family`: 流量包 → the
 * only 流量包 they have), then the target type, then everything they could cancel.
 */
export function matchSubscriptions(subs: DialogSubscription[], target: Target | null, wanted: string[], family: string[] = []): Matches {
  const pool = offerable(subs, target);
  // A named service the user does not have is never silently swapped for another: they are told, then choose.
  const namedMissing = wanted.length > 0 && !pool.some((s) => wanted.includes(s.serviceId));
  if (wanted.length > 0 && !namedMissing) {
    // 视频彩铃和流量包都退了: what a generic word beside the names can mean comes along (to pick from when several).
    const besides = pool.filter((s) => family.includes(s.serviceId) && !wanted.includes(s.serviceId));
    return { candidates: [...pool.filter((s) => wanted.includes(s.serviceId)), ...besides], missed: false };
  }
  // 退订流量包 with a 10GB流量包 and a 语音包: the one data pack, not every add-on. With several, the word
  // is not trusted to have found them all (流量加油包 has no 流量包 in its names): the whole kind is listed.
  const ofFamily = wanted.length === 0 ? pool.filter((s) => family.includes(s.serviceId)) : [];
  if (ofFamily.length === 1) return { candidates: ofFamily, missed: false };
  if (target) {
    const ofTarget = pool.filter((s) => s.target === target);
    if (ofTarget.length > 0) return { candidates: ofTarget, missed: namedMissing };
  }
  const all = offerable(subs, null);
  return { candidates: all, missed: wanted.length > 0 || target !== null };
}

/**
 * The user's subscriptions that `serviceIds` name and that could be cancelled now (held, not the
 * number line, no cancellation under way): what 不对，是视频彩铃 turns the selection into.
 */
export function heldNamed(subs: DialogSubscription[], serviceIds: string[]): DialogSubscription[] {
  return everythingOffered(subs).filter((s) => serviceIds.includes(s.serviceId));
}

/** Everything the user could cancel now, for a fresh pick (不是这个 at the confirmation). */
export function everythingOffered(subs: DialogSubscription[]): DialogSubscription[] {
  return offerable(subs, null).filter((s) => !s.pendingTicket);
}

/**
 * Everything the user could cancel (of `target`, when given) but the services and kinds they keep
 * (除了视频彩铃都退了, 保留宽带其余全退).
 */
export function allBut(subs: DialogSubscription[], target: Target | null, except: { serviceIds: string[]; targets: Target[] }): DialogSubscription[] {
  const pool = offerable(subs, target === 'number' ? null : target).filter((s) => target === null || s.target === target);
  return pool.filter((s) => !except.serviceIds.includes(s.serviceId) && !except.targets.includes(s.target));
}

/**
 * What the user could cancel (of `target`, when given) that costs `feeFen` a month (每个月扣我10块钱的那个):
 * when nothing does, everything, as a miss.
 */
export function byFee(subs: DialogSubscription[], target: Target | null, feeFen: number): Matches {
  const pool = offerable(subs, target).filter((s) => target === null || s.target === target);
  const costing = pool.filter((s) => s.monthlyFeeFen === feeFen);
  return costing.length > 0 ? { candidates: costing, missed: false } : { candidates: offerable(subs, null), missed: true };
}

/**
 * Resolves a choice against the numbered list; null when it points outside the list, or leaves
 * nothing (an all-but-some that keeps everything, or keeps nothing it names).
 */
export function pick(candidates: DialogSubscription[], choice: Choice | null, serviceIds: string[], feeFen: number | null = null): DialogSubscription[] | null {
  if (choice?.kind === 'all') return candidates;
  if (choice?.kind === 'first' || choice?.kind === 'last') {
    if (choice.count < 1 || choice.count > candidates.length) return null;
    return choice.kind === 'first' ? candidates.slice(0, choice.count) : candidates.slice(candidates.length - choice.count);
  }
  if (choice?.kind === 'allExcept') {
    if (choice.indexes.some((i) => i < 1 || i > candidates.length)) return null;
    const kept = candidates.filter((s, i) => choice.indexes.includes(i + 1) || choice.serviceIds.includes(s.serviceId) || choice.targets.includes(s.target));
    const rest = candidates.filter((s) => !kept.includes(s));
    return kept.length > 0 && rest.length > 0 ? rest : null;
  }
  if (choice?.kind === 'indexes') {
    const picked = choice.indexes.map((i) => candidates[i - 1]);
    if (picked.length === 0 || picked.some((s) => s === undefined)) return null;
    return [...new Set(picked as DialogSubscription[])];
  }
  const named = candidates.filter((s) => serviceIds.includes(s.serviceId));
  if (named.length > 0) return named;
  // 10块钱的那个: the one listed item with that fee (two at that price are no pick).
  const costing = feeFen === null ? [] : candidates.filter((s) => s.monthlyFeeFen === feeFen);
  return costing.length === 1 ? costing : null;
}
